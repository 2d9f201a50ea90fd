package linesim

import (
	"context"
	"encoding/json"
	"testing"
)

// readToken is the markAsReadToken of the last webhook's message event,
// read from the raw body (SDK v8.14.0 does not decode it).
func readToken(t *testing.T, rc *receiver) (token, messageID string) {
	t.Helper()
	r, _ := rc.last(t)
	var raw struct {
		Events []struct {
			Message struct {
				ID              string `json:"id"`
				MarkAsReadToken string `json:"markAsReadToken"`
			} `json:"message"`
		} `json:"events"`
	}
	if err := json.Unmarshal(r.raw, &raw); err != nil || len(raw.Events) != 1 || raw.Events[0].Message.MarkAsReadToken == "" {
		t.Fatalf("no markAsReadToken in %s (%v)", r.raw, err)
	}
	return raw.Events[0].Message.MarkAsReadToken, raw.Events[0].Message.ID
}

func TestMarkAsReadByTokenRawHTTP(t *testing.T) {
	rc := newReceiver(t, testSecret)
	s := startSim(t, Config{})
	s.SetWebhookURL(rc.srv.URL)
	u := addFollower(s, "hanako")
	ctx := context.Background()
	if _, err := s.SendText(ctx, u, "一通目"); err != nil {
		t.Fatal(err)
	}
	first, firstID := readToken(t, rc)
	if _, err := s.SendText(ctx, u, "二通目"); err != nil {
		t.Fatal(err)
	}
	second, secondID := readToken(t, rc)
	if first == second {
		t.Fatal("two messages share a read token")
	}
	if s.ReadUpTo(u) != "" || !s.ReadAt(u).IsZero() {
		t.Fatal("read before anything was marked")
	}

	const path = "/v2/bot/chat/markAsRead"
	for _, tt := range []struct {
		name, body string
		status     int
		msg        string
		detail     string
	}{
		{"missing token", `{}`, 400, "The request body has 1 error(s)", "markAsReadToken"},
		{"empty token", `{"markAsReadToken":""}`, 400, "The request body has 1 error(s)", "markAsReadToken"},
		{"unknown token", `{"markAsReadToken":"not-a-token"}`, 400, msgInvalidReadToken, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := call(t, s, "POST", path, testToken, nil, tt.body)
			if res.status != tt.status || res.body.Message != tt.msg {
				t.Fatalf("%d %q, want %d %q (%s)", res.status, res.body.Message, tt.status, tt.msg, res.raw)
			}
			if tt.detail != "" && (len(res.body.Details) != 1 || res.body.Details[0].Property != tt.detail) {
				t.Fatalf("details = %+v", res.body.Details)
			}
		})
	}
	if res := call(t, s, "POST", path, "", nil, `{"markAsReadToken":"`+first+`"}`); res.status != 401 {
		t.Fatalf("without bearer token: %d", res.status)
	}
	if s.ReadUpTo(u) != "" {
		t.Fatal("a refused request marked messages read")
	}

	// The newer token marks both; the older one afterwards changes nothing,
	// and a token may be used again.
	for _, tok := range []string{second, first, second} {
		if res := call(t, s, "POST", path, testToken, nil, `{"markAsReadToken":"`+tok+`"}`); res.status != 200 || string(res.raw) != "{}" {
			t.Fatalf("mark as read: %d %s", res.status, res.raw)
		}
		if got := s.ReadUpTo(u); got != secondID {
			t.Fatalf("read up to %s, want %s (first was %s)", got, secondID, firstID)
		}
	}
	if s.ReadAt(u).IsZero() {
		t.Fatal("ReadAt not set")
	}
}
