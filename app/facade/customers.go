package facade

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
	"tsunagu/internal/msgcode"

	"tsunagu/internal/auth"
	"tsunagu/internal/customer"
	"tsunagu/internal/engine"
	"tsunagu/internal/export"
	"tsunagu/internal/importer"
)

// FilePicker asks the person at the screen for a file. The desktop
// implements it with the native dialogs (app/desktop); the dev bridge with a
// preset path. Methods return "" when the person cancels.
type FilePicker interface {
	OpenFile(ctx context.Context, title string) (string, error)
	SaveFile(ctx context.Context, title, defaultName string) (string, error)
}

// imports is the state of the one import that may run at a time.
type imports struct {
	mu     sync.Mutex
	cancel context.CancelFunc // of the running import, nil if none
	last   []importer.Issue   // the last run's issues, for SaveImportReport
}

// ImportRequest is what the wizard sends for a preview or a run.
type ImportRequest struct {
	Kind      string           `json:"kind"` // customers (default) or contracts
	Path      string           `json:"path"`
	Encoding  string           `json:"encoding"`  // auto, utf-8, sjis, euc-jp
	Delimiter string           `json:"delimiter"` // "", ",", "\t"
	Mapping   importer.Mapping `json:"mapping"`   // nil: automatic
	Profile   string           `json:"profile"`   // recorded in the history
	DryRun    bool             `json:"dryRun"`
	Missing   string           `json:"missing"` // keep, inactivate
}

func (r ImportRequest) options() importer.Options {
	o := importer.Options{Kind: r.Kind, Encoding: r.Encoding, Mapping: r.Mapping, Profile: r.Profile, DryRun: r.DryRun, Missing: r.Missing}
	if len(r.Mapping) == 0 {
		o.Mapping = nil
	}
	if r.Delimiter != "" {
		o.Delimiter = []rune(r.Delimiter)[0]
	}
	return o
}

// Customers lists customers matching the filter.
func (a *App) Customers(f customer.Filter) (customer.Page, error) {
	st, err := a.require(auth.PermCustomersRead)
	if err != nil {
		return customer.Page{}, err
	}
	svc, err := a.customers()
	if err != nil {
		return customer.Page{}, err
	}
	page, err := svc.List(a.ctx, f)
	if err != nil {
		return customer.Page{}, a.userError(err)
	}
	if st.Role.Masked() {
		for i := range page.Customers {
			maskCustomer(&page.Customers[i])
		}
	}
	return page, nil
}

// Customer returns one customer's card. Every view is audited
// (customer.view); no card is returned if the entry cannot be written.
func (a *App) Customer(id int64) (customer.Card, error) {
	st, err := a.require(auth.PermCustomersRead)
	if err != nil {
		return customer.Card{}, err
	}
	svc, err := a.customers()
	if err != nil {
		return customer.Card{}, err
	}
	card, err := svc.View(a.ctx, st.Actor(), id)
	if err != nil {
		return customer.Card{}, a.userError(err)
	}
	if st.Role.Masked() {
		maskCustomer(&card.Customer)
		for i := range card.ContactPoints {
			p := &card.ContactPoints[i]
			if p.Kind == "email" {
				p.Value = MaskEmail(p.Value)
			} else {
				p.Value = MaskPhone(p.Value)
			}
		}
	}
	return card, nil
}

// CustomerFilters are the choices of the list's filters.
type CustomerFilters struct {
	Branches []string `json:"branches"`
	Tags     []string `json:"tags"`
}

// CustomerFilterOptions lists branches and tags for the filters.
func (a *App) CustomerFilterOptions() (CustomerFilters, error) {
	if _, err := a.require(auth.PermCustomersRead); err != nil {
		return CustomerFilters{}, err
	}
	svc, err := a.customers()
	if err != nil {
		return CustomerFilters{}, err
	}
	var out CustomerFilters
	if out.Branches, err = svc.Branches(a.ctx); err != nil {
		return out, a.userError(err)
	}
	out.Tags, err = svc.Tags(a.ctx)
	return out, a.userError(err)
}

