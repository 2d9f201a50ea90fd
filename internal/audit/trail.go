package audit

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"maps"
	"strconv"
	"time"

	"tsunagu/internal/store"
)

// Trail is the audit trail of one DB as the programs use it: the viewer's
// page with the chain's state, exports that record themselves, and entries
// for changes that are not in the DB.
type Trail struct {
	db  *store.DB
	now func() time.Time
}

// NewTrail returns the trail of db; clock nil is time.Now.
func NewTrail(db *store.DB, clock func() time.Time) *Trail {
	if clock == nil {
		clock = time.Now
	}
	return &Trail{db: db, now: clock}
}

// Page is the audit viewer's page: entries and the whole chain's state.
type Page struct {
	Entries []Entry `json:"entries"`
	Chain   Report  `json:"chain"`
}

// Page lists entries matching f, newest first, with the result of
// verifying the whole chain.
func (t *Trail) Page(ctx context.Context, f Filter) (Page, error) {
	entries, err := List(ctx, t.db.Reader(), f)
	if err != nil {
		return Page{Entries: []Entry{}}, err
	}
	chain, err := Verify(ctx, t.db.Reader())
	return Page{Entries: entries, Chain: chain}, err
}

// Record appends e in a transaction of its own, for a change that is not
// in the DB (a keychain item, an installer started). A change in the DB is
// recorded with Record in the change's own transaction instead. At
// defaults to the trail's clock.
func (t *Trail) Record(ctx context.Context, e Entry) error {
	if e.At == 0 {
		e.At = t.now().UnixMilli()
	}
	return t.db.Write(ctx, func(tx *sql.Tx) error {
		_, err := Record(ctx, tx, e)
		return err
	})
}

// ExportOptions shape an export.
type ExportOptions struct {
	JSON   bool              // JSON lines instead of CSV (UTF-8 with BOM, for Excel)
	Detail map[string]string // more detail for the export's own entry (the filter as typed)
}

// Export writes every entry matching f (no limit; oldest first) to w. The
// export is recorded first, with the count it holds ("entries"), and
// nothing is written if that fails; the file holds what the entry says.
func (t *Trail) Export(ctx context.Context, actor string, f Filter, opts ExportOptions, w io.Writer) (int64, error) {
	x, err := BeginExport(ctx, t.db.Reader(), f)
	if err != nil {
		return 0, err
	}
	defer x.Close()
	detail := maps.Clone(opts.Detail)
	if detail == nil {
		detail = map[string]string{}
	}
	detail["entries"] = strconv.FormatInt(x.Count, 10)
	if err := t.Record(ctx, Entry{Actor: actor, Action: ActionExport, Detail: detail}); err != nil {
		return 0, err
	}
	write := x.WriteCSV
	if opts.JSON {
		write = x.WriteJSON
	}
	n, err := write(ctx, w)
	if err != nil {
		return n, fmt.Errorf("audit: export after %d of %d entries: %w", n, x.Count, err)
	}
	return n, nil
}

// Verify checks the whole trail's hash chain (audit.Verify).
func (t *Trail) Verify(ctx context.Context) (Report, error) { return Verify(ctx, t.db.Reader()) }

// Actors lists every actor the trail holds, in order, for the viewer's
// actor filter. Each is one seek of audit_by_actor (the next actor after
// the last), so the cost follows the number of actors, not of entries.
func (t *Trail) Actors(ctx context.Context) ([]string, error) {
	out := []string{}
	last := ""
	for {
		var next sql.NullString
		if err := t.db.Reader().QueryRowContext(ctx, `SELECT min(actor) FROM audit_log WHERE actor > ?`, last).Scan(&next); err != nil {
			return nil, fmt.Errorf("audit actors: %w", err)
		}
		if !next.Valid {
			return out, nil
		}
		out = append(out, next.String)
		last = next.String
	}
}
