package facade

import (
	"bytes"
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"tsunagu/internal/audit"
	"tsunagu/internal/auth"
	"tsunagu/internal/customer"
	"tsunagu/internal/export"
	"tsunagu/internal/importer"
	"tsunagu/internal/msgcode"
	"tsunagu/internal/seat/forward"
	"tsunagu/internal/secrets/secretstest"
)

// fileUse finds the bound methods (exported methods in this package's
// files) that show a file dialog or work on a path: they call the file
// picker, saveTo, openFile or exportFile, the os package, read a request's
// Path or Dir, or take a parameter named for a path, folder or dir.
// dialog says which of them show a dialog.
func fileUse(t *testing.T) (uses map[string]bool, dialog map[string]bool) {
	t.Helper()
	uses, dialog = map[string]bool{}, map[string]bool{}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fs := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fs, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range af.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv == nil || fd.Body == nil || !fd.Name.IsExported() {
				continue
			}
			// A parameter that names a path (ImportSurveyAnswers' path).
			for _, f := range fd.Type.Params.List {
				for _, n := range f.Names {
					if l := strings.ToLower(n.Name); strings.Contains(l, "path") || strings.Contains(l, "dir") || strings.Contains(l, "folder") {
						uses[fd.Name.Name] = true
					}
				}
			}
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == "os" {
					uses[fd.Name.Name] = true
				}
				switch sel.Sel.Name {
				case "filePicker", "FilePicker", "exportFile", "saveTo", "openFile", "OpenFile", "SaveFile", "OpenFolder":
					uses[fd.Name.Name], dialog[fd.Name.Name] = true, true
				case "Path", "Dir":
					uses[fd.Name.Name] = true
				}
				return true
			})
		}
	}
	return uses, dialog
}

// TestSeatFileUseCoversEveryDialog: every bound method that uses a file
// dialog or a local path has a decision for seats (seatFileUse), one with a
// dialog never simply runs for a seat, and every decision names a bound
// method.
func TestSeatFileUseCoversEveryDialog(t *testing.T) {
	uses, dialog := fileUse(t)
	if len(dialog) < 5 {
		t.Fatalf("found only %d methods with a dialog: the scan is broken", len(dialog))
	}
	for m := range uses {
		use, ok := seatFileUse[m]
		if !ok {
			t.Errorf("%s uses a file dialog or a local path: say in seatFileUse (seats_files.go) what a seat's call of it does", m)
			continue
		}
		if dialog[m] && use == seatRuns {
			t.Errorf("%s shows a file dialog: run for a seat it would open on the primary's screen", m)
		}
	}
	bound := map[string]bool{}
	for _, svc := range (&Client{}).Services() {
		typ := reflect.TypeOf(svc)
		for i := range typ.NumMethod() {
			bound[typ.Method(i).Name] = true
		}
	}
	for m := range seatFileUse {
		if !bound[m] {
			t.Errorf("seatFileUse names %s, which is no bound method", m)
		}
	}
}

// recordingPicker is the primary's file picker in a test: it counts the
// dialogs shown and answers with a path in dir.
type recordingPicker struct {
	dir   string
	shown atomic.Int32
}

func (p *recordingPicker) OpenFile(context.Context, string) (string, error) {
	p.shown.Add(1)
	return filepath.Join(p.dir, "import.csv"), nil
}

func (p *recordingPicker) SaveFile(_ context.Context, _, name string) (string, error) {
	p.shown.Add(1)
	return filepath.Join(p.dir, name), nil
}

func (p *recordingPicker) OpenFolder(context.Context, string) (string, error) {
	p.shown.Add(1)
	return p.dir, nil
}

// seatPicker is a seat's own file dialogs in a test: the open dialog
// answers open, the save dialog a file of the suggested name in dir, or ""
// (cancelled) while cancel is set.
type seatPicker struct {
	dir, open string
	cancel    atomic.Bool
	shown     atomic.Int32
}

func (p *seatPicker) OpenFile(context.Context, string) (string, error) {
	p.shown.Add(1)
	if p.cancel.Load() {
		return "", nil
	}
	return p.open, nil
}

func (p *seatPicker) SaveFile(_ context.Context, _, name string) (string, error) {
	p.shown.Add(1)
	if p.cancel.Load() {
		return "", nil
	}
	return filepath.Join(p.dir, name), nil
}

