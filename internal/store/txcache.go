package store

import (
	"context"
	"database/sql"
)

// Execer runs statements in a transaction: a *sql.Tx, or a TxCache over one.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// TxCache prepares each statement once per transaction. SQLite parses a
// statement every time it is run unprepared; a group commit that stores
// hundreds of events with the same dozen statements would spend a seventh
// of its time in the parser.
type TxCache struct {
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
}

// NewTxCache returns a cache over tx; its statements close with tx.
func NewTxCache(tx *sql.Tx) *TxCache { return &TxCache{tx: tx, stmts: map[string]*sql.Stmt{}} }

func (c *TxCache) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if s, ok := c.stmts[query]; ok {
		return s, nil
	}
	s, err := c.tx.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.stmts[query] = s
	return s, nil
}

func (c *TxCache) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	s, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(ctx, args...)
}

func (c *TxCache) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	s, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

func (c *TxCache) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	s, err := c.stmt(ctx, query)
	if err != nil {
		// The transaction reports the same failure in its own Row.
		return c.tx.QueryRowContext(ctx, query, args...)
	}
	return s.QueryRowContext(ctx, args...)
}
