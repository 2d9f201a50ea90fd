package facade

import (
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
	"tsunagu/internal/msgcode"
	"tsunagu/internal/secrets/secretstest"
)

// fileUse finds the bound methods (exported methods in this package's
// files) that show a file dialog or work on a path: they call the file
// picker or exportFile, the os package, or read a request's Path or Dir.
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
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == "os" {
					uses[fd.Name.Name] = true
				}
				switch sel.Sel.Name {
				case "filePicker", "FilePicker", "exportFile", "OpenFile", "SaveFile", "OpenFolder":
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

// TestSeatFilesRefused: a seat's export, import or save opens no dialog on
// the primary and writes nothing there; primary-only methods are refused
// with their own message; the window itself still exports.
func TestSeatFilesRefused(t *testing.T) {
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
	s := connectSeat(t, h, "窓口1")
	if err := s.call(t, nil, "SignIn", "admin", testAdminPW); err != nil {
		t.Fatal(err)
	}
	before := snapshotNames(t, dir)
	for _, c := range []struct {
		method string
		args   []any
		code   string
	}{
		{"ExportCustomers", []any{"utf-8-bom"}, msgcode.SeatNoFiles},
		{"ExportAudit", []any{audit.Filter{}}, msgcode.SeatNoFiles},
		{"PickImportFile", nil, msgcode.SeatNoFiles},
		{"ImportPreview", []any{ImportRequest{Path: filepath.Join(dir, "tsunagu.db")}}, msgcode.SeatNoFiles},
		{"SaveImportReport", []any{"ja"}, msgcode.SeatNoFiles},
		{"PickBackupFolder", nil, msgcode.SeatPrimaryOnly},
		{"SetSeatPort", []any{7444}, msgcode.SeatPrimaryOnly},
		{"CheckForUpdate", nil, msgcode.SeatPrimaryOnly},
		{"AllowSeatFirewall", nil, msgcode.SeatPrimaryOnly},
	} {
		if err := s.call(t, nil, c.method, c.args...); seatCode(err) != c.code {
			t.Errorf("a seat's %s: %v, want %s", c.method, err, c.code)
		}
	}
	if n := picker.shown.Load(); n != 0 {
		t.Fatalf("%d dialogs opened on the primary for a seat", n)
	}
	if names, _ := os.ReadDir(picked); len(names) != 0 {
		t.Fatalf("files written on the primary for a seat: %v", names)
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
	res, err := (&CustomerService{window}).ExportCustomers("utf-8-bom")
	if err != nil || res.Path == "" || picker.shown.Load() != 1 {
		t.Fatalf("the window's export: %+v %v (dialogs %d)", res, err, picker.shown.Load())
	}
	if _, err := os.Stat(res.Path); err != nil {
		t.Fatalf("the window's export wrote no file: %v", err)
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
