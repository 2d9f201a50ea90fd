package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"tsunagu/internal/datadir"
	"tsunagu/internal/relay"
	"tsunagu/internal/relay/relaytest"
	"tsunagu/internal/secrets"
	"tsunagu/internal/secrets/secretstest"
)

// relayForCLI runs a relay on loopback with one tenant and counts the
// enrollment requests it receives.
func relayForCLI(t *testing.T) (url, code string, rs *relay.Server, enrolls *atomic.Int64) {
	t.Helper()
	enrolls = new(atomic.Int64)
	r := relaytest.Start(t, relay.Config{}, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/v1/enroll") {
				enrolls.Add(1)
			}
			h.ServeHTTP(w, r)
		})
	})
	return r.URL, r.Tenant(t, "本店"), r.Server, enrolls
}

// TestCLIRelayEnrollRefusesHTTP: `relay enroll` posts the one-time code only
// over https://, or over http:// to this computer with
// --allow-http-loopback. A refused URL is an error before anything is
// opened or sent: no request reaches the relay, no keys are made, and the
// code stays usable.
func TestCLIRelayEnrollRefusesHTTP(t *testing.T) {
	kr := secretstest.Keyring(t)
	dir := filepath.Join(t.TempDir(), "data")
	secretstest.CleanupDataDir(t, kr, dir)
	url, code, _, enrolls := relayForCLI(t)
	if r := cli(t, kr, "", "init", "--data-dir", dir); r.code != 0 {
		t.Fatalf("init: %+v", r)
	}
	for _, args := range [][]string{
		// .invalid never resolves (RFC 6761): were it tried, the error
		// would be a lookup failure, not the refusal checked below.
		{"--relay", "http://relay.invalid"},
		{"--relay", "http://relay.invalid", "--allow-http-loopback"},
		{"--relay", "http://192.0.2.1:8080", "--allow-http-loopback"},
		{"--relay", url}, // loopback, but without the flag
	} {
		r := cli(t, kr, code+"\n", append(append([]string{"relay", "enroll"}, args...), "--data-dir", dir)...)
		if r.code != 2 || !strings.Contains(r.stderr, "https://") || !strings.Contains(r.stderr, "in the clear") {
			t.Fatalf("enroll %v: %+v", args, r)
		}
	}
	if n := enrolls.Load(); n != 0 {
		t.Fatalf("the relay received %d enrollment request(s)", n)
	}
	id, _ := datadir.Dir{Path: dir}.ReadInstallID()
	if _, err := secrets.New(kr, id).RelayKeys(context.Background()); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatalf("keys made for a refused enrollment: %v", err)
	}
	r := cli(t, kr, code+"\n", "relay", "enroll", "--relay", url, "--allow-http-loopback", "--data-dir", dir)
	if r.code != 0 || enrolls.Load() != 1 {
		t.Fatalf("enroll over loopback with the flag: %+v", r)
	}
}

// TestCLISyncTwoProcesses: two real `tsunagu-cli sync` processes for one
// data folder. The second refuses at once with exit code 5 and says why,
// instead of taking the relay connection from the first in turns; the
// events stay for the first. A SIGKILLed holder leaves no stale lock: the
// next sync receives.
func TestCLISyncTwoProcesses(t *testing.T) {
	kr := secretstest.RealKeyring(t) // the CLI child processes share it
	dir := filepath.Join(t.TempDir(), "data")
	secretstest.CleanupDataDir(t, kr, dir)
	url, code, _, _ := relayForCLI(t)

	const docSecret = "8c570fa6dd201bb328f1c1eac23a96d8" // LINE's documented example
	const docBody = `{"destination":"U8e742f61d673b39c7fff3cecb7536ef0","events":[]}`
	const docSig = "GhRKmvmHys4Pi8DxkF4+EayaH0OqtJtaZxgTD9fMDLs="
	if r := cli(t, kr, "", "init", "--data-dir", dir); r.code != 0 {
		t.Fatalf("init: %+v", r)
	}
	if r := cli(t, kr, docSecret+"\nrelay-lock-test-access-token-0123456789\n", "channel", "set", "--data-dir", dir); r.code != 0 {
		t.Fatalf("channel set: %+v", r)
	}
	r := cli(t, kr, code+"\n", "relay", "enroll", "--relay", url, "--allow-http-loopback", "--json", "--data-dir", dir)
	var en struct{ WebhookURL string }
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &en) != nil || en.WebhookURL == "" {
		t.Fatalf("enroll: %+v", r)
	}
	post := func() {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, en.WebhookURL, strings.NewReader(docBody))
		req.Header.Set("X-Line-Signature", docSig)
		res, err := http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("post: %v %v", res, err)
		}
		res.Body.Close()
	}

	// The first: `sync`, running until killed.
	first := cliProcess(t, "sync", "--data-dir", dir)
	pr, err := first.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	first.Stderr = first.Stdout
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if first.ProcessState == nil {
			first.Process.Kill()
			first.Wait()
		}
	})
	connected := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		done := false
		for sc.Scan() {
			if !done && strings.HasSuffix(sc.Text(), " connected") {
				close(connected)
				done = true
			}
		}
	}()
	select {
	case <-connected:
	case <-time.After(60 * time.Second):
		t.Fatal("the first sync did not connect")
	}

	// The second, both kinds: refused, distinct exit code, clear message.
	for _, args := range [][]string{{"sync", "--once"}, {"sync"}} {
		second := cliProcess(t, append(args, "--data-dir", dir)...)
		out, err := second.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != exitBusy {
			t.Fatalf("second %v: %v\n%s", args, err, out)
		}
		if !strings.Contains(string(out), "already receiving") {
			t.Fatalf("second %v says: %s", args, out)
		}
	}
	if err := first.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("the first sync ended: %v", err)
	}

	// SIGKILL the holder: the OS drops its lock, and the next sync
	// receives what was posted after.
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	first.Wait()
	post()
	third := cliProcess(t, "sync", "--once", "--json", "--data-dir", dir)
	var stderr strings.Builder
	third.Stderr = &stderr
	out, err := third.Output()
	var got struct{ Received, Stored int64 }
	if err != nil || json.Unmarshal(out, &got) != nil || got.Received != 1 || got.Stored != 1 {
		t.Fatalf("sync after the holder was killed: %v %s\nstderr: %s", err, out, stderr.String())
	}
}
