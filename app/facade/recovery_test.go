package facade

import (
	"context"
	"path/filepath"
	"testing"

	"tsunagu/internal/audit"
	"tsunagu/internal/datadir"
	"tsunagu/internal/engine"
	"tsunagu/internal/msgcode"
	"tsunagu/internal/secrets"
	"tsunagu/internal/secrets/secretstest"
)

// TestRecoveryFromTheWindow: a data folder whose keychain item is lost
// starts with errors.dbKeyMissing; 再試行 (RetryStart) really starts the
// engine again; the recovery code entered in the window (nobody can sign
// in) restores the key, starts the engine and is audited; a wrong code or a
// running engine is refused. The header's name is the signed-in staff
// member's, never the OS user's.
func TestRecoveryFromTheWindow(t *testing.T) {
	ctx := context.Background()
	kr := secretstest.Keyring(t)
	dir := filepath.Join(t.TempDir(), "data")
	secretstest.CleanupDataDir(t, kr, dir)
	opts := Options{DataDir: dir, Keyring: kr, Version: "test", AuthParams: testParams}
	start := func() *Host {
		t.Helper()
		h := New(opts)
		_ = h.Start(ctx, &recorder{}) // a failure is in Status
		t.Cleanup(func() { h.Stop() })
		return h
	}

	h := start()
	app := h.App()
	sys, bk := &SystemService{app}, &BackupService{app}
	if st := sys.Status(); st.Error != "" || st.StaffName != "" {
		t.Fatalf("before sign-in: %+v (no name before anyone signs in)", st)
	}
	firstAdmin(t, app)
	if got := sys.Status().StaffName; got != "支店長" {
		t.Fatalf("signed in: StaffName %q, want the staff member's display name", got)
	}
	code, err := bk.CreateRecoveryCode()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bk.RestoreKeyFromCode(code); err == nil || err.Error() != msgcode.RecoveryKeyPresent {
		t.Fatalf("restore while running: %v, want %s", err, msgcode.RecoveryKeyPresent)
	}
	if st := sys.RetryStart(); st.Error != "" || app.engine() == nil {
		t.Fatalf("RetryStart on a running engine: %+v", st)
	}
	if err := (&SessionService{app}).SignOut(); err != nil {
		t.Fatal(err)
	}
	if got := sys.Status().StaffName; got != "" {
		t.Fatalf("signed out: StaffName %q", got)
	}
	h.Stop()

	// The keychain loses the key: the window says so, and retrying alone
	// cannot help.
	id, err := datadir.Dir{Path: dir}.ReadInstallID()
	if err != nil {
		t.Fatal(err)
	}
	dropKey := func() {
		t.Helper()
		if err := kr.Delete(secrets.Service, id+"/"+string(secrets.ItemDBKey)); err != nil {
			t.Fatal(err)
		}
	}
	dropKey()
	app = start().App()
	sys, bk = &SystemService{app}, &BackupService{app}
	if st := sys.Status(); st.Error != msgcode.DBKeyMissing || st.StaffName != "" {
		t.Fatalf("without its key: %+v", st)
	}
	if st := sys.RetryStart(); st.Error != msgcode.DBKeyMissing {
		t.Fatalf("retry without the key: %+v", st)
	}

	// 再試行 after a restore from the CLI: the engine really starts again
	// (it used to re-read the saved error until the app restarted).
	if _, err := engine.RestoreKey(ctx, dir, kr, func() (string, error) { return code, nil }); err != nil {
		t.Fatal(err)
	}
	if st := sys.RetryStart(); st.Error != "" || app.engine() == nil {
		t.Fatalf("retry after the key came back: %+v", st)
	}
	if as, err := (&SessionService{app}).AuthState(); err != nil || as.FirstRun || as.SignedIn {
		t.Fatalf("after retry the sign-in screen: %+v %v", as, err)
	}

	// In the window: a wrong code is refused and stores nothing; the
	// right one, typed from paper, opens the database.
	app.mu.Lock()
	err = app.eng.Close()
	app.eng = nil
	app.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	dropKey()
	if st := sys.RetryStart(); st.Error != msgcode.DBKeyMissing {
		t.Fatalf("key dropped again: %+v", st)
	}
	if _, err := bk.RestoreKeyFromCode("0000-0000-0000-0000-0000-0000-0000-0000"); err == nil || err.Error() != msgcode.RecoveryBadCode {
		t.Fatalf("wrong code: %v, want %s", err, msgcode.RecoveryBadCode)
	}
	if st := sys.Status(); st.Error != msgcode.DBKeyMissing {
		t.Fatalf("after a wrong code: %+v", st)
	}
	st, err := bk.RestoreKeyFromCode(" " + code + "\n")
	if err != nil || st.Error != "" || app.engine() == nil {
		t.Fatalf("restore in the window: %+v %v", st, err)
	}
	if _, err := (&SessionService{app}).SignIn("admin", testAdminPW); err != nil {
		t.Fatal(err)
	}
	entries, err := audit.List(ctx, app.engine().DB().Reader(), audit.Filter{Action: audit.ActionRecoveryRestore})
	if err != nil || len(entries) != 1 || entries[0].Actor != audit.RecoveryActor(osUser()) || entries[0].Detail["keyId"] == "" {
		t.Fatalf("recovery.restore entries (one: the window's; the CLI call above is not the facade's): %+v %v", entries, err)
	}
}
