package presence

import (
	"slices"
	"testing"
	"time"
)

func TestPresence(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	r := New(func() time.Time { return now })
	yamada := Person{Login: "yamada", Name: "山田"}
	sato := Person{Login: "sato", Name: "佐藤", Seat: "窓口2"}

	if got := r.Touch("w", yamada, 7); !slices.Equal(got, []int64{7}) {
		t.Fatalf("entering 7 changed %v", got)
	}
	if got := r.Touch("w", yamada, 7); len(got) != 0 {
		t.Fatalf("a heartbeat changed %v", got)
	}
	r.Touch("s", sato, 7)
	if got := r.Others("w", 7); !slices.Equal(got, []Person{sato}) {
		t.Fatalf("yamada sees %v at 7", got)
	}
	if got := r.Others("s", 7); !slices.Equal(got, []Person{yamada}) {
		t.Fatalf("sato sees %v at 7", got)
	}
	// The same person at a second PC is listed once.
	r.Touch("s2", Person{Login: "sato", Name: "佐藤", Seat: "窓口3"}, 7)
	if got := r.Others("w", 7); len(got) != 1 {
		t.Fatalf("sato at two seats listed %d times", len(got))
	}
	r.Leave("s2")
	// Moving on changes both conversations.
	if got := r.Touch("s", sato, 9); !slices.Equal(got, []int64{7, 9}) {
		t.Fatalf("moving 7 → 9 changed %v", got)
	}
	if got := r.Others("w", 7); len(got) != 0 {
		t.Fatalf("7 after sato left: %v", got)
	}
	// Silence drops a client after TTL, and says which conversation changed.
	now = now.Add(TTL / 2)
	r.Touch("w", yamada, 7)
	now = now.Add(TTL/2 + time.Second)
	if got := r.Touch("w", yamada, 7); !slices.Equal(got, []int64{9}) {
		t.Fatalf("expiry changed %v, want sato's 9", got)
	}
	if got := r.Others("w", 9); len(got) != 0 {
		t.Fatalf("an expired client is still present: %v", got)
	}
	if got := r.Leave("w"); !slices.Equal(got, []int64{7}) {
		t.Fatalf("leaving changed %v", got)
	}
}
