package outbox

import (
	"context"
	"testing"

	"tsunagu/internal/line"
	"tsunagu/internal/linesim"
)

// A send's aggregation unit is stored with it and carried by every request
// (multicast chunks and the single push alike), including a resend after a
// restart; a send without one carries none.
func TestSendCarriesItsAggregationUnit(t *testing.T) {
	e := newEnv(t, linesim.Config{}, line.Config{})
	users := e.customers(501, true)
	ctx := context.Background()
	id, err := e.ob.Enqueue(ctx, Request{Source: "automation:3", To: users, Messages: text(t, "お知らせ"), Unit: "a3_202612_xyz"})
	if err != nil {
		t.Fatal(err)
	}
	// A new outbox on the same DB (as after a restart) sends it.
	if _, err := newOutbox(t, e.db, e.cl).Send(ctx, id); err != nil {
		t.Fatal(err)
	}
	one, err := e.ob.Submit(ctx, Request{Source: "automation:3", To: users[:1], Messages: text(t, "ようこそ"), Unit: "a3s1_202612_xyz"})
	if err != nil || one.Status != "done" {
		t.Fatalf("push: %+v, %v", one, err)
	}
	plain, err := e.ob.Submit(ctx, Request{Source: "survey:1", To: users[1:2], Messages: text(t, "アンケート")})
	if err != nil || plain.Status != "done" {
		t.Fatalf("plain: %+v, %v", plain, err)
	}
	for i, u := range users {
		ds := e.sim.Deliveries(u)
		want := []string{"a3_202612_xyz"}
		switch i {
		case 0:
			want = append(want, "a3s1_202612_xyz")
		case 1:
			want = append(want, "")
		}
		if len(ds) != len(want) {
			t.Fatalf("user %d got %d messages, want %d", i, len(ds), len(want))
		}
		for j, d := range ds {
			if d.Unit != want[j] {
				t.Fatalf("user %d message %d unit %q, want %q", i, j, d.Unit, want[j])
			}
		}
	}
}
