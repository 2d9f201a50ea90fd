package line

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/line/line-bot-sdk-go/v8/linebot/webhook"

	"tsunagu/internal/linesim"
)

const simToken = "sim-channel-access-token-do-not-log"

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a simulator with this package's webhook handler behind it, as the
// app runs in sandbox mode.
type env struct {
	sim    *linesim.Server
	client *Client
	clock  *clock

	mu         sync.Mutex
	events     []webhook.EventInterface
	readTokens map[string]string // webhookEventId -> markAsReadToken
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{clock: &clock{t: time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)}}
	e.sim = linesim.New(linesim.Config{
		ChannelSecret: docSecret,
		AccessToken:   simToken,
		Clock:         e.clock.Now,
		ReplyTokenTTL: time.Minute,
	})
	if err := e.sim.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.sim.Close() })

	v := NewVerifier(docSecret)
	app := httptest.NewServer(v.Handler(func(_ context.Context, req *Webhook) error {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.events = append(e.events, req.Events...)
		for id, tok := range req.MarkAsReadTokens {
			if e.readTokens == nil {
				e.readTokens = map[string]string{}
			}
			e.readTokens[id] = tok
		}
		return nil
	}))
	t.Cleanup(app.Close)
	e.sim.SetWebhookURL(app.URL)

	c, err := NewClient(e.sim.URL(), simToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.client = c
	return e
}

func (e *env) follower(name string) string {
	id := linesim.NewUserID()
	e.sim.AddCustomer(linesim.Customer{UserID: id, DisplayName: name, PictureURL: "https://example.com/p.png", Language: "ja", Following: true})
	return id
}

