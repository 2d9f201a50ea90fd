package importer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"tsunagu/internal/store"
)

// ErrRunning is a second import started while one runs.
var ErrRunning = errors.New("importer: an import is already running")

// PreviewRows is how many rows a preview shows.
const PreviewRows = 5

// HistoryLimit is how many past imports History lists.
const HistoryLimit = 50

// Runner is the import feature of one data folder, built once by the
// engine so that every window and seat share its one rule: one import at
// a time (it holds the DB's write transaction for its whole length), which
// any of them may cancel.
type Runner struct {
	db  *store.DB
	now func() time.Time

	mu     sync.Mutex
	cancel context.CancelFunc // of the running import; nil if none
}

// NewRunner returns the runner over db; clock nil is time.Now.
func NewRunner(db *store.DB, clock func() time.Time) *Runner {
	if clock == nil {
		clock = time.Now
	}
	return &Runner{db: db, now: clock}
}

// Fields lists the fields a column of an import kind (KindCustomers, also
// for "", or KindContracts) can be mapped to; for customers also
// attr:<key> for each custom attribute.
func (r *Runner) Fields(ctx context.Context, kind string) ([]string, error) {
	k, err := ParseKind(kind)
	if err != nil {
		return nil, err
	}
	fields := append([]string{}, FieldsOf(k)...)
	if k != KindCustomers {
		return fields, nil
	}
	defs, err := AttributeDefs(ctx, r.db)
	if err != nil {
		return nil, err
	}
	for _, d := range defs {
		fields = append(fields, AttrPrefix+d.Key)
	}
	return fields, nil
}

// Preview reads the file's header and first PreviewRows rows with opts'
// mapping (automatic if none) applied, the custom attributes included.
func (r *Runner) Preview(ctx context.Context, path string, opts Options) (Preview, error) {
	var err error
	if opts.Attributes, err = AttributeDefs(ctx, r.db); err != nil {
		return Preview{}, err
	}
	return PreviewFile(path, opts, PreviewRows)
}

// Run imports the file (or dry-runs it) as actor, who is recorded in the
// history and on the audit trail; ErrRunning if an import runs. Cancel, or
// the end of ctx, stops it with nothing written.
func (r *Runner) Run(ctx context.Context, actor, path string, opts Options) (Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r.mu.Lock()
	if r.cancel != nil {
		r.mu.Unlock()
		return Result{}, ErrRunning
	}
	r.cancel = cancel
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.cancel = nil
		r.mu.Unlock()
	}()

	opts.Staff = actor
	opts.Audit = Audited(actor, opts.Profile)
	opts.Clock = r.now
	res, err := Import(ctx, r.db, path, opts)
	if err != nil {
		return res, fmt.Errorf("import %s: %w", filepath.Base(path), err)
	}
	return res, nil
}

// Cancel stops the running import, if any.
func (r *Runner) Cancel() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cancel != nil {
		r.cancel()
	}
}

// Profiles lists the saved mapping profiles.
func (r *Runner) Profiles(ctx context.Context) ([]Profile, error) { return Profiles(ctx, r.db) }

// SaveProfile stores a mapping profile.
func (r *Runner) SaveProfile(ctx context.Context, p Profile) error {
	return SaveProfile(ctx, r.db, p, r.now())
}

// History lists the latest HistoryLimit imports.
func (r *Runner) History(ctx context.Context) ([]HistoryEntry, error) {
	return History(ctx, r.db, HistoryLimit)
}

// SaveReport writes rejected rows as a CSV report (WriteReport: values
// masked) to path, readable by its owner only.
func SaveReport(path string, issues []Issue, lang string) error {
	var buf bytes.Buffer
	if err := WriteReport(&buf, issues, lang); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o600)
}

// Profile is the saved mapping profile called name.
func (r *Runner) Profile(ctx context.Context, name string) (Profile, error) {
	return LoadProfile(ctx, r.db, name)
}
