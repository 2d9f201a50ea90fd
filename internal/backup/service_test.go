package backup

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tsunagu/internal/audit"
	"tsunagu/internal/recovery"
	"tsunagu/internal/secrets"
	"tsunagu/internal/secrets/secretstest"
	"tsunagu/internal/store"
)

// cheapKDF keeps argon2id fast in tests.
var cheapKDF = recovery.KDF{Time: 1, Memory: 1024, Threads: 1}

// fixture is a data folder with its install's DB key in an in-memory
// keychain, and a backup service on a clock the test moves.
type fixture struct {
	dir string
	db  *store.DB
	sec *secrets.Store
	kr  secrets.Keyring
	svc *Service
	now time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{dir: t.TempDir(), kr: secretstest.MemKeyring(), now: time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)}
	f.sec = secrets.New(f.kr, "install1")
	key, err := f.sec.CreateDBKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if f.db, err = store.Create(ctx, filepath.Join(f.dir, "tsunagu.db"), key); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.db.Close() })
	f.svc, err = NewService(ServiceConfig{DB: f.db, DataDir: f.dir, InstallID: "install1", Key: f.sec.DBKey, Clock: func() time.Time { return f.now }})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) entries(t *testing.T, action string) []audit.Entry {
	t.Helper()
	list, err := audit.List(context.Background(), f.db.Reader(), audit.Filter{Action: action})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// TestServiceSettingsCreateDue: defaults in one place, invalid settings
// refused, a backup from any caller recorded (time and audit entry) so the
// schedule counts it, and due again once the interval has passed.
func TestServiceSettingsCreateDue(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	s, err := f.svc.Settings(ctx)
	if err != nil || s.Dir != filepath.Join(f.dir, DefaultDirName) || s.Keep != DefaultKeep || s.IntervalHours != DefaultIntervalHours || s.LastBackupAt != 0 {
		t.Fatalf("defaults %+v %v", s, err)
	}
	if due, err := f.svc.Due(ctx); err != nil || !due {
		t.Fatalf("never backed up: due %v %v", due, err)
	}
	for _, bad := range []Settings{{Keep: 0, IntervalHours: 1}, {Keep: 366}, {Keep: 1, IntervalHours: 169}, {Keep: 1, Dir: "relative"}} {
		if _, err := f.svc.SetSettings(ctx, "staff:admin", bad); !errors.Is(err, ErrInvalidSettings) {
			t.Fatalf("%+v: %v", bad, err)
		}
	}
	nas := filepath.Join(t.TempDir(), "nas")
	if s, err = f.svc.SetSettings(ctx, "staff:admin", Settings{Dir: nas, Keep: 2, IntervalHours: 6}); err != nil || s.Dir != nas || s.Keep != 2 || s.IntervalHours != 6 {
		t.Fatalf("set %+v %v", s, err)
	}
	if n := len(f.entries(t, audit.ActionSettings)); n != 3 {
		t.Fatalf("%d settings entries, want 3 (one per change)", n)
	}

	// Into another folder (the CLI's argument): still recorded.
	other := filepath.Join(t.TempDir(), "usb")
	r, err := f.svc.Create(ctx, "os:clerk", other)
	if err != nil || filepath.Dir(r.Path) != other || r.Keep != 2 {
		t.Fatalf("create %+v %v", r, err)
	}
	if s, _ := f.svc.Settings(ctx); s.LastBackupAt != f.now.UnixMilli() {
		t.Fatalf("last backup %d, want %d", s.LastBackupAt, f.now.UnixMilli())
	}
	if e := f.entries(t, audit.ActionBackupCreate); len(e) != 1 || e[0].Actor != "os:clerk" || e[0].Target != r.File {
		t.Fatalf("backup entries %+v", e)
	}
	f.now = f.now.Add(5 * time.Hour)
	if due, _ := f.svc.Due(ctx); due {
		t.Fatal("due before the interval")
	}
	f.now = f.now.Add(time.Hour)
	if due, _ := f.svc.Due(ctx); !due {
		t.Fatal("not due after the interval")
	}

	// Pruned to Keep in the configured folder.
	for range 3 {
		f.now = f.now.Add(time.Minute)
		if _, err := f.svc.Create(ctx, audit.SystemActor, ""); err != nil {
			t.Fatal(err)
		}
	}
	if list, _ := List(nas); len(list) != 2 {
		t.Fatalf("kept %d, want 2", len(list))
	}
	if _, err := f.svc.SetSettings(ctx, "staff:admin", Settings{Keep: 2}); err != nil {
		t.Fatal(err)
	}
	if due, _ := f.svc.Due(ctx); due {
		t.Fatal("an interval of 0 schedules nothing")
	}
}

// TestIssueRecoveryCode: the code unwraps the DB key, the issue is audited,
// and an issue that cannot be audited changes nothing (the printed code
// keeps working).
func TestIssueRecoveryCode(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	key, _ := f.sec.DBKey(ctx)
	code, err := f.svc.IssueRecoveryCode(ctx, "staff:admin", cheapKDF)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(f.dir, recovery.FileName)
	rf, err := recovery.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := rf.Unwrap(code); err != nil || !bytes.Equal(got, key) {
		t.Fatalf("unwrap: %v", err)
	}
	if e := f.entries(t, audit.ActionRecoveryCreate); len(e) != 1 || e[0].Detail["keyId"] != recovery.KeyID(key) || f.svc.RecoveryCodeCreatedAt() != f.now.UnixMilli() {
		t.Fatalf("entries %+v", e)
	}
	before, _ := os.ReadFile(path)
	if _, err := f.svc.IssueRecoveryCode(ctx, "", cheapKDF); err == nil { // no actor: the trail refuses the entry
		t.Fatal("an unaudited issue succeeded")
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Fatal("an issue that was not audited replaced the recovery file")
	}
	if rf, err := recovery.Load(path); err != nil {
		t.Fatal(err)
	} else if _, err := rf.Unwrap(code); err != nil {
		t.Fatalf("the printed code stopped working: %v", err)
	}
}

// TestKeyFor: the keychain's key of the backup's install (current or
// previous) without asking; else the recovery file beside the backup with
// the code; a wrong code fails.
func TestKeyFor(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	key, _ := f.sec.DBKey(ctx)
	code, err := f.svc.IssueRecoveryCode(ctx, "staff:admin", cheapKDF)
	if err != nil {
		t.Fatal(err)
	}
	nas := t.TempDir()
	r, err := f.svc.Create(ctx, "staff:admin", nas)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(RecoveryFileFor(r.Path, r.KeyID)); err != nil {
		t.Fatalf("no recovery file beside the backup: %v", err)
	}
	never := func() (string, error) {
		t.Fatal("asked for the code although the keychain has the key")
		return "", nil
	}
	if got, err := KeyFor(ctx, f.kr, r.Path, r.Manifest, never); err != nil || !bytes.Equal(got, key) {
		t.Fatalf("from the keychain: %v", err)
	}
	if m, err := Check(ctx, f.kr, r.Path, never); err != nil || m.File != r.File {
		t.Fatalf("check: %+v %v", m, err)
	}

	// Another PC: an empty keychain; the code opens it.
	empty := secretstest.MemKeyring()
	asked := 0
	give := func(c string) func() (string, error) {
		return func() (string, error) { asked++; return c, nil }
	}
	if got, err := KeyFor(ctx, empty, r.Path, r.Manifest, give(code)); err != nil || !bytes.Equal(got, key) || asked != 1 {
		t.Fatalf("with the code: %v (asked %d)", err, asked)
	}
	if _, err := KeyFor(ctx, empty, r.Path, r.Manifest, give(strings.Repeat("0000-", 7)+"0000")); !errors.Is(err, recovery.ErrBadCode) {
		t.Fatalf("a wrong code: %v", err)
	}
	os.Remove(RecoveryFileFor(r.Path, r.KeyID))
	if _, err := KeyFor(ctx, empty, r.Path, r.Manifest, give(code)); !errors.Is(err, recovery.ErrNoFile) {
		t.Fatalf("no recovery file: %v", err)
	}
}

func TestRecordRestoreAndKeyRestored(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	if err := f.svc.RecordRestore(ctx, "os:clerk", Manifest{File: "b.db", InstallID: "old", AuditHead: "h"}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.RecordKeyRestored(ctx, "os:clerk", "k1"); err != nil {
		t.Fatal(err)
	}
	if e := f.entries(t, audit.ActionBackupRestore); len(e) != 1 || e[0].Target != "b.db" || e[0].Detail["from"] != "old" {
		t.Fatalf("restore %+v", e)
	}
	if e := f.entries(t, audit.ActionRecoveryRestore); len(e) != 1 || e[0].Detail["keyId"] != "k1" {
		t.Fatalf("key restored %+v", e)
	}
}
