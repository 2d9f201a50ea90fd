package importer

import (
	"strings"

	"github.com/ncruces/go-sqlite3"
)

// batchRows is how many rows one multi-row INSERT carries. Each statement
// execution costs more than the rows it adds, so the contact points and
// consents of many customers go in together (5 parameters a row: far below
// SQLite's limit of 32766).
const batchRows = 128

// batch buffers the rows of one multi-row INSERT. The buffer is bounded
// (batchRows rows); flush writes it within the import's transaction.
type batch struct {
	c      *sqlite3.Conn
	prefix string // INSERT INTO t (a, b) VALUES
	tuple  string // (?, ?, 'import', ?)
	suffix string // ON CONFLICT ...
	width  int    // parameters per row
	args   []any
	full   *sqlite3.Stmt // prepared for batchRows rows
}

func newBatch(c *sqlite3.Conn, prefix, tuple, suffix string) (*batch, error) {
	b := &batch{c: c, prefix: prefix, tuple: tuple, suffix: suffix, width: strings.Count(tuple, "?")}
	b.args = make([]any, 0, b.width*batchRows)
	var err error
	b.full, _, err = c.Prepare(b.sql(batchRows))
	return b, err
}

func (b *batch) sql(n int) string {
	var sb strings.Builder
	sb.WriteString(b.prefix)
	for i := range n {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(b.tuple)
	}
	sb.WriteString(" ")
	sb.WriteString(b.suffix)
	return sb.String()
}

// add appends one row, flushing when the batch is full.
func (b *batch) add(vals ...any) error {
	b.args = append(b.args, vals...)
	if len(b.args) == b.width*batchRows {
		return b.flush()
	}
	return nil
}

// flush writes the buffered rows.
func (b *batch) flush() error {
	if b == nil { // a contracts import has no consents
		return nil
	}
	n := len(b.args) / b.width
	var err error
	switch {
	case n == 0:
		return nil
	case n == batchRows:
		err = execStmt(b.full, b.args...)
	default:
		err = execSQL(b.c, b.sql(n), b.args...)
	}
	clear(b.args)
	b.args = b.args[:0]
	return err
}

func (b *batch) close() {
	if b != nil && b.full != nil {
		b.full.Close()
	}
}