// PickImportFile opens the file dialog; "" if the person cancelled.
func (a *App) PickImportFile() (string, error) {
	if _, err := a.require(auth.PermImport); err != nil {
		return "", err
	}
	if a.opts.FilePicker == nil {
		return "", msgcode.New(msgcode.NoFilePicker)
	}
	path, err := a.opts.FilePicker.OpenFile(a.ctx, "CSV")
	return path, a.userError(err)
}

// ImportFields lists the fields a column of an import kind (customers or
// contracts; "" is customers) can be mapped to; for customers also
// attr:<key> for each custom attribute.
func (a *App) ImportFields(kind string) ([]string, error) {
	if _, err := a.require(auth.PermImport); err != nil {
		return nil, err
	}
	k, err := importer.ParseKind(kind)
	if err != nil {
		return nil, a.userError(err)
	}
	fields := append([]string{}, importer.FieldsOf(k)...)
	if k == importer.KindCustomers {
		eng, err := a.running()
		if err != nil {
			return nil, err
		}
		defs, err := importer.AttributeDefs(a.ctx, eng.DB())
		if err != nil {
			return nil, a.userError(err)
		}
		for _, d := range defs {
			fields = append(fields, importer.AttrPrefix+d.Key)
		}
	}
	return fields, nil
}

// ImportPreview reads the file's header and first rows with the mapping
// (automatic if none) applied.
func (a *App) ImportPreview(req ImportRequest) (importer.Preview, error) {
	if _, err := a.require(auth.PermImport); err != nil {
		return importer.Preview{}, err
	}
	eng, err := a.running()
	if err != nil {
		return importer.Preview{}, err
	}
	opts := req.options()
	if opts.Attributes, err = importer.AttributeDefs(a.ctx, eng.DB()); err != nil {
		return importer.Preview{}, a.userError(err)
	}
	p, err := importer.PreviewFile(req.Path, opts, 5)
	return p, a.userError(err)
}

// RunImport imports the file (or dry-runs it), emitting import:progress
// events; CancelImport stops it with nothing written. One at a time.
func (a *App) RunImport(req ImportRequest) (importer.Result, error) {
	st, err := a.require(auth.PermImport)
	if err != nil {
		return importer.Result{}, err
	}
	eng, err := a.running()
	if err != nil {
		return importer.Result{}, err
	}
	ctx, cancel := context.WithCancel(a.ctx)
	defer cancel()
	a.imp.mu.Lock()
	if a.imp.cancel != nil {
		a.imp.mu.Unlock()
		return importer.Result{}, msgcode.New(msgcode.ImportRunning)
	}
	a.imp.cancel = cancel
	a.imp.mu.Unlock()
	defer func() {
		a.imp.mu.Lock()
		a.imp.cancel = nil
		a.imp.mu.Unlock()
	}()

	opts := req.options()
	opts.Staff = "staff:" + st.Login
	opts.Audit = importer.Audited(st.Actor(), req.Profile)
	opts.Clock = a.opts.Clock
	opts.Progress = func(p importer.Progress) {
		if a.emit != nil {
			a.emit.Emit(importer.EventProgress, p)
		}
	}
	res, err := importer.Import(ctx, eng.DB(), req.Path, opts)
	a.imp.mu.Lock()
	a.imp.last = res.Issues
	a.imp.mu.Unlock()
	if err != nil {
		return res, a.userError(fmt.Errorf("import %s: %w", filepath.Base(req.Path), err))
	}
	return res, nil
}

// CancelImport cancels the running import, if any.
func (a *App) CancelImport() error {
	if _, err := a.require(auth.PermImport); err != nil {
		return err
	}
	a.imp.mu.Lock()
	defer a.imp.mu.Unlock()
	if a.imp.cancel != nil {
		a.imp.cancel()
	}
	return nil
}

