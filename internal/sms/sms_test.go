package sms

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestE164(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"090-1234-5678", "+819012345678"},
		{"08012345678", "+818012345678"},
		{"070 1234 5678", "+817012345678"},
		{"+81 90 1234 5678", "+819012345678"},
		{"819012345678", "+819012345678"},
		{"０９０１２３４５６７８", "+819012345678"},
		{"03-1234-5678", ""}, // a landline takes no SMS
		{"090-1234-567", ""},
		{"", ""},
	} {
		got, err := E164(tt.in)
		if tt.want == "" {
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("E164(%q) = %q, %v; want ErrInvalid", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("E164(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

const sid = "AC0123456789abcdef0123456789abcdef"

func TestTwilio(t *testing.T) {
	var mu sync.Mutex
	var got []string
	var statusV atomic.Int64
	statusV.Store(http.StatusCreated)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || user != sid || pass != "twilio-token" || r.URL.Path != "/2010-04-01/Accounts/"+sid+"/Messages.json" {
			w.WriteHeader(401)
			io.WriteString(w, `{"code": 20003, "message": "Authenticate"}`)
			return
		}
		r.ParseForm()
		mu.Lock()
		got = append(got, r.Form.Get("To")+"|"+r.Form.Get("From")+"|"+r.Form.Get("Body"))
		mu.Unlock()
		status := int(statusV.Load())
		w.WriteHeader(status)
		switch status {
		case http.StatusCreated:
			io.WriteString(w, `{"sid": "SM123", "status": "queued"}`)
		case http.StatusBadRequest:
			io.WriteString(w, `{"code": 21211, "message": "The 'To' number is not a valid phone number."}`)
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	tw, err := NewTwilio(srv.URL, sid, "twilio-token", "+815012345678", nil)
	if err != nil {
		t.Fatal(err)
	}
	id, err := tw.Send(ctx, "090-1234-5678", "満期のご案内です", "k1")
	if err != nil || id != "SM123" {
		t.Fatalf("Send = %q, %v", id, err)
	}
	mu.Lock()
	first := got[0]
	mu.Unlock()
	if first != "+819012345678|+815012345678|満期のご案内です" {
		t.Fatalf("request = %q", first)
	}
	statusV.Store(http.StatusBadRequest)
	if _, err := tw.Send(ctx, "090-1234-5678", "x", "k2"); !errors.Is(err, ErrRefused) {
		t.Fatalf("400: %v, want ErrRefused", err)
	}
	statusV.Store(http.StatusServiceUnavailable)
	if _, err := tw.Send(ctx, "090-1234-5678", "x", "k3"); !errors.Is(err, ErrUncertain) {
		t.Fatalf("503: %v, want ErrUncertain", err)
	}
	bad, _ := NewTwilio(srv.URL, sid, "wrong", "+815012345678", nil)
	if _, err := bad.Send(ctx, "090-1234-5678", "x", "k4"); !errors.Is(err, ErrRefused) || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("bad token: %v", err)
	}
	if _, err := tw.Send(ctx, "03-1234-5678", "x", "k5"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("landline: %v", err)
	}
	if _, err := NewTwilio("http://api.example.com", sid, "t", "+815012345678", nil); !errors.Is(err, ErrInvalid) {
		t.Fatalf("plain http to a remote host: %v", err)
	}
}

func TestWebhookSignsAndDeduplicates(t *testing.T) {
	secret := "webhook-signing-secret-123"
	var mu sync.Mutex
	delivered := map[string]int{}
	var hang atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get("X-Tsunagu-Signature") != Signature([]byte(secret), r.Header.Get("X-Tsunagu-Timestamp"), body) {
			w.WriteHeader(401)
			return
		}
		var m struct{ To, Text, IdempotencyKey string }
		json.Unmarshal(body, &m)
		key := r.Header.Get("Idempotency-Key")
		if key == "" || key != m.IdempotencyKey {
			w.WriteHeader(400)
			return
		}
		mu.Lock()
		delivered[key]++
		n := delivered[key]
		mu.Unlock()
		if hang.Load() {
			time.Sleep(300 * time.Millisecond)
		}
		if n > 1 {
			w.WriteHeader(http.StatusConflict)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"id": "msg-" + key})
	}))
	defer srv.Close()
	ctx := context.Background()
	wh, err := NewWebhook(srv.URL, secret, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !wh.Idempotent() {
		t.Fatal("webhook must report idempotency")
	}
	if id, err := wh.Send(ctx, "09012345678", "こんにちは", "key-1"); err != nil || id != "msg-key-1" {
		t.Fatalf("Send = %q, %v", id, err)
	}
	if _, err := wh.Send(ctx, "09012345678", "こんにちは", "key-1"); err != nil {
		t.Fatalf("repeat: %v (409 means already delivered)", err)
	}
	// A timeout is uncertain.
	hang.Store(true)
	short, _ := NewWebhook(srv.URL, secret, &http.Client{Timeout: 50 * time.Millisecond}, nil)
	if _, err := short.Send(ctx, "09012345678", "x", "key-2"); !errors.Is(err, ErrUncertain) {
		t.Fatalf("timeout: %v, want ErrUncertain", err)
	}
	hang.Store(false)
	wrong, _ := NewWebhook(srv.URL, "another-secret-of-16+", nil, nil)
	if _, err := wrong.Send(ctx, "09012345678", "x", "key-3"); !errors.Is(err, ErrRefused) {
		t.Fatalf("bad signature: %v, want ErrRefused", err)
	}
	if _, err := NewWebhook(srv.URL, "short", nil, nil); !errors.Is(err, ErrInvalid) {
		t.Fatalf("short secret: %v", err)
	}
}
