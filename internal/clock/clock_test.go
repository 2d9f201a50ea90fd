package clock

import (
	"testing"
	"time"
)

func TestMovableOnlyMovesForward(t *testing.T) {
	base := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	m := NewMovable(func() time.Time { return base })
	if got := m.Now(); !got.Equal(base) {
		t.Fatalf("unmoved clock = %v, want %v", got, base)
	}
	m.Advance(90 * time.Second)
	m.Advance(-time.Hour) // ignored: time never runs backwards
	m.Advance(0)
	if got, want := m.Now(), base.Add(90*time.Second); !got.Equal(want) {
		t.Fatalf("moved clock = %v, want %v", got, want)
	}
	if NewMovable(nil).Now().IsZero() {
		t.Fatal("a nil base must read the real time")
	}
}
