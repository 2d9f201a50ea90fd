package facade

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"tsunagu/internal/msgcode"

	"tsunagu/internal/customer"
	"tsunagu/internal/importer"
	"tsunagu/internal/secrets/secretstest"
)

// pickerStub answers the file dialogs with preset paths, as the dev bridge
// does.
type pickerStub struct{ open, saveDir string }

func (p pickerStub) OpenFile(context.Context, string) (string, error)   { return p.open, nil }
func (p pickerStub) OpenFolder(context.Context, string) (string, error) { return p.saveDir, nil }
func (p pickerStub) SaveFile(_ context.Context, _, name string) (string, error) {
	return filepath.Join(p.saveDir, name), nil
}

// events records emitted events with their payloads.
type events struct {
	mu   sync.Mutex
	list []any
}

func (e *events) Emit(name string, data any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if name == importer.EventProgress {
		e.list = append(e.list, data)
	}
}

func TestCustomerImportThroughFacade(t *testing.T) {
	files := t.TempDir()
	csvPath := filepath.Join(files, "顧客.csv")
	var b strings.Builder
	b.WriteString("顧客番号,氏名,フリガナ,携帯電話,メールアドレス,店番\n")
	for i := range 1500 {
		fmt.Fprintf(&b, "K%04d,顧客 %d,ｺｷｬｸ,090-0000-%04d,k%d@example.jp,00%d\n", i, i, i, i, i%3)
	}
	b.WriteString("K9999,,,,,001\n") // no name: rejected
	os.WriteFile(csvPath, []byte(b.String()), 0o600)

	kr := secretstest.Keyring(t)
	dir := filepath.Join(t.TempDir(), "data")
	secretstest.CleanupDataDir(t, kr, dir)
	ev := &events{}
	h := New(Options{DataDir: dir, Keyring: kr, AuthParams: testParams, FilePicker: pickerStub{open: csvPath, saveDir: files}})
	if err := h.Start(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	defer h.Stop()
	app := h.App()
	if _, err := customerSvc(app).Customers(customer.Filter{}); err == nil || err.Error() != msgcode.SignInRequired {
		t.Fatalf("signed out: %v", err)
	}
	firstAdmin(t, app)

	path, err := customerSvc(app).PickImportFile()
	if err != nil || path != csvPath {
		t.Fatalf("pick: %q %v", path, err)
	}
	pv, err := customerSvc(app).ImportPreview(ImportRequest{Path: path})
	if err != nil || pv.Mapping["顧客番号"] != importer.FieldCustomerNo || len(pv.Rows) != 5 || pv.Rows[0].Values["name_kana"] != "コキャク" {
		t.Fatalf("preview: %+v %v", pv, err)
	}
	dry, err := customerSvc(app).RunImport(ImportRequest{Path: path, DryRun: true})
	if err != nil || dry.New != 1500 || dry.Rejected != 1 {
		t.Fatalf("dry run: %+v %v", dry, err)
	}
	if page, _ := customerSvc(app).Customers(customer.Filter{}); page.Total != 0 {
		t.Fatal("dry run wrote customers")
	}
	res, err := customerSvc(app).RunImport(ImportRequest{Path: path, Mapping: pv.Mapping})
	if err != nil || res.New != 1500 || res.ImportID == 0 {
		t.Fatalf("import: %+v %v", res, err)
	}
	ev.mu.Lock()
	last, _ := ev.list[len(ev.list)-1].(importer.Progress)
	ev.mu.Unlock()
	if !last.Done || last.Rows != 1501 {
		t.Errorf("last progress event %+v", last)
	}

	page, err := customerSvc(app).Customers(customer.Filter{Query: "090-0000-0042", Branch: "000"})
	if err != nil || page.Total != 1 || page.Customers[0].CustomerNo != "K0042" {
		t.Fatalf("search: %+v %v", page, err)
	}
	card, err := customerSvc(app).Customer(page.Customers[0].ID)
	if err != nil || len(card.ContactPoints) != 2 || card.Line != nil {
		t.Fatalf("card: %+v %v", card, err)
	}
	if _, err := customerSvc(app).Customer(999999); err == nil || err.Error() != msgcode.NotFound {
		t.Errorf("missing customer: %v", err)
	}
	opts, err := customerSvc(app).CustomerFilterOptions()
	if err != nil || strings.Join(opts.Branches, ",") != "000,001,002" {
		t.Errorf("filters: %+v %v", opts, err)
	}

	saved, err := customerSvc(app).SaveImportReport("ja")
	if err != nil {
		t.Fatal(err)
	}
	if rep, _ := os.ReadFile(saved); !strings.Contains(string(rep), "1502,K9999,氏名,,required") {
		t.Errorf("report:\n%s", rep)
	}
	hist, err := customerSvc(app).ImportHistory()
	if err != nil || len(hist) != 1 || hist[0].New != 1500 || hist[0].Staff != "staff:admin" || len(hist[0].SHA256) != 64 {
		t.Errorf("history: %+v %v", hist, err)
	}
	if err := customerSvc(app).SaveImportProfile(importer.Profile{Name: "勘定系", Encoding: "auto", Mapping: pv.Mapping}); err != nil {
		t.Fatal(err)
	}
	if list, err := customerSvc(app).ImportProfiles(); err != nil || len(list) != 1 || list[0].Name != "勘定系" {
		t.Errorf("profiles: %+v %v", list, err)
	}
	exp, err := customerSvc(app).ExportCustomers("utf-8-bom")
	if err != nil || exp.Rows != 1500 || !strings.HasPrefix(filepath.Base(exp.Path), "customers-") {
		t.Errorf("export: %+v %v", exp, err)
	}
	if _, err := customerSvc(app).RunImport(ImportRequest{Path: filepath.Join(files, "none.csv")}); err == nil || err.Error() != msgcode.ImportFile {
		t.Errorf("missing file: %v", err)
	}
}

func TestCustomerCodes(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("import x.csv: %w", err) }
	for err, want := range map[error]string{
		wrap(importer.ErrMapping):      msgcode.ImportMapping,
		wrap(importer.ErrEmptyFile):    msgcode.ImportEmpty,
		wrap(importer.ErrNothingValid): msgcode.ImportNothingValid,
		wrap(&importer.FileError{Line: 2, Problem: importer.ProblemLineTooLong}): msgcode.ImportUnreadable,
		wrap(importer.ErrNoProfile):     msgcode.ImportNoProfile,
		importer.ErrRunning:             msgcode.ImportRunning,
		wrap(context.Canceled):          msgcode.ImportCancelled,
		wrap(os.ErrNotExist):            msgcode.ImportFile,
		wrap(customer.ErrNotFound):      msgcode.NotFound,
		wrap(customer.ErrInvalid):       msgcode.InvalidValue,
		wrap(customer.ErrAlreadyLinked): msgcode.AlreadyLinked,
		errors.New("other"):             msgcode.Internal,
	} {
		if got := msgcode.Code(err); got != want {
			t.Errorf("msgcode.Code(%v) = %q, want %q", err, got, want)
		}
	}
}
