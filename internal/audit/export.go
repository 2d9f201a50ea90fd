package audit

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// CSV renders entries for auditors: UTF-8 with a BOM (so Excel in Japan
// opens it correctly), one row per entry with its hashes, so the exported
// file can be checked against the chain later.
func CSV(entries []Entry) (string, error) {
	var b strings.Builder
	w := newCSVWriter(&b)
	for _, e := range entries {
		if err := w.write(e); err != nil {
			return "", err
		}
	}
	if err := w.flush(); err != nil {
		return "", err
	}
	return b.String(), nil
}

// csvWriter writes the export's CSV one entry at a time.
type csvWriter struct{ w *csv.Writer }

func newCSVWriter(w io.Writer) *csvWriter {
	io.WriteString(w, "\ufeff") // an error shows again at the first flush
	cw := csv.NewWriter(w)
	cw.Write([]string{"seq", "time", "actor", "action", "target", "detail", "prev_hash", "hash"})
	return &csvWriter{w: cw}
}

func (c *csvWriter) write(e Entry) error {
	detail := ""
	if len(e.Detail) > 0 {
		d, err := json.Marshal(e.Detail)
		if err != nil {
			return fmt.Errorf("audit: export entry %d: %w", e.Seq, err)
		}
		detail = string(d)
	}
	return c.w.Write([]string{strconv.FormatInt(e.Seq, 10), time.UnixMilli(e.At).UTC().Format(time.RFC3339Nano), e.Actor, e.Action, neutralize(e.Target), neutralize(detail), e.PrevHash, e.Hash})
}

func (c *csvWriter) flush() error {
	c.w.Flush()
	return c.w.Error()
}

// neutralize stops spreadsheet formula injection: a cell starting with = + - @
// is prefixed with a quote.
func neutralize(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// Export is every entry matching a filter, read from one snapshot of the
// trail: Count is exactly what the Write methods write, however many
// entries are added meanwhile. The filter's Limit and Before are ignored:
// an export is never cut short.
//
// Record the export (ActionExport, with Count) between BeginExport and
// Write: the snapshot does not see that entry, so the file holds what the
// entry says.
type Export struct {
	Count int64

	tx *sql.Tx
	f  Filter
}

// BeginExport opens a read transaction on db (the read-only pool) and
// counts the entries matching f. Close it when done.
func BeginExport(ctx context.Context, db *sql.DB, f Filter) (*Export, error) {
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("audit: export: %w", err)
	}
	x := &Export{tx: tx, f: f}
	where, args := f.where()
	query := `SELECT count(*) FROM audit_log`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	// The first read fixes the snapshot (WAL): the rows below are the
	// ones counted here.
	if err := tx.QueryRowContext(ctx, query, args...).Scan(&x.Count); err != nil {
		tx.Rollback()
		return nil, fmt.Errorf("audit: export: count: %w", err)
	}
	return x, nil
}

// Close ends the read transaction.
func (x *Export) Close() error {
	err := x.tx.Rollback()
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}

// WriteCSV streams the entries to w as CSV (see CSV), oldest first (the
// chain's order), and returns how many it wrote. Memory does not grow with
// the number of entries.
func (x *Export) WriteCSV(ctx context.Context, w io.Writer) (int64, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	cw := newCSVWriter(bw)
	n, err := x.each(ctx, func(e Entry) error { return cw.write(e) })
	if err != nil {
		return n, err
	}
	if err := cw.flush(); err != nil {
		return n, fmt.Errorf("audit: export: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return n, fmt.Errorf("audit: export: %w", err)
	}
	return n, nil
}

// WriteJSON streams the entries to w as one JSON array, oldest first, one
// entry per line.
func (x *Export) WriteJSON(ctx context.Context, w io.Writer) (int64, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString("[")
	sep := "\n"
	n, err := x.each(ctx, func(e Entry) error {
		b, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("audit: export entry %d: %w", e.Seq, err)
		}
		bw.WriteString(sep)
		sep = ",\n"
		_, err = bw.Write(b)
		return err
	})
	if err != nil {
		return n, err
	}
	bw.WriteString("\n]\n")
	if err := bw.Flush(); err != nil {
		return n, fmt.Errorf("audit: export: %w", err)
	}
	return n, nil
}

// each calls fn for every entry of the export, oldest first.
func (x *Export) each(ctx context.Context, fn func(Entry) error) (int64, error) {
	where, args := x.f.where()
	query := `SELECT seq, at, actor, action, target, detail, prev_hash, hash FROM audit_log`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY seq"
	rows, err := x.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("audit: export: %w", err)
	}
	defer rows.Close()
	var n int64
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return n, fmt.Errorf("audit: export: %w", err)
		}
		if err := fn(e); err != nil {
			return n, err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("audit: export: %w", err)
	}
	if n != x.Count {
		// Cannot happen within one snapshot; if it does, the file and
		// the audit entry would disagree, so say so.
		return n, fmt.Errorf("audit: export: wrote %d entries, counted %d", n, x.Count)
	}
	return n, nil
}
