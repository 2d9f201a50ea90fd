package store

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/driver"
)

// VacuumInto writes a consistent, compacted copy of the database to path,
// encrypted with key (the same key for a backup, a new one for a key
// rotation). It reads one snapshot of the database while the app keeps
// working, and never changes the database itself. path must not exist.
//
// The copy has no free pages, so data deleted before the copy (e.g. on a
// customer's request) is not in it even as leftovers.
//
// SQLite can give VACUUM INTO's target a key only in its URI: the key is in
// this one statement's argument for its duration and in no connection that
// outlives the call. Errors carry SQLite's error code, never the URI.
func (db *DB) VacuumInto(ctx context.Context, path string, key []byte) error {
	path, err := prepare(path, key)
	if err != nil {
		return fmt.Errorf("copy database: %w", err)
	}
	for _, p := range sidecars(path) {
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("copy database to %s: %w", p, ErrExists)
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("copy database: %w", err)
	}
	uri := fileURI(path, "rwc", false) + "&hexkey=" + hex.EncodeToString(key)
	if _, err := db.writer.ExecContext(ctx, `VACUUM INTO ?`, uri); err != nil {
		for _, p := range sidecars(path) {
			os.Remove(p)
		}
		return fmt.Errorf("copy database to %s: %w", path, redact(err))
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return fmt.Errorf("copy database: %w", err)
	}
	return syncFile(path)
}

// redact keeps only SQLite's error code: the message of a failed VACUUM
// INTO may quote its argument, which holds the key.
func redact(err error) error {
	var se *sqlite3.Error
	if errors.As(err, &se) {
		return fmt.Errorf("sqlite error %d (%s)", se.ExtendedCode(), se.Code().Error())
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return errors.New("sqlite error")
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// OpenSnapshot opens a closed database file (a backup) read-only and
// immutable: nothing is written, no -wal or -shm is created, and it is not
// migrated. Close the returned pool when done.
func OpenSnapshot(ctx context.Context, path string, key []byte) (*sql.DB, error) {
	path, err := prepare(path, key)
	if err != nil {
		return nil, fmt.Errorf("open snapshot: %w", err)
	}
	if err := checkFile(path); err != nil {
		return nil, fmt.Errorf("open snapshot %s: %w", path, err)
	}
	db, err := driver.Open(fileURI(path, "ro", true), initConn(hex.EncodeToString(key), true))
	if err != nil {
		return nil, fmt.Errorf("open snapshot %s: %w", path, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open snapshot %s: %w", path, mapOpenErr(err))
	}
	return db, nil
}
