package linesim

import (
	"net/http"
	"strings"
	"testing"
)

func TestSetWebhookEndpointValidation(t *testing.T) {
	s := startSim(t, Config{ChannelSecret: "s", AccessToken: "tok"})
	for _, tc := range []struct {
		name, body string
		want       int
	}{
		{"https", `{"endpoint":"https://relay.example.jp/hook/t1/x"}`, 200},
		{"http", `{"endpoint":"http://relay.example.jp/hook"}`, 400},
		{"501 chars", `{"endpoint":"https://r.jp/` + strings.Repeat("a", 488) + `"}`, 400},
		{"500 chars", `{"endpoint":"https://r.jp/` + strings.Repeat("a", 487) + `"}`, 200},
		{"missing", `{}`, 400},
		{"not json", `x`, 400},
	} {
		res := call(t, s, http.MethodPut, "/v2/bot/channel/webhook/endpoint", "tok", nil, tc.body)
		if res.status != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, res.status, tc.want)
		}
	}
	if !strings.HasPrefix(s.WebhookURL(), "https://r.jp/aaa") {
		t.Fatalf("webhook URL %q", s.WebhookURL())
	}
	if res := call(t, s, http.MethodPut, "/v2/bot/channel/webhook/endpoint", "bad", nil, `{"endpoint":"https://x.jp"}`); res.status != 401 {
		t.Fatalf("bad token: %d", res.status)
	}
}
