// Package importer fills the customer tables from CSV files exported by
// core-banking and CRM systems: it detects the encoding (UTF-8 with or
// without BOM, Shift_JIS/CP932, EUC-JP) and delimiter, maps columns by header
// name or a saved profile, normalizes and validates every value, and upserts
// by customer number.
//
// One import is one transaction: a cancelled, failed or crashed import
// leaves the database as it was, and a dry run is the same import rolled
// back, so its counts are exactly what the import would do. The file is
// streamed: memory does not grow with its size, apart from 8 bytes per
// customer number to find duplicates and missing customers.
package importer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"tsunagu/internal/customer"
	"tsunagu/internal/store"
)

// Errors callers may test with errors.Is.
var (
	// ErrMapping: the mapping is incomplete or wrong (no customer number
	// or name column, a field mapped twice, an unknown field).
	ErrMapping = errors.New("invalid column mapping")
	// ErrEmptyFile: the file has no header row.
	ErrEmptyFile = errors.New("the file is empty")
	// ErrNothingValid: no row was valid, so nothing was written. With
	// Missing=inactivate this protects against a truncated export marking
	// every customer inactive.
	ErrNothingValid = errors.New("no valid rows in the file")
)

// Missing says what happens to active customers absent from the file.
const (
	MissingKeep       = "keep"       // leave them as they are (a partial or delta export)
	MissingInactivate = "inactivate" // mark them inactive (a full export); never deleted
)

// MaxFieldRunes bounds a single value; longer ones are rejected.
const MaxFieldRunes = 500

// MaxIssues is how many issues a Result keeps; OnIssue sees them all.
const MaxIssues = 10000

// EventProgress is the UI event name for Progress.
const EventProgress = "import:progress"

// Options configure one import.
type Options struct {
	Kind      string  // KindCustomers (default) or KindContracts
	Encoding  string  // auto (default), utf-8, sjis, euc-jp
	Delimiter rune    // ',' or '\t'; 0 detects from the header line
	Mapping   Mapping // nil: AutoMap
	Profile   string  // recorded in the history
	// Attributes are the custom attribute definitions columns may map to
	// (attr:<key>); Import reads them from the database when nil.
	Attributes []customer.AttributeDef
	DryRun     bool
	Missing    string // MissingKeep (default) or MissingInactivate (contracts: closed)
	Staff      string // who runs it, for the history
	FileName   string // recorded in the history; default: the path's base name
	// Data is the file's content, read instead of the file at path: a
	// seat's file, kept in the primary's memory only (issue 18).
	Data []byte

	Progress func(Progress) // called about every ProgressEvery and at the end
	OnIssue  func(Issue)    // every rejected value, for a streaming report
	Clock    func() time.Time

	// Audit records the import on the audit trail inside the import's own
	// transaction, after the rows are written: if it fails, nothing is
	// imported, and a rolled-back import leaves no entry. A dry run's
	// transaction is rolled back, so Audit is called for it in a short
	// transaction of its own after the counts are known. Use Audited;
	// nil records nothing (tests, benchmarks).
	Audit func(ctx context.Context, tx *sql.Tx, res Result) error
}

// ProgressEvery is how often Progress is called during an import.
const ProgressEvery = 200 * time.Millisecond

// Stages of an import, in Progress.Stage.
const (
	StageRows    = ""        // reading and writing the rows
	StageMissing = "missing" // looking for the customers (contracts) not in the file
)

// Progress of a running import.
type Progress struct {
	Stage      string  `json:"stage"`
	Rows       int     `json:"rows"`
	Bytes      int64   `json:"bytes"`
	TotalBytes int64   `json:"totalBytes"`
	RowsPerSec float64 `json:"rowsPerSec"`
	ETASeconds float64 `json:"etaSeconds"`
	Done       bool    `json:"done"`
}

// Result of an import or dry run.
type Result struct {
	ImportID        int64     `json:"importId"` // 0 for a dry run
	Kind            string    `json:"kind"`
	DryRun          bool      `json:"dryRun"`
	FileName        string    `json:"fileName"`
	SHA256          string    `json:"sha256"`
	Encoding        string    `json:"encoding"`
	Delimiter       string    `json:"delimiter"`
	Headers         []string  `json:"headers"`
	Mapping         Mapping   `json:"mapping"`
	Rows            int       `json:"rows"`
	New             int       `json:"new"`
	Updated         int       `json:"updated"`
	Unchanged       int       `json:"unchanged"`
	Rejected        int       `json:"rejected"` // rows
	Missing         int       `json:"missing"`  // active customers not in the file
	Inactivated     int       `json:"inactivated"`
	Issues          []Issue   `json:"issues"`
	IssuesTruncated bool      `json:"issuesTruncated"`
	Seconds         float64   `json:"seconds"`
	FinishedAt      time.Time `json:"-"`
	// Failure is set when the import failed (a Failure* code; nothing was
	// written), for the audit trail; FailureLine for FailureUnreadable.
	Failure     string `json:"failure,omitempty"`
	FailureLine int    `json:"failureLine,omitempty"`
}

// Import runs one import of the file at path into db.
//
// A failed or cancelled import writes nothing but is still audited (with
// Options.Audit, in a short transaction of its own): Result.Failure holds
// why, and AuditEntry records it as ActionImportFailed. An error while
// ctx is cancelled (a statement interrupted by it, say) is reported as the
// cancellation: errors.Is(err, context.Canceled).
func Import(ctx context.Context, db *store.DB, path string, opts Options) (Result, error) {
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.FileName == "" {
		opts.FileName = filepath.Base(path)
	}
	res, err := importFile(ctx, db, path, opts)
	if err == nil {
		return res, nil
	}
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		err = errors.Join(cerr, err)
	}
	res.ImportID = 0
	res.Failure, res.FailureLine = failure(err)
	if res.FileName == "" { // failed before the file was opened or read
		res.FileName, res.DryRun = opts.FileName, opts.DryRun
		if res.Kind, _ = ParseKind(opts.Kind); res.Kind == "" {
			res.Kind = opts.Kind
		}
	}
	if opts.Audit != nil {
		// The attempt is recorded even when ctx is cancelled (Ctrl+C).
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if aerr := db.Write(actx, func(tx *sql.Tx) error { return opts.Audit(actx, tx, res) }); aerr != nil {
			err = errors.Join(err, fmt.Errorf("audit the failed import: %w", aerr))
		}
	}
	return res, err
}

// Failures of an import (Result.Failure), for the audit trail: a code, not
// the error's text, which may quote the file.
const (
	FailureCancelled    = "cancelled"
	FailureUnreadable   = "unreadable" // a FileError: FailureLine says where
	FailureMapping      = "mapping"
	FailureEmpty        = "empty"
	FailureNothingValid = "nothingValid"
	FailureFile         = "file" // cannot open or read the file
	FailureOther        = "other"
)

func failure(err error) (string, int) {
	var fe *FileError
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return FailureCancelled, 0
	case errors.As(err, &fe):
		return FailureUnreadable, fe.Line
	case errors.Is(err, ErrMapping):
		return FailureMapping, 0
	case errors.Is(err, ErrEmptyFile):
		return FailureEmpty, 0
	case errors.Is(err, ErrNothingValid):
		return FailureNothingValid, 0
	case errors.Is(err, os.ErrNotExist), errors.Is(err, os.ErrPermission):
		return FailureFile, 0
	}
	return FailureOther, 0
}

// errDryRun rolls a dry run's transaction back after its counts are known.
var errDryRun = errors.New("dry run")
