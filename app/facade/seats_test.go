package facade

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"tsunagu/internal/auth"
	"tsunagu/internal/datadir"
	"tsunagu/internal/inbox"
	"tsunagu/internal/msgcode"
	"tsunagu/internal/seat"
	"tsunagu/internal/seat/client"
	"tsunagu/internal/seat/forward"
	"tsunagu/internal/secrets"
	"tsunagu/internal/secrets/secretstest"
)

// seatEvents records what a seat's forwarder hands its UI.
type seatEvents struct {
	mu     sync.Mutex
	got    []string // name + " " + JSON
	notify chan struct{}
	hook   func(name string) // the benchmark's clock; nil: none
}

func (e *seatEvents) Emit(name string, data any) {
	if e.hook != nil {
		e.hook(name)
		if name != forward.EventConnection {
			return // the benchmark keeps no list
		}
	}
	b, _ := json.Marshal(data)
	e.mu.Lock()
	e.got = append(e.got, name+" "+string(b))
	e.mu.Unlock()
	select {
	case e.notify <- struct{}{}:
	default:
	}
}

func (e *seatEvents) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.got)
}

func (e *seatEvents) waitFor(t testing.TB, prefix string) {
	t.Helper()
	e.waitForFrom(t, prefix, 0)
}

// waitForFrom waits for an event with prefix at index from or later.
func (e *seatEvents) waitForFrom(t testing.TB, prefix string, from int) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		e.mu.Lock()
		for _, g := range e.got[from:] {
			if strings.HasPrefix(g, prefix) {
				e.mu.Unlock()
				return
			}
		}
		e.mu.Unlock()
		select {
		case <-e.notify:
		case <-deadline:
			t.Fatalf("no event %q in %v", prefix, e.got)
		}
	}
}

// testSeatPC is a paired seat with its own keychain, connected through
// client.Session and forwarding like the seat's devserver and desktop.
type testSeatPC struct {
	fwd  *forward.Forwarder
	sess *client.Session
	ev   *seatEvents
}

func connectSeat(t testing.TB, h *Host, name string) *testSeatPC {
	t.Helper()
	return connectSeatHooked(t, h, name, nil)
}

// connectSeatHooked is connectSeat with hook told of every event's arrival.
func connectSeatHooked(t testing.TB, h *Host, name string, hook func(string)) *testSeatPC {
	t.Helper()
	ctx := context.Background()
	code, err := h.app.eng.Seats().IssueCode(ctx, "staff:admin", name)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := datadir.Ensure(filepath.Join(t.TempDir(), "seat"))
	if err != nil {
		t.Fatal(err)
	}
	id, err := dir.InstallID()
	if err != nil {
		t.Fatal(err)
	}
	sec := secrets.New(secretstest.Keyring(t), id)
	sl := h.SeatListener()
	if _, err := client.Pair(ctx, client.PairOptions{Addr: sl.Addr, Code: code.Code, Fingerprint: sl.Fingerprint, Dir: dir, Secrets: sec}); err != nil {
		t.Fatal(err)
	}
	sess, err := client.OpenSession(ctx, dir, sec)
	if err != nil {
		t.Fatal(err)
	}
	ev := &seatEvents{notify: make(chan struct{}, 1), hook: hook}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sess.Run(sctx, forward.OnState(ev))
	}()
	go forward.Pump(sess.Events(), ev)
	t.Cleanup(func() { cancel(); <-done })
	ev.waitFor(t, forward.EventConnection+` {"state":"connected"`)
	return &testSeatPC{fwd: forward.New(sess), sess: sess, ev: ev}
}

func (s *testSeatPC) call(t testing.TB, out any, method string, args ...any) error {
	t.Helper()
	raw := make([]json.RawMessage, len(args))
	for i, a := range args {
		raw[i], _ = json.Marshal(a)
	}
	res, err := s.fwd.Forward(context.Background(), method, raw)
	if err == nil && out != nil {
		if err := json.Unmarshal(res, out); err != nil {
			t.Fatalf("%s: %v: %s", method, err, res)
		}
	}
	return err
}

