package importer

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ncruces/go-sqlite3"
)

// The writer side of an import: the statements that upsert customers
// (contracts.go: contracts; attributes.go: tags and attributes) through
// SQLite's statement API on the store's writer connection, instead of
// database/sql: a million-row import runs a few statements per row, and
// database/sql's per-call work (locks, argument conversion, a Rows object
// per RETURNING) cost about 40% of the time.

// prepare records the import in its history and prepares the statements.
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
	// Before any row is written: with no active customer yet (a first
	// import), none can be missing and missing skips reading the table.
	var active int64
	if err := queryInt(c, `SELECT EXISTS (SELECT 1 FROM customers WHERE status = 'active')`, &active); err != nil {
		return fmt.Errorf("import: prepare: %w", err)
	}
	r.anyActive = active != 0
	r.pending = make([]*row, 0, upsertRows)
	for _, c := range customerColumns {
		if r.norm.fields[c.field] {
			r.columnValues = append(r.columnValues, fieldIndex[c.field])
		}
	}
	for _, c := range consentFields {
		if r.norm.fields[c.field] {
			r.consents = append(r.consents, c.field)
			r.consentValues = append(r.consentValues, fieldIndex[c.field])
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

// flush writes the buffered customers.
func (r *run) flush(ctx context.Context) error {
	if err := r.upsertPending(); err != nil {
		return errors.Join(ctx.Err(), fmt.Errorf("import: customers: %w", err))
	}
	return ctx.Err()
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
		for _, i := range r.columnValues {
			if err := stmt.BindText(p, row.values[i]); err != nil {
				return err
			}
			p++
		}
		if err := stmt.BindInt64(p, int64(row.hash)); err != nil {
			return err
		}
		p++
		for _, i := range r.consentValues {
			var err error
			switch row.values[i] {
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
	if !r.anyActive {
		return nil
	}
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

// bind binds args to stmt's parameters 1..len(args).
func bind(stmt *sqlite3.Stmt, args ...any) error {
	for i, a := range args {
		var err error
		switch v := a.(type) {
		case string:
			err = stmt.BindText(i+1, v)
		case int64:
			err = stmt.BindInt64(i+1, v)
		case int:
			err = stmt.BindInt64(i+1, int64(v))
		case bool:
			err = stmt.BindBool(i+1, v)
		case nil:
			err = stmt.BindNull(i + 1)
		default:
			err = fmt.Errorf("bind parameter %d: unsupported type %T", i+1, a)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// execStmt binds args, runs stmt to completion and resets it.
func execStmt(stmt *sqlite3.Stmt, args ...any) error {
	if err := bind(stmt, args...); err != nil {
		return err
	}
	err := stmt.Exec()
	return errors.Join(err, stmt.ClearBindings())
}

// execSQL prepares, runs and closes one statement.
func execSQL(c *sqlite3.Conn, query string, args ...any) error {
	stmt, _, err := c.Prepare(query)
	if err != nil {
		return err
	}
	defer stmt.Close()
	return execStmt(stmt, args...)
}

// queryInt runs a one-row, one-column query into v.
func queryInt(c *sqlite3.Conn, query string, v *int64) error {
	stmt, _, err := c.Prepare(query)
	if err != nil {
		return err
	}
	defer stmt.Close()
	if !stmt.Step() {
		return errors.Join(stmt.Err(), errors.New("no row"))
	}
	*v = stmt.ColumnInt64(0)
	return stmt.Err()
}
