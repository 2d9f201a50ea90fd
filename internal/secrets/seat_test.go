package secrets

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestPrimaryTLSKeyIsCreatedOnceAndKept(t *testing.T) {
	ctx := context.Background()
	f := newFake()
	s := New(f, "install-1")
	k1, err := s.PrimaryTLSKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := s.PrimaryTLSKey(ctx)
	if err != nil || k2 != k1 {
		t.Fatalf("second read made another key (%v)", err)
	}
	if _, err := New(f, "install-2").SeatKey(ctx); !errors.Is(err, ErrNotFound) {
		t.Fatalf("other install: %v", err)
	}
	// A malformed stored key is reported, never replaced: seats pin it.
	f.put(Service, "install-1/"+string(ItemPrimaryTLSKey), "zz")
	if _, err := s.PrimaryTLSKey(ctx); err == nil || strings.Contains(err.Error(), "zz") {
		t.Fatalf("malformed: %v", err)
	}
	if v, _ := f.value("install-1/" + string(ItemPrimaryTLSKey)); v != "zz" {
		t.Fatal("malformed key was replaced")
	}
}

func TestSeatKeyRoundTrip(t *testing.T) {
	ctx := context.Background()
	f := newFake()
	s := New(f, "seat-1")
	if _, err := s.SeatKey(ctx); !errors.Is(err, ErrNotFound) {
		t.Fatalf("before pairing: %v", err)
	}
	k, err := NewSeatKey()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetSeatKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	got, err := s.SeatKey(ctx)
	if err != nil || !bytes.Equal(got.PrivateKey(), k.PrivateKey()) {
		t.Fatalf("round trip: %v", err)
	}
	for _, out := range []string{fmt.Sprint(k), fmt.Sprintf("%#v %+v %x %s", k, k, k, k)} {
		if strings.Contains(out, fmt.Sprintf("%x", k.seed[:4])) || !strings.Contains(out, "***") {
			t.Fatalf("printing leaks: %s", out)
		}
	}
	if err := s.SetSeatKey(ctx, SeatKey{}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("empty key: %v", err)
	}
	if err := s.DeleteSeatKey(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSeatKey(ctx); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
	if _, err := s.SeatKey(ctx); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
}

// The seat keys in the real OS keychain: the primary's is made once and
// read back the same by a new Store (another process would), a seat's
// survives a round trip and is removed; two installs do not share them.
func TestRealKeyringSeatKeys(t *testing.T) {
	s := realStore(t)
	ctx := realCtx(t)
	t.Cleanup(func() {
		for _, item := range []Item{ItemPrimaryTLSKey, ItemSeatKey} {
			s.delete(context.Background(), item)
		}
	})
	k1, err := s.PrimaryTLSKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := New(OSKeyring(), s.installID).PrimaryTLSKey(ctx)
	if err != nil || k2 != k1 {
		t.Fatalf("the primary's key changed on a second read (%v)", err)
	}
	k, _ := NewSeatKey()
	if err := s.SetSeatKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	if got, err := s.SeatKey(ctx); err != nil || got != k {
		t.Fatalf("seat key round trip: %v", err)
	}
	if _, err := New(OSKeyring(), s.installID+"-other").SeatKey(ctx); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another install sees the seat key: %v", err)
	}
	if err := s.DeleteSeatKey(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SeatKey(ctx); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
}
