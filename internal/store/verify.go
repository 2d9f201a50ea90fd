package store

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/ncruces/go-sqlite3"
)

// Report describes a database file, for `tsunagu-cli db verify`.
type Report struct {
	Path string
	// Encrypted: the file is not a plaintext SQLite database and has the
	// size of an encrypted one. Only OpensWithKey proves it is ours.
	Encrypted bool
	// OpensWithKey: the key decrypts the file.
	OpensWithKey bool
	// Integrity is "ok", or the problems found by PRAGMA integrity_check
	// and foreign_key_check one per line, or "not checked: <reason>".
	Integrity string
	// SchemaVersion is PRAGMA user_version: the number of migrations
	// applied. It may exceed the migrations this build knows.
	SchemaVersion int
	SizeBytes     int64
}

// OK reports whether the database is encrypted, opens with the key and
// passed the integrity check.
func (r Report) OK() bool { return r.Encrypted && r.OpensWithKey && r.Integrity == "ok" }

// Verify inspects the database at path without writing or creating any
// file. Findings (plaintext, wrong key, corruption) are reported in the
// Report; the error is for failures to inspect at all, such as a missing
// file (ErrNotExist) or a key of the wrong length.
//
// The integrity check needs the database closed: if a -wal file exists
// (Tsunagu is running, or was not closed cleanly), it is skipped, because
// reading the main file alone would see an incomplete database.
func Verify(ctx context.Context, path string, key []byte) (Report, error) {
	r := Report{Path: path}
	abs, err := prepare(path, key)
	if err != nil {
		return r, fmt.Errorf("verify database: %w", err)
	}
	r.Path = abs
	st, err := os.Stat(abs)
	if errors.Is(err, os.ErrNotExist) {
		return r, fmt.Errorf("verify database %s: %w", abs, ErrNotExist)
	}
	if err != nil {
		return r, fmt.Errorf("verify database: %w", err)
	}
	r.SizeBytes = st.Size()

	switch err := checkFile(abs); {
	case errors.Is(err, ErrPlaintext), errors.Is(err, ErrNotEncrypted):
		r.Integrity = "not checked: " + err.Error()
		return r, nil
	case err != nil:
		return r, fmt.Errorf("verify database %s: %w", abs, err)
	}
	r.Encrypted = true

	version, err := probe(ctx, abs, key)
	switch {
	case errors.Is(err, ErrWrongKey):
		r.Integrity = "not checked: " + ErrWrongKey.Error()
		return r, nil
	case err != nil:
		return r, fmt.Errorf("verify database %s: %w", abs, err)
	}
	r.OpensWithKey = true
	r.SchemaVersion = version

	if _, err := os.Lstat(abs + "-wal"); err == nil {
		r.Integrity = "not checked: a -wal file is present (Tsunagu is running or was not closed cleanly); close Tsunagu, or open and close it once, then verify again"
		return r, nil
	}

	problems, err := checkIntegrity(ctx, abs, key)
	if errors.Is(err, sqlite3.CORRUPT) {
		// So damaged that the check itself cannot run: that is the finding.
		problems, err = []string{err.Error()}, nil
	}
	if err != nil {
		return r, fmt.Errorf("verify database %s: %w", abs, err)
	}
	r.Integrity = "ok"
	if len(problems) > 0 {
		r.Integrity = strings.Join(problems, "\n")
	}
	return r, nil
}

// checkIntegrity runs SQLite's consistency checks on an immutable,
// read-only connection (no locks, no WAL, no -shm: nothing is written).
func checkIntegrity(ctx context.Context, path string, key []byte) ([]string, error) {
	c, err := sqlite3.OpenFlags(fileURI(path, "ro", true), sqlite3.OPEN_READONLY|sqlite3.OPEN_URI)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	c.SetInterrupt(ctx)
	if err := initConn(hex.EncodeToString(key), true)(c); err != nil {
		return nil, err
	}

	var problems []string
	err = query(c, `PRAGMA integrity_check`, func(s *sqlite3.Stmt) {
		if msg := s.ColumnText(0); msg != "ok" {
			problems = append(problems, msg)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("integrity check: %w", err)
	}
	// Only table names and row ids: no customer data in the report.
	err = query(c, `PRAGMA foreign_key_check`, func(s *sqlite3.Stmt) {
		problems = append(problems, fmt.Sprintf("foreign key violation: %s row %d references missing %s",
			s.ColumnText(0), s.ColumnInt64(1), s.ColumnText(2)))
	})
	if err != nil {
		return nil, fmt.Errorf("foreign key check: %w", err)
	}
	return problems, nil
}

// query runs a statement and calls row for each result row.
func query(c *sqlite3.Conn, sql string, row func(*sqlite3.Stmt)) error {
	stmt, _, err := c.Prepare(sql)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for stmt.Step() {
		row(stmt)
	}
	if err := stmt.Err(); err != nil {
		return err
	}
	return stmt.Close()
}
