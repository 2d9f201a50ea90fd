package awake

import (
	"errors"
	"testing"
)

type fakeBlocker struct {
	held, taken, released int
	fail                  bool
}

func (f *fakeBlocker) Block(why string) (func() error, error) {
	if f.fail {
		return nil, ErrUnsupported
	}
	if why != Reason {
		return nil, errors.New("unexpected reason " + why)
	}
	f.held++
	f.taken++
	return func() error { f.held--; f.released++; return nil }, nil
}

// The block is held from the first seat online to the last, once.
func TestKeeperHoldsWhileSeatsOnline(t *testing.T) {
	f := &fakeBlocker{}
	k := New(f, nil)
	if k.Held() {
		t.Fatal("held with no seat")
	}
	k.Hold()
	k.Hold()
	if !k.Held() || f.held != 1 || f.taken != 1 {
		t.Fatalf("two seats: held=%v taken=%d", k.Held(), f.taken)
	}
	k.Release()
	if !k.Held() || f.released != 0 {
		t.Fatal("released while one seat is still online")
	}
	k.Release()
	if k.Held() || f.held != 0 || f.released != 1 {
		t.Fatalf("last seat left: held=%v released=%d", k.Held(), f.released)
	}
	k.Release() // more leaves than joins: no negative count
	if k.Online() != 0 {
		t.Fatalf("online = %d", k.Online())
	}
	k.Set(3)
	if k.Online() != 3 || f.taken != 2 || f.held != 1 {
		t.Fatalf("Set(3): online=%d taken=%d", k.Online(), f.taken)
	}
	k.Set(1)
	if !k.Held() {
		t.Fatal("Set(1) released")
	}
	k.Close()
	if k.Held() || f.held != 0 || k.Online() != 0 {
		t.Fatal("Close did not release")
	}
}

// A PC that cannot hold off sleep still counts seats, and tries again for
// the next first seat.
func TestKeeperWithoutBlock(t *testing.T) {
	f := &fakeBlocker{fail: true}
	k := New(f, nil)
	k.Hold()
	if k.Held() || k.Online() != 1 {
		t.Fatal("held without a block")
	}
	k.Release()
	f.fail = false
	k.Hold()
	if !k.Held() {
		t.Fatal("not held once the block works")
	}
	k.Close()
}
