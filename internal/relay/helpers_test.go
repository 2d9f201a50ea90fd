package relay_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"tsunagu/internal/relay"
	"tsunagu/internal/relayclient"
)

const testSecret = "8c570fa6dd201bb328f1c1eac23a96d8"

func sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func hookBody(n int, text string) []byte {
	return fmt.Appendf(nil, `{"destination":"U8e742f61d673b39c7fff3cecb7536ef0","events":[{"type":"message","webhookEventId":"01EV%06d","timestamp":1700000000000,"mode":"active","source":{"type":"user","userId":"U0123456789abcdef0123456789abcdef"},"replyToken":"r%d","deliveryContext":{"isRedelivery":false},"message":{"id":"%d","type":"text","quoteToken":"q","text":%q}}]}`, n, n, n, text)
}

type testRelay struct {
	srv  *relay.Server
	http *httptest.Server
	log  *bytes.Buffer
}

func newRelay(t *testing.T, cfg relay.Config) *testRelay {
	t.Helper()
	if cfg.DataDir == "" && cfg.NATSURL == "" {
		cfg.DataDir = t.TempDir()
	}
	tr := &testRelay{}
	srv, err := relay.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	tr.srv = srv
	tr.http = httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		tr.http.CloseClientConnections()
		tr.http.Close()
		srv.Close()
	})
	return tr
}

// tenant adds a tenant and enrolls fresh desktop keys with its code.
type tenant struct {
	id     string
	hook   string
	keys   relayclient.Keys
	enroll relayclient.Enrollment
}

func (tr *testRelay) addTenant(t *testing.T, name string) tenant {
	t.Helper()
	ctx := context.Background()
	info, code, err := tr.srv.Admin().AddTenant(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := relayclient.GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	en, err := relayclient.Enroll(ctx, nil, tr.http.URL, code, keys, relayclient.HTTPLoopback)
	if err != nil {
		t.Fatal(err)
	}
	if en.Tenant != info.ID || !strings.HasPrefix(en.WebhookURL, tr.http.URL+"/hook/"+info.ID+"/") {
		t.Fatalf("enrollment %+v for tenant %s", en, info.ID)
	}
	return tenant{id: info.ID, hook: en.WebhookURL, keys: keys, enroll: en}
}

func post(t testing.TB, url string, body []byte, sig string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set("X-Line-Signature", sig)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// sink collects what a relayclient handler got.
type sink struct {
	mu     sync.Mutex
	bodies []string
	sigs   []string
	ch     chan struct{}
	fail   func(body []byte) error
}

func newSink() *sink { return &sink{ch: make(chan struct{}, 100000)} }

func (s *sink) handle(_ context.Context, body []byte, sig string) error {
	if s.fail != nil {
		if err := s.fail(body); err != nil {
			return err
		}
	}
	s.mu.Lock()
	s.bodies = append(s.bodies, string(body))
	s.sigs = append(s.sigs, sig)
	s.mu.Unlock()
	s.ch <- struct{}{}
	return nil
}

func (s *sink) wait(t *testing.T, n int, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for range n {
		select {
		case <-s.ch:
		case <-deadline:
			s.mu.Lock()
			got := len(s.bodies)
			s.mu.Unlock()
			t.Fatalf("got %d events, want %d", got, n)
		}
	}
}

func (s *sink) got() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.bodies...)
}

func runClient(t *testing.T, en relayclient.Enrollment, keys relayclient.Keys, h relayclient.Handler) (*relayclient.Client, context.CancelFunc) {
	t.Helper()
	c, err := relayclient.New(relayclient.Config{Enrollment: en, Keys: keys, MinBackoff: 50 * time.Millisecond, MaxBackoff: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Run(ctx, h)
	}()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	return c, stop
}

func scrape(t *testing.T, srv *relay.Server) string {
	t.Helper()
	rec := httptest.NewRecorder()
	srv.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("metrics: %d", rec.Code)
	}
	return rec.Body.String()
}

func metricLine(metrics, prefix string) string {
	for l := range strings.Lines(metrics) {
		if strings.HasPrefix(l, prefix) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

func eventually(t *testing.T, d time.Duration, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var errTransient = errors.New("db busy")
