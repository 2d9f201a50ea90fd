package relayclient

import (
	"testing"
	"time"
)

func TestNormalizeURL(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"https://relay.example.jp", "https://relay.example.jp", true},
		{" https://relay.example.jp/ \n", "https://relay.example.jp", true},
		{"https://relay.example.jp/tsunagu/", "https://relay.example.jp/tsunagu", true},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080", true},
		{"relay.example.jp", "", false},
		{"ftp://relay.example.jp", "", false},
		{"https://user:pw@relay.example.jp", "", false},
		{"https://relay.example.jp/?code=x", "", false},
		{"https://", "", false},
	} {
		got, err := NormalizeURL(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("NormalizeURL(%q) = %q, %v", tc.in, got, err)
		}
	}
}

func TestWebSocketURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://relay.example.jp":   "wss://relay.example.jp/v1/connect",
		"https://relay.example.jp/t": "wss://relay.example.jp/t/v1/connect",
		"http://127.0.0.1:8080":      "ws://127.0.0.1:8080/v1/connect",
	} {
		if got := wsURL(in); got != want {
			t.Errorf("wsURL(%q) = %q", in, got)
		}
	}
}

// Backoff grows from MinBackoff to MaxBackoff, jittered in [ceiling/2, ceiling].
func TestBackoff(t *testing.T) {
	c := &Client{cfg: Config{MinBackoff: 100 * time.Millisecond, MaxBackoff: 2 * time.Second}}
	for n, ceiling := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 4: 800 * time.Millisecond, 10: 2 * time.Second, 60: 2 * time.Second} {
		for range 50 {
			if d := c.backoff(n); d < ceiling/2 || d > ceiling {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", n, d, ceiling/2, ceiling)
			}
		}
	}
}
