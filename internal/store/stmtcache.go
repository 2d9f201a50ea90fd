package store

import (
	"container/list"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/ncruces/go-sqlite3"
	sqlitedriver "github.com/ncruces/go-sqlite3/driver"
)

// stmtCacheSize bounds the prepared statements kept per connection. The
// app's hot paths (the inbox, the engine's writes) use a few dozen distinct
// statements; a statement costs a few KiB of the connection's memory.
const stmtCacheSize = 128

// openPool opens a database/sql pool over the ncruces driver whose
// connections keep their prepared statements (see cachedConn). init runs
// first on every new connection; readOnly marks connections opened
// read-only with PRAGMA query_only.
//
// database/sql prepares a statement anew for every Query and for every Exec
// with arguments, and closes it after: SQLite parsed the same SQL again on
// every call, a third of the CPU of 20 seats reading the inbox.
func openPool(name string, init func(*sqlite3.Conn) error, readOnly bool) (*sql.DB, error) {
	if readOnly {
		// The driver's default for a connection it does not know to be
		// read-only is BEGIN IMMEDIATE, which a read-only file refuses.
		name += "&_txlock=deferred"
	}
	inner, err := (&sqlitedriver.SQLite{}).OpenConnector(name)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(&cachingConnector{inner: inner, init: init, readOnly: readOnly, size: stmtCacheSize}), nil
}

type cachingConnector struct {
	inner    driver.Connector
	init     func(*sqlite3.Conn) error
	readOnly bool
	size     int
}

func (n *cachingConnector) Driver() driver.Driver { return n.inner.Driver() }

func (n *cachingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := n.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	c, ok := dc.(sqlitedriver.Conn)
	if !ok {
		dc.Close()
		return nil, errors.New("open connection: not an ncruces SQLite connection")
	}
	if n.init != nil {
		raw := c.Raw()
		old := raw.SetInterrupt(ctx)
		err := n.init(raw)
		raw.SetInterrupt(old)
		if err != nil {
			c.Close()
			return nil, err
		}
	}
	return newCachedConn(c, n.readOnly, n.size), nil
}

// cachedConn is one SQLite connection that keeps up to max idle prepared
// statements, least recently used dropped first. A statement is taken out
// of the cache while in use and put back (reset, bindings cleared) when
// database/sql closes it, so the same SQL running twice at once on the
// connection (a query inside another's rows loop) gets a second statement,
// which is finalized when it comes back while the first is idle.
type cachedConn struct {
	sqlitedriver.Conn
	readOnly bool
	max      int

	mu     sync.Mutex
	idle   map[string]*list.Element // SQL → element of lru holding its *cachedStmt
	lru    *list.List               // front: most recently put back
	closed bool
	// Counters for tests: statements prepared and statements reused.
	prepared, reused int
}

var (
	_ driver.ExecerContext      = (*cachedConn)(nil)
	_ driver.ConnPrepareContext = (*cachedConn)(nil)
	_ driver.ConnBeginTx        = (*cachedConn)(nil)
	_ driver.NamedValueChecker  = (*cachedConn)(nil)
)

func newCachedConn(c sqlitedriver.Conn, readOnly bool, max int) *cachedConn {
	return &cachedConn{Conn: c, readOnly: readOnly, max: max, idle: map[string]*list.Element{}, lru: list.New()}
}

func (c *cachedConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *cachedConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, driver.ErrBadConn
	}
	if e, ok := c.idle[query]; ok {
		s := c.lru.Remove(e).(*cachedStmt)
		delete(c.idle, query)
		c.reused++
		c.mu.Unlock()
		return s, nil
	}
	c.mu.Unlock()

	ds, err := c.Conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	// SQL with no statement in it (blank, a comment) has no SQLite
	// statement to reset: it is not kept.
	if blankSQL(query) {
		return ds, nil
	}
	rs, ok := ds.(resettable)
	if !ok {
		return ds, nil
	}
	c.mu.Lock()
	c.prepared++
	c.mu.Unlock()
	return &cachedStmt{Stmt: ds, reset: rs, conn: c, query: query}, nil
}

