package store

import (
	"context"
	"fmt"
)

// LockExclusive makes db's writer hold SQLite's exclusive lock until Close,
// so no other process can read or write the file meanwhile (key rotation
// replaces the file and must be alone). It fails, without waiting longer
// than the busy timeout, if another process has the database open.
//
// The read-only pool's idle connections are closed first: they would hold
// the lock off too. Until Close, use only the writer (Write, VacuumInto):
// a new reader connection would wait for the lock.
func LockExclusive(ctx context.Context, db *DB) error {
	db.reader.SetMaxIdleConns(0)
	if _, err := db.writer.ExecContext(ctx, `PRAGMA locking_mode=EXCLUSIVE`); err != nil {
		return fmt.Errorf("exclusive lock: %w", err)
	}
	// The lock is taken by the next write and then kept.
	if _, err := db.writer.ExecContext(ctx, `BEGIN EXCLUSIVE; COMMIT`); err != nil {
		db.writer.ExecContext(ctx, `PRAGMA locking_mode=NORMAL`)
		return fmt.Errorf("exclusive lock: %w", err)
	}
	return nil
}
