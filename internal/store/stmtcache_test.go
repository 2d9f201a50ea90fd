package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ncruces/go-sqlite3"
)

// withCached runs fn on the cachedConn behind a pinned database/sql Conn.
func withCached(t *testing.T, c *sql.Conn, fn func(cc *cachedConn)) {
	t.Helper()
	if err := c.Raw(func(dc any) error {
		cc, ok := dc.(*cachedConn)
		if !ok {
			return fmt.Errorf("connection is %T, not a *cachedConn", dc)
		}
		fn(cc)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// liveStmts counts the statements SQLite has not finalized on cc.
func liveStmts(cc *cachedConn) int {
	n := 0
	for range cc.Raw().Stmts() {
		n++
	}
	return n
}

func TestStmtCache(t *testing.T) {
	ctx := context.Background()
	_, _, db := createDB(t)
	if err := db.Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.Exec(`CREATE TABLE cache_t(id INTEGER PRIMARY KEY, v TEXT NOT NULL)`); err != nil {
			return err
		}
		for i := range 20 {
			if _, err := tx.Exec(`INSERT INTO cache_t(id, v) VALUES (?, ?)`, i, fmt.Sprintf("値%d", i)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	const q = `SELECT v FROM cache_t WHERE id = ?`

	t.Run("same results, one statement reused", func(t *testing.T) {
		c, err := db.Reader().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		var p0, r0 int
		withCached(t, c, func(cc *cachedConn) { p0, r0, _ = cc.cacheStats() })
		for i := range 40 {
			var v string
			if err := c.QueryRowContext(ctx, q, i%20).Scan(&v); err != nil {
				t.Fatal(err)
			}
			if want := fmt.Sprintf("値%d", i%20); v != want {
				t.Fatalf("row %d: got %q, want %q", i%20, v, want)
			}
		}
		withCached(t, c, func(cc *cachedConn) {
			p, r, _ := cc.cacheStats()
			if p-p0 != 1 || r-r0 != 39 {
				t.Errorf("prepared %d, reused %d; want 1 and 39", p-p0, r-r0)
			}
		})
		// A missing row and a failing statement leave the cache usable.
		if err := c.QueryRowContext(ctx, q, 999).Scan(new(string)); err != sql.ErrNoRows {
			t.Fatalf("missing row: %v", err)
		}
		if _, err := c.QueryContext(ctx, `SELECT nope FROM cache_t WHERE id = ?`, 1); err == nil {
			t.Fatal("a wrong column was accepted")
		}
		var v string
		if err := c.QueryRowContext(ctx, q, 7).Scan(&v); err != nil || v != "値7" {
			t.Fatalf("after errors: %q %v", v, err)
		}
	})

	t.Run("a bound LIMIT is planned once", func(t *testing.T) {
		c, err := db.Reader().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// The inbox's pages: SQLite re-plans a statement whose plan may
		// depend on a bound value at every run unless the connection has
		// the planner's stability guarantee (initConn).
		const page = `SELECT id FROM cache_t WHERE id < ? ORDER BY id DESC LIMIT ?`
		for i := range 10 {
			rows, err := c.QueryContext(ctx, page, 20-i, 3+i)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for rows.Next() {
				n++
			}
			if err := rows.Close(); err != nil {
				t.Fatal(err)
			}
			if want := min(20-i, 3+i); n != want {
				t.Fatalf("run %d: %d rows, want %d", i, n, want)
			}
		}
		withCached(t, c, func(cc *cachedConn) {
			found := false
			for s := range cc.Raw().Stmts() {
				if s.SQL() != page {
					continue
				}
				found = true
				if runs, again := s.Status(sqlite3.STMTSTATUS_RUN, false), s.Status(sqlite3.STMTSTATUS_REPREPARE, false); runs != 10 || again != 0 {
					t.Errorf("one statement ran %d times and was prepared again %d times; want 10 and 0", runs, again)
				}
			}
			if !found {
				t.Error("the page statement is not cached")
			}
		})
	})

	t.Run("the same SQL twice at once on one connection", func(t *testing.T) {
		var got []string
		err := db.Write(ctx, func(tx *sql.Tx) error {
			rows, err := tx.QueryContext(ctx, q, 3)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var outer, inner string
				if err := rows.Scan(&outer); err != nil {
					return err
				}
				// The outer statement is still stepping: this needs a second one.
				if err := tx.QueryRowContext(ctx, q, 4).Scan(&inner); err != nil {
					return err
				}
				got = append(got, outer, inner)
			}
			return rows.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0] != "値3" || got[1] != "値4" {
			t.Fatalf("got %q", got)
		}
		c, err := db.Writer().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		withCached(t, c, func(cc *cachedConn) {
			_, _, idle := cc.cacheStats()
			// The second copy was finalized when it came back: SQLite holds
			// exactly the idle statements.
			if live := liveStmts(cc); live != idle {
				t.Errorf("%d statements alive, %d idle in the cache", live, idle)
			}
		})
	})

	t.Run("bounded", func(t *testing.T) {
		c, err := db.Reader().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for i := range stmtCacheSize + 30 {
			var n int
			if err := c.QueryRowContext(ctx, fmt.Sprintf(`SELECT ? + %d`, i), 1).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != i+1 {
				t.Fatalf("got %d, want %d", n, i+1)
			}
		}
		withCached(t, c, func(cc *cachedConn) {
			_, _, idle := cc.cacheStats()
			if idle != stmtCacheSize {
				t.Errorf("%d idle statements, want the bound %d", idle, stmtCacheSize)
			}
			if live := liveStmts(cc); live != stmtCacheSize {
				t.Errorf("%d statements alive in SQLite, want %d (evicted ones finalized)", live, stmtCacheSize)
			}
		})
	})

	t.Run("not shared between connections", func(t *testing.T) {
		a, err := db.Reader().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		b, err := db.Reader().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		const own = `SELECT count(*) FROM cache_t WHERE id < ?`
		for range 3 {
			if err := a.QueryRowContext(ctx, own, 5).Scan(new(int)); err != nil {
				t.Fatal(err)
			}
		}
		var pb, rb int
		withCached(t, b, func(cc *cachedConn) { pb, rb, _ = cc.cacheStats() })
		if err := b.QueryRowContext(ctx, own, 5).Scan(new(int)); err != nil {
			t.Fatal(err)
		}
		withCached(t, b, func(cc *cachedConn) {
			p, r, _ := cc.cacheStats()
			if p-pb != 1 || r-rb != 0 {
				t.Errorf("second connection prepared %d, reused %d; want its own statement (1, 0)", p-pb, r-rb)
			}
		})
	})

	t.Run("concurrent readers", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 50 {
					id := (g + i) % 20
					var v string
					if err := db.Reader().QueryRowContext(ctx, q, id).Scan(&v); err != nil {
						errs <- err
						return
					}
					if v != fmt.Sprintf("値%d", id) {
						errs <- fmt.Errorf("row %d: got %q", id, v)
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})

	t.Run("a read-only transaction keeps the reader query_only", func(t *testing.T) {
		c, err := db.Reader().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		tx, err := c.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.QueryRowContext(ctx, q, 1).Scan(new(string)); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		var on bool
		if err := c.QueryRowContext(ctx, `PRAGMA query_only`).Scan(&on); err != nil || !on {
			t.Fatalf("query_only after a read-only transaction: %v %v", on, err)
		}
	})
}

// TestStmtCacheClosedWithConnection: closing a connection finalizes its
// cached statements (SQLite refuses to close a connection that has any) and
// a closed connection prepares nothing.
func TestStmtCacheClosedWithConnection(t *testing.T) {
	ctx := context.Background()
	name := "file:" + filepath.ToSlash(filepath.Join(t.TempDir(), "plain.db")) + "?mode=rwc"
	pool, err := openPool(name, func(c *sqlite3.Conn) error { return c.Exec(`PRAGMA busy_timeout=1000`) }, false)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	dc, err := pool.Driver().(driver.DriverContext).OpenConnector(name)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := dc.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cc := newCachedConn(raw.(interface {
		driver.Conn
		Raw() *sqlite3.Conn
		driver.ConnBeginTx
		driver.ConnPrepareContext
	}), false, 4)
	for i := range 3 {
		s, err := cc.PrepareContext(ctx, fmt.Sprintf(`SELECT %d`, i))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if live := liveStmts(cc); live != 3 {
		t.Fatalf("%d statements alive before close, want 3", live)
	}
	if err := cc.Close(); err != nil {
		t.Fatalf("close with cached statements: %v", err)
	}
	if _, err := cc.PrepareContext(ctx, `SELECT 1`); err != driver.ErrBadConn {
		t.Fatalf("prepare on a closed connection: %v", err)
	}
}
