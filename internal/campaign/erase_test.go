package campaign

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"tsunagu/internal/customer"
	"tsunagu/internal/erasure"
)

// TestEraseLineUserLeavesNoIDInRequests: after a campaign went out, erasing a
// recipient's conversation (the LINE user) through package erasure with the
// campaign hook leaves their LINE user ID in no request row, and the other
// recipients stay.
func TestEraseLineUserLeavesNoIDInRequests(t *testing.T) {
	e := newEnv(t, envOptions{})
	ps := mixed(60)
	e.load(t, ps)
	ctx := context.Background()
	c := e.approved(t, e.svc, testDraft())
	if err := e.svc.Run(ctx, approver, c.ID); err != nil {
		t.Fatal(err)
	}
	named := func(user string) (n int) {
		t.Helper()
		if err := e.db.Reader().QueryRow(`SELECT count(*) FROM campaign_line_requests
			WHERE instr(char(10) || recipients || char(10), char(10) || ? || char(10)) > 0`, user).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	var gone, other string
	for _, p := range ps {
		if p.lineUser == "" || named(p.lineUser) == 0 {
			continue
		}
		if gone == "" {
			gone = p.lineUser
		} else if other == "" {
			other = p.lineUser
		}
	}
	if gone == "" || other == "" {
		t.Fatal("the campaign sent to fewer than two LINE users")
	}
	var conv int64
	err := e.db.Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.Exec(`INSERT OR IGNORE INTO line_users (user_id, created_at) VALUES (?, 1)`, gone); err != nil {
			return err
		}
		return tx.QueryRow(`INSERT INTO conversations (line_user_id, created_at) VALUES (?, 1)
			ON CONFLICT (line_user_id) DO UPDATE SET status = status RETURNING id`, gone).Scan(&conv)
	})
	if err != nil {
		t.Fatal(err)
	}
	hooks := customer.ErasureHooks()
	hooks.LineUser = append(hooks.LineUser, EraseLineUser)
	if _, err := erasure.New(e.db, hooks, e.clock).EraseConversation(ctx, "staff:admin", conv); err != nil {
		t.Fatal(err)
	}
	if n := named(gone); n != 0 {
		t.Fatalf("the erased LINE user is still named in %d campaign requests", n)
	}
	if named(other) == 0 {
		t.Fatal("another recipient was removed too")
	}
	var blank int
	e.db.Reader().QueryRow(`SELECT count(*) FROM campaign_line_requests WHERE recipients <> '' AND recipient_count <> length(recipients) - length(replace(recipients, char(10), '')) + 1`).Scan(&blank)
	if blank != 0 {
		t.Fatalf("%d requests have a recipient count that does not match their list", blank)
	}
	if strings.Contains(gone, "\n") {
		t.Fatal("bad test data")
	}
}
