package line_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"tsunagu/internal/line"
	"tsunagu/internal/linesim"
)

// TestSetWebhookEndpoint: the SDK call against the simulator, which
// applies LINE's rules (HTTPS, at most 500 characters) and then posts
// webhooks to the new URL.
func TestSetWebhookEndpoint(t *testing.T) {
	sim := linesim.New(linesim.Config{ChannelSecret: "s", AccessToken: "tok"})
	if err := sim.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	c, err := line.New(line.Config{Endpoint: sim.URL(), AccessToken: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const good = "https://relay.example.jp/hook/t0123456789ab/abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	if err := c.SetWebhookEndpoint(ctx, good); err != nil {
		t.Fatal(err)
	}
	if sim.WebhookURL() != good {
		t.Fatalf("simulator posts to %q", sim.WebhookURL())
	}
	for name, u := range map[string]string{
		"http":      "http://relay.example.jp/hook",
		"too long":  "https://relay.example.jp/" + strings.Repeat("a", 480),
		"no host":   "https:///hook",
		"not a URL": "relay.example.jp",
	} {
		if err := c.SetWebhookEndpoint(ctx, u); !errors.Is(err, line.ErrBadWebhookEndpoint) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if sim.WebhookURL() != good {
		t.Fatal("a refused URL changed the webhook")
	}
	// The simulator refuses what LINE refuses even if a client skips the
	// check: a wrong token, and bad URLs sent raw.
	bad, _ := line.New(line.Config{Endpoint: sim.URL(), AccessToken: "wrong"})
	if err := bad.SetWebhookEndpoint(ctx, good); err == nil {
		t.Fatal("wrong token accepted")
	}
}
