package store

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ncruces/go-sqlite3/driver"
)

// createAtVersion creates an encrypted database with only the first n
// migrations applied (the schema an older Tsunagu left), runs fill on it
// and closes it, so that Open applies the rest as it would after an update.
func createAtVersion(t *testing.T, n int, fill func(tx *sql.Tx) error) (path string, key []byte) {
	t.Helper()
	ctx := context.Background()
	migs, err := loadMigrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	path, key = filepath.Join(t.TempDir(), "tsunagu.db"), newKey(t)
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	w, err := driver.Open(fileURI(path, "rw", false), initConn(hex.EncodeToString(key), false))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.SetMaxOpenConns(1)
	if _, err := w.ExecContext(ctx, `PRAGMA journal_mode=WAL`); err != nil {
		t.Fatal(err)
	}
	if err := migrate(ctx, w, migs[:n]); err != nil {
		t.Fatal(err)
	}
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := fill(tx); err != nil {
		tx.Rollback()
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return path, key
}

// consentRow is a row of the consents table (before 0015) or view (after).
type consentRow struct {
	customer   int64
	channel    string
	granted    int
	source     string
	recordedAt int64
}

func readConsents(t *testing.T, db *DB) []consentRow {
	t.Helper()
	rows, err := db.Reader().Query(`SELECT customer_id, channel, granted, source, recorded_at FROM consents ORDER BY customer_id, channel`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []consentRow
	for rows.Next() {
		var r consentRow
		if err := rows.Scan(&r.customer, &r.channel, &r.granted, &r.source, &r.recordedAt); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// consentColumns is one channel's three columns of a customer, NULL as -1.
func consentColumns(t *testing.T, db *DB, customer int64, channel string) string {
	t.Helper()
	var (
		granted sql.NullInt64
		source  string
		at      int64
	)
	q := fmt.Sprintf(`SELECT consent_%[1]s, consent_%[1]s_source, consent_%[1]s_at FROM customers WHERE id = ?`, channel)
	if err := db.Reader().QueryRow(q, customer).Scan(&granted, &source, &at); err != nil {
		t.Fatal(err)
	}
	g := int64(-1)
	if granted.Valid {
		g = granted.Int64
	}
	return fmt.Sprintf("%d %q %d", g, source, at)
}

// TestConsentColumnsMigration: consents recorded before migration 0015 end
// up in the customers columns and read the same through the consents view;
// the view's triggers write and clear the columns and refuse what the old
// table refused.
func TestConsentColumnsMigration(t *testing.T) {
	ctx := context.Background()
	before := []consentRow{
		{1, "email", 0, "staff:sato", 200},
		{1, "line", 1, "import:a.csv", 100},
		{1, "postal", 1, "import:a.csv", 100},
		{2, "sms", 0, "line", 300},
	}
	path, key := createAtVersion(t, 14, func(tx *sql.Tx) error {
		for _, no := range []string{"A", "B", "C"} {
			if _, err := tx.Exec(`INSERT INTO customers (customer_no, name, created_at, updated_at) VALUES (?, ?, 1, 1)`, no, "顧客"+no); err != nil {
				return err
			}
		}
		for _, r := range before {
			if _, err := tx.Exec(`INSERT INTO consents (customer_id, channel, granted, source, recorded_at) VALUES (?, ?, ?, ?, ?)`,
				r.customer, r.channel, r.granted, r.source, r.recordedAt); err != nil {
				return err
			}
		}
		return nil
	})
	db, err := Open(ctx, path, key)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	var kind string
	if err := db.Reader().QueryRow(`SELECT type FROM sqlite_schema WHERE name = 'consents'`).Scan(&kind); err != nil || kind != "view" {
		t.Fatalf("consents is a %q (%v), want a view", kind, err)
	}
	for _, tc := range []struct {
		customer int64
		channel  string
		want     string
	}{
		{1, "line", `1 "import:a.csv" 100`},
		{1, "email", `0 "staff:sato" 200`},
		{1, "sms", `-1 "" 0`},
		{1, "postal", `1 "import:a.csv" 100`},
		{2, "line", `-1 "" 0`},
		{2, "sms", `0 "line" 300`},
		{3, "line", `-1 "" 0`},
		{3, "postal", `-1 "" 0`},
	} {
		if got := consentColumns(t, db, tc.customer, tc.channel); got != tc.want {
			t.Errorf("customer %d %s: columns %s, want %s", tc.customer, tc.channel, got, tc.want)
		}
	}
	if got := readConsents(t, db); !reflect.DeepEqual(got, before) {
		t.Fatalf("view after the migration:\n got %v\nwant %v", got, before)
	}

	write := func(q string, args ...any) error {
		return db.Write(ctx, func(tx *sql.Tx) error { _, err := tx.Exec(q, args...); return err })
	}
	// Insert records a consent, a second insert replaces it, delete clears
	// only its own channel.
	if err := write(`INSERT INTO consents (customer_id, channel, granted, source, recorded_at) VALUES (3, 'sms', 1, 'staff:ito', 400)`); err != nil {
		t.Fatal(err)
	}
	if err := write(`INSERT INTO consents VALUES (1, 'line', 0, 'line', 500)`); err != nil {
		t.Fatal(err)
	}
	if err := write(`DELETE FROM consents WHERE customer_id = 1 AND channel = 'email'`); err != nil {
		t.Fatal(err)
	}
	if got := consentColumns(t, db, 1, "email"); got != `-1 "" 0` {
		t.Errorf("deleted consent left columns %s", got)
	}
	after := []consentRow{
		{1, "line", 0, "line", 500},
		{1, "postal", 1, "import:a.csv", 100},
		{2, "sms", 0, "line", 300},
		{3, "sms", 1, "staff:ito", 400},
	}
	if got := readConsents(t, db); !reflect.DeepEqual(got, after) {
		t.Fatalf("view after insert and delete:\n got %v\nwant %v", got, after)
	}

	for _, tc := range []struct {
		name, sql, want string
	}{
		{"unknown channel", `INSERT INTO consents VALUES (3, 'fax', 1, 's', 1)`, "CHECK"},
		{"no channel", `INSERT INTO consents VALUES (3, NULL, 1, 's', 1)`, "CHECK"},
		{"granted 2", `INSERT INTO consents VALUES (3, 'line', 2, 's', 1)`, "CHECK"},
		{"granted NULL", `INSERT INTO consents VALUES (3, 'line', NULL, 's', 1)`, "CHECK"},
		{"no source", `INSERT INTO consents VALUES (3, 'line', 1, NULL, 1)`, "NOT NULL"},
		{"missing customer", `INSERT INTO consents VALUES (99, 'line', 1, 's', 1)`, "FOREIGN KEY"},
		{"column out of range", `UPDATE customers SET consent_email = 2 WHERE id = 3`, "CHECK"},
	} {
		if err := write(tc.sql); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want a %s failure", tc.name, err, tc.want)
		}
	}
	if got := readConsents(t, db); !reflect.DeepEqual(got, after) {
		t.Fatalf("refused writes changed the consents:\n got %v\nwant %v", got, after)
	}

	var ok string
	if err := db.Reader().QueryRow(`PRAGMA integrity_check`).Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check: %q %v", ok, err)
	}
}