// Seats call the bound services on clients of their own (issue 18): each
// signs in as its own staff member with its role checked on the primary;
// errors arrive as the dev bridge sends them (code and fields); signing out
// on one seat leaves the other; the window's events reach the seats; a
// revoked seat is refused and its session ended.
func TestSeatsCallTheBoundServices(t *testing.T) {
	kr := secretstest.Keyring(t)
	dir := filepath.Join(t.TempDir(), "data")
	secretstest.CleanupDataDir(t, kr, dir)
	h := New(Options{DataDir: dir, Keyring: kr, Version: "test", AuthParams: testParams, SeatListen: "127.0.0.1:0"})
	if err := h.Start(context.Background(), &recorder{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Stop() })
	window := h.App()
	firstAdmin(t, window)
	if _, err := addStaff(window, auth.NewStaff{Login: "madoguchi", DisplayName: "窓口 花子", Role: auth.RoleOperator, Password: "operator password 1"}); err != nil {
		t.Fatal(err)
	}

	s1, s2 := connectSeat(t, h, "窓口1"), connectSeat(t, h, "窓口2")
	// Each end knows its role: the window is the primary; a seat answers
	// for itself from its pairing (never the primary's "primary"), and a
	// seat that asks the primary anyway is told it is that seat.
	if r := (&SystemService{window}).SeatRole(); r != (seat.RoleInfo{Role: seat.RolePrimary}) {
		t.Fatalf("the window's role: %+v", r)
	}
	var role seat.RoleInfo
	if err := s1.call(t, &role, "SeatRole"); err != nil || role != (seat.RoleInfo{Role: seat.RoleSeat, Seat: "窓口1", Primary: h.SeatListener().Addr, PrimaryFingerprint: h.SeatListener().Fingerprint}) {
		t.Fatalf("seat 1's role: %+v %v", role, err)
	}
	var ans forward.Answer
	if err := s2.sess.Call(context.Background(), forward.Method, forward.Request{Method: forward.MethodRole, Args: json.RawMessage("[]")}, &ans); err != nil || ans.Error != "" {
		t.Fatalf("SeatRole asked of the primary: %+v %v", ans, err)
	}
	if err := json.Unmarshal(ans.Result, &role); err != nil || role != (seat.RoleInfo{Role: seat.RoleSeat, Seat: "窓口2"}) {
		t.Fatalf("the primary's answer to a seat's SeatRole: %s %v", ans.Result, err)
	}
	var st AuthState
	if err := s1.call(t, &st, "AuthState"); err != nil || st.SignedIn {
		t.Fatalf("a new seat is signed in (the window is): %+v %v", st, err)
	}
	if err := s1.call(t, &st, "SignIn", "admin", testAdminPW); err != nil || st.Staff.Role != auth.RoleAdmin {
		t.Fatalf("seat 1 sign-in: %+v %v", st, err)
	}
	if err := s2.call(t, &st, "SignIn", "madoguchi", "operator password 1"); err != nil || st.Staff.Role != auth.RoleOperator {
		t.Fatalf("seat 2 sign-in: %+v %v", st, err)
	}
	// Roles are checked on the primary, per seat.
	if err := s2.call(t, nil, "ListStaff"); seatCode(err) != msgcode.Forbidden {
		t.Fatalf("the operator's seat listed staff: %v", err)
	}
	// A validation error names its fields, in msgcode.Error's wire form.
	err := s1.call(t, nil, "CreateStaff", auth.NewStaff{DisplayName: "x", Role: auth.RoleOperator, Password: "another password 1"})
	var fe *forward.Error
	if !errors.As(err, &fe) || fe.Code != msgcode.InvalidInput || !strings.Contains(string(fe.Fields), `"login"`) {
		t.Fatalf("CreateStaff without a login: %v", err)
	}
	var ue msgcode.Error
	if json.Unmarshal([]byte(err.Error()), &ue) != nil || ue.Code != msgcode.InvalidInput || len(ue.Fields) == 0 {
		t.Fatalf("the error's text is not msgcode's wire form: %s", err)
	}
	if err := s1.call(t, nil, "NoSuchMethod"); seatCode(err) != msgcode.NotFound {
		t.Fatalf("an unknown method: %v", err)
	}
	// The audit trail names the seat.
	fp := firstFingerprint(h, "窓口1")
	h.app.seatCalls.mu.Lock()
	sc, ok := h.app.seatCalls.clients[fp]
	h.app.seatCalls.mu.Unlock()
	if !ok || sc.client.seat != "窓口1" {
		t.Fatalf("seat 1's client: %v %+v", ok, sc)
	}

	// Signing out on seat 1 leaves seat 2 and the window signed in.
	if err := s1.call(t, nil, "SignOut"); err != nil {
		t.Fatal(err)
	}
	if err := s1.call(t, nil, "Conversations"); seatCode(err) != msgcode.SignInRequired {
		t.Fatalf("seat 1 after its sign-out: %v", err)
	}
	if err := s2.call(t, nil, "Conversations"); err != nil {
		t.Fatalf("seat 2 after seat 1 signed out: %v", err)
	}
	if _, err := (&InboxService{window}).Conversations(); err != nil {
		t.Fatalf("the window after seat 1 signed out: %v", err)
	}

	// A customer writes (the sandbox, at the window): both seats hear of it.
	sims, err := (&SandboxService{window}).SandboxCustomers()
	if err != nil || len(sims) == 0 {
		t.Fatalf("sandbox: %v", err)
	}
	if err := (&SandboxService{window}).SandboxSend(sims[0].UserID, "こんにちは"); err != nil {
		t.Fatal(err)
	}
	s1.ev.waitFor(t, inbox.EventChanged)
	s2.ev.waitFor(t, inbox.EventChanged)

	// The engine starts again (here: the LINE channel changed): the seat
	// server follows it on the same address, the seats reconnect and their
	// sessions here are kept.
	addr := h.SeatListener().Addr
	mark := s2.ev.count()
	if _, err := (&ChannelService{window}).ClearChannel(); err != nil {
		t.Fatal(err)
	}
	s2.ev.waitForFrom(t, forward.EventConnection+` {"state":"away"`, mark)
	s2.ev.waitForFrom(t, forward.EventConnection+` {"state":"connected"`, mark)
	if got := h.SeatListener().Addr; got != addr {
		t.Fatalf("the seat port moved from %s to %s", addr, got)
	}
	if err := s2.call(t, nil, "Conversations"); err != nil {
		t.Fatalf("seat 2 after the engine restarted: %v", err)
	}
	// A seat paired now is checked against the new engine's registry.
	s3 := connectSeat(t, h, "窓口3")
	if err := s3.call(t, nil, "AuthState"); err != nil {
		t.Fatalf("a seat paired after the restart: %v", err)
	}

	// Revoked (as by another program): the seat is refused and its
	// session on the primary ended.
	if _, err := h.app.eng.Seats().Revoke(context.Background(), "staff:admin", "窓口2"); err != nil {
		t.Fatal(err)
	}
	s2.ev.waitFor(t, forward.EventConnection+` {"state":"refused","code":"`+forward.CodeRefused)
	if err := s2.call(t, nil, "Conversations"); seatCode(err) != msgcode.SeatRefused {
		t.Fatalf("the revoked seat: %v", err)
	}
	h.app.seatCalls.mu.Lock()
	n := len(h.app.seatCalls.clients)
	h.app.seatCalls.mu.Unlock()
	if n != 2 { // 窓口1 and 窓口3
		t.Fatalf("the revoked seat's client is kept: %d clients", n)
	}
	if err := s1.call(t, nil, "AuthState"); err != nil {
		t.Fatalf("seat 1 after seat 2 was revoked: %v", err)
	}
}

