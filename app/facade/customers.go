package facade

import (
	"context"
	"errors"
	"io"
	"sync"

	"tsunagu/internal/auth"
	"tsunagu/internal/clicks"
	"tsunagu/internal/customer"
	"tsunagu/internal/engine"
	"tsunagu/internal/export"
	"tsunagu/internal/importer"
	"tsunagu/internal/msgcode"
)

// FilePicker asks the person at the screen for a file. The desktop
// implements it with the native dialogs (app/desktop); the dev bridge with a
// preset path. Methods return "" when the person cancels.
type FilePicker interface {
	OpenFile(ctx context.Context, title string) (string, error)
	SaveFile(ctx context.Context, title, defaultName string) (string, error)
	OpenFolder(ctx context.Context, title string) (string, error) // the backup folder
}

// filePicker is the picker, or errors.noFilePicker without one.
func (o Options) filePicker() (FilePicker, error) {
	if o.FilePicker == nil {
		return nil, msgcode.New(msgcode.NoFilePicker)
	}
	return o.FilePicker, nil
}

// imports is this window's last import report: the rejected rows of its
// last customer (or survey answer) import, which SaveImportReport writes.
// It is the person's, not the data folder's: another seat's import does
// not replace it. The one-import-at-a-time rule is the engine's
// (importer.Runner).
type imports struct {
	mu   sync.Mutex
	last []importer.Issue
}

func (i *imports) keep(issues []importer.Issue) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.last = issues
}

func (i *imports) issues() []importer.Issue {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.last
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

// importOptions are the request's options; for a seat, the file it opened
// (importSource), never a path on this PC's disk.
func (c *Client) importOptions(r ImportRequest) (importer.Options, error) {
	o := r.options()
	data, name, seat, err := c.importSource(r.Path)
	if err != nil {
		return o, err
	}
	if seat {
		o.Data, o.FileName = data, name
	}
	return o, nil
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

// Customers lists customers matching the filter, masked for a masked role.
func (s *CustomerService) Customers(f customer.Filter) (customer.Page, error) {
	return call(s.a, auth.PermCustomersRead, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (customer.Page, error) {
		return eng.Customers().As(st).List(ctx, f)
	})
}

// Customer returns one customer's card, masked for a masked role. Every
// view is audited (customer.view); no card is returned if the entry cannot
// be written.
func (s *CustomerService) Customer(id int64) (customer.Card, error) {
	return call(s.a, auth.PermCustomersRead, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (customer.Card, error) {
		return eng.Customers().As(st).View(ctx, id)
	})
}

// CustomerFilters are the choices of the list's filters.
type CustomerFilters struct {
	Branches []string `json:"branches"`
	Tags     []string `json:"tags"`
}

// CustomerFilterOptions lists branches and tags for the filters.
func (s *CustomerService) CustomerFilterOptions() (CustomerFilters, error) {
	return call(s.a, auth.PermCustomersRead, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) (CustomerFilters, error) {
		var out CustomerFilters
		var err error
		if out.Branches, err = eng.Customers().Branches(ctx); err != nil {
			return out, err
		}
		out.Tags, err = eng.Customers().Tags(ctx)
		return out, err
	})
}

// PickImportFile opens the file dialog; "" if the person cancelled.
func (s *CustomerService) PickImportFile() (string, error) {
	return call(s.a, auth.PermImport, func(ctx context.Context, _ auth.Staff, _ *engine.Engine) (string, error) {
		return s.a.openFile(ctx, "CSV")
	})
}

// ImportFields lists the fields a column of an import kind (customers or
// contracts; "" is customers) can be mapped to; for customers also
// attr:<key> for each custom attribute.
func (s *CustomerService) ImportFields(kind string) ([]string, error) {
	return call(s.a, auth.PermImport, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) ([]string, error) {
		return eng.Imports().Fields(ctx, kind)
	})
}

// ImportPreview reads the file's header and first rows with the mapping
// (automatic if none) applied.
func (s *CustomerService) ImportPreview(req ImportRequest) (importer.Preview, error) {
	return call(s.a, auth.PermImport, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) (importer.Preview, error) {
		opts, err := s.a.importOptions(req)
		if err != nil {
			return importer.Preview{}, err
		}
		return eng.Imports().Preview(ctx, req.Path, opts)
	})
}

