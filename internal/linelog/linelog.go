// Package linelog keeps the LINE request log in the DB: one row per HTTP
// attempt to the Messaging API (time, endpoint name, status,
// x-line-request-id, retry key, duration, failure class), for support
// calls to LINE and for audits. It stores only what line.RequestRecord
// holds, which is never a URL, a body, a token or a user ID.
//
// The LINE client reports attempts through line.Config.OnRequest on the
// sending goroutine; Log.Add only buffers the record, and a background
// goroutine writes the buffer in one transaction at most every
// FlushInterval, so a 100,000-recipient multicast costs a handful of extra
// commits rather than one per request.
package linelog

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"tsunagu/internal/line"
	"tsunagu/internal/store"
)

// Retention is how long rows are kept; Prune deletes older ones.
const Retention = 90 * 24 * time.Hour

// FlushInterval is the longest a record waits in memory before it is
// written.
const FlushInterval = 500 * time.Millisecond

// MaxPending bounds the records waiting to be written: if the DB cannot
// keep up (it always can, in practice), newer records are dropped and
// counted rather than memory growing without bound.
const MaxPending = 50_000

// Options configure a Log.
type Options struct {
	// Sandbox marks the rows as the built-in simulator's, not LINE's.
	Sandbox bool
	Logger  *slog.Logger // nil: discard
}

// Log buffers request records and writes them to the DB.
type Log struct {
	db      *store.DB
	sandbox bool
	log     *slog.Logger

	mu      sync.Mutex
	buf     []line.RequestRecord
	dropped int64

	wake     chan struct{}
	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

// New starts a Log writing to db; Close it to write the rest.
func New(db *store.DB, opts Options) *Log {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	l := &Log{db: db, sandbox: opts.Sandbox, log: opts.Logger,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go l.loop()
	return l
}

// Add buffers one record. It never blocks on the DB; pass it as
// line.Config.OnRequest.
func (l *Log) Add(r line.RequestRecord) {
	l.mu.Lock()
	if len(l.buf) >= MaxPending {
		l.dropped++
		l.mu.Unlock()
		return
	}
	l.buf = append(l.buf, r)
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// Flush writes the records buffered so far.
func (l *Log) Flush(ctx context.Context) error {
	l.mu.Lock()
	batch, dropped := l.buf, l.dropped
	l.buf, l.dropped = nil, 0
	l.mu.Unlock()
	if dropped > 0 {
		l.log.Warn("LINE request log: records dropped (DB too slow)", "count", dropped)
	}
	if len(batch) == 0 {
		return nil
	}
	sandbox := 0
	if l.sandbox {
		sandbox = 1
	}
	err := l.db.Write(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `
			INSERT INTO line_request_log (at, endpoint, status, request_id, retry_key, duration_ms, failure, sandbox)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, r := range batch {
			if _, err := stmt.ExecContext(ctx, r.At.UnixMilli(), string(r.Endpoint), r.Status, r.RequestID, r.RetryKey,
				r.Duration.Milliseconds(), r.Failure, sandbox); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("LINE request log: write %d records: %w", len(batch), err)
	}
	return nil
}

// Close writes what is buffered and stops the background writer. Records
// added after Close are not written.
func (l *Log) Close() error {
	l.stopOnce.Do(func() { close(l.stop) })
	<-l.done
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return l.Flush(ctx)
}

func (l *Log) loop() {
	defer close(l.done)
	for {
		select {
		case <-l.wake:
		case <-l.stop:
			return
		}
		// Let a burst gather so that it is one transaction.
		t := time.NewTimer(FlushInterval)
		select {
		case <-t.C:
		case <-l.stop:
			t.Stop()
			return // Close writes the rest
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := l.Flush(ctx); err != nil {
			l.log.Warn("LINE request log", "err", err)
		}
		cancel()
	}
}

// Prune deletes the rows older than before and returns how many.
func Prune(ctx context.Context, db *store.DB, before time.Time) (int64, error) {
	var n int64
	err := db.Write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM line_request_log WHERE at < ?`, before.UnixMilli())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("prune LINE request log: %w", err)
	}
	return n, nil
}

// Entry is one stored attempt.
type Entry struct {
	At         time.Time `json:"at"`
	Endpoint   string    `json:"endpoint"`
	Status     int       `json:"status"`              // 0: no answer came
	RequestID  string    `json:"requestId,omitempty"` // x-line-request-id
	RetryKey   string    `json:"retryKey,omitempty"`
	DurationMs int64     `json:"durationMs"`
	Failure    string    `json:"failure,omitempty"` // timeout, canceled or connection
	Sandbox    bool      `json:"sandbox"`
}

// List returns the attempts made at or after since, oldest first; at most
// limit of the newest (limit <= 0: all).
func List(ctx context.Context, q *sql.DB, since time.Time, limit int) ([]Entry, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := q.QueryContext(ctx, `
		SELECT at, endpoint, status, request_id, retry_key, duration_ms, failure, sandbox FROM (
			SELECT * FROM line_request_log WHERE at >= ? ORDER BY at DESC, id DESC LIMIT ?
		) ORDER BY at, id`, since.UnixMilli(), limit)
	if err != nil {
		return nil, fmt.Errorf("read LINE request log: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var (
			e  Entry
			at int64
		)
		if err := rows.Scan(&at, &e.Endpoint, &e.Status, &e.RequestID, &e.RetryKey, &e.DurationMs, &e.Failure, &e.Sandbox); err != nil {
			return nil, fmt.Errorf("read LINE request log: %w", err)
		}
		e.At = time.UnixMilli(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read LINE request log: %w", err)
	}
	return out, nil
}
