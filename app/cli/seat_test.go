package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"tsunagu/internal/datadir"
	"tsunagu/internal/engine"
	"tsunagu/internal/seat/client"
	"tsunagu/internal/secrets"
	"tsunagu/internal/secrets/secretstest"
)

// servedPrimary is `tsunagu-cli seat serve` running as its own process on
// a free loopback port.
type servedPrimary struct {
	dir, addr, fingerprint string
	cmd                    *exec.Cmd
	log                    *outBuf // its standard error
	codes                  []string
}

func serveSeats(t *testing.T, dir string) *servedPrimary {
	t.Helper()
	return serveSeatsOn(t, dir, "127.0.0.1:0")
}

func serveSeatsOn(t *testing.T, dir, addr string) *servedPrimary {
	t.Helper()
	cmd := cliProcess(t, "seat", "serve", "--listen", addr, "--json", "--data-dir", dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	log := &outBuf{}
	cmd.Stderr = log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Signal(os.Interrupt)
			cmd.Wait()
		}
	})
	var info struct{ Listen, Fingerprint string }
	got := make(chan error, 1)
	go func() { got <- json.NewDecoder(out).Decode(&info) }()
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("seat serve: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("seat serve did not start")
	}
	return &servedPrimary{dir: dir, addr: info.Listen, fingerprint: info.Fingerprint, cmd: cmd, log: log}
}

// runProcess runs one tsunagu-cli process to its end.
func runProcess(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	cmd := cliProcess(t, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errb.String()}
}

func (p *servedPrimary) code(t *testing.T, name string) string {
	t.Helper()
	r := runProcess(t, "", "seat", "code", name, "--json", "--data-dir", p.dir)
	var c struct{ Code, PrimaryFingerprint string }
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &c) != nil || c.PrimaryFingerprint != p.fingerprint {
		t.Fatalf("seat code %s: %+v", name, r)
	}
	p.codes = append(p.codes, c.Code)
	return c.Code
}

func (p *servedPrimary) pair(t *testing.T, seatDir, code string) result {
	t.Helper()
	return runProcess(t, code+"\n", "seat", "pair", "--primary", p.addr, "--fingerprint", p.fingerprint, "--data-dir", seatDir)
}

