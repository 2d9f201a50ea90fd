package primary_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"tsunagu/internal/datadir"
	"tsunagu/internal/seat"
	"tsunagu/internal/seat/client"
	"tsunagu/internal/seat/primary"
	"tsunagu/internal/secrets"
	"tsunagu/internal/secrets/secretstest"
	"tsunagu/internal/store"
	"tsunagu/internal/store/storetest"
)

// A primary on loopback (a free port) with its registry and server.
type testPrimary struct {
	reg  *primary.Registry
	srv  *primary.Server
	id   seat.Identity
	addr string
	db   *store.DB
}

func identity(t *testing.T) seat.Identity {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id, err := seat.NewIdentity(k, "primary", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func startPrimary(t *testing.T, db *store.DB, id seat.Identity) *testPrimary {
	t.Helper()
	reg := primary.NewRegistry(db, nil)
	srv := primary.NewServer(primary.Config{Registry: reg, Identity: id, PollInterval: 50 * time.Millisecond})
	ln, err := primary.Listen(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return &testPrimary{reg: reg, srv: srv, id: id, addr: ln.Addr().String(), db: db}
}

// A seat: its own data folder and keychain.
type testSeat struct {
	dir datadir.Dir
	sec *secrets.Store
}

func newSeat(t *testing.T) *testSeat {
	t.Helper()
	dir, err := datadir.Ensure(filepath.Join(t.TempDir(), "seat"))
	if err != nil {
		t.Fatal(err)
	}
	id, err := dir.InstallID()
	if err != nil {
		t.Fatal(err)
	}
	return &testSeat{dir: dir, sec: secrets.New(secretstest.MemKeyring(), id)}
}

func (s *testSeat) pair(p *testPrimary, code string) (client.PairResult, error) {
	return client.Pair(context.Background(), client.PairOptions{Addr: p.addr, Code: code, Fingerprint: p.id.Fingerprint.Short(), Dir: s.dir, Secrets: s.sec})
}

func (s *testSeat) open() (*client.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return client.Open(ctx, s.dir, s.sec)
}

func issue(t *testing.T, p *testPrimary, name string) string {
	t.Helper()
	c, err := p.reg.IssueCode(context.Background(), "staff:admin", name)
	if err != nil {
		t.Fatal(err)
	}
	return c.Code
}

func nextEvent(t *testing.T, c *client.Conn, name string) seat.Event {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case ev, ok := <-c.Events():
			if !ok {
				t.Fatalf("connection ended waiting for %s: %v", name, c.Err())
			}
			if ev.Name == name {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %s event", name)
		}
	}
}

// TestSeatsEndToEnd: three seats pair with one primary over mutual TLS on
// loopback, call it and receive its events; a revoked seat is disconnected
// at once and refused after; a seat that pins another primary and a key
// the primary never paired are refused.
func TestSeatsEndToEnd(t *testing.T) {
	ctx := context.Background()
	p := startPrimary(t, storetest.New(t), identity(t))
	seats := map[string]*testSeat{}
	conns := map[string]*client.Conn{}
	for _, name := range []string{"窓口1", "窓口2", "支店長席"} {
		s := newSeat(t)
		res, err := s.pair(p, issue(t, p, name))
		if err != nil {
			t.Fatalf("pair %s: %v", name, err)
		}
		if res.Name != name || res.PrimaryShort != p.id.Fingerprint.Short() {
			t.Fatalf("pair %s: %+v", name, res)
		}
		// What the seat keeps on disk: the pin and its name, no key.
		b, err := os.ReadFile(s.dir.File(client.PairingFile))
		if err != nil || !strings.Contains(string(b), p.id.Fingerprint.String()) {
			t.Fatalf("seat.json: %s %v", b, err)
		}
		key, _ := s.sec.SeatKey(ctx)
		files, _ := os.ReadDir(s.dir.Path)
		for _, f := range files {
			b, _ := os.ReadFile(s.dir.File(f.Name()))
			if strings.Contains(string(b), fmt.Sprintf("%x", key.PrivateKey().Seed())) {
				t.Fatalf("the seat key is in %s", f.Name())
			}
		}
		seats[name] = s
		c, err := s.open()
		if err != nil {
			t.Fatalf("open %s: %v", name, err)
		}
		t.Cleanup(func() { c.Close() })
		conns[name] = c
	}

	// Calls: who am I, and the primary's status.
	var who primary.WhoAmI
	if err := conns["窓口2"].Call(ctx, "whoami", nil, &who); err != nil || who.Name != "窓口2" {
		t.Fatalf("whoami: %+v %v", who, err)
	}
	var st primary.Status
	if err := conns["窓口1"].Call(ctx, "status", nil, &st); err != nil || len(st.SeatsOnline) != 3 || time.Since(st.Time) > time.Minute {
		t.Fatalf("status: %+v %v", st, err)
	}
	if err := conns["窓口1"].Call(ctx, "no.such", nil, nil); !errors.Is(err, seat.ErrUnknownMethod) {
		t.Fatalf("unknown method: %v", err)
	}
	// A method the later facade work would plug in, with its peer.
	p.srv.Handle("echo", func(_ context.Context, peer primary.Peer, body json.RawMessage) (any, error) {
		return map[string]string{"from": peer.Name, "body": string(body)}, nil
	})
	var echo map[string]string
	if err := conns["支店長席"].Call(ctx, "echo", []int{1, 2}, &echo); err != nil || echo["from"] != "支店長席" || echo["body"] != "[1,2]" {
		t.Fatalf("echo: %v %v", echo, err)
	}

	// Events reach every seat.
	if err := p.srv.Publish("inbox.message", map[string]int{"conversation": 1}); err != nil {
		t.Fatal(err)
	}
	for name, c := range conns {
		if ev := nextEvent(t, c, "inbox.message"); string(ev.Body) != `{"conversation":1}` {
			t.Fatalf("%s got %s", name, ev.Body)
		}
	}

	// Revocation by the server: 窓口2 is disconnected at once, told why,
	// and refused from then on; the others stay.
	if _, err := p.srv.Revoke(ctx, "staff:admin", "窓口2"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-conns["窓口2"].Done():
	case <-time.After(5 * time.Second):
		t.Fatal("revoked seat still connected")
	}
	if err := conns["窓口2"].Err(); !errors.Is(err, client.ErrRevokedNow) {
		t.Fatalf("revoked seat told: %v", err)
	}
	if _, err := seats["窓口2"].open(); !errors.Is(err, seat.ErrRefused) {
		t.Fatalf("revoked seat reconnecting: %v", err)
	}
	if err := conns["窓口1"].Call(ctx, "whoami", nil, nil); err != nil {
		t.Fatalf("another seat after the revocation: %v", err)
	}

	// Revocation by another program (the CLI) on the same database: the
	// server notices and disconnects within its poll interval.
	other := primary.NewRegistry(p.db, nil)
	if _, err := other.Revoke(ctx, "os:admin", "支店長席"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-conns["支店長席"].Done():
	case <-time.After(5 * time.Second):
		t.Fatal("seat revoked by another program still connected")
	}

	// A key the primary never paired is refused at the handshake.
	k, _ := secrets.NewSeatKey()
	pr, _ := client.LoadPairing(seats["窓口1"].dir)
	if _, err := client.Dial(ctx, pr, k); !errors.Is(err, seat.ErrRefused) {
		t.Fatalf("unknown seat key: %v", err)
	}

	// A different primary (another key) at the pinned address is refused
	// by the seat before anything is sent.
	impostor := startPrimary(t, storetest.New(t), identity(t))
	pr.Primary = impostor.addr
	k1, _ := seats["窓口1"].sec.SeatKey(ctx)
	if _, err := client.Dial(ctx, pr, k1); !errors.Is(err, seat.ErrWrongPrimary) {
		t.Fatalf("different primary certificate: %v", err)
	}
}

// TestPairingRefusals: a wrong fingerprint stops the code before it is
// sent (it stays usable); wrong, reused and expired codes are refused
// over the wire as such; repeated wrong codes pause pairing.
func TestPairingRefusals(t *testing.T) {
	p := startPrimary(t, storetest.New(t), identity(t))
	code := issue(t, p, "窓口1")
	s := newSeat(t)
	other := identity(t)
	_, err := client.Pair(context.Background(), client.PairOptions{Addr: p.addr, Code: code, Fingerprint: other.Fingerprint.Short(), Dir: s.dir, Secrets: s.sec})
	if !errors.Is(err, client.ErrFingerprintMismatch) {
		t.Fatalf("wrong fingerprint: %v", err)
	}
	// Confirmed by a person instead: a "no" sends nothing either.
	_, err = client.Pair(context.Background(), client.PairOptions{Addr: p.addr, Code: code, Dir: s.dir, Secrets: s.sec,
		Confirm: func(short string) (bool, error) {
			if short != p.id.Fingerprint.Short() {
				t.Errorf("shown %s", short)
			}
			return false, nil
		}})
	if !errors.Is(err, client.ErrNotConfirmed) {
		t.Fatalf("not confirmed: %v", err)
	}
	if _, err := os.Stat(s.dir.File(client.PairingFile)); !os.IsNotExist(err) {
		t.Fatal("seat.json written by a refused pairing")
	}
	res, err := client.Pair(context.Background(), client.PairOptions{Addr: p.addr, Code: code, Dir: s.dir, Secrets: s.sec,
		Confirm: func(string) (bool, error) { return true, nil }})
	if err != nil || res.Name != "窓口1" {
		t.Fatalf("the code after the refusals: %+v %v", res, err)
	}
	if _, err := newSeat(t).pair(p, code); !errors.Is(err, seat.ErrCodeUsed) {
		t.Fatalf("reused: %v", err)
	}
	for i := range 4 {
		if _, err := newSeat(t).pair(p, "ZZZZZ-ZZZZ"+fmt.Sprint(i)); !errors.Is(err, seat.ErrCodeWrong) {
			t.Fatalf("wrong code %d: %v", i, err)
		}
	}
	// The fifth wrong code (reused counts) pauses pairing, even for a good code.
	good := issue(t, p, "窓口2")
	if _, err := newSeat(t).pair(p, good); !errors.Is(err, seat.ErrPairingPaused) {
		t.Fatalf("after 5 wrong codes: %v", err)
	}
}

// TestListenAddr: the seat port is bound to one LAN or loopback address.
func TestListenAddr(t *testing.T) {
	for _, ok := range []string{"127.0.0.1:7443", "192.168.1.20:7443", "10.0.0.5:0", "[fe80::1]:7443", "[fd00::2]:1"} {
		if _, err := primary.CheckListenAddr(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"0.0.0.0:7443", "[::]:7443", ":7443", "8.8.8.8:7443", "localhost:7443", "192.168.1.20"} {
		if _, err := primary.CheckListenAddr(bad); !errors.Is(err, primary.ErrListenAddr) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

// TestHostilePeers: a paired seat that sends a frame over the limit, a
// frame that is not a request, or something else than frames is
// disconnected; so is a pairing connection that sends junk, and a client
// that names no protocol; the primary keeps serving the other seats.
func TestHostilePeers(t *testing.T) {
	ctx := context.Background()
	p := startPrimary(t, storetest.New(t), identity(t))
	bad, good := newSeat(t), newSeat(t)
	for s, name := range map[*testSeat]string{bad: "窓口1", good: "窓口2"} {
		if _, err := s.pair(p, issue(t, p, name)); err != nil {
			t.Fatal(err)
		}
	}
	gc, err := good.open()
	if err != nil {
		t.Fatal(err)
	}
	defer gc.Close()
	key, _ := bad.sec.SeatKey(ctx)
	id, err := seat.NewIdentity(key.PrivateKey(), "seat", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	notRequest, _ := json.Marshal(seat.Frame{Event: "x"})
	notRequest = append([]byte{0, 0, 0, byte(len(notRequest))}, notRequest...)
	closedAfter := func(cfg *tls.Config, junk []byte) error {
		t.Helper()
		c, err := tls.Dial("tcp", p.addr, cfg)
		if err != nil {
			return err
		}
		defer c.Close()
		c.Write(junk)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err = io.ReadAll(c)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("the primary kept the connection open after %q", junk[:min(len(junk), 12)])
		}
		return err
	}
	for _, junk := range [][]byte{{0xff, 0xff, 0xff, 0xff}, notRequest, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")} {
		closedAfter(seat.ClientConfig(id, seat.ProtoSeat, seat.Pin(p.id.Fingerprint)), junk)
		closedAfter(seat.ClientConfig(id, seat.ProtoPair, seat.Pin(p.id.Fingerprint)), junk)
	}
	noProto := &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{id.Cert}, InsecureSkipVerify: true}
	if err := closedAfter(noProto, []byte{0, 0, 0, 0}); err == nil {
		t.Fatal("a connection without a protocol was served")
	}
	if err := gc.Call(ctx, "whoami", nil, nil); err != nil {
		t.Fatalf("the other seat after the hostile ones: %v", err)
	}
	// None of it paired anything.
	list, err := p.reg.List(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("seats: %+v %v", list, err)
	}
}

// serveOn runs a server for reg on addr until stop is called.
func serveOn(t *testing.T, reg *primary.Registry, id seat.Identity, addr string) (srv *primary.Server, bound string, stop func()) {
	t.Helper()
	srv = primary.NewServer(primary.Config{Registry: reg, Identity: id, PollInterval: 50 * time.Millisecond})
	ln, err := primary.Listen(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return srv, ln.Addr().String(), stop
}

// TestSessionResumes: the primary goes away while a seat is connected: the
// session says so, a call fails at once with ErrAway (nothing is queued),
// and when the primary is back on its address the session reconnects by
// itself and events flow again; a revocation ends the session for good.
func TestSessionResumes(t *testing.T) {
	ctx := context.Background()
	db := storetest.New(t)
	reg := primary.NewRegistry(db, nil)
	id := identity(t)
	_, addr, stop := serveOn(t, reg, id, "127.0.0.1:0")
	p := &testPrimary{reg: reg, id: id, addr: addr, db: db}
	s := newSeat(t)
	if _, err := s.pair(p, issue(t, p, "窓口1")); err != nil {
		t.Fatal(err)
	}
	pr, _ := client.LoadPairing(s.dir)
	key, _ := s.sec.SeatKey(ctx)
	sess := client.NewSession(pr, key)
	states := make(chan client.State, 16)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	ended := make(chan error, 1)
	go func() {
		ended <- sess.Run(runCtx, func(st client.State, _ error) { states <- st })
	}()
	want := func(st client.State) {
		t.Helper()
		select {
		case got := <-states:
			if got != st {
				t.Fatalf("state %s, want %s", got, st)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("no state %s", st)
		}
	}
	want(client.StateConnected)
	var who primary.WhoAmI
	if err := sess.Call(ctx, "whoami", nil, &who); err != nil || who.Name != "窓口1" {
		t.Fatalf("whoami: %+v %v", who, err)
	}

	stop() // the primary shuts down
	want(client.StateAway)
	if err := sess.Call(ctx, "whoami", nil, nil); !errors.Is(err, client.ErrAway) {
		t.Fatalf("a call while away: %v", err)
	}

	srv, _, _ := serveOn(t, reg, id, addr) // back, same key, same address
	want(client.StateConnected)
	if err := srv.Publish("inbox.message", 1); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-sess.Events():
		if ev.Name != "inbox.message" {
			t.Fatalf("event %s", ev.Name)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no event after resuming")
	}

	if _, err := srv.Revoke(ctx, "staff:admin", "窓口1"); err != nil {
		t.Fatal(err)
	}
	want(client.StateRefused)
	if err := <-ended; !errors.Is(err, client.ErrRevokedNow) {
		t.Fatalf("session ended with %v", err)
	}
	if err := sess.Call(ctx, "whoami", nil, nil); !errors.Is(err, client.ErrRevokedNow) {
		t.Fatalf("a call after the revocation: %v", err)
	}
}