// seatCode is the message code of a forwarded call's error ("" for none).
func seatCode(err error) string {
	var fe *forward.Error
	if errors.As(err, &fe) {
		return fe.Code
	}
	if err != nil {
		return "not a forward.Error: " + err.Error()
	}
	return ""
}

// firstFingerprint is the pinned key of the seat called name.
func firstFingerprint(h *Host, name string) string {
	list, _ := h.app.eng.Seats().List(context.Background())
	for _, s := range list {
		if s.Name == name && s.RevokedAt == nil {
			return s.Fingerprint.String()
		}
	}
	return ""
}

// A seat whose primary is away fails at once with the banner's code, and
// nothing is sent later.
func TestSeatCallWhilePrimaryAway(t *testing.T) {
	sess := client.NewSession(client.Pairing{}, secrets.SeatKey{})
	_, err := forward.New(sess).Forward(context.Background(), "Conversations", nil)
	if seatCode(err) != msgcode.PrimaryAway || err.Error() != msgcode.PrimaryAway || !errors.Is(err, client.ErrAway) {
		t.Fatalf("a call while away: %v", err)
	}
	if msgcode.Code(client.ErrAway) != msgcode.PrimaryAway || msgcode.Code(seat.ErrRefused) != msgcode.SeatRefused {
		t.Fatal("msgcode does not know the seat's codes")
	}
}