// TestCLISeatsProcesses: one primary (`seat serve`) and three seats, each a
// tsunagu-cli process with a data folder of its own, on loopback with the
// real keychain: pairing with valid, reused, expired and wrong codes; calls
// and events; a seat revoked from another process is disconnected at once
// and refused after; a seat facing a primary with another certificate
// refuses it; seats keep no database.
func TestCLISeatsProcesses(t *testing.T) {
	kr := secretstest.RealKeyring(t) // the child processes share it
	ctx := context.Background()
	base := t.TempDir()
	pdir := filepath.Join(base, "primary")
	secretstest.CleanupDataDir(t, kr, pdir)
	if r := runProcess(t, "", "init", "--data-dir", pdir); r.code != 0 {
		t.Fatalf("init: %+v", r)
	}
	p := serveSeats(t, pdir)

	names := []string{"窓口1", "窓口2", "支店長席"}
	dirs := map[string]string{}
	for i, name := range names {
		dirs[name] = filepath.Join(base, "seat"+string(rune('1'+i)))
		secretstest.CleanupDataDir(t, kr, dirs[name])
		if r := p.pair(t, dirs[name], p.code(t, name)); r.code != 0 || !strings.Contains(r.stdout, "paired as "+name) {
			t.Fatalf("pair %s: %+v", name, r)
		}
	}

	// Reused, wrong and expired codes are refused and say so.
	spare := filepath.Join(base, "spare")
	secretstest.CleanupDataDir(t, kr, spare)
	used := p.code(t, "窓口4")
	// Without --fingerprint the person compares it: "n" sends nothing (the
	// code stays usable), "y" pairs.
	for _, answer := range []string{"n", "y"} {
		r := runProcess(t, used+"\n"+answer+"\n", "seat", "pair", "--primary", p.addr, "--data-dir", spare)
		shown := strings.Contains(r.stderr, "shows the fingerprint "+p.fingerprint)
		if answer == "n" && (r.code != 1 || !shown || !strings.Contains(r.stderr, "not confirmed")) {
			t.Fatalf("pair, fingerprint not confirmed: %+v", r)
		}
		if answer == "y" && (r.code != 0 || !shown) {
			t.Fatalf("pair, fingerprint confirmed: %+v", r)
		}
	}
	if r := p.pair(t, filepath.Join(base, "x1"), used); r.code != 1 || !strings.Contains(r.stderr, "already used") {
		t.Fatalf("reused code: %+v", r)
	}
	if r := p.pair(t, filepath.Join(base, "x2"), "ZZZZZ-ZZZZZ"); r.code != 1 || !strings.Contains(r.stderr, "not right") {
		t.Fatalf("wrong code: %+v", r)
	}
	expired := p.code(t, "窓口5")
	eng, err := engine.Open(ctx, pdir, kr) // another program on the primary's database, as an administrator's clock would
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.DB().Writer().ExecContext(ctx, `UPDATE seat_codes SET expires_at = expires_at - 600000 WHERE seat_name = '窓口5'`); err != nil {
		t.Fatal(err)
	}
	eng.Close()
	if r := p.pair(t, filepath.Join(base, "x3"), expired); r.code != 1 || !strings.Contains(r.stderr, "expired") {
		t.Fatalf("expired code: %+v", r)
	}
	// A wrong fingerprint stops the pairing before the code is sent.
	if r := runProcess(t, p.code(t, "窓口6")+"\n", "seat", "pair", "--primary", p.addr, "--fingerprint", "0000-0000-0000-0000", "--data-dir", filepath.Join(base, "x4")); r.code != 1 || !strings.Contains(r.stderr, "different fingerprint") {
		t.Fatalf("wrong fingerprint: %+v", r)
	}
	// A primary's folder cannot become a seat.
	if r := p.pair(t, pdir, p.code(t, "窓口7")); r.code != 1 || !strings.Contains(r.stderr, "primary") {
		t.Fatalf("pairing the primary's folder: %+v", r)
	}

	// Events: 窓口1 watches while the others connect.
	watch := cliProcess(t, "seat", "watch", "--count", "2", "--data-dir", dirs["窓口1"])
	wout, werr := &outBuf{}, &outBuf{}
	watch.Stdout, watch.Stderr = wout, werr
	if err := watch.Start(); err != nil {
		t.Fatal(err)
	}
	werr.waitFor(t, "connected")
	for _, name := range names[1:] {
		r := runProcess(t, "", "seat", "status", "--json", "--data-dir", dirs[name])
		var st struct {
			Seat    struct{ Name string }
			Primary struct{ SeatsOnline []string }
		}
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &st) != nil || st.Seat.Name != name || !slices.Contains(st.Primary.SeatsOnline, name) {
			t.Fatalf("status %s: %+v", name, r)
		}
		// 窓口1 is watching until it has seen 窓口2 come and go.
		if name == "窓口2" && !slices.Contains(st.Primary.SeatsOnline, "窓口1") {
			t.Fatalf("status %s: 窓口1 not online: %+v", name, st)
		}
	}
	if err := watch.Wait(); err != nil || !strings.Contains(wout.String(), `seat.online {"name":"窓口2"}`) || !strings.Contains(wout.String(), `seat.offline {"name":"窓口2"}`) {
		t.Fatalf("watch: %v\n%s\n%s", err, wout, werr)
	}

	// 支店長席 stays connected; revoked by another process it is
	// disconnected at once (the server polls the registry) and told why.
	stay := cliProcess(t, "seat", "watch", "--data-dir", dirs["支店長席"])
	sout, serr := &outBuf{}, &outBuf{}
	stay.Stdout, stay.Stderr = sout, serr
	if err := stay.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if stay.ProcessState == nil {
			stay.Process.Kill()
			stay.Wait()
		}
	})
	serr.waitFor(t, "connected")
	revoked := time.Now()
	if r := runProcess(t, "", "seat", "revoke", "支店長席", "--data-dir", pdir); r.code != 0 {
		t.Fatalf("revoke: %+v", r)
	}
	done := make(chan error, 1)
	go func() { done <- stay.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Fatalf("revoked watch ended with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the revoked seat is still connected")
	}
	if d := time.Since(revoked); d > 5*time.Second {
		t.Fatalf("disconnected only after %s", d)
	}
	if !strings.Contains(serr.String(), "revoked") {
		t.Fatalf("the revoked seat was told: %s", serr)
	}
	if r := runProcess(t, "", "seat", "status", "--data-dir", dirs["支店長席"]); r.code != 1 || !strings.Contains(r.stderr, "refused this seat") {
		t.Fatalf("revoked seat reconnecting: %+v", r)
	}
	if r := runProcess(t, "", "seat", "status", "--data-dir", dirs["窓口1"]); r.code != 0 {
		t.Fatalf("another seat after the revocation: %+v", r)
	}

	// The registry as the administrator sees it.
	r := runProcess(t, "", "seat", "list", "--json", "--data-dir", pdir)
	var list []struct {
		Name      string
		RevokedAt *time.Time
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &list) != nil || len(list) != 4 || list[3].Name != "支店長席" || list[3].RevokedAt == nil {
		t.Fatalf("seat list: %+v", r)
	}

	// A seat key the primary never paired (seat.json copied to another
	// folder whose keychain holds a key of its own) is refused.
	xdir, err := datadir.Ensure(filepath.Join(base, "x5"))
	if err != nil {
		t.Fatal(err)
	}
	secretstest.CleanupDataDir(t, kr, xdir.Path)
	xid, _ := xdir.InstallID()
	stranger, _ := secrets.NewSeatKey()
	if err := secrets.New(kr, xid).SetSeatKey(ctx, stranger); err != nil {
		t.Fatal(err)
	}
	pj, _ := os.ReadFile(filepath.Join(dirs["窓口1"], client.PairingFile))
	if err := os.WriteFile(xdir.File(client.PairingFile), pj, 0o600); err != nil {
		t.Fatal(err)
	}
	if r := runProcess(t, "", "seat", "status", "--data-dir", xdir.Path); r.code != 1 || !strings.Contains(r.stderr, "refused this seat") {
		t.Fatalf("unknown seat key: %+v", r)
	}

	// Another primary (another certificate) at the address a seat pinned:
	// the seat refuses it.
	odir := filepath.Join(base, "other")
	secretstest.CleanupDataDir(t, kr, odir)
	if r := runProcess(t, "", "init", "--data-dir", odir); r.code != 0 {
		t.Fatalf("init other: %+v", r)
	}
	other := serveSeats(t, odir)
	pf := filepath.Join(dirs["窓口2"], client.PairingFile)
	b, _ := os.ReadFile(pf)
	if err := os.WriteFile(pf, []byte(strings.Replace(string(b), p.addr, other.addr, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := runProcess(t, "", "seat", "status", "--data-dir", dirs["窓口2"]); r.code != 1 || !strings.Contains(r.stderr, "not the one this seat was paired with") {
		t.Fatalf("different primary: %+v", r)
	}

	// Each seat's key is in its keychain (its install ID's item); the seats
	// keep no database, and no file of theirs holds the key.
	for _, name := range names {
		id, err := datadir.Dir{Path: dirs[name]}.ReadInstallID()
		if err != nil {
			t.Fatal(err)
		}
		key, err := secrets.New(kr, id).SeatKey(ctx)
		if err != nil {
			t.Fatalf("%s's key in the keychain: %v", name, err)
		}
		seed := fmt.Sprintf("%x", key.PrivateKey().Seed())
		for _, f := range []string{"install-id", client.PairingFile} {
			if b, _ := os.ReadFile(filepath.Join(dirs[name], f)); strings.Contains(strings.ToLower(string(b)), seed) {
				t.Fatalf("%s's key is in %s", name, f)
			}
		}
	}
	for _, name := range names {
		entries, _ := os.ReadDir(dirs[name])
		var files []string
		for _, e := range entries {
			files = append(files, e.Name())
		}
		if strings.Join(files, " ") != "install-id seat.json" {
			t.Fatalf("%s's data folder holds %v", name, files)
		}
	}
	// The primary stops cleanly on Ctrl-C; started again on the same
	// address it has the same identity (the key is in its keychain), so its
	// seats connect again.
	p.cmd.Process.Signal(syscall.SIGINT)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("seat serve after Ctrl-C: %v", err)
	}
	// Its log tells what happened, and never a seat code.
	log := p.log.String()
	if !strings.Contains(log, "seat paired") || !strings.Contains(log, "revoked seat disconnected") {
		t.Fatalf("seat serve's log: %s", log)
	}
	for _, c := range p.codes {
		if strings.Contains(log, c) || strings.Contains(log, strings.ReplaceAll(c, "-", "")) {
			t.Fatalf("seat serve logged the code %s", c)
		}
	}
	if r := runProcess(t, "", "seat", "status", "--data-dir", dirs["窓口1"]); r.code != 1 || !strings.Contains(r.stderr, "connect to the primary") {
		t.Fatalf("status while the primary is down: %+v", r)
	}
	again := serveSeatsOn(t, pdir, p.addr)
	if again.fingerprint != p.fingerprint {
		t.Fatalf("the primary's fingerprint changed on restart: %s → %s", p.fingerprint, again.fingerprint)
	}
	if r := runProcess(t, "", "seat", "status", "--data-dir", dirs["窓口1"]); r.code != 0 {
		t.Fatalf("status after the primary's restart: %+v", r)
	}
}

// outBuf collects a child's output (exec copies into it until the child
// ends) and lets a test wait for a piece of text.
type outBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (o *outBuf) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

func (o *outBuf) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

func (o *outBuf) waitFor(t *testing.T, want string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if strings.Contains(o.String(), want) {
			return
		}
	}
	t.Fatalf("no %q in time; got: %s", want, o.String())
}
