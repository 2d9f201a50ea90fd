package facade

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"tsunagu/internal/audit"
	"tsunagu/internal/auth"
	"tsunagu/internal/msgcode"
)

// The audit export from the window goes through the save dialog into a
// file, as tsunagu-cli audit export writes it (the same Trail.Export): the
// range is applied and recorded on the export's own entry; the backup
// folder dialog says where the chosen folder lies (issue 19, item 15).
func TestAuditExportAndBackupFolderFromTheWindow(t *testing.T) {
	app := startApp(t, nil)
	files := t.TempDir()
	app.opts.FilePicker = pickerStub{saveDir: files}
	firstAdmin(t, app)
	names, err := (&StaffService{app}).ActorNames()
	if err != nil || len(names) != 1 {
		t.Fatalf("actor names: %v %v", names, err)
	}
	if r, err := (&AuditService{app}).AuditEntries(audit.Filter{}); err != nil || r.Names["staff:admin"] != "支店長" {
		t.Fatalf("the viewer names the administrator: %v %v", r.Names, err)
	}

	bs, err := (&BackupService{app}).BackupSettings()
	if err != nil || !bs.Placement.InsideDataDir || !bs.Placement.SameDisk {
		t.Fatalf("default folder: %+v %v", bs, err)
	}
	picked, err := (&BackupService{app}).PickBackupFolder()
	if err != nil || picked.Dir != files || picked.Placement.InsideDataDir || !picked.Placement.SameDisk {
		t.Fatalf("picked folder: %+v %v", picked, err)
	}
	// Exporting the trail is the auditor's (docs/security.md): an
	// administrator reads it but cannot take it away.
	if _, err := (&AuditService{app}).ExportAudit(audit.Filter{}); err == nil || err.Error() != msgcode.Forbidden {
		t.Fatalf("administrator export: %v", err)
	}
	if _, err := addStaff(app, auth.NewStaff{Login: "kansa", DisplayName: "監査 一郎", Role: auth.RoleAuditor, Password: "auditor password 1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := (&SessionService{app}).SignIn("kansa", "auditor password 1"); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.Local)
	f := audit.Filter{From: day.UnixMilli(), To: day.AddDate(0, 0, 1).UnixMilli(), Limit: 1}
	out, err := (&AuditService{app}).ExportAudit(f)
	if err != nil || out.Path == "" || out.Entries < 1 {
		t.Fatalf("export: %+v %v", out, err)
	}
	csv, err := os.ReadFile(out.Path)
	if err != nil || !strings.HasPrefix(string(csv), "\ufeff") || strings.Count(strings.TrimSpace(string(csv)), "\n") != int(out.Entries) {
		t.Fatalf("the file holds %d lines for %d entries: %v", strings.Count(string(csv), "\n"), out.Entries, err)
	}
	page, err := (&AuditService{app}).AuditEntries(audit.Filter{Action: audit.ActionExport})
	if err != nil || len(page.Entries) != 1 {
		t.Fatalf("export entry: %+v %v", page, err)
	}
	d := page.Entries[0].Detail
	if want := day.Format(time.DateOnly); d["from"] != want || d["to"] != want || d["entries"] != strconv.FormatInt(out.Entries, 10) {
		t.Fatalf("export detail: %v", d)
	}

	if _, err := os.Stat(filepath.Join(files, "audit-"+now.Format("20060102")+".csv")); err != nil {
		t.Fatal(err)
	}
}
