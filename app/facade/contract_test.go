package facade

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"tsunagu/internal/auth"
	"tsunagu/internal/contract"
	"tsunagu/internal/fielderr"
	"tsunagu/internal/inbox"
	"tsunagu/internal/line"
	"tsunagu/internal/msgcode"
	"tsunagu/internal/seat"
	"tsunagu/internal/secrets/secretstest"
)

// contractPath is the generated UI contract, from this file's folder.
func contractPath(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "frontend", "src", "api", "contract.gen.ts")
}

// contractSpec is the UI contract as the Go side declares it: the bound
// services, the permissions of guard_test.go (checked against behaviour by
// TestEveryMethodIsGuarded), the message codes and the events.
func contractSpec(t *testing.T) contract.Spec {
	t.Helper()
	// The methods' types do not depend on a running engine.
	table := bound(t, New(Options{}).App())
	perms := make(map[string]string, len(methodPerms))
	for m, p := range methodPerms {
		perms[m] = string(p)
	}
	var events []contract.Event
	for name, typ := range Events() {
		events = append(events, contract.Event{Name: name, Payload: typ})
	}
	roles := make([]string, 0, len(auth.Roles()))
	for _, r := range auth.Roles() {
		roles = append(roles, string(r))
	}
	var seatRoles []string
	for _, r := range seat.RoleKinds() {
		seatRoles = append(seatRoles, string(r))
	}
	return contract.Spec{
		Methods:     table,
		Home:        reflect.TypeFor[Status]().PkgPath(),
		Permissions: perms,
		Public:      public,
		// The registry's codes, and those a message carries as its error.
		Codes:  append(msgcode.Codes(), inbox.SendErrFailed, inbox.SendErrUnreachable, inbox.SendErrUncertain, inbox.SendErrWaiting),
		Events: events,
		// A validation failure's wrong fields (msgcode.Error, api/errors.ts).
		Extra: []reflect.Type{reflect.TypeFor[fielderr.FieldError]()},
		Enums: []contract.Enum{
			{Type: reflect.TypeFor[auth.Role](), Values: roles},
			{Type: reflect.TypeFor[seat.RoleKind](), Values: seatRoles},
		},
		// What a seat is refused as primary-only (seats_files.go): its
		// screen hides the controls that call them.
		PrimaryOnly: seatPrimaryOnlyMethods(),
		// A LINE message object is kept as LINE's own JSON.
		Overrides: map[reflect.Type]string{reflect.TypeFor[line.Message](): "Record<string, unknown>"},
	}
}

// TestContractUpToDate fails while the checked-in contract differs from the
// Go side; TSUNAGU_UPDATE_CONTRACT=1 (make contract) rewrites it.
func TestContractUpToDate(t *testing.T) {
	got, err := contract.Generate(contractSpec(t))
	if err != nil {
		t.Fatal(err)
	}
	path := contractPath(t)
	if os.Getenv("TSUNAGU_UPDATE_CONTRACT") == "1" {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run `make contract`)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is out of date with the bound services: run `make contract`\n%s", path, firstDiff(string(want), string(got)))
	}
}

// firstDiff shows the first line that differs.
func firstDiff(a, b string) string {
	la, lb := bytes.Split([]byte(a), []byte("\n")), bytes.Split([]byte(b), []byte("\n"))
	for i := 0; i < len(la) || i < len(lb); i++ {
		var x, y []byte
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		if !bytes.Equal(x, y) {
			return "line " + strconv.Itoa(i+1) + ":\n  checked in: " + string(x) + "\n  generated:  " + string(y)
		}
	}
	return ""
}

// typedRecorder keeps every event with its payload's type.
type typedRecorder struct {
	mu    sync.Mutex
	types map[string][]reflect.Type
}

func (r *typedRecorder) Emit(name string, data any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.types == nil {
		r.types = map[string][]reflect.Type{}
	}
	r.types[name] = append(r.types[name], reflect.TypeOf(data))
}

// TestContractEventsAsEmitted drives the sandbox as the UI does and checks
// that every event emitted is declared in Events() with its payload's type.
func TestContractEventsAsEmitted(t *testing.T) {
	kr := secretstest.Keyring(t)
	dir := filepath.Join(t.TempDir(), "data")
	secretstest.CleanupDataDir(t, kr, dir)
	h := New(Options{DataDir: dir, Keyring: kr, Version: "test", AuthParams: testParams})
	rec := &typedRecorder{}
	if err := h.Start(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Stop() })
	app := h.App()
	firstAdmin(t, app)
	cs, err := sandboxSvc(app).SandboxCustomers()
	if err != nil || len(cs) == 0 {
		t.Fatalf("sandbox customers: %v %v", cs, err)
	}
	if err := sandboxSvc(app).SandboxSend(cs[0].UserID, "こんにちは"); err != nil {
		t.Fatal(err)
	}
	if err := sandboxSvc(app).SandboxFollow(cs[0].UserID, false); err != nil {
		t.Fatal(err)
	}
	if _, err := (&ChannelService{app}).ClearChannel(); err != nil { // restarts the engine: status:changed
		t.Fatal(err)
	}

	declared := Events()
	deadline := time.Now().Add(10 * time.Second)
	for {
		rec.mu.Lock()
		n := len(rec.types)
		rec.mu.Unlock()
		if n >= 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, want := range []string{EventStatus, "inbox:changed", "sandbox:phone"} {
		if _, ok := rec.types[want]; !ok {
			t.Errorf("no %s event seen (seen: %v)", want, rec.types)
		}
	}
	for name, types := range rec.types {
		want, ok := declared[name]
		if !ok {
			t.Errorf("event %s is emitted but not declared in Events()", name)
			continue
		}
		for _, got := range types {
			if got != want {
				t.Errorf("event %s emitted with %v, declared %v", name, got, want)
			}
		}
	}
}
