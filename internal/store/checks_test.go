package store

import (
	"context"
	"database/sql"
	"strings"
	"testing"
)

// TestListChecksAreOrChains: the hot tables' CHECK (x IN (...)) constraints
// are rewritten as OR chains (migration 0014) and still refuse what they
// refused before, on the writer (whose schema was reloaded in place) and on
// a fresh open.
func TestListChecksAreOrChains(t *testing.T) {
	ctx := context.Background()
	path, key, db := createDB(t)
	// consents is a view since 0015 (its checks are the customers columns'
	// and the view's insert trigger).
	hot := []string{"customers", "contact_points", "products", "messages"}
	assertRewritten := func(db *DB) {
		t.Helper()
		for _, name := range hot {
			var ddl string
			if err := db.Reader().QueryRowContext(ctx, `SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?`, name).Scan(&ddl); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if strings.Contains(ddl, " IN (") {
				t.Errorf("%s still has a list check:\n%s", name, ddl)
			}
		}
	}
	refused := []struct {
		name, sql string
	}{
		{"gender", `INSERT INTO customers (customer_no, name, gender, created_at, updated_at) VALUES ('x1', 'n', 'x', 1, 1)`},
		{"customer status", `INSERT INTO customers (customer_no, name, status, created_at, updated_at) VALUES ('x2', 'n', 'gone', 1, 1)`},
		{"consent channel", `INSERT INTO consents (customer_id, channel, granted, source, recorded_at) VALUES (1, 'fax', 1, 's', 1)`},
		{"consent granted", `INSERT INTO consents (customer_id, channel, granted, source, recorded_at) VALUES (1, 'line', 2, 's', 1)`},
		{"contact kind", `INSERT INTO contact_points (customer_id, kind, value, source, created_at) VALUES (1, 'fax', '1', 's', 1)`},
		{"product status", `INSERT INTO products (customer_id, type, status, created_at) VALUES (1, 't', 'open', 1)`},
	}
	check := func(db *DB) {
		t.Helper()
		err := db.Write(ctx, func(tx *sql.Tx) error {
			_, err := tx.Exec(`INSERT INTO customers (customer_no, name, gender, status, created_at, updated_at) VALUES ('ok', 'n', '', 'inactive', 1, 1)`)
			return err
		})
		if err != nil {
			t.Fatalf("a valid customer was refused: %v", err)
		}
		for _, r := range refused {
			err := db.Write(ctx, func(tx *sql.Tx) error { _, err := tx.Exec(r.sql); return err })
			if err == nil || !strings.Contains(err.Error(), "CHECK") {
				t.Errorf("%s: want a CHECK failure, got %v", r.name, err)
			}
		}
		if err := db.Write(ctx, func(tx *sql.Tx) error {
			_, err := tx.Exec(`DELETE FROM customers WHERE customer_no = 'ok'`)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	assertRewritten(db)
	check(db)
	var ok string
	if err := db.Reader().QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check: %q %v", ok, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := Open(ctx, path, key)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	assertRewritten(db)
	check(db)
}
