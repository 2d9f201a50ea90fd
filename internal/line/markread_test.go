package line

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/line/line-bot-sdk-go/v8/linebot/webhook"

	"tsunagu/internal/linesim"
)

func TestParseReadsMarkAsReadTokens(t *testing.T) {
	body := []byte(`{"destination":"U8e742f61d673b39c7fff3cecb7536ef0","events":[
	 {"type":"message","webhookEventId":"01EVTTEXT","mode":"active","timestamp":1,"deliveryContext":{"isRedelivery":false},
	  "source":{"type":"user","userId":"U4af4980629a0b1c0e0e1e5e5e5e5e5e5"},"replyToken":"r1",
	  "message":{"id":"1","type":"text","quoteToken":"q","markAsReadToken":"30yhdy232abc","text":"こんにちは"}},
	 {"type":"message","webhookEventId":"01EVTNOTOKEN","mode":"active","timestamp":2,"deliveryContext":{"isRedelivery":false},
	  "source":{"type":"user","userId":"U4af4980629a0b1c0e0e1e5e5e5e5e5e5"},"replyToken":"r2",
	  "message":{"id":"2","type":"sticker","packageId":"1","stickerId":"1","stickerResourceType":"STATIC"}},
	 {"type":"follow","webhookEventId":"01EVTFOLLOW","mode":"active","timestamp":3,"deliveryContext":{"isRedelivery":false},
	  "source":{"type":"user","userId":"U4af4980629a0b1c0e0e1e5e5e5e5e5e5"},"replyToken":"r3","follow":{"isUnblocked":false},
	  "message":{"markAsReadToken":"not-a-message-event"}}]}`)
	w, err := NewVerifier(docSecret).Parse(body, sign(docSecret, body))
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Events) != 3 {
		t.Fatalf("events = %d", len(w.Events))
	}
	if _, ok := w.Events[0].(webhook.MessageEvent); !ok {
		t.Fatalf("event 0 is %T", w.Events[0])
	}
	if len(w.MarkAsReadTokens) != 1 || w.MarkAsReadTokens["01EVTTEXT"] != "30yhdy232abc" {
		t.Fatalf("tokens = %v", w.MarkAsReadTokens)
	}
}

// TestMarkAsReadByToken goes the whole way through the SDK's client against
// the simulator: the token arrives in a signed webhook, is read from the raw
// body, and marks the customer's messages read on their phone.
func TestMarkAsReadByToken(t *testing.T) {
	e := newEnv(t)
	u := e.follower("hanako")
	ctx := context.Background()
	e.customerSays(t, u, "一通目")
	e.customerSays(t, u, "二通目")
	e.mu.Lock()
	last := e.events[len(e.events)-1].(webhook.MessageEvent)
	token := e.readTokens[last.WebhookEventId]
	first := e.readTokens[e.events[len(e.events)-2].(webhook.MessageEvent).WebhookEventId]
	e.mu.Unlock()
	if token == "" || first == "" || token == first {
		t.Fatalf("tokens %q %q", first, token)
	}
	msgID := last.Message.(webhook.TextMessageContent).Id

	c := e.newSimClient(t, Config{})
	// A 503 first: marking read is idempotent, so it is retried.
	e.sim.InjectFaults(linesim.EndpointMarkAsReadByToken, linesim.Fault{Status: 503})
	if err := c.MarkAsReadByToken(ctx, token); err != nil {
		t.Fatal(err)
	}
	if got := e.sim.ReadUpTo(u); got != msgID {
		t.Fatalf("read up to %q, want %q", got, msgID)
	}
	reqs := simRequests(e.sim, linesim.EndpointMarkAsReadByToken)
	if len(reqs) != 2 {
		t.Fatalf("requests = %+v", reqs)
	}
	log := c.Requests()
	if n := len(log); n < 2 || log[n-1].Endpoint != EndpointMarkAsReadByToken || log[n-1].Status != 200 || log[n-2].Status != 503 {
		t.Fatalf("request log = %+v", log)
	}
	for _, r := range log {
		if strings.Contains(fmt.Sprintf("%+v", r), token) {
			t.Fatalf("request log holds the token: %v", r)
		}
	}

	err := c.MarkAsReadByToken(ctx, "no-such-token")
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 400 || apiErr.Message == "" {
		t.Fatalf("unknown token: %v", err)
	}
	for _, bad := range []string{"", strings.Repeat("x", 2000)} {
		before := len(simRequests(e.sim, linesim.EndpointMarkAsReadByToken))
		if err := c.MarkAsReadByToken(ctx, bad); err == nil {
			t.Fatalf("token of %d bytes accepted", len(bad))
		}
		if len(simRequests(e.sim, linesim.EndpointMarkAsReadByToken)) != before {
			t.Fatal("a malformed token was sent")
		}
	}
}
