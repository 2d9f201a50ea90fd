package store

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/ext/fts5"
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
	// PendingWALBytes is the size of a WAL left by a session that did not
	// close (a crash, a power cut, a killed process): transactions not yet
	// in the main file. They were included in the check (the WAL itself is
	// read, not changed) and are written into the main file the next time
	// Tsunagu opens it. 0: no such WAL.
	PendingWALBytes int64
}

// OK reports whether the database is encrypted, opens with the key and
// passed the integrity check.
func (r Report) OK() bool { return r.Encrypted && r.OpensWithKey && r.Integrity == "ok" }

// Verify inspects the database at path without writing or creating any
// file. Findings (plaintext, wrong key, corruption) are reported in the
// Report; the error is for failures to inspect at all, such as a missing
// file (ErrNotExist) or a key of the wrong length.
//
// A -wal file means Tsunagu has the database open, or a session ended
// without closing it (a crash). Open elsewhere, the check is skipped (it
// would wait for, or block, the app; the Report says to close it). After a
// crash, the check reads the main file and the WAL together, as the next
// open will see them, and changes neither: the WAL stays to be recovered
// by that open (PendingWALBytes).
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

	var problems []string
	if wal, werr := os.Lstat(abs + "-wal"); werr == nil {
		var v int
		problems, v, err = checkWithWAL(ctx, abs, key)
		if errors.Is(err, sqlite3.BUSY) {
			r.Integrity = "not checked: a -wal file is present and the database is open (the Tsunagu app or tsunagu-cli is running); close it, then verify again"
			return r, nil
		}
		if err == nil {
			r.SchemaVersion, r.PendingWALBytes = v, wal.Size()
		}
	} else {
		problems, err = checkIntegrity(ctx, abs, key)
	}
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
	return runChecks(c)
}

// runChecks runs integrity_check and foreign_key_check on c.
func runChecks(c *sqlite3.Conn) ([]string, error) {
	var problems []string
	err := query(c, `PRAGMA integrity_check`, func(s *sqlite3.Stmt) {
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

// checkWithWAL runs the checks on the main file and a WAL left by a crash,
// changing neither. The connection is read-write only because SQLite needs
// that to lock the file, and:
//   - takes SQLite's EXCLUSIVE lock before reading, without waiting: it
//     fails with BUSY if any other connection has the database open (each
//     holds a SHARED lock for as long as it is open in WAL mode), so a
//     running app is never read mid-write nor blocked;
//   - in EXCLUSIVE locking mode keeps the WAL index in its own memory,
//     rebuilt from the WAL: the -shm file is not opened;
//   - is query_only and does not checkpoint at close, so the WAL is
//     neither written into the main file nor deleted.
//
// It also returns the schema version as of the WAL.
func checkWithWAL(ctx context.Context, path string, key []byte) ([]string, int, error) {
	c, err := sqlite3.OpenFlags(fileURI(path, "rw", false), sqlite3.OPEN_READWRITE|sqlite3.OPEN_URI)
	if err != nil {
		return nil, 0, err
	}
	defer c.Close()
	c.SetInterrupt(ctx)
	if _, err := c.Config(sqlite3.DBCONFIG_NO_CKPT_ON_CLOSE, true); err != nil {
		return nil, 0, fmt.Errorf("no checkpoint on close: %w", err)
	}
	for _, p := range []string{
		`PRAGMA hexkey='` + hex.EncodeToString(key) + `'`,
		`PRAGMA busy_timeout=0`,
		`PRAGMA query_only=ON`,
		// Before the first read, so that the WAL index is private.
		`PRAGMA locking_mode=EXCLUSIVE`,
	} {
		if err := c.Exec(p); err != nil {
			return nil, 0, fmt.Errorf("set up verification: %w", err)
		}
	}
	if err := fts5.Register(c); err != nil {
		return nil, 0, fmt.Errorf("register fts5: %w", err)
	}
	var version int
	if err := query(c, `PRAGMA user_version`, func(s *sqlite3.Stmt) { version = s.ColumnInt(0) }); err != nil {
		return nil, 0, err
	}
	problems, err := runChecks(c)
	return problems, version, err
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
