package outbox

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"tsunagu/internal/line"
	"tsunagu/internal/linesim"
)

// TestEraseLineUser: erasing a LINE user deletes a push to them (messages
// included), removes them from a sent multicast's record and from a
// pending one, which then goes out to the others only, and leaves other
// sends alone.
func TestEraseLineUser(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, linesim.Config{}, line.Config{})
	users := e.customers(3, true)
	gone, a, b := users[0], users[1], users[2]

	push, err := e.ob.Enqueue(ctx, Request{Source: "test", To: []string{gone}, Messages: text(t, "花子様 審査結果のご連絡-ERASE")})
	if err != nil {
		t.Fatal(err)
	}
	otherPush, err := e.ob.Enqueue(ctx, Request{Source: "test", To: []string{a}, Messages: text(t, "太郎様 満期のご案内")})
	if err != nil {
		t.Fatal(err)
	}
	sent, err := e.ob.Submit(ctx, Request{Source: "test", To: users, Messages: text(t, "お知らせ1")})
	if err != nil || sent.Status != "done" {
		t.Fatalf("submit: %+v %v", sent, err)
	}
	pending, err := e.ob.Enqueue(ctx, Request{Source: "test", To: []string{gone, a, b}, Messages: text(t, "お知らせ2")})
	if err != nil {
		t.Fatal(err)
	}

	if err := e.db.Write(ctx, func(tx *sql.Tx) error { return EraseLineUser(ctx, tx, gone) }); err != nil {
		t.Fatal(err)
	}
	var n int
	e.db.Reader().QueryRow(`SELECT count(*) FROM outbox_sends WHERE id = ?`, push).Scan(&n)
	if _, err := e.ob.Status(ctx, push); err == nil || n != 0 {
		t.Fatalf("the push to the erased user is still stored (%d)", n)
	}
	e.db.Reader().QueryRow(`SELECT count(*) FROM outbox_requests WHERE instr(recipients, ?) > 0`, gone).Scan(&n)
	if n != 0 {
		t.Fatalf("%d requests still name the erased user", n)
	}
	if r, err := e.ob.Status(ctx, sent.SendID); err != nil || r.Status != "done" || r.SentRecipients != 2 {
		t.Fatalf("sent multicast after erasing: %+v %v", r, err)
	}
	if r, err := e.ob.Status(ctx, otherPush); err != nil || r.Recipients != 1 || r.Status != "pending" {
		t.Fatalf("the other push: %+v %v", r, err)
	}
	r, err := e.ob.Send(ctx, pending)
	if err != nil || r.Status != "done" || r.SentRecipients != 2 {
		t.Fatalf("pending multicast after erasing: %+v %v", r, err)
	}
	if d := e.sim.Deliveries(gone); len(d) != 1 {
		t.Errorf("the erased user got %d deliveries, want only the one sent before", len(d))
	}
	for _, u := range []string{a, b} {
		if d := e.sim.Deliveries(u); len(d) != 2 {
			t.Errorf("%s got %d deliveries, want 2", u, len(d))
		}
	}
	var to string
	e.db.Reader().QueryRow(`SELECT recipients FROM outbox_requests WHERE send_id = ?`, pending).Scan(&to)
	if to != strings.Join([]string{a, b}, "\n") {
		t.Errorf("pending multicast recipients %q", to)
	}
}
