package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/ncruces/go-sqlite3"
)

// WriteRaw runs fn in one transaction on the writer (BEGIN IMMEDIATE, as
// Write), with SQLite's own connection instead of database/sql, then then
// (if not nil) in the same transaction through database/sql. It commits
// only if both return nil and ctx is not done; on an error, a cancellation
// or a panic everything is rolled back.
//
// It is for bulk writes (an import of a million rows) where database/sql's
// per-statement work would cost more than SQLite itself; then is where the
// audit entry goes, written with the same helpers as every other write.
// Cancelling ctx interrupts a statement fn is running.
func (db *DB) WriteRaw(ctx context.Context, fn func(c *sqlite3.Conn) error, then func(tx *sql.Tx) error) error {
	return WriteRaw(ctx, db.writer, fn, then)
}

// rawConn is the ncruces driver connection.
type rawConn interface{ Raw() *sqlite3.Conn }

// WriteRaw is DB.WriteRaw on any database/sql pool of the ncruces driver;
// benchmarks use it on an unencrypted database to compare against.
func WriteRaw(ctx context.Context, pool *sql.DB, fn func(c *sqlite3.Conn) error, then func(tx *sql.Tx) error) error {
	conn, err := pool.Conn(ctx)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer conn.Close()
	// The transaction is begun without ctx's cancellation, so database/sql
	// does not roll it back from another goroutine while fn holds the raw
	// connection; cancellation interrupts fn's statements instead (below)
	// and the deferred Rollback ends the transaction.
	tx, err := conn.BeginTx(context.WithoutCancel(ctx), nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer tx.Rollback() // no-op after Commit
	// A panic must not leave conn.Raw by unwinding: database/sql then
	// closes the connection while holding its own lock and hangs. It is
	// caught here and raised again once the transaction is rolled back.
	var panicked any
	err = conn.Raw(func(dc any) (err error) {
		defer func() {
			if r := recover(); r != nil {
				panicked, err = r, errors.New("panic")
			}
		}()
		rc, ok := dc.(rawConn)
		if !ok {
			return errors.New("begin transaction: not an ncruces SQLite connection")
		}
		c := rc.Raw()
		old := c.SetInterrupt(ctx)
		defer c.SetInterrupt(old)
		return fn(c)
	})
	if panicked != nil {
		tx.Rollback()
		panic(panicked)
	}
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if then != nil {
		if err := then(tx); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
