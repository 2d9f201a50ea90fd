package store

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/ncruces/go-sqlite3"
)

func TestWriteRaw(t *testing.T) {
	ctx := context.Background()
	_, _, db := createDB(t)
	count := func() int {
		t.Helper()
		var n int
		if err := db.Reader().QueryRowContext(ctx, `SELECT count(*) FROM line_users`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	insert := func(id string) func(c *sqlite3.Conn) error {
		return func(c *sqlite3.Conn) error {
			return c.Exec(`INSERT INTO line_users(user_id, created_at) VALUES ('` + id + `', 1)`)
		}
	}

	// fn's error rolls back what it wrote.
	errFn := errors.New("fn failed")
	err := db.WriteRaw(ctx, func(c *sqlite3.Conn) error {
		if err := insert("U1")(c); err != nil {
			return err
		}
		return errFn
	}, nil)
	if !errors.Is(err, errFn) || count() != 0 {
		t.Fatalf("fn failed: err %v, %d rows; want fn's error and none", err, count())
	}

	// then runs in the same transaction: it sees fn's row, and its error
	// rolls back fn's writes too.
	errThen := errors.New("then failed")
	seen := 0
	err = db.WriteRaw(ctx, insert("U1"), func(tx *sql.Tx) error {
		if err := tx.QueryRow(`SELECT count(*) FROM line_users WHERE user_id = 'U1'`).Scan(&seen); err != nil {
			return err
		}
		return errThen
	})
	if !errors.Is(err, errThen) || seen != 1 || count() != 0 {
		t.Fatalf("then failed: err %v, then saw %d rows, %d after; want then's error, 1, 0", err, seen, count())
	}

	// A panic rolls back and goes on.
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Fatalf("panic not propagated: %v", r)
			}
		}()
		db.WriteRaw(ctx, func(c *sqlite3.Conn) error {
			if err := insert("U1")(c); err != nil {
				return err
			}
			panic("boom")
		}, nil)
	}()
	if n := count(); n != 0 {
		t.Fatalf("panic did not roll back: %d rows", n)
	}

	// Both succeed: one commit, and the writer is usable through
	// database/sql afterwards.
	if err := db.WriteRaw(ctx, insert("U1"), func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO line_users(user_id, created_at) VALUES ('U2', 1)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 2 {
		t.Fatalf("commit: %d rows, want 2", n)
	}
	if err := db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO line_users(user_id, created_at) VALUES ('U3', 1)`)
		return err
	}); err != nil {
		t.Fatalf("Write after WriteRaw: %v", err)
	}

	// Cancelling ctx interrupts a running statement and rolls back.
	cctx, cancel := context.WithCancel(ctx)
	timer := time.AfterFunc(100*time.Millisecond, cancel)
	defer timer.Stop()
	err = db.WriteRaw(cctx, func(c *sqlite3.Conn) error {
		if err := insert("U4")(c); err != nil {
			return err
		}
		// Runs until interrupted.
		return c.Exec(`WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT count(*) FROM n`)
	}, nil)
	if err == nil || cctx.Err() == nil {
		t.Fatalf("interrupted statement: err %v", err)
	}
	if n := count(); n != 3 {
		t.Fatalf("cancelled WriteRaw left %d rows, want 3", n)
	}
}
