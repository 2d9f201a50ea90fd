// Package storetest is the one encrypted-DB fixture of the tests: a real
// encrypted database (never a plain one) in the test's temp folder, closed
// when the test ends.
package storetest

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"testing"

	"tsunagu/internal/store"
)

// DB is a test database with what a test needs to reopen it.
type DB struct {
	*store.DB
	Path string
	Key  []byte
}

// New creates an encrypted DB with a random key in tb's temp folder.
func New(tb testing.TB) *store.DB { return NewAt(tb, filepath.Join(tb.TempDir(), "tsunagu.db")).DB }

// NewAt creates an encrypted DB at path with a random key, for tests that
// reopen it, copy it, or hand its path and key to a child process.
func NewAt(tb testing.TB, path string) DB {
	tb.Helper()
	key := Key()
	db, err := store.Create(context.Background(), path, key)
	if err != nil {
		tb.Fatalf("create test DB: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return DB{DB: db, Path: path, Key: key}
}

// Open reopens a test DB (after a crash, a restore, a key change), closed
// when the test ends.
func Open(tb testing.TB, path string, key []byte) *store.DB {
	tb.Helper()
	db, err := store.Open(context.Background(), path, key)
	if err != nil {
		tb.Fatalf("open test DB: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// Key is a random DB key.
func Key() []byte {
	key := make([]byte, store.KeySize)
	rand.Read(key)
	return key
}