// put takes back a statement database/sql has closed.
func (c *cachedConn) put(s *cachedStmt) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return s.Stmt.Close()
	}
	// Reset ends the statement's read (an idle statement must not hold a
	// WAL snapshot); its error is the last step's, already returned to
	// whoever ran it.
	_ = s.reset.Reset()
	if err := s.reset.ClearBindings(); err != nil {
		return s.Stmt.Close()
	}
	if _, dup := c.idle[s.query]; dup {
		return s.Stmt.Close()
	}
	c.idle[s.query] = c.lru.PushFront(s)
	for c.lru.Len() > c.max {
		old := c.lru.Remove(c.lru.Back()).(*cachedStmt)
		delete(c.idle, old.query)
		old.Stmt.Close()
	}
	return nil
}

// Close finalizes the idle statements, then closes the connection (SQLite
// refuses to close a connection with statements left).
func (c *cachedConn) Close() error {
	c.mu.Lock()
	c.closed = true
	var errs []error
	for e := c.lru.Front(); e != nil; e = e.Next() {
		if err := e.Value.(*cachedStmt).Stmt.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	c.lru.Init()
	clear(c.idle)
	c.mu.Unlock()
	if err := c.Conn.Close(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("close connection: %w", errors.Join(errs...))
	}
	return nil
}

func (c *cachedConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if ex, ok := c.Conn.(driver.ExecerContext); ok {
		return ex.ExecContext(ctx, query, args)
	}
	return nil, driver.ErrSkip
}

func (c *cachedConn) CheckNamedValue(v *driver.NamedValue) error {
	if ch, ok := c.Conn.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(v)
	}
	return driver.ErrSkip
}

func (c *cachedConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	// A read-only connection is query_only already; asking the driver for a
	// read-only transaction would switch query_only off at its end.
	if c.readOnly {
		opts.ReadOnly = false
	}
	return c.Conn.BeginTx(ctx, opts)
}

// cacheStats returns how many statements the connection prepared and
// reused, and how many are idle in its cache.
func (c *cachedConn) cacheStats() (prepared, reused, idle int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.prepared, c.reused, c.lru.Len()
}

// resettable is the part of the driver's statement (it embeds a
// *sqlite3.Stmt) the cache needs to make it ready again.
type resettable interface {
	Reset() error
	ClearBindings() error
}

// cachedStmt is a driver statement whose Close puts it back in its
// connection's cache.
type cachedStmt struct {
	driver.Stmt
	reset resettable
	conn  *cachedConn
	query string
}

var (
	_ driver.StmtExecContext   = (*cachedStmt)(nil)
	_ driver.StmtQueryContext  = (*cachedStmt)(nil)
	_ driver.NamedValueChecker = (*cachedStmt)(nil)
)

func (s *cachedStmt) Close() error { return s.conn.put(s) }

func (s *cachedStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	if ex, ok := s.Stmt.(driver.StmtExecContext); ok {
		return ex.ExecContext(ctx, args)
	}
	return nil, errors.New("statement cannot execute with a context")
}

func (s *cachedStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	if q, ok := s.Stmt.(driver.StmtQueryContext); ok {
		return q.QueryContext(ctx, args)
	}
	return nil, errors.New("statement cannot query with a context")
}

func (s *cachedStmt) CheckNamedValue(v *driver.NamedValue) error {
	if ch, ok := s.Stmt.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(v)
	}
	return driver.ErrSkip
}

// blankSQL reports SQL that may prepare to no statement at all.
func blankSQL(q string) bool {
	q = strings.TrimSpace(q)
	return q == "" || strings.HasPrefix(q, "--") || strings.HasPrefix(q, "/*")
}
