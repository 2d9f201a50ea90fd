package importer

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ncruces/go-sqlite3"

	"tsunagu/internal/store"
)

// The pipeline of one import: records read and normalized in one
// goroutine, checked for duplicates and written in another, inside one
// transaction (store.DB.WriteRaw), with progress and issues reported.

// openSource is the import's bytes: opts.Data, or the file at path.
func openSource(path string, opts Options) (io.ReadCloser, int64, error) {
	if opts.Data != nil {
		return io.NopCloser(bytes.NewReader(opts.Data)), int64(len(opts.Data)), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("open import file: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("open import file: %w", err)
	}
	return f, st.Size(), nil
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
	f, size, err := openSource(path, opts)
	if err != nil {
		return Result{}, err
	}
	defer f.Close()
	in, err := openCSV(f, size, opts.Encoding, opts.Delimiter)
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
	err = db.WriteRaw(ctx, func(c *sqlite3.Conn) error {
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
	columnValues  []int           // row.values index of each mapped customers column, in upsertSQL's order
	consentValues []int           // row.values index of each of consents
	maxID         int64           // the largest customer ID: new customers get the next ones
	seen          map[uint64]struct{}
	anyActive     bool // an active customer existed before the import
	consentSource string
	lastEvent     time.Time
	stageName     string
	bytes         int64 // of the file, read when the current chunk was sent
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
				it.issue = r.duplicate(&it.row, rec.line) // carries its customer number itself
			}
		}
		if it.issue != nil && it.issue.Reason != ReasonDuplicate {
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

// duplicate records a valid row's customer (contract) in r.seen and returns
// the issue rejecting it if an earlier row had the same one. The producer
// does this rather than the writer: the writer is the import's bottleneck.
// The writer reads r.seen only after the producer is done (missing).
func (r *run) duplicate(row *row, line int) *Issue {
	var key uint64
	if r.opts.Kind == KindContracts {
		key = contractKey(row)
	} else {
		key = hashString(row.customerNo)
	}
	if _, dup := r.seen[key]; dup {
		return &Issue{Line: line, Column: r.norm.header(FieldCustomerNo), Value: Mask(row.customerNo), Reason: ReasonDuplicate,
			CustomerNo: row.customerNo, Raw: row.customerNo}
	}
	r.seen[key] = struct{}{}
	return nil
}

// rows writes the file's rows as the producer delivers them.
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
			var err error
			if r.opts.Kind == KindContracts {
				err = r.writeContract(&it.row, it.line)
			} else {
				err = r.write(&it.row)
			}
			if err != nil {
				if cerr := ctx.Err(); cerr != nil {
					return cerr // the statement was interrupted by the cancellation
				}
				return fmt.Errorf("import near line %d: %w", it.line, err)
			}
		}
	}
	return r.flush(ctx)
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

// hashString is FNV-1a (hash/fnv's New64a), without its allocations.
func hashString(s string) uint64 {
	h := newFNV()
	for i := 0; i < len(s); i++ {
		h = (h ^ fnv64(s[i])) * fnvPrime
	}
	return uint64(h)
}
