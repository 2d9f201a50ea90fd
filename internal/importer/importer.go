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
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ncruces/go-sqlite3"

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

// importFile is Import without the failure handling.
func importFile(ctx context.Context, db *store.DB, path string, opts Options) (Result, error) {
	if opts.Missing == "" {
		opts.Missing = MissingKeep
	}
	if opts.Missing != MissingKeep && opts.Missing != MissingInactivate {
		return Result{}, fmt.Errorf("missing customers: unknown option %q", opts.Missing)
	}
	kind, err := ParseKind(opts.Kind)
	if err != nil {
		return Result{}, err
	}
	opts.Kind = kind
	f, err := os.Open(path)
	if err != nil {
		return Result{}, fmt.Errorf("open import file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Result{}, fmt.Errorf("open import file: %w", err)
	}
	in, err := openCSV(f, st.Size(), opts.Encoding, opts.Delimiter)
	if err != nil {
		return Result{}, err
	}
	headers, err := in.header()
	if err != nil {
		return Result{}, err
	}
	mapping := opts.Mapping
	if mapping == nil {
		mapping = AutoMapKind(kind, headers)
	}
	var attrs []attrColumn
	if kind == KindCustomers {
		if opts.Attributes == nil {
			if opts.Attributes, err = AttributeDefs(ctx, db); err != nil {
				return Result{}, err
			}
		}
		if opts.Mapping == nil {
			autoMapAttributes(mapping, headers, opts.Attributes)
		}
		if attrs, err = attrColumns(mapping, headers, opts.Attributes); err != nil {
			return Result{}, err
		}
	}
	cols, err := mapping.columnsFor(kind, headers)
	if err != nil {
		return Result{}, err
	}

	start := opts.Clock()
	res := Result{
		Kind: kind, DryRun: opts.DryRun, FileName: opts.FileName, Encoding: in.encoding, Delimiter: string(in.delimiter),
		Headers: headers, Mapping: mapping, Issues: []Issue{},
	}
	run := &run{opts: opts, res: &res, in: in, headers: headers, cols: cols, norm: newKindNormalizer(kind, cols, headers, start), started: start}
	run.norm.attrs = attrs
	err = withWriteTx(ctx, db.Writer(), func(c *sqlite3.Conn) error {
		defer run.close()
		if err := run.prepare(c); err != nil {
			return err
		}
		if err := run.rows(ctx); err != nil {
			return err
		}
		missing := run.missing
		if kind == KindContracts {
			missing = run.missingContracts
		}
		run.stage(StageMissing)
		if err := missing(); err != nil {
			return err
		}
		// The stream is fully read: the hash covers the whole file.
		res.SHA256 = hex.EncodeToString(in.sum.Sum(nil))
		if opts.DryRun {
			return errDryRun
		}
		if res.New+res.Updated+res.Unchanged == 0 {
			return fmt.Errorf("import %s: %w", opts.FileName, ErrNothingValid)
		}
		return run.finish()
	}, func(tx *sql.Tx) error {
		if opts.Audit == nil {
			return nil
		}
		return opts.Audit(ctx, tx, res)
	})
	res.Seconds = opts.Clock().Sub(start).Seconds()
	res.FinishedAt = opts.Clock()
	if errors.Is(err, errDryRun) {
		err = nil
		if opts.Audit != nil {
			err = db.Write(ctx, func(tx *sql.Tx) error { return opts.Audit(ctx, tx, res) })
		}
	}
	if err != nil {
		res.ImportID = 0
		return res, err
	}
	run.bytes = in.counter.n
	run.stageName = StageRows
	run.progress(true)
	return res, nil
}

// errDryRun rolls a dry run's transaction back after its counts are known.
var errDryRun = errors.New("dry run")

// input is the CSV stream of a file.
type input struct {
	rd        *csvReader
	counter   *countingReader
	sum       hash.Hash
	total     int64
	encoding  string
	delimiter rune
}

// openCSV wraps the file: bytes are counted (for progress) and hashed (for
// the history) as they are read, then split into records and decoded
// (csvread.go).
func openCSV(f io.Reader, size int64, enc string, delim rune) (*input, error) {
	enc, err := ParseEncoding(enc)
	if err != nil {
		return nil, err
	}
	in := &input{sum: sha256.New(), total: size}
	in.counter = &countingReader{r: io.TeeReader(f, in.sum)}
	rd := newCSVReader(in.counter)
	sample := rd.peek(64 << 10) // a short file: the whole file
	if rd.err != nil {
		return nil, fmt.Errorf("read import file: %w", rd.err)
	}
	if enc == EncodingAuto {
		enc = DetectEncoding(sample)
	}
	if enc == EncodingUTF8 && bytes.HasPrefix(sample, utf8BOM) {
		rd.r += len(utf8BOM)
	}
	in.encoding = enc
	rd.codec = newCodec(enc)
	if delim == 0 {
		delim = detectDelimiter(rd.peek(16 << 10))
	}
	if delim != ',' && delim != '\t' {
		return nil, fmt.Errorf("delimiter must be comma or tab, not %q", delim)
	}
	in.delimiter = delim
	rd.delim = byte(delim)
	in.rd = rd
	return in, nil
}

// detectDelimiter looks at the first line: tabs win if there are more tabs
// than commas.
func detectDelimiter(b []byte) rune {
	if i := bytes.IndexAny(b, "\r\n"); i >= 0 {
		b = b[:i]
	}
	if bytes.Count(b, []byte("\t")) > bytes.Count(b, []byte(",")) {
		return '\t'
	}
	return ','
}

// header reads the header record; from then on a record with a quoted
// value spanning lines must have the header's column count.
func (in *input) header() ([]string, error) {
	rec, err := in.rd.read()
	if errors.Is(err, io.EOF) {
		return nil, ErrEmptyFile
	}
	if err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	if rec.issue == ReasonQuote {
		return nil, &FileError{Line: rec.line, Problem: ProblemHeaderQuote}
	}
	h := make([]string, len(rec.fields))
	for i, v := range rec.fields {
		h[i] = strings.TrimSpace(customer.NormalizeText(v))
	}
	in.rd.expect = len(h)
	return h, nil
}

// recordIssue is the issue rejecting a whole record before its values are
// looked at, or nil.
func recordIssue(rec *record, headers []string) *Issue {
	switch {
	case rec.issue == ReasonQuote:
		return &Issue{Line: rec.line, Reason: ReasonQuote}
	case rec.issue == ReasonEncoding || rec.issue == ReasonEncodingMixed:
		is := &Issue{Line: rec.line, Reason: rec.issue}
		if rec.column >= 0 && rec.column < len(headers) {
			is.Column = headers[rec.column]
		}
		return is
	case len(rec.fields) != len(headers):
		return &Issue{Line: rec.line, EndLine: rec.endLine, Reason: ReasonColumns}
	case rec.issue == ReasonTooLong:
		return &Issue{Line: rec.line, Column: headers[rec.column], Reason: ReasonTooLong}
	}
	return nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// run is the state of one import inside its transaction.
type run struct {
	opts    Options
	res     *Result
	in      *input
	headers []string
	cols    []string
	norm    *normalizer
	started time.Time

	c             *sqlite3.Conn
	importID      int64
	now           int64
	upsert        *sqlite3.Stmt   // for upsertRows customers, or one contract
	lookup        *sqlite3.Stmt   // customer ID by number, for contracts
	ex            extras          // tags and attributes, if mapped
	pending       []*row          // customers waiting for the next upsert
	byNo          map[string]*row // for RETURNING
	returning     bool            // the upsert returns IDs: tags or attributes are mapped
	consents      []string        // mapped consent fields (= customers columns)
	maxID         int64           // the largest customer ID: new customers get the next ones
	seen          map[uint64]struct{}
	consentSource string
	lastEvent     time.Time
	stageName     string
	bytes         int64 // of the file, read when the current chunk was sent
}

func (r *run) prepare(c *sqlite3.Conn) error {
	r.c = c
	r.now = r.opts.Clock().UnixMilli()
	r.seen = make(map[uint64]struct{}, 1024)
	r.consentSource = "import:" + r.opts.FileName
	// The history row comes first so its ID can mark created and updated
	// customers; a dry run rolls it back with everything else.
	if err := execSQL(c, `INSERT INTO imports (kind, started_at, staff, file_name, encoding, profile, missing) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		r.opts.Kind, r.now, r.opts.Staff, r.opts.FileName, r.in.encoding, r.opts.Profile, r.opts.Missing); err != nil {
		return fmt.Errorf("import: history: %w", err)
	}
	r.importID = c.LastInsertRowID()
	if r.opts.Kind == KindContracts {
		return r.prepareContracts(c)
	}
	r.pending = make([]*row, 0, upsertRows)
	for _, c := range consentFields {
		if r.norm.fields[c.field] {
			r.consents = append(r.consents, c.field)
		}
	}
	r.returning = r.norm.fields[FieldTags] || len(r.norm.attrs) > 0
	if r.returning {
		r.byNo = make(map[string]*row, upsertRows)
	}
	if !r.returning { // stepCounting needs it
		if err := queryInt(c, `SELECT coalesce(max(id), 0) FROM customers`, &r.maxID); err != nil {
			return fmt.Errorf("import: prepare: %w", err)
		}
	}
	var err error
	if r.upsert, _, err = c.Prepare(r.upsertSQL(upsertRows)); err != nil {
		return fmt.Errorf("import: prepare: %w", err)
	}
	if err := r.prepareExtras(c); err != nil {
		return fmt.Errorf("import: prepare: %w", err)
	}
	return nil
}

func (r *run) close() {
	for _, s := range []*sqlite3.Stmt{r.upsert, r.lookup} {
		if s != nil {
			s.Close()
		}
	}
	r.closeExtras()
}

// customerColumns are the customers columns an import may set, by field.
// Phone, mobile and email are columns too (migration 0007): one value of
// each per customer, as core-banking exports carry them.
var customerColumns = []struct{ field, column string }{
	{FieldName, "name"}, {FieldNameKana, "name_kana"}, {FieldBirthDate, "birth_date"}, {FieldGender, "gender"},
	{FieldPostalCode, "postal_code"}, {FieldAddress, "address"}, {FieldBranch, "branch"}, {FieldStaffInCharge, "staff_in_charge"},
	{FieldPhone, "phone"}, {FieldMobile, "mobile"}, {FieldEmail, "email"},
}

// upsertRows is how many customers one upsert statement carries: each
// statement execution costs more than a row (binding, stepping and
// resetting through the WASM boundary), so rows go in together. At most 17
// parameters a row: far below SQLite's 32766.
const upsertRows = 128

// upsertSQL inserts n customers or updates the mapped columns of existing
// ones, but only if the values changed (row_hash) or the customer was
// inactive. Columns the file does not have are left alone. The import's ID
// and time are the same for every row and are part of the statement
// (integers of our own), not parameters.
//
// Consents are columns (migration 0015): a value the file gives replaces
// the stored one; its source (?1, the file) and time change only when the
// decision does, and an empty value leaves the stored consent alone.
//
// With tags or attributes mapped, RETURNING gives the ID of each inserted or
// updated customer (nothing for an unchanged one) and tells new from updated
// by created_import; without, upsertPending counts from the connection.
func (r *run) upsertSQL(n int) string {
	cols := []string{"customer_no"}
	var sets []string
	for _, c := range customerColumns {
		if r.norm.fields[c.field] {
			cols = append(cols, c.column)
			sets = append(sets, c.column+" = excluded."+c.column)
		}
	}
	cols = append(cols, "row_hash", "created_import", "updated_import", "created_at", "updated_at")
	sets = append(sets, "status = 'active'", "row_hash = excluded.row_hash", "updated_import = excluded.updated_import", "updated_at = excluded.updated_at")
	for _, k := range r.consents {
		cols = append(cols, k, k+"_source", k+"_at")
		same := "excluded." + k + " IS NULL OR excluded." + k + " IS customers." + k
		sets = append(sets, k+" = coalesce(excluded."+k+", customers."+k+")",
			k+"_source = iif("+same+", customers."+k+"_source, excluded."+k+"_source)",
			k+"_at = iif("+same+", customers."+k+"_at, excluded."+k+"_at)")
	}
	plain := len(cols) - 4 - 3*len(r.consents) // parameters a row before its consents
	param := 1
	if len(r.consents) > 0 {
		param = 2 // ?1 is the consents' source
	}
	var sb strings.Builder
	sb.WriteString(`INSERT INTO customers (` + strings.Join(cols, ", ") + `) VALUES `)
	for i := range n {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString("(")
		for range plain {
			fmt.Fprintf(&sb, "?%d, ", param)
			param++
		}
		fmt.Fprintf(&sb, "%d, %d, %d, %d", r.importID, r.importID, r.now, r.now)
		for range r.consents {
			fmt.Fprintf(&sb, ", ?%d, iif(?%d IS NULL, '', ?1), iif(?%d IS NULL, 0, %d)", param, param, param, r.now)
			param++
		}
		sb.WriteString(")")
	}
	sb.WriteString(` ON CONFLICT (customer_no) DO UPDATE SET ` + strings.Join(sets, ", ") + `
		WHERE customers.row_hash <> excluded.row_hash OR customers.status <> 'active'`)
	if r.returning {
		sb.WriteString(` RETURNING id, created_import, customer_no`)
	}
	return sb.String()
}

// The file is read, decoded and normalized in one goroutine while another
// writes to SQLite: on two cores the parsing then costs almost no wall time.
// The two talk through a channel of a few chunks, so memory stays bounded.
const (
	chunkItems  = 256
	chunksAhead = 4
)

// item is one record of the file: a valid row, or the issue rejecting it.
type item struct {
	line  int
	row   row
	issue *Issue
}

// chunk is a run of items, with the file bytes read so far.
type chunk struct {
	items []item
	bytes int64
	err   error
}

// produce reads and normalizes records into out until the file ends, an
// error occurs or stop is closed; it closes out.
func (r *run) produce(stop <-chan struct{}, out chan<- chunk) {
	defer close(out)
	send := func(c chunk) bool {
		c.bytes = r.in.counter.n
		select {
		case out <- c:
			return true
		case <-stop:
			return false
		}
	}
	c := chunk{items: make([]item, 0, chunkItems)}
	for {
		rec, err := r.in.rd.read()
		if errors.Is(err, io.EOF) {
			send(c)
			return
		}
		if err != nil {
			c.err = fmt.Errorf("import: %w", err)
			send(c)
			return
		}
		it := item{line: rec.line, issue: recordIssue(rec, r.headers)}
		if it.issue == nil {
			row, issue := r.norm.row(rec.fields)
			if issue != nil {
				issue.Line = rec.line
				it.issue = issue
			} else {
				it.row = *row
			}
		}
		if it.issue != nil {
			it.issue.attach(rec.fields, r.headers, r.norm.header(FieldCustomerNo)) // for the owner's report
		}
		c.items = append(c.items, it)
		if len(c.items) == chunkItems {
			if !send(c) {
				return
			}
			c = chunk{items: make([]item, 0, chunkItems)}
		}
	}
}

func (r *run) rows(ctx context.Context) error {
	stop := make(chan struct{})
	chunks := make(chan chunk, chunksAhead)
	go r.produce(stop, chunks)
	defer func() {
		close(stop)
		for range chunks { // let the producer finish before returning
		}
	}()
	for c := range chunks {
		if c.err != nil {
			return c.err
		}
		r.bytes = c.bytes
		if err := ctx.Err(); err != nil {
			return err
		}
		r.progress(false)
		for i := range c.items {
			it := &c.items[i]
			r.res.Rows++
			if it.issue != nil {
				r.reject(*it.issue)
				continue
			}
			contracts := r.opts.Kind == KindContracts
			key := hashString(it.row.customerNo)
			if contracts {
				key = contractKey(&it.row)
			}
			if _, dup := r.seen[key]; dup {
				r.reject(Issue{Line: it.line, Column: r.norm.header(FieldCustomerNo), Value: Mask(it.row.customerNo), Reason: ReasonDuplicate,
					CustomerNo: it.row.customerNo, Raw: it.row.customerNo})
				continue
			}
			r.seen[key] = struct{}{}
			write := func() error { return r.write(&it.row) }
			if contracts {
				write = func() error { return r.writeContract(&it.row, it.line) }
			}
			if err := write(); err != nil {
				if cerr := ctx.Err(); cerr != nil {
					return cerr // the statement was interrupted by the cancellation
				}
				return fmt.Errorf("import near line %d: %w", it.line, err)
			}
		}
	}
	return r.flush(ctx)
}

// flush writes the buffered customers.
func (r *run) flush(ctx context.Context) error {
	if err := r.upsertPending(); err != nil {
		return errors.Join(ctx.Err(), fmt.Errorf("import: customers: %w", err))
	}
	return ctx.Err()
}

func (r *run) reject(is Issue) {
	r.res.Rejected++
	if r.opts.OnIssue != nil {
		r.opts.OnIssue(is)
	}
	if len(r.res.Issues) < MaxIssues {
		r.res.Issues = append(r.res.Issues, is)
	} else {
		r.res.IssuesTruncated = true
	}
}

// write queues one valid row; every upsertRows rows are written together.
// row must stay unchanged until then.
func (r *run) write(row *row) error {
	r.pending = append(r.pending, row)
	if len(r.pending) == upsertRows {
		return r.upsertPending()
	}
	return nil
}

// upsertPending writes the queued customers (and their tags and attributes).
func (r *run) upsertPending() error {
	n := len(r.pending)
	if n == 0 {
		return nil
	}
	stmt := r.upsert
	if n < upsertRows {
		var err error
		if stmt, _, err = r.c.Prepare(r.upsertSQL(n)); err != nil {
			return err
		}
		defer stmt.Close()
	}
	if err := r.bindPending(stmt); err != nil {
		return err
	}
	clear(r.pending)
	r.pending = r.pending[:0]
	var changed int
	var err error
	if r.returning {
		changed, err = r.stepReturning(stmt)
	} else {
		changed, err = r.stepCounting(stmt, n)
	}
	if err := errors.Join(err, stmt.Reset(), stmt.ClearBindings()); err != nil {
		return err
	}
	r.res.Unchanged += n - changed
	return nil
}

// bindPending binds the queued customers to stmt, in upsertSQL's order.
func (r *run) bindPending(stmt *sqlite3.Stmt) error {
	p := 1
	if len(r.consents) > 0 {
		if err := stmt.BindText(1, r.consentSource); err != nil {
			return err
		}
		p = 2
	}
	if r.returning {
		clear(r.byNo)
	}
	for _, row := range r.pending {
		if r.returning {
			r.byNo[row.customerNo] = row
		}
		if err := stmt.BindText(p, row.customerNo); err != nil {
			return err
		}
		p++
		for _, c := range customerColumns {
			if r.norm.fields[c.field] {
				if err := stmt.BindText(p, row.values[fieldIndex[c.field]]); err != nil {
					return err
				}
				p++
			}
		}
		if err := stmt.BindInt64(p, int64(row.hash)); err != nil {
			return err
		}
		p++
		for _, k := range r.consents {
			var err error
			switch row.values[fieldIndex[k]] {
			case "1":
				err = stmt.BindInt64(p, 1)
			case "0":
				err = stmt.BindInt64(p, 0)
			} // "": not given, NULL
			if err != nil {
				return err
			}
			p++
		}
	}
	return nil
}

// stepCounting runs stmt and counts what it did: the connection's changes
// are the customers inserted or updated, and the inserted ones took the IDs
// after the largest (SQLite gives a new row max(id)+1).
func (r *run) stepCounting(stmt *sqlite3.Stmt, n int) (changed int, err error) {
	r.c.SetLastInsertRowID(r.maxID)
	if err := stmt.Exec(); err != nil {
		return 0, err
	}
	changed = int(r.c.Changes())
	inserted := 0
	if last := r.c.LastInsertRowID(); last > r.maxID {
		inserted = int(last - r.maxID)
		r.maxID = last
	}
	if inserted > changed || changed > n {
		return 0, fmt.Errorf("upsert of %d customers: %d changed, %d inserted", n, changed, inserted)
	}
	r.res.New += inserted
	r.res.Updated += changed - inserted
	return changed, nil
}

// stepReturning runs stmt and reads the ID of each inserted or updated
// customer, for their tags and attributes.
func (r *run) stepReturning(stmt *sqlite3.Stmt) (changed int, err error) {
	for stmt.Step() {
		changed++
		id, created := stmt.ColumnInt64(0), stmt.ColumnInt64(1)
		row := r.byNo[stmt.ColumnText(2)]
		if row == nil {
			return 0, errors.New("upsert returned an unknown customer")
		}
		if created == r.importID {
			r.res.New++
		} else {
			r.res.Updated++
		}
		if err := r.writeExtras(id, row); err != nil {
			return 0, err
		}
	}
	return changed, stmt.Err()
}

// missing counts, and with MissingInactivate marks inactive, the active
// customers whose number was not in the file.
func (r *run) missing() error {
	stmt, _, err := r.c.Prepare(`SELECT id, customer_no FROM customers WHERE status = 'active' AND updated_import IS NOT ?`)
	if err != nil {
		return fmt.Errorf("import: missing customers: %w", err)
	}
	var ids []int64
	if err := bind(stmt, r.importID); err != nil {
		stmt.Close()
		return err
	}
	for stmt.Step() {
		if _, ok := r.seen[hashString(stmt.ColumnText(1))]; !ok {
			ids = append(ids, stmt.ColumnInt64(0))
		}
	}
	if err := errors.Join(stmt.Err(), stmt.Close()); err != nil {
		return fmt.Errorf("import: missing customers: %w", err)
	}
	r.res.Missing = len(ids)
	if r.opts.Missing != MissingInactivate || len(ids) == 0 {
		return nil
	}
	if r.res.New+r.res.Updated+r.res.Unchanged == 0 {
		return nil // Import refuses the whole file; a dry run shows the count
	}
	upd, _, err := r.c.Prepare(`UPDATE customers SET status = 'inactive', updated_import = ?, updated_at = ? WHERE id = ?`)
	if err != nil {
		return err
	}
	defer upd.Close()
	for _, id := range ids {
		if err := execStmt(upd, r.importID, r.now, id); err != nil {
			return fmt.Errorf("import: inactivate: %w", err)
		}
	}
	r.res.Inactivated = len(ids)
	return nil
}

func (r *run) finish() error {
	res := r.res
	err := execSQL(r.c, `UPDATE imports SET finished_at = ?, sha256 = ?, rows_total = ?, rows_new = ?, rows_updated = ?,
		rows_unchanged = ?, rows_rejected = ?, inactivated = ? WHERE id = ?`,
		r.opts.Clock().UnixMilli(), res.SHA256, res.Rows, res.New, res.Updated, res.Unchanged, res.Rejected, res.Inactivated, r.importID)
	if err != nil {
		return fmt.Errorf("import: history: %w", err)
	}
	res.ImportID = r.importID
	return nil
}

// stage reports the start of a stage at once.
func (r *run) stage(s string) {
	r.stageName = s
	r.lastEvent = time.Time{}
	r.progress(false)
}

func (r *run) progress(done bool) {
	if r.opts.Progress == nil {
		return
	}
	now := r.opts.Clock()
	if !done && now.Sub(r.lastEvent) < ProgressEvery {
		return
	}
	r.lastEvent = now
	p := Progress{Stage: r.stageName, Rows: r.res.Rows, Bytes: r.bytes, TotalBytes: r.in.total, Done: done}
	if secs := now.Sub(r.started).Seconds(); secs > 0 {
		p.RowsPerSec = float64(p.Rows) / secs
		if p.Bytes > 0 && !done {
			p.ETASeconds = secs * float64(p.TotalBytes-p.Bytes) / float64(p.Bytes)
		}
	}
	r.opts.Progress(p)
}

func hashString(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}
