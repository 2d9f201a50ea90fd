package linesim

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"
	"github.com/line/line-bot-sdk-go/v8/linebot/webhook"
)

const (
	testSecret = "8c570fa6dd201bb328f1c1eac23a96d8"
	testToken  = "sim-access-token"
)

// fakeClock is a settable time source.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// startSim starts a simulator with the test secret and token; cfg fields
// left zero get those defaults.
func startSim(t *testing.T, cfg Config) *Server {
	t.Helper()
	if cfg.ChannelSecret == "" {
		cfg.ChannelSecret = testSecret
	}
	if cfg.AccessToken == "" {
		cfg.AccessToken = testToken
	}
	s := New(cfg)
	if err := s.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func addFollower(s *Server, name string) string {
	id := NewUserID()
	s.AddCustomer(Customer{UserID: id, DisplayName: name, PictureURL: "https://example.com/" + name + ".png", Language: "ja", Following: true})
	return id
}

// received is one webhook POST as the receiver saw it.
type received struct {
	raw       []byte
	header    http.Header
	callback  *webhook.CallbackRequest
	parseErr  error
	signature string
}

// receiver is a webhook endpoint that parses what it gets with the SDK.
type receiver struct {
	mu     sync.Mutex
	got    []received
	status int // answer; 0 means 200
	srv    *httptest.Server
}

func newReceiver(t *testing.T, secret string) *receiver {
	t.Helper()
	rc := &receiver{}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(raw))
		cb, err := webhook.ParseRequest(secret, r)
		rc.mu.Lock()
		rc.got = append(rc.got, received{raw: raw, header: r.Header.Clone(), callback: cb, parseErr: err, signature: r.Header.Get("X-Line-Signature")})
		status := rc.status
		rc.mu.Unlock()
		if status == 0 {
			status = http.StatusOK
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) setStatus(code int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.status = code
}

func (rc *receiver) all() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// last returns the single event of the last webhook, failing the test if
// it did not parse.
func (rc *receiver) last(t *testing.T) (received, webhook.EventInterface) {
	t.Helper()
	all := rc.all()
	if len(all) == 0 {
		t.Fatal("no webhook received")
	}
	r := all[len(all)-1]
	if r.parseErr != nil {
		t.Fatalf("webhook.ParseRequest: %v", r.parseErr)
	}
	if n := len(r.callback.Events); n != 1 {
		t.Fatalf("webhook has %d events, want 1", n)
	}
	return r, r.callback.Events[0]
}

// apiResponse is a raw API answer.
type apiResponse struct {
	status int
	header http.Header
	body   errorBody
	raw    []byte
}

// call makes a raw API request. token "" sends no Authorization header.
func call(t *testing.T, s *Server, method, path, token string, header map[string]string, body string) apiResponse {
	t.Helper()
	req, err := http.NewRequest(method, s.URL()+path, bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := apiResponse{status: res.StatusCode, header: res.Header, raw: raw}
	if res.StatusCode/100 != 2 {
		if err := json.Unmarshal(raw, &out.body); err != nil {
			t.Fatalf("%s %s: error body %q is not JSON: %v", method, path, raw, err)
		}
	}
	return out
}

func sdkClient(t *testing.T, s *Server, token string) *messaging_api.MessagingApiAPI {
	t.Helper()
	api, err := messaging_api.NewMessagingApiAPI(token, messaging_api.WithEndpoint(s.URL()))
	if err != nil {
		t.Fatal(err)
	}
	return api
}

func pushBody(to string, texts ...string) string {
	msgs := make([]map[string]string, len(texts))
	for i, t := range texts {
		msgs[i] = map[string]string{"type": "text", "text": t}
	}
	b, _ := json.Marshal(map[string]any{"to": to, "messages": msgs})
	return string(b)
}
