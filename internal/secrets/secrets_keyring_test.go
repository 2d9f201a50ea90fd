package secrets

// Tests against the real OS keychain. They run when TSUNAGU_REAL_KEYRING=1
// (set by .ci/keyring-session, which starts a throwaway unlocked
// gnome-keyring) and then fail, not skip, if the keychain does not work.
//
//	.ci/keyring-session go test ./internal/secrets/...

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
)

const realKeyringEnv = "TSUNAGU_REAL_KEYRING"

// realStore returns a Store on the OS keychain under a fresh random install
// ID, and removes every item of that install when the test ends.
func realStore(t *testing.T) *Store {
	t.Helper()
	if os.Getenv(realKeyringEnv) != "1" {
		t.Skipf("%s is not 1; run under .ci/keyring-session to test the real keychain", realKeyringEnv)
	}
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	id := "test-" + hex.EncodeToString(b[:])
	kr := OSKeyring()
	t.Cleanup(func() {
		for _, item := range []Item{ItemDBKey, ItemChannelSecret, ItemChannelToken} {
			if err := classify(kr.Delete(Service, id+"/"+string(item))); err != nil && !errors.Is(err, ErrNotFound) {
				t.Errorf("cleanup: delete %s: %v", item, err)
			}
		}
	})
	return New(kr, id)
}

func realCtx(t *testing.T) context.Context {
	// Bounded, so a keychain that shows an unlock prompt fails the test
	// instead of hanging it.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestRealKeyringDBKey(t *testing.T) {
	s := realStore(t)
	ctx := realCtx(t)

	if _, err := s.DBKey(ctx); !errors.Is(err, ErrNotFound) {
		t.Fatalf("DBKey on a fresh install: err = %v, want ErrNotFound", err)
	}
	key, err := s.CreateDBKey(ctx)
	if err != nil {
		t.Fatalf("CreateDBKey: %v", err)
	}
	if len(key) != 32 {
		t.Fatalf("key is %d bytes", len(key))
	}
	got, err := s.DBKey(ctx)
	if err != nil {
		t.Fatalf("DBKey: %v", err)
	}
	if !bytes.Equal(got, key) {
		t.Fatal("keychain returned a different key")
	}
	if _, err := s.CreateDBKey(ctx); !errors.Is(err, ErrExists) {
		t.Fatalf("second CreateDBKey: err = %v, want ErrExists", err)
	}
	if got, err := s.DBKey(ctx); err != nil || !bytes.Equal(got, key) {
		t.Fatalf("key changed by the second CreateDBKey (err=%v)", err)
	}
}

func TestRealKeyringInstallsAreIsolated(t *testing.T) {
	a, b := realStore(t), realStore(t)
	ctx := realCtx(t)

	keyA, err := a.CreateDBKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.DBKey(ctx); !errors.Is(err, ErrNotFound) {
		t.Fatalf("install B sees a key: err = %v", err)
	}
	keyB, err := b.CreateDBKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(keyA, keyB) {
		t.Fatal("same key for two installs")
	}
	if got, err := a.DBKey(ctx); err != nil || !bytes.Equal(got, keyA) {
		t.Fatalf("install A's key changed (err=%v)", err)
	}
}

func TestRealKeyringChannel(t *testing.T) {
	s := realStore(t)
	ctx := realCtx(t)

	if ok, err := s.HasChannel(ctx); err != nil || ok {
		t.Fatalf("HasChannel on a fresh install = %v, %v", ok, err)
	}
	// A realistically long access token, pasted with a trailing newline.
	token := strings.Repeat("AbC0+/=", 25)
	want := Channel{Secret: "0123456789abcdef0123456789abcdef", AccessToken: token}
	if err := s.SetChannel(ctx, Channel{Secret: want.Secret + "\n", AccessToken: " " + token + "\r\n"}); err != nil {
		t.Fatalf("SetChannel: %v", err)
	}
	got, err := s.Channel(ctx)
	if err != nil {
		t.Fatalf("Channel: %v", err)
	}
	if got.Secret != want.Secret || got.AccessToken != want.AccessToken {
		t.Fatal("keychain returned different credentials")
	}

	// Only the token gone: the error names it.
	if err := OSKeyring().Delete(Service, s.installID+"/"+string(ItemChannelToken)); err != nil {
		t.Fatal(err)
	}
	_, err = s.Channel(ctx)
	var ie *ItemError
	if !errors.Is(err, ErrNotFound) || !errors.As(err, &ie) || ie.Item != ItemChannelToken {
		t.Fatalf("Channel with the token missing: err = %v", err)
	}

	if err := s.DeleteChannel(ctx); err != nil {
		t.Fatalf("DeleteChannel: %v", err)
	}
	if ok, err := s.HasChannel(ctx); err != nil || ok {
		t.Fatalf("HasChannel after delete = %v, %v", ok, err)
	}
	if err := s.DeleteChannel(ctx); err != nil {
		t.Fatalf("DeleteChannel with nothing stored: %v", err)
	}
}

// childEnv makes the test binary run childMain instead of the tests.
const childEnv = "TSUNAGU_SECRETS_CHILD"

// childMain reads the DB key from the OS keychain and prints how the error
// was classified.
func childMain() int {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := New(OSKeyring(), "child-probe-install").DBKey(ctx)
	switch {
	case errors.Is(err, ErrUnavailable):
		fmt.Println("unavailable")
	case errors.Is(err, ErrLocked):
		fmt.Println("locked")
	case errors.Is(err, ErrNotFound):
		fmt.Println("notfound")
	default:
		fmt.Printf("other: %v\n", err)
	}
	return 0
}

// TestRealSecretServiceUnavailable checks the mapping against godbus's real
// error when the session bus does not exist. It needs no keychain, so it
// runs on every Linux machine.
func TestRealSecretServiceUnavailable(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Secret Service backend is Linux only")
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(),
		childEnv+"=1",
		"DBUS_SESSION_BUS_ADDRESS=unix:path="+t.TempDir()+"/no-such-bus",
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "unavailable" {
		t.Fatalf("no session bus classified as %q, want unavailable", got)
	}
}
