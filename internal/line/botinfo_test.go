package line

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"tsunagu/internal/linesim"
)

// TestBotInfo: the SDK reads the account's basic ID from the simulator,
// and a refused token is an error, not an empty ID.
func TestBotInfo(t *testing.T) {
	e := newEnv(t)
	info, err := e.client.BotInfo(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.BasicID != e.sim.BasicID() || !strings.HasPrefix(info.BasicID, "@") || info.UserID != e.sim.Destination() ||
		info.DisplayName != linesim.BotDisplayName || info.ChatMode != "chat" {
		t.Fatalf("bot info = %+v", info)
	}
	if got := e.sim.BasicID(); got != e.sim.BasicID() || len(got) != 9 {
		t.Fatalf("basic ID %q is not a stable @ + 8 characters", got)
	}
	bad, err := NewClient(e.sim.URL(), "wrong-token", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.BotInfo(context.Background())
	if apiErr, ok := errors.AsType[*APIError](err); !ok || apiErr.Status != http.StatusUnauthorized {
		t.Fatalf("bad token: %v", err)
	}
}
