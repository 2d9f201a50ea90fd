package importer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/ncruces/go-sqlite3"
)

// The import writes through SQLite's statement API on the store's writer
// connection instead of database/sql: a million-row import runs a few
// statements per row, and database/sql's per-call work (locks, argument
// conversion, a Rows object per RETURNING) cost about 40% of the time.
// The transaction is the same as store.DB.Write's: BEGIN IMMEDIATE on the
// one writer, rolled back on any error, cancellation or panic.

// rawConn is the ncruces driver connection.
type rawConn interface{ Raw() *sqlite3.Conn }

// withWriteTx runs fn in one BEGIN IMMEDIATE transaction on a connection of
// db (the store's single writer), then audit (if not nil) in the same
// transaction through database/sql, committing only if both return nil.
func withWriteTx(ctx context.Context, db *sql.DB, fn func(c *sqlite3.Conn) error, audit func(tx *sql.Tx) error) error {
	conn, err := db.Conn(ctx)
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
	err = conn.Raw(func(dc any) error {
		rc, ok := dc.(rawConn)
		if !ok {
			return errors.New("begin transaction: not an ncruces SQLite connection")
		}
		c := rc.Raw()
		// Cancelling ctx interrupts a running statement too.
		old := c.SetInterrupt(ctx)
		defer c.SetInterrupt(old)
		return fn(c)
	})
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if audit != nil {
		if err := audit(tx); err != nil {
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
