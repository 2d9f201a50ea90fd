package engine

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"tsunagu/internal/audit"
	"tsunagu/internal/backup"
	"tsunagu/internal/datadir"
	"tsunagu/internal/recovery"
	"tsunagu/internal/secrets"
	"tsunagu/internal/secrets/secretstest"
	"tsunagu/internal/store"
)

var cheapKDF = recovery.KDF{Time: 1, Memory: 1024, Threads: 1}

// TestRestoreAndRotate: a backup restored into a new folder with the key
// from this keychain, or on another PC with only the recovery code; a lost
// keychain item put back from the code; a key rotation that keeps old
// backups readable and issues a new code. Each is recorded once.
func TestRestoreAndRotate(t *testing.T) {
	ctx := context.Background()
	kr := secretstest.Keyring(t)
	base := t.TempDir()
	dirA, dirB, dirC, nas := filepath.Join(base, "a"), filepath.Join(base, "b"), filepath.Join(base, "c"), filepath.Join(base, "nas")
	if _, err := Init(ctx, dirA, kr); err != nil {
		t.Fatal(err)
	}
	a, err := Open(ctx, dirA, kr)
	if err != nil {
		t.Fatal(err)
	}
	code, err := a.Backups().IssueRecoveryCode(ctx, "os:clerk", cheapKDF)
	if err != nil {
		t.Fatal(err)
	}
	made, err := a.Backups().Create(ctx, "os:clerk", nas)
	a.Close()
	if err != nil {
		t.Fatal(err)
	}
	never := func() (string, error) {
		t.Fatal("asked for the code although the keychain has the key")
		return "", nil
	}
	give := func() (string, error) { return code, nil }

	m, err := RestoreBackup(ctx, dirB, kr, made.Path, never)
	if err != nil || m.File != made.File {
		t.Fatalf("restore: %+v %v", m, err)
	}
	b, err := Open(ctx, dirB, kr)
	if err != nil {
		t.Fatalf("the restored folder does not open: %v", err)
	}
	if err := b.Backups().RecordRestore(ctx, "os:clerk", m); err != nil {
		t.Fatal(err)
	}
	if b.Backups().RecoveryCodeCreatedAt() == 0 {
		t.Fatal("the recovery file was not kept with the restored folder")
	}
	b.Close()
	if _, err := RestoreBackup(ctx, dirB, kr, made.Path, never); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("restore over a database: %v", err)
	}

	// Another PC: nothing in its keychain, only the code.
	other := secretstest.MemKeyring()
	if _, err := RestoreBackup(ctx, dirC, other, made.Path, give); err != nil {
		t.Fatalf("restore with the code: %v", err)
	}
	if c, err := Open(ctx, dirC, other); err != nil {
		t.Fatalf("C does not open: %v", err)
	} else {
		c.Close()
	}

	// A's keychain item is lost; the code puts it back.
	idA := readInstallID(t, dirA)
	kr.Delete(secrets.Service, idA+"/"+string(secrets.ItemDBKey))
	if _, err := Open(ctx, dirA, kr); !errors.Is(err, ErrKeyMissing) {
		t.Fatalf("opened without its key: %v", err)
	}
	wrong := func() (string, error) { return "0000-0000-0000-0000-0000-0000-0000-0000", nil }
	if _, err := RestoreKey(ctx, dirA, kr, wrong); !errors.Is(err, recovery.ErrBadCode) {
		t.Fatalf("wrong code: %v", err)
	}
	keyID, err := RestoreKey(ctx, dirA, kr, give)
	if err != nil || keyID != made.KeyID {
		t.Fatalf("restore key: %q %v", keyID, err)
	}

	rot, err := RotateKey(ctx, dirA, kr, "os:clerk", cheapKDF)
	if err != nil || rot.OldKeyID != made.KeyID || rot.NewKeyID == rot.OldKeyID || rot.RecoveryCode == "" || rot.RecoveryCode == code {
		t.Fatalf("rotate: %+v %v", rot, err)
	}
	if _, err := backup.Check(ctx, kr, made.Path, never); err != nil {
		t.Fatalf("the old backup after the rotation: %v", err)
	}
	a, err = Open(ctx, dirA, kr)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for action, want := range map[string]int{audit.ActionKeyRotate: 1, audit.ActionRecoveryCreate: 2} {
		if got, _ := audit.List(ctx, a.DB().Reader(), audit.Filter{Action: action}); len(got) != want {
			t.Errorf("%s: %d entries, want %d", action, len(got), want)
		}
	}
	if rep, err := store.Verify(ctx, a.dir.DBPath(), mustKey(t, a)); err != nil || !rep.OpensWithKey {
		t.Fatalf("A after rotation: %+v %v", rep, err)
	}
}

func readInstallID(t *testing.T, dir string) string {
	t.Helper()
	id, err := datadir.Dir{Path: dir}.ReadInstallID()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func mustKey(t *testing.T, e *Engine) []byte {
	t.Helper()
	k, err := e.Secrets().DBKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestRecoverKey: the window's restore from the recovery code puts a lost
// keychain item back, records it once in the name of who did it, and
// refuses a wrong code and a keychain that still has its key.
func TestRecoverKey(t *testing.T) {
	ctx := context.Background()
	kr := secretstest.Keyring(t)
	dir := filepath.Join(t.TempDir(), "data")
	if _, err := Init(ctx, dir, kr); err != nil {
		t.Fatal(err)
	}
	e, err := Open(ctx, dir, kr)
	if err != nil {
		t.Fatal(err)
	}
	code, err := e.Backups().IssueRecoveryCode(ctx, "staff:admin", cheapKDF)
	e.Close()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := RecoverKey(ctx, dir, kr, code, "os:clerk"); !errors.Is(err, ErrKeyPresent) {
		t.Fatalf("restore over a present key: %v, want ErrKeyPresent", err)
	}

	kr.Delete(secrets.Service, readInstallID(t, dir)+"/"+string(secrets.ItemDBKey))
	if _, err := RecoverKey(ctx, dir, kr, "0000-0000-0000-0000-0000-0000-0000-0000", "os:clerk"); !errors.Is(err, recovery.ErrBadCode) {
		t.Fatalf("wrong code: %v, want ErrBadCode", err)
	}
	if _, err := Open(ctx, dir, kr); !errors.Is(err, ErrKeyMissing) {
		t.Fatalf("a wrong code stored a key: %v", err)
	}
	// Typed from paper: lower case, spaces for dashes.
	typed := strings.ToLower(strings.ReplaceAll(code, "-", " "))
	keyID, err := RecoverKey(ctx, dir, kr, typed, "os:clerk")
	if err != nil || keyID == "" {
		t.Fatalf("recover: %q %v", keyID, err)
	}
	e, err = Open(ctx, dir, kr)
	if err != nil {
		t.Fatalf("does not open after the recovery: %v", err)
	}
	defer e.Close()
	got, err := audit.List(ctx, e.DB().Reader(), audit.Filter{Action: audit.ActionRecoveryRestore})
	if err != nil || len(got) != 1 || got[0].Actor != "os:clerk" || got[0].Detail["keyId"] != keyID {
		t.Fatalf("recovery.restore entries: %+v %v", got, err)
	}
}
