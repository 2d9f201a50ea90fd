package secrets

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestRelayKeys(t *testing.T) {
	ctx := context.Background()
	f := newFake()
	s := New(f, "install-1")
	if _, err := s.RelayKeys(ctx); !errors.Is(err, ErrNotFound) {
		t.Fatalf("before enrolling: %v", err)
	}
	k, err := NewRelayKeys()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetRelayKeys(ctx, k); err != nil {
		t.Fatal(err)
	}
	got, err := s.RelayKeys(ctx)
	if err != nil || got != k {
		t.Fatalf("round trip: %v", err)
	}
	// Another install does not see them.
	if _, err := New(f, "install-2").RelayKeys(ctx); !errors.Is(err, ErrNotFound) {
		t.Fatalf("other install: %v", err)
	}
	for _, out := range []string{fmt.Sprint(k), fmt.Sprintf("%#v %+v %x", k, k, k)} {
		if strings.Contains(out, fmt.Sprintf("%x", k.Box[:4])) || !strings.Contains(out, "***") {
			t.Fatalf("printing leaks: %s", out)
		}
	}
	if err := s.SetRelayKeys(ctx, RelayKeys{}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("empty keys: %v", err)
	}
	// Half a write is undone.
	k2, _ := NewRelayKeys()
	f.fail = func(op, user string) error {
		if op == "set" && strings.HasSuffix(user, string(ItemRelayAuthKey)) {
			return errors.New("keychain write failed")
		}
		return nil
	}
	if err := s.SetRelayKeys(ctx, k2); err == nil {
		t.Fatal("failed write reported success")
	}
	f.fail = nil
	if _, err := s.RelayKeys(ctx); err == nil {
		t.Fatal("half-written keys readable")
	}
	if err := s.SetRelayKeys(ctx, k2); err != nil {
		t.Fatal(err)
	}
	// Malformed value.
	f.put(Service, "install-1/"+string(ItemRelayAuthKey), "zz")
	if _, err := s.RelayKeys(ctx); err == nil || strings.Contains(err.Error(), "zz") {
		t.Fatalf("malformed: %v", err)
	}
	if err := s.DeleteRelayKeys(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRelayKeys(ctx); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
	if _, err := s.RelayKeys(ctx); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
}