// SaveImportReport asks where to save the last import's rejected rows and
// writes them there as CSV (values masked). "" if the person cancelled.
func (a *App) SaveImportReport(lang string) (string, error) {
	if _, err := a.require(auth.PermImport); err != nil {
		return "", err
	}
	if a.opts.FilePicker == nil {
		return "", msgcode.New(msgcode.NoFilePicker)
	}
	path, err := a.opts.FilePicker.SaveFile(a.ctx, "CSV", "import-report.csv")
	if err != nil || path == "" {
		return "", a.userError(err)
	}
	a.imp.mu.Lock()
	issues := a.imp.last
	a.imp.mu.Unlock()
	var buf bytes.Buffer
	if err := importer.WriteReport(&buf, issues, lang); err != nil {
		return "", a.userError(err)
	}
	return path, a.userError(os.WriteFile(path, buf.Bytes(), 0o600))
}

// ImportProfiles lists the saved mapping profiles.
func (a *App) ImportProfiles() ([]importer.Profile, error) {
	if _, err := a.require(auth.PermImport); err != nil {
		return nil, err
	}
	eng, err := a.running()
	if err != nil {
		return nil, err
	}
	list, err := importer.Profiles(a.ctx, eng.DB())
	return list, a.userError(err)
}

// SaveImportProfile stores a mapping profile.
func (a *App) SaveImportProfile(p importer.Profile) error {
	if _, err := a.require(auth.PermImport); err != nil {
		return err
	}
	eng, err := a.running()
	if err != nil {
		return err
	}
	return a.userError(importer.SaveProfile(a.ctx, eng.DB(), p, a.clock()))
}

// ImportHistory lists the latest imports.
func (a *App) ImportHistory() ([]importer.HistoryEntry, error) {
	if _, err := a.require(auth.PermImport); err != nil {
		return nil, err
	}
	eng, err := a.running()
	if err != nil {
		return nil, err
	}
	list, err := importer.History(a.ctx, eng.DB(), 50)
	return list, a.userError(err)
}

// ExportCustomers asks where to save and writes every customer as CSV
// (utf-8-bom or sjis), audited before the file is written. A zero Result
// (empty Path) means cancelled.
func (a *App) ExportCustomers(encoding string) (export.Result, error) {
	st, err := a.require(auth.PermExport)
	if err != nil {
		return export.Result{}, err
	}
	eng, err := a.running()
	if err != nil {
		return export.Result{}, err
	}
	if a.opts.FilePicker == nil {
		return export.Result{}, msgcode.New(msgcode.NoFilePicker)
	}
	name := "customers-" + a.clock().Format("20060102") + ".csv"
	path, err := a.opts.FilePicker.SaveFile(a.ctx, "CSV", name)
	if err != nil || path == "" {
		return export.Result{}, a.userError(err)
	}
	res, err := export.ToFile(a.ctx, eng.DB(), path, encoding, st.Actor())
	return res, a.userError(err)
}

// --- helpers ---

// running returns the running engine.
func (a *App) running() (*engine.Engine, error) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.eng == nil {
		return nil, msgcode.New(msgcode.NotStarted)
	}
	return a.eng, nil
}

func (a *App) customers() (*customer.Service, error) {
	eng, err := a.running()
	if err != nil {
		return nil, err
	}
	return eng.Customers(), nil
}

func (a *App) clock() time.Time {
	if a.opts.Clock != nil {
		return a.opts.Clock()
	}
	return time.Now()
}

// maskCustomer hides personal values from a masked role (agency staff).
func maskCustomer(c *customer.Customer) {
	c.Name = MaskName(c.Name)
	c.NameKana = MaskName(c.NameKana)
	c.BirthDate = ""
	c.Address = MaskName(c.Address)
	c.Phone = MaskPhone(c.Phone)
	c.Email = MaskEmail(c.Email)
}