// TestSeatFiles: a seat's export, import or save shows the SEAT's dialog
// and reads or writes the seat's disk; the primary opens no dialog and
// writes nothing on its disk or in its temp folder; the export is audited
// naming staff and seat; a cancelled dialog exports and audits nothing; a
// path a seat sends is never opened on the primary; a role without the
// permission (or a masked one) gets no dialog; primary-only methods are
// refused with their own message; the window itself still exports.
func TestSeatFiles(t *testing.T) {
	kr := secretstest.Keyring(t)
	dir := filepath.Join(t.TempDir(), "data")
	secretstest.CleanupDataDir(t, kr, dir)
	picked := t.TempDir()
	picker := &recordingPicker{dir: picked}
	h := New(Options{DataDir: dir, Keyring: kr, Version: "test", AuthParams: testParams, SeatListen: "127.0.0.1:0", FilePicker: picker})
	if err := h.Start(context.Background(), &recorder{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Stop() })
	window := h.App()
	firstAdmin(t, window)
	if _, err := addStaff(window, auth.NewStaff{Login: "ag", DisplayName: "代理店", Role: auth.RoleAgency, Password: "agency password 12"}); err != nil {
		t.Fatal(err)
	}
	seatDir := t.TempDir()
	csvPath := filepath.Join(seatDir, "顧客.csv")
	if err := os.WriteFile(csvPath, []byte("顧客番号,氏名,携帯電話\nS001,子機 花子,090-5555-1234\nS002,子機 太郎,090-5555-9876\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := connectSeat(t, h, "窓口1")
	sp := &seatPicker{dir: seatDir, open: csvPath}
	s.fwd.WithPicker(sp)
	if err := s.call(t, nil, "SignIn", "admin", testAdminPW); err != nil {
		t.Fatal(err)
	}
	eng, err := window.running()
	if err != nil {
		t.Fatal(err)
	}
	entries := func(action string) []audit.Entry {
		t.Helper()
		got, err := audit.List(context.Background(), eng.DB().Reader(), audit.Filter{Action: action})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	// The primary's temp folder: what a seat's call leaves there is seen.
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	before := snapshotNames(t, dir)

	// Primary-only methods are refused, no dialog anywhere.
	for _, m := range []struct {
		method string
		args   []any
	}{{"PickBackupFolder", nil}, {"SetSeatPort", []any{7444}}, {"CheckForUpdate", nil}, {"AllowSeatFirewall", nil}} {
		if err := s.call(t, nil, m.method, m.args...); seatCode(err) != msgcode.SeatPrimaryOnly {
			t.Errorf("a seat's %s: %v, want %s", m.method, err, msgcode.SeatPrimaryOnly)
		}
	}

	// An import: the seat's dialog, its file's bytes to the primary.
	var path string
	if err := s.call(t, &path, "PickImportFile"); err != nil || path != csvPath || sp.shown.Load() != 1 {
		t.Fatalf("PickImportFile on a seat: %q %v (seat dialogs %d)", path, err, sp.shown.Load())
	}
	var pv importer.Preview
	if err := s.call(t, &pv, "ImportPreview", ImportRequest{Path: path}); err != nil || len(pv.Rows) != 2 || pv.Rows[0].Raw[1] != "子機 花子" {
		t.Fatalf("a seat's preview: %+v %v", pv, err)
	}
	// Another path than the opened file is never read on the primary.
	if err := s.call(t, nil, "ImportPreview", ImportRequest{Path: filepath.Join(dir, "tsunagu.db")}); seatCode(err) != msgcode.SeatFileGone {
		t.Fatalf("a seat's preview of a primary's path: %v", err)
	}
	var dry, res importer.Result
	if err := s.call(t, &dry, "RunImport", ImportRequest{Path: path, DryRun: true}); err != nil || dry.New != 2 {
		t.Fatalf("a seat's dry run: %+v %v", dry, err)
	}
	if err := s.call(t, &res, "RunImport", ImportRequest{Path: path}); err != nil || res.New != 2 || res.FileName != "顧客.csv" {
		t.Fatalf("a seat's import: %+v %v", res, err)
	}
	page, err := (&CustomerService{window}).Customers(customer.Filter{Query: "子機"})
	if err != nil || page.Total != 2 {
		t.Fatalf("the seat's customers on the primary: %+v %v", page, err)
	}
	if e := entries(importer.ActionImport); len(e) != 1 || e[0].Detail[audit.DetailSeat] != "窓口1" || e[0].Actor != "staff:admin" {
		t.Fatalf("the import's audit entry: %+v", e)
	}
	// Imported: the file is not kept any longer.
	if err := s.call(t, nil, "RunImport", ImportRequest{Path: path}); seatCode(err) != msgcode.SeatFileGone {
		t.Fatalf("a second run after the import: %v", err)
	}

	// An export: the seat's dialog, the file written on the seat.
	var ex export.Result
	if err := s.call(t, &ex, "ExportCustomers", "utf-8-bom"); err != nil || ex.Rows != 2 || filepath.Dir(ex.Path) != seatDir {
		t.Fatalf("a seat's export: %+v %v", ex, err)
	}
	b, err := os.ReadFile(ex.Path)
	if err != nil || !strings.Contains(string(b), "子機 花子") || !strings.Contains(string(b), "09055559876") {
		t.Fatalf("the exported file on the seat: %v\n%s", err, b)
	}
	exports := entries(export.ActionExport)
	if len(exports) != 1 || exports[0].Detail[audit.DetailSeat] != "窓口1" || exports[0].Actor != "staff:admin" || exports[0].Detail["file"] != filepath.Base(ex.Path) {
		t.Fatalf("the export's audit entry: %+v", exports)
	}
	// Cancelled on the seat: nothing exported, nothing audited.
	sp.cancel.Store(true)
	ex = export.Result{Path: "x"}
	if err := s.call(t, &ex, "ExportCustomers", "utf-8-bom"); err != nil || ex.Path != "" {
		t.Fatalf("a cancelled export: %+v %v", ex, err)
	}
	if n := len(entries(export.ActionExport)); n != 1 {
		t.Fatalf("a cancelled export audited: %d entries", n)
	}
	sp.cancel.Store(false)
	// Another export through the one mechanism: the import report.
	var report string
	if err := s.call(t, &report, "SaveImportReport", "ja"); err != nil || filepath.Dir(report) != seatDir {
		t.Fatalf("the import report on a seat: %q %v", report, err)
	}
	if _, err := os.Stat(report); err != nil {
		t.Fatal(err)
	}
	// The largest file a seat may open crosses the link in one frame.
	largest := filepath.Join(seatDir, "largest.csv")
	if err := os.WriteFile(largest, append([]byte("顧客番号,氏名\n"), bytes.Repeat([]byte("S9,子\n"), (forward.MaxFile-20)/7)...), 0o600); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(largest); st.Size() < forward.MaxFile-64 {
		t.Fatalf("the largest file is %d bytes", st.Size())
	}
	sp.open = largest
	if err := s.call(t, &path, "PickImportFile"); err != nil || path != largest {
		t.Fatalf("a file of the largest size: %q %v", path, err)
	}
	// Too large a file is refused on the seat before it travels.
	big := filepath.Join(seatDir, "big.csv")
	if err := os.WriteFile(big, make([]byte, forward.MaxFile+1), 0o600); err != nil {
		t.Fatal(err)
	}
	sp.open = big
	if err := s.call(t, nil, "PickImportFile"); seatCode(err) != msgcode.SeatFileTooLarge {
		t.Fatalf("a file over the limit: %v", err)
	}

	// The agency role: no export permission, no content saved (masked):
	// refused on the primary before the seat shows any dialog.
	if err := s.call(t, nil, "SignIn", "ag", "agency password 12"); err != nil {
		t.Fatal(err)
	}
	shown := sp.shown.Load()
	if err := s.call(t, nil, "ExportCustomers", "utf-8-bom"); seatCode(err) != msgcode.Forbidden {
		t.Fatalf("an agency's export from a seat: %v", err)
	}
	if err := s.call(t, nil, "SaveMessageContent", 1); err == nil {
		t.Fatal("an agency saved a customer's content from a seat")
	}
	if sp.shown.Load() != shown {
		t.Fatal("a seat showed a dialog for a refused call")
	}

	// Nothing of it on the primary: no dialog, no file, no temp file.
	if n := picker.shown.Load(); n != 0 {
		t.Fatalf("%d dialogs opened on the primary for a seat", n)
	}
	if names, _ := os.ReadDir(picked); len(names) != 0 {
		t.Fatalf("files written on the primary for a seat: %v", names)
	}
	if names, _ := os.ReadDir(tmp); len(names) != 0 {
		t.Fatalf("files left in the primary's temp folder: %v", names)
	}
	if after := snapshotNames(t, dir); !reflect.DeepEqual(before, after) {
		t.Fatalf("the primary's data folder changed: %v → %v", before, after)
	}
	// A seat still does what needs no file.
	if err := s.call(t, nil, "Conversations"); err != nil {
		t.Fatalf("a seat's ordinary call: %v", err)
	}
	// The firewall rule is the primary's; off Windows none is needed.
	if runtime.GOOS != "windows" {
		ov, err := (&SeatAdminService{window}).SeatAdmin()
		if err != nil || ov.Firewall != "notNeeded" {
			t.Fatalf("the seat panel's firewall state: %q %v", ov.Firewall, err)
		}
		if _, err := (&SeatAdminService{window}).AllowSeatFirewall(); msgcode.Code(err) != msgcode.SeatFirewallNotNeeded {
			t.Fatalf("adding the firewall rule off Windows: %v", err)
		}
	}
	// The window's own export uses the picker and writes its file.
	wres, err := (&CustomerService{window}).ExportCustomers("utf-8-bom")
	if err != nil || wres.Path == "" || picker.shown.Load() != 1 {
		t.Fatalf("the window's export: %+v %v (dialogs %d)", wres, err, picker.shown.Load())
	}
	if _, err := os.Stat(wres.Path); err != nil {
		t.Fatalf("the window's export wrote no file: %v", err)
	}
}

// A seat's opened file is the bytes the seat sent (the path is never read
// on the primary, also for an empty file), and goes with its session:
// after a sign-out (or a lock) the preview asks for the file again.
func TestSeatOpenedFileDroppedOnSignOut(t *testing.T) {
	kr := secretstest.Keyring(t)
	dir := filepath.Join(t.TempDir(), "data")
	secretstest.CleanupDataDir(t, kr, dir)
	h := New(Options{DataDir: dir, Keyring: kr, Version: "test", AuthParams: testParams, SeatListen: "127.0.0.1:0"})
	if err := h.Start(context.Background(), &recorder{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Stop() })
	firstAdmin(t, h.App())
	seatDir := t.TempDir()
	csvPath := filepath.Join(seatDir, "a.csv")
	if err := os.WriteFile(csvPath, []byte("顧客番号,氏名\nS1,子機 一郎\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := connectSeat(t, h, "窓口1")
	sp := &seatPicker{dir: seatDir, open: csvPath}
	s.fwd.WithPicker(sp)

	// The preview reads the bytes the seat sent, never the path: changed
	// on disk after the pick (or an empty file), it is not read again.
	if err := s.call(t, nil, "SignIn", "admin", testAdminPW); err != nil {
		t.Fatal(err)
	}
	other := []byte("顧客番号,氏名\nX1,親機 読込\n")
	for _, content := range [][]byte{[]byte("顧客番号,氏名\nS1,子機 一郎\n"), {}} {
		if err := os.WriteFile(csvPath, content, 0o600); err != nil {
			t.Fatal(err)
		}
		var path string
		if err := s.call(t, &path, "PickImportFile"); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(csvPath, other, 0o600); err != nil {
			t.Fatal(err)
		}
		var pv importer.Preview
		err := s.call(t, &pv, "ImportPreview", ImportRequest{Path: path})
		if len(content) > 0 && (err != nil || len(pv.Rows) != 1 || pv.Rows[0].Raw[1] != "子機 一郎") {
			t.Fatalf("the preview of the picked file: %+v %v", pv, err)
		}
		if len(content) == 0 && (err == nil || len(pv.Rows) != 0) {
			t.Fatalf("an empty picked file previewed as the path's content: %+v %v", pv, err)
		}
	}
	if err := os.WriteFile(csvPath, []byte("顧客番号,氏名\nS1,子機 一郎\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	for _, end := range []string{"Lock", "SignOut"} {
		if err := s.call(t, nil, "SignIn", "admin", testAdminPW); err != nil {
			t.Fatal(err)
		}
		var path string
		if err := s.call(t, &path, "PickImportFile"); err != nil {
			t.Fatal(err)
		}
		if err := s.call(t, nil, "ImportPreview", ImportRequest{Path: path}); err != nil {
			t.Fatal(err)
		}
		if err := s.call(t, nil, end); err != nil {
			t.Fatal(err)
		}
		if end == "Lock" {
			if err := s.call(t, nil, "Unlock", testAdminPW); err != nil {
				t.Fatal(err)
			}
		} else if err := s.call(t, nil, "SignIn", "admin", testAdminPW); err != nil {
			t.Fatal(err)
		}
		if err := s.call(t, nil, "ImportPreview", ImportRequest{Path: path}); seatCode(err) != msgcode.SeatFileGone {
			t.Fatalf("the opened file after %s: %v", end, err)
		}
	}
}

// snapshotNames lists the files under dir except SQLite's own (the WAL and
// shared memory change with every read).
func snapshotNames(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && !strings.HasSuffix(p, "-wal") && !strings.HasSuffix(p, "-shm") {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
