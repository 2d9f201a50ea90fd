package facade

import (
	"bytes"
	"context"
	"path/filepath"
	"reflect"
	"testing"
	"time"
	"tsunagu/internal/fielderr"
	"tsunagu/internal/msgcode"

	"tsunagu/internal/audit"
	"tsunagu/internal/backup"
	"tsunagu/internal/recovery"
)

func TestFacadeRecoveryBackupErase(t *testing.T) {
	app := startApp(t, nil)
	firstAdmin(t, app)
	ctx := context.Background()
	_, eng, err := app.authService()
	if err != nil {
		t.Fatal(err)
	}
	key, err := eng.Secrets().DBKey(ctx)
	if err != nil {
		t.Fatal(err)
	}

	code, err := (&BackupService{app}).CreateRecoveryCode()
	if err != nil {
		t.Fatal(err)
	}
	f, err := recovery.Load(filepath.Join(eng.DataDir(), recovery.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := f.Unwrap(code); err != nil || !bytes.Equal(got, key) {
		t.Fatalf("the code does not unwrap the DB key: %v", err)
	}

	// The UI gets the code and the wrong field (the form marks it).
	if _, err := (&BackupService{app}).SetBackupSettings(BackupSettings{Dir: "relative/path", Keep: 3, IntervalHours: 24}); err == nil ||
		msgcode.For(err).Code != msgcode.InvalidInput || !reflect.DeepEqual(msgcode.For(err).Fields, []fielderr.FieldError{{Field: "dir", Code: fielderr.AbsPath}}) {
		t.Fatalf("relative backup folder: %v", err)
	}
	nas := filepath.Join(t.TempDir(), "nas")
	s, err := (&BackupService{app}).SetBackupSettings(BackupSettings{Dir: nas, Keep: 3, IntervalHours: 12})
	if err != nil || s.Dir != nas || s.Keep != 3 || s.IntervalHours != 12 || s.RecoveryCodeCreatedAt == 0 {
		t.Fatalf("settings %+v %v", s, err)
	}
	info, err := (&BackupService{app}).BackupNow()
	if err != nil || !info.Verified {
		t.Fatalf("backup %+v %v", info, err)
	}
	if _, err := backup.Verify(ctx, info.Path, key); err != nil {
		t.Fatal(err)
	}
	if s, _ := (&BackupService{app}).BackupSettings(); s.LastBackupAt == 0 {
		t.Fatal("last backup time not recorded")
	}

	cs, _ := sandboxSvc(app).SandboxCustomers()
	if err := sandboxSvc(app).SandboxSend(cs[0].UserID, "削除してほしい内容"); err != nil {
		t.Fatal(err)
	}
	convs, _ := inboxSvc(app).Conversations()
	if err := (&ErasureService{app}).EraseConversation(convs[0].ID); err != nil {
		t.Fatal(err)
	}
	if convs, _ := inboxSvc(app).Conversations(); len(convs) != 0 {
		t.Fatalf("conversation left: %+v", convs)
	}
	if err := (&ErasureService{app}).EraseConversation(convs[0].ID); err == nil || err.Error() != msgcode.NotFound {
		t.Fatalf("second erase: %v", err)
	}
	rep, err := (&AuditService{app}).AuditEntries(audit.Filter{})
	if err != nil || !rep.Chain.OK {
		t.Fatalf("audit %+v %v", rep.Chain, err)
	}
	seen := map[string]bool{}
	for _, e := range rep.Entries {
		seen[e.Action] = true
	}
	for _, a := range []string{audit.ActionRecoveryCreate, audit.ActionBackupCreate, audit.ActionErase, audit.ActionSettings} {
		if !seen[a] {
			t.Errorf("no %s entry", a)
		}
	}
}

// TestScheduledBackupAndRetention drives the scheduler's work function
// with an injected clock: a backup when the interval has passed (not
// before), and the retention policy deleting old messages.
func TestScheduledBackupAndRetention(t *testing.T) {
	clk := &testClock{t: time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)}
	app := startApp(t, clk)
	firstAdmin(t, app)
	ctx := context.Background()
	nas := filepath.Join(t.TempDir(), "nas")
	if _, err := (&BackupService{app}).SetBackupSettings(BackupSettings{Dir: nas, Keep: 2, IntervalHours: 6}); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		t.Helper()
		list, _ := backup.List(nas) // no folder yet: none
		return len(list)
	}
	app.scheduledWork(ctx) // never backed up: due now
	if n := count(); n != 1 {
		t.Fatalf("first run: %d backups", n)
	}
	clk.Add(time.Hour)
	app.scheduledWork(ctx)
	if n := count(); n != 1 {
		t.Fatalf("before the interval: %d backups", n)
	}
	for range 3 {
		clk.Add(6 * time.Hour)
		app.scheduledWork(ctx)
	}
	if n := count(); n != 2 {
		t.Fatalf("retention of backups: %d kept, want 2", n)
	}

	if _, err := (&SessionService{app}).Unlock(testAdminPW); err != nil { // hours passed: the session locked
		t.Fatal(err)
	}
	cs, err := sandboxSvc(app).SandboxCustomers()
	if err != nil {
		t.Fatal(err)
	}
	if err := sandboxSvc(app).SandboxSend(cs[0].UserID, "古いメッセージ"); err != nil {
		t.Fatal(err)
	}
	if err := (&ErasureService{app}).SetRetentionDays(30); err != nil {
		t.Fatal(err)
	}
	convs, _ := inboxSvc(app).Conversations()
	clk.Add(29 * 24 * time.Hour)
	app.scheduledWork(ctx)
	if _, err := (&SessionService{app}).Unlock(testAdminPW); err != nil {
		t.Fatal(err)
	}
	if msgs, _ := inboxSvc(app).Messages(convs[0].ID); len(msgs) == 0 {
		t.Fatal("messages younger than the retention period were deleted")
	}
	clk.Add(2 * 24 * time.Hour)
	app.scheduledWork(ctx)
	if _, err := (&SessionService{app}).Unlock(testAdminPW); err != nil { // days passed: the session locked
		t.Fatal(err)
	}
	if msgs, err := inboxSvc(app).Messages(convs[0].ID); err != nil || len(msgs) != 0 {
		t.Fatalf("after the retention period: %d messages, %v", len(msgs), err)
	}
	rep, _ := (&AuditService{app}).AuditEntries(audit.Filter{Action: audit.ActionRetention})
	if len(rep.Entries) != 1 || rep.Entries[0].Actor != audit.SystemActor {
		t.Fatalf("retention audit %+v", rep.Entries)
	}
}
