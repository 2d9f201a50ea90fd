package engine

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"tsunagu/internal/datadir"
	"tsunagu/internal/relay"
	"tsunagu/internal/relay/relaytest"
	"tsunagu/internal/relayclient"
	"tsunagu/internal/secrets"
	"tsunagu/internal/secrets/secretstest"
)

func lockEngine(dir string) *Engine {
	return &Engine{dir: datadir.Dir{Path: dir}, log: slog.New(slog.DiscardHandler)}
}

// TestRelayLockIsExclusive: one holder per data folder, also within one
// process (flock belongs to the open file); a waiter gets it once the
// holder lets go; the lock file is private.
func TestRelayLockIsExclusive(t *testing.T) {
	dir := t.TempDir()
	a, b := lockEngine(dir), lockEngine(dir)
	la, err := a.lockRelay()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.lockRelay(); !errors.Is(err, ErrRelayBusy) {
		t.Fatalf("second lock: %v, want ErrRelayBusy", err)
	}
	if runtime.GOOS != "windows" {
		if st, err := os.Stat(filepath.Join(dir, relayLockFile)); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("lock file: %v %v", st, err)
		}
	}

	// A cancelled waiter gives up.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := b.waitRelayLock(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("cancelled wait: %v", err)
	}

	got := make(chan error, 1)
	go func() {
		l, err := b.waitRelayLock(context.Background())
		if err == nil {
			err = l.release()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("waiter got the lock while it was held: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	if err := la.release(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(3 * relayLockRetry):
		t.Fatal("the waiter did not get the released lock")
	}
}

// TestRelayAppLoopHoldsTheLock: the app's pull loop receives under the data
// folder's lock, so a second receiver (here another engine on the same
// folder, as `tsunagu-cli sync` would be) is refused with ErrRelayBusy
// instead of taking the connection in turns; when the app closes, the
// waiting loop of the other takes over and receives. Also: enrolling over
// plain HTTP to another host is refused before keys are made or anything
// is sent.
func TestRelayAppLoopHoldsTheLock(t *testing.T) {
	kr := secretstest.Keyring(t)
	ctx := context.Background()
	hs := relaytest.Start(t, relay.Config{})
	code := hs.Tenant(t, "本店")
	const secret, token = "0123456789abcdef0123456789abcdef", "relay-lock-access-token-0123456789"
	sim, cust, dir := liveFolder(t, kr, secret, token, "佐藤 一郎")
	start := func() *Engine {
		eng, err := Start(ctx, Options{DataDir: dir, Keyring: kr, LineEndpoint: sim.URL()})
		if err != nil {
			t.Fatal(err)
		}
		return eng
	}
	app := start()
	defer func() { app.Close() }()

	for _, u := range []string{"http://relay.invalid", "http://192.0.2.1:8080"} {
		if _, err := app.RelayEnroll(ctx, "staff:admin", u, code, relayclient.HTTPLoopback); !errors.Is(err, relayclient.ErrInsecureURL) {
			t.Fatalf("enroll %s: %v, want ErrInsecureURL", u, err)
		}
	}
	if _, err := app.RelayEnroll(ctx, "staff:admin", hs.URL, code, relayclient.HTTPSOnly); !errors.Is(err, relayclient.ErrInsecureURL) {
		t.Fatalf("loopback http without the option: %v", err)
	}
	if _, err := app.Secrets().RelayKeys(ctx); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatalf("a refused enrollment stored keys: %v", err)
	}
	if _, err := app.RelayEnrollment(); !errors.Is(err, ErrRelayNotEnrolled) {
		t.Fatalf("a refused enrollment was recorded: %v", err)
	}
	// The code was never sent, so it still works.
	en, err := app.RelayEnroll(ctx, "staff:admin", hs.URL, code, relayclient.HTTPLoopback)
	if err != nil {
		t.Fatal(err)
	}
	sim.SetWebhookURL(en.WebhookURL)
	deadline := time.Now().Add(10 * time.Second)
	for app.RelayStatus().State != relayclient.StateConnected {
		if time.Now().After(deadline) {
			t.Fatalf("app loop not connected: %+v", app.RelayStatus())
		}
		time.Sleep(20 * time.Millisecond)
	}

	// A second receiver for the folder while the app receives.
	other := start()
	defer func() { other.Close() }()
	if _, err := other.RelaySync(ctx); !errors.Is(err, ErrRelayBusy) {
		t.Fatalf("second receiver's sync: %v, want ErrRelayBusy", err)
	}
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	err = other.RelayRun(rctx, 0, nil)
	cancel()
	if !errors.Is(err, ErrRelayBusy) {
		t.Fatalf("second receiver's run: %v, want ErrRelayBusy", err)
	}

	// The app receives; then it closes and the other's loop (restarted,
	// as at its start) takes over.
	if _, err := sim.SendText(ctx, cust.UserID, "一通目"); err != nil {
		t.Fatal(err)
	}
	conv := waitConversation(t, app, cust.UserID, 1)
	if err := other.startRelayLoop(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if st := other.RelayStatus(); st.State == relayclient.StateConnected {
		t.Fatalf("the other loop connected while the app holds the lock: %+v", st)
	}
	if err := app.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := sim.SendText(ctx, cust.UserID, "二通目"); err != nil {
		t.Fatal(err)
	}
	waitConversationMessages(t, other, conv.ID, 2)
}