// RunImport imports the file (or dry-runs it), emitting import:progress
// events; CancelImport stops it with nothing written. One at a time.
func (s *CustomerService) RunImport(req ImportRequest) (importer.Result, error) {
	return call(s.a, auth.PermImport, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (importer.Result, error) {
		opts, err := s.a.importOptions(req)
		if err != nil {
			return importer.Result{}, err
		}
		opts.Progress = func(p importer.Progress) {
			if s.a.emit != nil {
				s.a.emit.Emit(importer.EventProgress, p)
			}
		}
		res, err := eng.Imports().Run(ctx, st.Actor(), req.Path, opts)
		if !errors.Is(err, importer.ErrRunning) { // the running one's report is still to come
			s.a.imp.keep(res.Issues)
		}
		if err == nil && !req.DryRun {
			s.a.files.drop() // a seat's file is imported: not kept any longer
		}
		return res, err
	})
}

// CancelImport cancels the running import, if any.
func (s *CustomerService) CancelImport() error {
	return run(s.a, auth.PermImport, func(_ context.Context, _ auth.Staff, eng *engine.Engine) error {
		eng.Imports().Cancel()
		return nil
	})
}

// SaveImportReport asks where to save the last import's rejected rows and
// writes them there as CSV (values masked). "" if the person cancelled.
func (s *CustomerService) SaveImportReport(lang string) (string, error) {
	return call(s.a, auth.PermImport, func(ctx context.Context, _ auth.Staff, _ *engine.Engine) (string, error) {
		path, save, err := s.a.saveTo(ctx, "CSV", "import-report.csv")
		if err != nil || path == "" {
			return "", err
		}
		_, err = save(func(w io.Writer) (int, error) { return 0, importer.WriteReport(w, s.a.imp.issues(), lang) })
		return path, err
	})
}

// ImportProfiles lists the saved mapping profiles.
func (s *CustomerService) ImportProfiles() ([]importer.Profile, error) {
	return call(s.a, auth.PermImport, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) ([]importer.Profile, error) {
		return eng.Imports().Profiles(ctx)
	})
}

// SaveImportProfile stores a mapping profile.
func (s *CustomerService) SaveImportProfile(p importer.Profile) error {
	return run(s.a, auth.PermImport, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) error {
		return eng.Imports().SaveProfile(ctx, p)
	})
}

// ImportHistory lists the latest imports.
func (s *CustomerService) ImportHistory() ([]importer.HistoryEntry, error) {
	return call(s.a, auth.PermImport, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) ([]importer.HistoryEntry, error) {
		return eng.Imports().History(ctx)
	})
}

// ExportCustomers asks where to save and writes every customer as CSV
// (utf-8-bom or sjis), audited before the file is written. A zero Result
// (empty Path) means cancelled.
func (s *CustomerService) ExportCustomers(encoding string) (export.Result, error) {
	return call(s.a, auth.PermExport, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (export.Result, error) {
		path, save, err := s.a.saveTo(ctx, "CSV", "customers-"+eng.Now().Format("20060102")+".csv")
		if err != nil || path == "" {
			return export.Result{}, err
		}
		res, err := eng.ExportCustomersTo(ctx, baseName(path), encoding, st.Actor(), save)
		res.Path = path
		return res, err
	})
}

// running returns the running engine. Kept for surveys.go, which still
// looks it up itself; call and run do it for converted methods.
func (a *App) running() (*engine.Engine, error) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.eng == nil {
		return nil, msgcode.New(msgcode.NotStarted)
	}
	return a.eng, nil
}

// CustomerClicks lists the campaign links a customer opened (tracked links).
func (s *CustomerService) CustomerClicks(id int64) ([]clicks.CustomerClick, error) {
	return call(s.a, auth.PermCustomersRead, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) ([]clicks.CustomerClick, error) {
		return eng.Clicks().ForCustomer(ctx, id)
	})
}
