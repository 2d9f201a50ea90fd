package lan

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"tsunagu/internal/awake"
	"tsunagu/internal/datadir"
	"tsunagu/internal/fielderr"
	"tsunagu/internal/seat"
	"tsunagu/internal/seat/client"
	"tsunagu/internal/seat/primary"
	"tsunagu/internal/secrets"
	"tsunagu/internal/secrets/secretstest"
	"tsunagu/internal/store/storetest"
)

func TestPortSetting(t *testing.T) {
	ctx := context.Background()
	db := storetest.New(t)
	if p, err := GetPort(ctx, db); err != nil || p != DefaultPort {
		t.Fatalf("default port %d %v", p, err)
	}
	for _, bad := range []int{0, 80, 1023, 65536} {
		err := SetPort(ctx, db, "staff:admin", bad)
		var fe *fielderr.Error
		if !errors.Is(err, ErrInvalid) || !errors.As(err, &fe) || len(fe.Fields) != 1 || fe.Fields[0].Field != "port" {
			t.Errorf("SetPort(%d) = %v, want ErrInvalid on the field port", bad, err)
		}
	}
	if err := SetPort(ctx, db, "staff:admin", 8443); err != nil {
		t.Fatal(err)
	}
	if p, _ := GetPort(ctx, db); p != 8443 {
		t.Errorf("port after SetPort = %d", p)
	}
}

type countingBlocker struct{ held chan bool }

func (b countingBlocker) Block(string) (func() error, error) {
	b.held <- true
	return func() error { b.held <- false; return nil }, nil
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// The port opens on the addresses given, a paired seat connects through
// it, the PC is held awake while the seat is online and let go after.
func TestSeatPortKeepsAwakeWhileOnline(t *testing.T) {
	ctx := context.Background()
	db := storetest.New(t)
	_, k, _ := ed25519.GenerateKey(rand.Reader)
	id, err := seat.NewIdentity(k, "primary", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	reg := primary.NewRegistry(db, nil)
	if _, err := Open(ctx, Config{Registry: reg, Identity: id, Port: 7443, Addrs: func() ([]netip.Addr, error) { return nil, nil }}); !errors.Is(err, ErrNoLANAddress) {
		t.Fatalf("no address: %v", err)
	}

	b := countingBlocker{held: make(chan bool, 4)}
	port := freePort(t)
	s, err := Open(ctx, Config{Registry: reg, Identity: id, Port: port, Keeper: awake.New(b, nil),
		Addrs: func() ([]netip.Addr, error) { return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.Addrs(); len(got) != 1 || got[0] != netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)).String() {
		t.Fatalf("addrs %v", got)
	}
	// A second port on the same address is refused as busy.
	if _, err := Open(ctx, Config{Registry: reg, Identity: id, Port: port,
		Addrs: func() ([]netip.Addr, error) { return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil }}); !errors.Is(err, ErrPortBusy) {
		t.Fatalf("same port twice: %v", err)
	}

	code, err := reg.IssueCode(ctx, "staff:admin", "窓口2")
	if err != nil {
		t.Fatal(err)
	}
	dir, err := datadir.Ensure(filepath.Join(t.TempDir(), "seat"))
	if err != nil {
		t.Fatal(err)
	}
	iid, _ := dir.InstallID()
	sec := secrets.New(secretstest.MemKeyring(), iid)
	if _, err := client.Pair(ctx, client.PairOptions{Addr: s.Addrs()[0], Code: code.Code, Fingerprint: id.Fingerprint.Short(), Dir: dir, Secrets: sec}); err != nil {
		t.Fatal(err)
	}
	conn, err := client.Open(ctx, dir, sec)
	if err != nil {
		t.Fatal(err)
	}
	waitHeld(t, b, true)
	conn.Close()
	waitHeld(t, b, false)
}

func waitHeld(t *testing.T, b countingBlocker, want bool) {
	t.Helper()
	select {
	case got := <-b.held:
		if got != want {
			t.Fatalf("sleep block %v, want %v", got, want)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the sleep block never became %v", want)
	}
}

// Listen opens the one address given (the dev bridge's --seat-listen):
// port 0 resolves to a free port, the configured port and the LAN
// addresses are not used, and the same address twice is busy.
func TestListenOnOneAddress(t *testing.T) {
	ctx := context.Background()
	db := storetest.New(t)
	_, k, _ := ed25519.GenerateKey(rand.Reader)
	id, err := seat.NewIdentity(k, "primary", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	reg := primary.NewRegistry(db, nil)
	lanAsked := false
	s, err := Open(ctx, Config{Registry: reg, Identity: id, Port: 7443, Listen: "127.0.0.1:0",
		Addrs: func() ([]netip.Addr, error) { lanAsked = true; return nil, nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := s.Addrs()
	if len(got) != 1 || lanAsked {
		t.Fatalf("addrs %v, LAN addresses asked: %v", got, lanAsked)
	}
	ap := netip.MustParseAddrPort(got[0])
	if ap.Addr() != netip.MustParseAddr("127.0.0.1") || ap.Port() == 0 || ap.Port() == 7443 {
		t.Fatalf("listening on %s", ap)
	}
	if _, err := Open(ctx, Config{Registry: reg, Identity: id, Listen: got[0]}); !errors.Is(err, ErrPortBusy) {
		t.Fatalf("the same address twice: %v", err)
	}
	if _, err := Open(ctx, Config{Registry: reg, Identity: id, Listen: "not an address"}); err == nil {
		t.Fatal("a malformed address was accepted")
	}
}
