package primary

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"tsunagu/internal/audit"
	"tsunagu/internal/seat"
	"tsunagu/internal/store"
	"tsunagu/internal/store/storetest"
)

// clock is a test clock that moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func seatCert(t *testing.T) *x509.Certificate {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id, err := seat.NewIdentity(k, "seat", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return id.Cert.Leaf
}

func actions(t *testing.T, db *store.DB) []string {
	t.Helper()
	list, err := audit.List(context.Background(), db.Reader(), audit.Filter{Action: "seat.", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(list) - 1; i >= 0; i-- { // oldest first
		e := list[i]
		out = append(out, e.Action+" "+e.Actor+" "+e.Target+" "+e.Detail["reason"])
	}
	return out
}

// TestPairingCodes: a code pairs once, within its 10 minutes, and only as
// issued; every outcome is audited, and the code itself is never stored.
func TestPairingCodes(t *testing.T) {
	ctx := context.Background()
	db := storetest.New(t)
	clk := newClock()
	r := NewRegistry(db, clk.now)

	code, err := r.IssueCode(ctx, "staff:admin", " 窓口2 ")
	if err != nil {
		t.Fatal(err)
	}
	if code.Name != "窓口2" || !code.ExpiresAt.Equal(clk.now().Add(10*time.Minute)) {
		t.Fatalf("code %+v", code)
	}
	// Only the hash is stored.
	var stored []byte
	if err := db.Reader().QueryRow(`SELECT code_hash FROM seat_codes`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(stored, []byte(strings.ReplaceAll(code.Code, "-", ""))) || bytes.Contains(stored, []byte(code.Code)) {
		t.Fatal("the code is stored in the clear")
	}

	// Wrong code: refused, and it names no seat.
	cert := seatCert(t)
	if _, err := r.Pair(ctx, "00000-00000", cert, "127.0.0.1:1"); !errors.Is(err, seat.ErrCodeWrong) {
		t.Fatalf("wrong code: %v", err)
	}
	if _, err := r.Pair(ctx, "not a code", cert, "127.0.0.1:1"); !errors.Is(err, seat.ErrCodeWrong) {
		t.Fatalf("malformed code: %v", err)
	}
	// Valid (typed in lower case without the dash).
	s, err := r.Pair(ctx, strings.ToLower(strings.ReplaceAll(code.Code, "-", "")), cert, "127.0.0.1:2")
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "窓口2" || !s.Fingerprint.Equal(seat.FingerprintOf(cert)) {
		t.Fatalf("paired %+v", s)
	}
	got, err := r.Active(ctx, seat.FingerprintOf(cert))
	if err != nil || got.ID != s.ID {
		t.Fatalf("active: %+v %v", got, err)
	}
	// Reused: refused, even for another key.
	if _, err := r.Pair(ctx, code.Code, seatCert(t), "127.0.0.1:3"); !errors.Is(err, seat.ErrCodeUsed) {
		t.Fatalf("reused code: %v", err)
	}
	// Expired: valid until 10 minutes, refused from then on.
	c2, err := r.IssueCode(ctx, "staff:admin", "窓口3")
	if err != nil {
		t.Fatal(err)
	}
	clk.add(10 * time.Minute)
	c2cert := seatCert(t)
	if _, err := r.Pair(ctx, c2.Code, c2cert, "127.0.0.1:4"); !errors.Is(err, seat.ErrCodeExpired) {
		t.Fatalf("expired code: %v", err)
	}
	if _, err := r.Active(ctx, seat.FingerprintOf(c2cert)); !errors.Is(err, ErrNoSeat) {
		t.Fatalf("an expired code pinned a key: %v", err)
	}
	c3, _ := r.IssueCode(ctx, "staff:admin", "窓口3")
	clk.add(10*time.Minute - time.Millisecond)
	if _, err := r.Pair(ctx, c3.Code, c2cert, "127.0.0.1:5"); err != nil {
		t.Fatalf("code used within its 10 minutes: %v", err)
	}

	want := []string{
		"seat.code staff:admin seat:窓口2 ",
		"seat.pair_refused system  code_wrong",
		"seat.pair_refused system  code_wrong",
		"seat.pair staff:admin seat:窓口2 ",
		"seat.pair_refused system seat:窓口2 code_used",
		"seat.code staff:admin seat:窓口3 ",
		"seat.pair_refused system seat:窓口3 code_expired",
		"seat.code staff:admin seat:窓口3 ",
		"seat.pair staff:admin seat:窓口3 ",
	}
	if got := actions(t, db); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("audit trail:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if rep, err := audit.Verify(ctx, db.Reader()); err != nil || !rep.OK {
		t.Fatalf("chain: %+v %v", rep, err)
	}
}

func TestNamesAndRevocation(t *testing.T) {
	ctx := context.Background()
	db := storetest.New(t)
	clk := newClock()
	r := NewRegistry(db, clk.now)
	for _, bad := range []string{"", "   ", "a\nb", strings.Repeat("窓", 41)} {
		if _, err := r.IssueCode(ctx, "staff:admin", bad); !errors.Is(err, ErrBadName) {
			t.Fatalf("name %q: %v", bad, err)
		}
	}
	c, _ := r.IssueCode(ctx, "staff:admin", "窓口1")
	// A second code for the same name may be issued while the first is
	// unused, but only one of them can pair.
	c2, _ := r.IssueCode(ctx, "staff:admin", "窓口1")
	cert := seatCert(t)
	if _, err := r.Pair(ctx, c.Code, cert, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Pair(ctx, c2.Code, seatCert(t), ""); !errors.Is(err, ErrNameTaken) {
		t.Fatalf("second seat of the same name: %v", err)
	}
	if _, err := r.IssueCode(ctx, "staff:admin", "窓口1"); !errors.Is(err, ErrNameTaken) {
		t.Fatalf("code for a taken name: %v", err)
	}

	clk.add(time.Minute)
	fp := seat.FingerprintOf(cert)
	if gone, err := r.Revoked(ctx, []seat.Fingerprint{fp}); err != nil || len(gone) != 0 {
		t.Fatalf("before revocation: %v %v", gone, err)
	}
	s, err := r.Revoke(ctx, "staff:admin", "窓口1")
	if err != nil || s.RevokedAt == nil {
		t.Fatalf("revoke: %+v %v", s, err)
	}
	if _, err := r.Active(ctx, fp); !errors.Is(err, ErrNoSeat) {
		t.Fatalf("revoked seat still active: %v", err)
	}
	if gone, err := r.Revoked(ctx, []seat.Fingerprint{fp}); err != nil || len(gone) != 1 {
		t.Fatalf("after revocation: %v %v", gone, err)
	}
	if _, err := r.Revoke(ctx, "staff:admin", "窓口1"); !errors.Is(err, ErrNoSeat) {
		t.Fatalf("revoking twice: %v", err)
	}
	// The name is free again; the revoked seat stays listed.
	c3, err := r.IssueCode(ctx, "staff:admin", "窓口1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Pair(ctx, c3.Code, seatCert(t), ""); err != nil {
		t.Fatal(err)
	}
	list, err := r.List(ctx)
	if err != nil || len(list) != 2 || list[0].RevokedAt != nil || list[1].RevokedAt == nil || list[1].RevokedBy != "staff:admin" {
		t.Fatalf("list: %+v %v", list, err)
	}
}