// customerSays sends text from the customer and returns the reply token
// the app's webhook handler received.
func (e *env) customerSays(t *testing.T, userID, text string) string {
	t.Helper()
	if _, err := e.sim.SendText(context.Background(), userID, text); err != nil {
		t.Fatalf("SendText: %v", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	me, ok := e.events[len(e.events)-1].(webhook.MessageEvent)
	if !ok {
		t.Fatalf("last event is %T", e.events[len(e.events)-1])
	}
	return me.ReplyToken
}

func TestPushText(t *testing.T) {
	e := newEnv(t)
	u := e.follower("hanako")
	ctx := context.Background()
	key := uuid.NewString()
	const text = "お振込みを確認しました。ありがとうございます 🙏"

	res, err := e.client.PushText(ctx, u, text, key)
	if err != nil {
		t.Fatalf("PushText: %v", err)
	}
	if res.Status != 200 || res.RequestID == "" || res.AcceptedRequestID != "" {
		t.Fatalf("result = %+v", res)
	}
	d := e.sim.Deliveries(u)
	if len(d) != 1 {
		t.Fatalf("%d deliveries, want 1", len(d))
	}
	if d[0].UserID != u || d[0].Text != text || d[0].RetryKey != key || d[0].Via != linesim.ViaPush || d[0].RequestID != res.RequestID {
		t.Fatalf("delivery = %+v", d[0])
	}

	// The same key again, as after a timeout: LINE answers 409, which is
	// success, and the customer still has one copy.
	again, err := e.client.PushText(ctx, u, text, key)
	if err != nil {
		t.Fatalf("PushText with a used retry key: %v", err)
	}
	if again.Status != 409 || again.AcceptedRequestID != res.RequestID || again.RequestID == res.RequestID {
		t.Fatalf("retry result = %+v, want 409 accepted as %s", again, res.RequestID)
	}
	if n := len(e.sim.Deliveries(u)); n != 1 {
		t.Fatalf("%d deliveries after the retry, want 1", n)
	}
}

func TestPushTextRejectedBeforeSending(t *testing.T) {
	e := newEnv(t)
	u := e.follower("hanako")
	ctx := context.Background()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()

	tests := []struct {
		name    string
		ctx     context.Context
		to      string
		text    string
		key     string
		wantErr error
	}{
		{"too long", ctx, u, strings.Repeat("😀", 2501), uuid.NewString(), ErrTextTooLong},
		{"empty", ctx, u, "", uuid.NewString(), ErrTextEmpty},
		{"no recipient", ctx, "", "hi", uuid.NewString(), nil},
		{"no retry key", ctx, u, "hi", "", nil},
		{"retry key not a UUID", ctx, u, "hi", "key-1", nil},
		{"retry key in braces", ctx, u, "hi", "{" + uuid.NewString() + "}", nil},
		{"cancelled context", cancelled, u, "hi", uuid.NewString(), context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.client.PushText(tt.ctx, tt.to, tt.text, tt.key)
			if err == nil {
				t.Fatal("PushText succeeded")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("PushText = %v, want %v", err, tt.wantErr)
			}
			if _, ok := errors.AsType[*APIError](err); ok {
				t.Fatalf("PushText = %v: reached LINE", err)
			}
		})
	}
	if d := e.sim.Deliveries(u); len(d) != 0 {
		t.Fatalf("deliveries = %+v, want none", d)
	}
}

func TestPushTextAPIErrors(t *testing.T) {
	e := newEnv(t)
	u := e.follower("hanako")
	blocked := linesim.NewUserID()
	e.sim.AddCustomer(linesim.Customer{UserID: blocked, DisplayName: "blocked"})
	ctx := context.Background()

	bad, err := NewClient(e.sim.URL(), "wrong-token-value", nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := bad.PushText(ctx, u, "secret balance 1,000,000円", uuid.NewString())
	apiErr, ok := errors.AsType[*APIError](err)
	if !ok || apiErr.Status != 401 || res.Status != 401 {
		t.Fatalf("bad token: %+v, %v; want 401 APIError", res, err)
	}
	if apiErr.Message != "Authentication failed. Confirm that the access token in the authorization header is valid." ||
		apiErr.RequestID == "" || apiErr.RequestID != res.RequestID || apiErr.Temporary() {
		t.Fatalf("APIError = %+v", apiErr)
	}
	for _, leak := range []string{"wrong-token-value", "secret balance", u} {
		if strings.Contains(err.Error(), leak) {
			t.Fatalf("error %q contains %q", err, leak)
		}
	}

	_, err = e.client.PushText(ctx, linesim.NewUserID(), "hi", uuid.NewString())
	if apiErr, ok := errors.AsType[*APIError](err); !ok || apiErr.Status != 400 || apiErr.Message != "Failed to send messages" {
		t.Fatalf("push to an unknown user: %v", err)
	}
	if errors.Is(err, ErrUnreachable) {
		t.Fatal("a 400 was reported as ErrUnreachable")
	}

	// LINE accepts a push to a user who blocked the account and drops it.
	res, err = e.client.PushText(ctx, blocked, "hi", uuid.NewString())
	if err != nil || res.Status != 200 {
		t.Fatalf("push to a blocked user: %+v, %v", res, err)
	}
	if len(e.sim.Deliveries(blocked)) != 0 {
		t.Fatal("push to a blocked user was delivered")
	}
}

func TestReplyText(t *testing.T) {
	e := newEnv(t)
	u := e.follower("hanako")
	ctx := context.Background()

	token := e.customerSays(t, u, "口座を開設したいです")
	res, err := e.client.ReplyText(ctx, token, "ご連絡ありがとうございます")
	if err != nil || res.Status != 200 || res.RequestID == "" {
		t.Fatalf("ReplyText: %+v, %v", res, err)
	}
	d := e.sim.Deliveries(u)
	if len(d) != 1 || d[0].Via != linesim.ViaReply || d[0].Text != "ご連絡ありがとうございます" || d[0].RequestID != res.RequestID {
		t.Fatalf("deliveries = %+v", d)
	}

	_, err = e.client.ReplyText(ctx, token, "again")
	assertInvalidReplyToken(t, "reused token", err)

	token = e.customerSays(t, u, "まだですか")
	e.clock.Advance(time.Minute)
	_, err = e.client.ReplyText(ctx, token, "late")
	assertInvalidReplyToken(t, "expired token", err)

	if _, err := e.client.ReplyText(ctx, "", "hi"); err == nil {
		t.Fatal("ReplyText without a token succeeded")
	}
	if _, err := e.client.ReplyText(ctx, token, strings.Repeat("a", 5001)); !errors.Is(err, ErrTextTooLong) {
		t.Fatalf("ReplyText(too long) = %v", err)
	}
	if n := len(e.sim.Deliveries(u)); n != 1 {
		t.Fatalf("%d deliveries, want 1", n)
	}
}

func assertInvalidReplyToken(t *testing.T, what string, err error) {
	t.Helper()
	apiErr, ok := errors.AsType[*APIError](err)
	if !ok || apiErr.Status != 400 || apiErr.Message != "Invalid reply token" || apiErr.Temporary() {
		t.Fatalf("%s: %v, want 400 Invalid reply token", what, err)
	}
}

func TestProfile(t *testing.T) {
	e := newEnv(t)
	u := e.follower("山田花子")
	ctx := context.Background()

	p, err := e.client.Profile(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	want := Profile{UserID: u, DisplayName: "山田花子", PictureURL: "https://example.com/p.png", Language: "ja"}
	if p != want {
		t.Fatalf("Profile = %+v, want %+v", p, want)
	}

	if err := e.sim.Unfollow(ctx, u); err != nil {
		t.Fatal(err)
	}
	_, err = e.client.Profile(ctx, u)
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("profile of a user who blocked: %v, want ErrUnreachable", err)
	}
	if apiErr, ok := errors.AsType[*APIError](err); !ok || apiErr.Status != 404 || apiErr.Message != "Not found" {
		t.Fatalf("profile of a user who blocked: %v, want the 404 APIError too", err)
	}
	if strings.Contains(err.Error(), u) {
		t.Fatalf("error %q contains the user ID", err)
	}
	if _, err := e.client.Profile(ctx, linesim.NewUserID()); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("profile of an unknown user: %v", err)
	}

	for _, id := range []string{"", "hanako", u + "/../../message/push", strings.ToUpper(u), "U../v2/bot/info?"} {
		_, err := e.client.Profile(ctx, id)
		if err == nil || errors.Is(err, ErrUnreachable) {
			t.Errorf("Profile(%q) = %v, want a local error", id, err)
		}
	}
}

// TestAPIErrorDecoding covers answers the simulator never gives: LINE's
// details array, non-JSON bodies from proxies, a 409 without the accepted
// request header, and a 2xx whose body is not JSON.
func TestAPIErrorDecoding(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		header      map[string]string
		body        string
		wantErr     bool
		wantMsg     string
		wantDetails []string
		wantTemp    bool
	}{
		{
			name: "details", status: 400,
			body:    `{"message":"The request body has 2 error(s)","details":[{"message":"May not be empty","property":"messages[0].text"},{"message":"Must be one of the following values: [text]"}]}`,
			wantErr: true, wantMsg: "The request body has 2 error(s)",
			wantDetails: []string{"messages[0].text: May not be empty", "Must be one of the following values: [text]"},
		},
		{name: "rate limited", status: 429, body: `{"message":"The API rate limit has been exceeded. Try again later."}`,
			wantErr: true, wantMsg: "The API rate limit has been exceeded. Try again later.", wantTemp: true},
		{name: "proxy HTML", status: 502, body: "<html>Bad Gateway</html>", wantErr: true, wantTemp: true},
		{name: "empty 500", status: 500, wantErr: true, wantTemp: true},
		{name: "409 without accepted ID", status: 409, body: `{"message":"The retry key is already accepted"}`,
			wantErr: true, wantMsg: "The retry key is already accepted"},
		{name: "200 with a body that is not JSON", status: 200, body: "ok"},
		{name: "409 with accepted ID", status: 409, header: map[string]string{"X-Line-Accepted-Request-Id": "first"},
			body: `{"message":"The retry key is already accepted","sentMessages":[{"id":"1"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if got := r.Header.Get("Authorization"); got != "Bearer tok" {
					t.Errorf("Authorization = %q", got)
				}
				w.Header().Set("X-Line-Request-Id", "req-1")
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			// One attempt: this test is about decoding the answer, not
			// about retrying it (see send_test.go).
			c, err := New(Config{Endpoint: srv.URL, AccessToken: "tok", Retry: RetryPolicy{MaxAttempts: 1}})
			if err != nil {
				t.Fatal(err)
			}
			res, err := c.PushText(context.Background(), linesim.NewUserID(), "hi", uuid.NewString())
			if res.Status != tt.status || res.RequestID != "req-1" {
				t.Errorf("result = %+v", res)
			}
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("PushText = %v, want success", err)
				}
				return
			}
			apiErr, ok := errors.AsType[*APIError](err)
			if !ok {
				t.Fatalf("PushText = %v, want *APIError", err)
			}
			if apiErr.Status != tt.status || apiErr.Message != tt.wantMsg || apiErr.RequestID != "req-1" ||
				fmt.Sprint(apiErr.Details) != fmt.Sprint(tt.wantDetails) || apiErr.Temporary() != tt.wantTemp {
				t.Fatalf("APIError = %+v (temporary %v)", apiErr, apiErr.Temporary())
			}
			if tt.body != "" && tt.wantMsg == "" && strings.Contains(err.Error(), tt.body) {
				t.Fatalf("error %q contains the raw body", err)
			}
			if !strings.Contains(err.Error(), fmt.Sprint(tt.status)) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("error %q lacks the status or LINE's message", err)
			}
		})
	}
}

func TestAPIErrorTemporary(t *testing.T) {
	for status, want := range map[int]bool{400: false, 401: false, 403: false, 404: false, 409: false, 413: false, 429: true, 500: true, 502: true, 503: true, 504: true} {
		if got := (&APIError{Status: status}).Temporary(); got != want {
			t.Errorf("Temporary() for %d = %v, want %v", status, got, want)
		}
	}
}

func TestTransportErrorsHideURL(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	defer srv.Close()
	defer close(release)
	c, err := NewClient(srv.URL, "tok", nil)
	if err != nil {
		t.Fatal(err)
	}
	u := linesim.NewUserID()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = c.Profile(ctx, u)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Profile against a hung server = %v, want DeadlineExceeded", err)
	}
	if strings.Contains(err.Error(), u) || strings.Contains(err.Error(), srv.URL) {
		t.Fatalf("error %q contains the URL", err)
	}
}

func TestNewClient(t *testing.T) {
	tests := []struct {
		endpoint, token string
		ok              bool
	}{
		{DefaultEndpoint, "t", true},
		{"http://127.0.0.1:8080", "t", true},
		{"http://localhost:8080/base", "t", true},
		{"http://[::1]:8080", "t", true},
		{DefaultEndpoint, "", false},
		{"http://api.line.me", "t", false},
		{"http://192.168.1.10:8080", "t", false},
		{"ftp://127.0.0.1", "t", false},
		{"api.line.me", "t", false},
		{"https://", "t", false},
		{"", "t", false},
	}
	for _, tt := range tests {
		c, err := NewClient(tt.endpoint, tt.token, nil)
		if (err == nil) != tt.ok {
			t.Errorf("NewClient(%q, %q) = %v, %v; want ok %v", tt.endpoint, tt.token, c, err, tt.ok)
		}
	}
}

func TestClientDoesNotPrintToken(t *testing.T) {
	c, err := NewClient(DefaultEndpoint, simToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(f, c); strings.Contains(s, simToken) {
			t.Errorf("Sprintf(%q) = %q contains the token", f, s)
		}
	}
}

func TestDefaultClientDoesNotFollowRedirects(t *testing.T) {
	var leaked sync.Map
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked.Store("auth", r.Header.Get("Authorization"))
	}))
	defer other.Close()
	srv := httptest.NewServer(http.RedirectHandler(other.URL+"/v2/bot/message/push", http.StatusTemporaryRedirect))
	defer srv.Close()
	c, err := NewClient(srv.URL, "tok", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.PushText(context.Background(), linesim.NewUserID(), "hi", uuid.NewString())
	if apiErr, ok := errors.AsType[*APIError](err); !ok || apiErr.Status != http.StatusTemporaryRedirect {
		t.Fatalf("PushText through a redirect = %v, want the 307 as an APIError", err)
	}
	if _, ok := leaked.Load("auth"); ok {
		t.Fatal("the redirect was followed")
	}
}

func TestConcurrentSends(t *testing.T) {
	e := newEnv(t)
	users := []string{e.follower("a"), e.follower("b"), e.follower("c")}
	ctx := context.Background()
	var wg sync.WaitGroup
	const per = 10
	for _, u := range users {
		for i := range per {
			wg.Go(func() {
				if _, err := e.client.PushText(ctx, u, fmt.Sprintf("n%d", i), uuid.NewString()); err != nil {
					t.Error(err)
				}
				if _, err := e.client.Profile(ctx, u); err != nil {
					t.Error(err)
				}
			})
		}
	}
	wg.Wait()
	for _, u := range users {
		if n := len(e.sim.Deliveries(u)); n != per {
			t.Errorf("%s: %d deliveries, want %d", u, n, per)
		}
	}
}
