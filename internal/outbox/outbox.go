// Package outbox sends LINE pushes and multicasts that survive crashes and
// never reach a customer twice.
//
// A feature (a reminder, a campaign, a staff broadcast) enqueues a send: the
// messages, exactly as they go on the wire, and one request row per API call
// (a push, or a multicast chunk of at most 500 recipients), each with a fresh
// X-Line-Retry-Key, all written in one transaction before anything is sent.
// Send then makes the requests concurrently within LINE's rate limits and
// writes each outcome back. A request whose outcome is unknown (a timeout, a
// dropped connection, a 5xx or 429 that outlasted the retries) stays pending
// and is resent later, byte-identical and with the same key, so LINE either
// delivers it now or answers 409 for the copy it already delivered.
package outbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"tsunagu/internal/line"
	"tsunagu/internal/store"
)

// Sender is the part of the LINE layer the outbox uses.
type Sender interface {
	Push(ctx context.Context, to string, msgs []line.Message, retryKey string) (line.SendResult, error)
	Multicast(ctx context.Context, to []string, msgs []line.Message, retryKey string) (line.SendResult, error)
}

// UnitSender is a Sender that can send under a custom aggregation unit
// (line.Client). A send with a unit goes through it; a Sender without it
// (a test's fake) sends without the unit.
type UnitSender interface {
	PushWithOptions(ctx context.Context, to string, msgs []line.Message, retryKey string, opts line.SendOptions) (line.SendResult, error)
	MulticastWithOptions(ctx context.Context, to []string, msgs []line.Message, retryKey string, opts line.SendOptions) (line.SendResult, error)
}

// SendWith makes one push (kind "push", to one recipient) or multicast
// through s, under unit if it is not "" and s can.
func SendWith(ctx context.Context, s Sender, kind string, to []string, msgs []line.Message, retryKey, unit string) (line.SendResult, error) {
	if us, ok := s.(UnitSender); ok && unit != "" {
		opts := line.SendOptions{AggregationUnit: unit}
		if kind == "push" {
			return us.PushWithOptions(ctx, to[0], msgs, retryKey, opts)
		}
		return us.MulticastWithOptions(ctx, to, msgs, retryKey, opts)
	}
	if kind == "push" {
		return s.Push(ctx, to[0], msgs, retryKey)
	}
	return s.Multicast(ctx, to, msgs, retryKey)
}

// RetryKeyWindow is how long after its first attempt a request is still
// resent. LINE remembers an accepted retry key for 24 hours; after that a
// resend of a request that did get through would deliver it again, so an
// older uncertain request is marked failed for a person to decide.
const RetryKeyWindow = 23 * time.Hour

// ErrExpired is stored for a request whose outcome stayed unknown past
// RetryKeyWindow.
var ErrExpired = errors.New("outbox: delivery uncertain and the retry key has expired")

// DefaultWorkers is how many requests are in flight at once. At LINE's
// multicast limit (200 req/s) and a typical 30-100 ms round trip, about 6 to
// 20 requests are in flight when the limit is the bottleneck.
const DefaultWorkers = 16

// Config holds the outbox's dependencies.
type Config struct {
	DB      *store.DB
	Sender  Sender           // nil: sends can be enqueued but not sent
	Clock   func() time.Time // nil: time.Now
	Workers int              // 0: DefaultWorkers
	// Record is called for each request in the transaction that
	// enqueues it, so that what is sent shows in the recipients'
	// conversations (the engine passes the inbox's RecordSent); nil:
	// nothing is recorded.
	Record func(ctx context.Context, tx *sql.Tx, r Recorded) error
}

// Recorded is one enqueued request as Config.Record sees it.
type Recorded struct {
	Source    string // Request.Source
	RequestID int64  // outbox_requests.id: its status is the delivery's
	To        []string
	Messages  []line.Message
	At        time.Time
}

// Outbox stores and sends pushes and multicasts.
type Outbox struct {
	db       *store.DB
	send     Sender
	now      func() time.Time
	workers  int
	newKey   func() string
	recordTo func(ctx context.Context, tx *sql.Tx, r Recorded) error
}

// Errors a caller can act on.
var (
	ErrNoRecipients = errors.New("outbox: no recipients")
	ErrNotFound     = errors.New("outbox: send not found")
	ErrOffline      = errors.New("outbox: no LINE connection")
)

// New returns an outbox over an open DB.
func New(cfg Config) (*Outbox, error) {
	if cfg.DB == nil {
		return nil, errors.New("outbox: DB is required")
	}
	o := &Outbox{db: cfg.DB, send: cfg.Sender, now: cfg.Clock, workers: cfg.Workers,
		newKey: func() string { return uuid.NewString() }, recordTo: cfg.Record}
	if o.now == nil {
		o.now = time.Now
	}
	if o.workers <= 0 {
		o.workers = DefaultWorkers
	}
	return o, nil
}

// Request is one send to enqueue.
type Request struct {
	// Source says which feature asked, e.g. "campaign:12"; it is stored
	// for reports and must not hold customer data.
	Source   string
	To       []string // LINE user IDs; duplicates are sent once
	Messages []line.Message
	// Unit is the custom aggregation unit LINE counts the send's
	// statistics under (insights.Assign); "" for none. Stored with the
	// send, so every retry repeats it.
	Unit string
}

// Cost is how many messages the request counts against the monthly quota
// at most: one per message per distinct recipient (LINE does not count
// recipients who blocked the account). Pass it to line.Client.CheckQuota to
// refuse a send that cannot finish this month before it starts.
func (r Request) Cost() int64 {
	seen := make(map[string]bool, len(r.To))
	for _, id := range r.To {
		seen[id] = true
	}
	return int64(len(seen)) * int64(len(r.Messages))
}

// Result summarises a send's requests.
type Result struct {
	SendID            int64  `json:"sendId"`
	Status            string `json:"status"` // pending, done, failed or partial
	Requests          int    `json:"requests"`
	Sent              int    `json:"sent"`
	Failed            int    `json:"failed"`
	Pending           int    `json:"pending"`
	Recipients        int    `json:"recipients"`
	SentRecipients    int    `json:"sentRecipients"`
	PendingRecipients int    `json:"pendingRecipients"`
}

// Enqueue validates req and stores it with one request row, and retry key,
// per API call. Nothing is sent.
func (o *Outbox) Enqueue(ctx context.Context, req Request) (int64, error) {
	var id int64
	err := o.db.Write(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = o.EnqueueTx(ctx, tx, req)
		return err
	})
	return id, err
}

// EnqueueTx is Enqueue inside the caller's transaction, so that a feature
// records its own rows (a campaign's recipients, say) and the send together.
func (o *Outbox) EnqueueTx(ctx context.Context, tx *sql.Tx, req Request) (int64, error) {
	id, _, _, err := o.enqueue(ctx, tx, req, nil)
	return id, err
}

// Submit enqueues req and sends it at once. The retry keys and the stamp of
// the first attempt are committed in one transaction before the first
// request leaves, so an immediate send costs one commit less than Enqueue
// followed by Send; a crash after that commit is resumed like any send.
func (o *Outbox) Submit(ctx context.Context, req Request) (Result, error) {
	if o.send == nil {
		return Result{}, ErrOffline
	}
	var (
		id   int64
		kind string
		reqs []pendingRequest
	)
	err := o.db.Write(ctx, func(tx *sql.Tx) error {
		var err error
		id, kind, reqs, err = o.enqueue(ctx, tx, req, o.now().UnixMilli())
		return err
	})
	if err != nil {
		return Result{}, err
	}
	sendErr := o.run(ctx, kind, req.Messages, req.Unit, reqs)
	res, err := o.finish(ctx, id)
	if err != nil {
		return res, errors.Join(sendErr, err)
	}
	return res, sendErr
}

// enqueue stores req; triedAt (unix ms or nil) is the first-attempt stamp
// of its requests, set when they are about to be sent.
func (o *Outbox) enqueue(ctx context.Context, tx *sql.Tx, req Request, triedAt any) (int64, string, []pendingRequest, error) {
	to, err := recipients(req.To)
	if err != nil {
		return 0, "", nil, err
	}
	if err := line.ValidateMessages(req.Messages); err != nil {
		return 0, "", nil, fmt.Errorf("outbox: %w", err)
	}
	blob, err := line.MarshalMessages(req.Messages)
	if err != nil {
		return 0, "", nil, fmt.Errorf("outbox: encode messages: %w", err)
	}
	kind := "multicast"
	if len(to) == 1 {
		// A push costs the same quota and has the larger rate limit.
		kind = "push"
	}
	now := o.now().UnixMilli()
	res, err := tx.ExecContext(ctx, `INSERT INTO outbox_sends (kind, source, messages, agg_unit, created_at) VALUES (?, ?, ?, ?, ?)`,
		kind, req.Source, blob, req.Unit, now)
	if err != nil {
		return 0, "", nil, fmt.Errorf("outbox: store send: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, "", nil, fmt.Errorf("outbox: store send: %w", err)
	}
	stmt, err := tx.PrepareContext(ctx, `
		INSERT INTO outbox_requests (send_id, seq, retry_key, recipients, recipient_count, first_tried_at) VALUES (?, ?, ?, ?, ?, ?)
		RETURNING id`)
	if err != nil {
		return 0, "", nil, fmt.Errorf("outbox: store requests: %w", err)
	}
	defer stmt.Close()
	chunks := line.Chunks(to)
	reqs := make([]pendingRequest, len(chunks))
	for i, chunk := range chunks {
		reqs[i] = pendingRequest{retryKey: o.newKey(), to: chunk}
		if err := stmt.QueryRowContext(ctx, id, i, reqs[i].retryKey, strings.Join(chunk, "\n"), len(chunk), triedAt).Scan(&reqs[i].id); err != nil {
			return 0, "", nil, fmt.Errorf("outbox: store request %d: %w", i, err)
		}
		if o.recordTo != nil {
			rec := Recorded{Source: req.Source, RequestID: reqs[i].id, To: chunk, Messages: req.Messages, At: time.UnixMilli(now)}
			if err := o.recordTo(ctx, tx, rec); err != nil {
				return 0, "", nil, fmt.Errorf("outbox: record request %d: %w", i, err)
			}
		}
	}
	return id, kind, reqs, nil
}

// Send makes a send's pending requests and records their outcomes. It
// returns when every request was attempted (or ctx ended, or LINE reported
// the monthly limit, which stops the send), with the send's summary; the
// error describes the first request that did not go out.
func (o *Outbox) Send(ctx context.Context, sendID int64) (Result, error) {
	if o.send == nil {
		return Result{}, ErrOffline
	}
	if err := o.begin(ctx, sendID); err != nil {
		return Result{}, err
	}
	kind, msgs, unit, reqs, err := o.load(ctx, sendID)
	if err != nil {
		return Result{}, err
	}
	sendErr := o.run(ctx, kind, msgs, unit, reqs)
	res, err := o.finish(ctx, sendID)
	if err != nil {
		return res, errors.Join(sendErr, err)
	}
	return res, sendErr
}

// Resume sends every send that still has pending requests, oldest first:
// after a crash, a restart or a LINE outage.
func (o *Outbox) Resume(ctx context.Context) error {
	return o.resend(ctx, "pending sends", `
		SELECT DISTINCT send_id FROM outbox_requests WHERE status = 'pending' ORDER BY send_id`)
}

// ResumeStale resends the sends that have had pending requests for at
// least age (by their first attempt, or their creation if never tried):
// what an outage or a failed run left, not what a sender is sending right
// now. The engine calls it now and then, and when LINE answers again after
// an outage, so a send never waits for the next start.
func (o *Outbox) ResumeStale(ctx context.Context, age time.Duration) error {
	return o.resend(ctx, "stale sends", `
		SELECT DISTINCT r.send_id FROM outbox_requests r JOIN outbox_sends s ON s.id = r.send_id
		WHERE r.status = 'pending' AND COALESCE(r.first_tried_at, s.created_at) <= ? ORDER BY r.send_id`,
		o.now().Add(-age).UnixMilli())
}

// resend sends again each send the query names, in order; the month's
// quota running out or ctx ending stops it.
func (o *Outbox) resend(ctx context.Context, what, query string, args ...any) error {
	if o.send == nil {
		return ErrOffline
	}
	rows, err := o.db.Reader().QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("outbox: find %s: %w", what, err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("outbox: find %s: %w", what, err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("outbox: find %s: %w", what, err)
	}
	var errs []error
	for _, id := range ids {
		if _, err := o.Send(ctx, id); err != nil {
			errs = append(errs, fmt.Errorf("send %d: %w", id, err))
			if errors.Is(err, line.ErrMonthlyLimit) || ctx.Err() != nil {
				break
			}
		}
	}
	return errors.Join(errs...)
}

// Pending counts the requests not yet accepted by LINE (each a push or a
// multicast chunk).
func (o *Outbox) Pending(ctx context.Context) (int, error) {
	var n int
	if err := o.db.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox_requests WHERE status = 'pending'`).Scan(&n); err != nil {
		return 0, fmt.Errorf("outbox: count pending requests: %w", err)
	}
	return n, nil
}

// Status summarises a send.
func (o *Outbox) Status(ctx context.Context, sendID int64) (Result, error) {
	return summarise(ctx, o.db.Reader(), sendID)
}

// --- helpers ---

type pendingRequest struct {
	id       int64
	retryKey string
	to       []string
}

type outcome struct {
	id     int64
	res    line.SendResult
	err    error
	status string // sent, failed, or pending (outcome unknown: resend later)
}

// begin stamps the first attempt of the send's pending requests (one
// transaction, before any request leaves) and gives up on those whose retry
// key LINE no longer remembers.
func (o *Outbox) begin(ctx context.Context, sendID int64) error {
	now := o.now()
	// Most sends need neither; a read avoids a commit (an fsync).
	var todo bool
	err := o.db.Reader().QueryRowContext(ctx, `
		SELECT EXISTS (SELECT 1 FROM outbox_requests WHERE send_id = ? AND status = 'pending'
		               AND (first_tried_at IS NULL OR first_tried_at < ?))`,
		sendID, now.Add(-RetryKeyWindow).UnixMilli()).Scan(&todo)
	if err != nil {
		return fmt.Errorf("outbox: start send %d: %w", sendID, err)
	}
	if !todo {
		return nil
	}
	err = o.db.Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `
			UPDATE outbox_requests SET status = 'failed', error = ?
			WHERE send_id = ? AND status = 'pending' AND first_tried_at < ?`,
			ErrExpired.Error(), sendID, now.Add(-RetryKeyWindow).UnixMilli()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `
			UPDATE outbox_requests SET first_tried_at = ? WHERE send_id = ? AND status = 'pending' AND first_tried_at IS NULL`,
			now.UnixMilli(), sendID)
		return err
	})
	if err != nil {
		return fmt.Errorf("outbox: start send %d: %w", sendID, err)
	}
	return nil
}

func (o *Outbox) load(ctx context.Context, sendID int64) (string, []line.Message, string, []pendingRequest, error) {
	var (
		kind, unit string
		blob       []byte
	)
	err := o.db.Reader().QueryRowContext(ctx, `SELECT kind, messages, agg_unit FROM outbox_sends WHERE id = ?`, sendID).Scan(&kind, &blob, &unit)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, "", nil, fmt.Errorf("send %d: %w", sendID, ErrNotFound)
	}
	if err != nil {
		return "", nil, "", nil, fmt.Errorf("outbox: load send %d: %w", sendID, err)
	}
	// The stored bytes are sent unchanged, so every attempt of a request
	// is byte-identical, before and after a restart.
	msgs, err := line.UnmarshalMessages(blob)
	if err != nil {
		return "", nil, "", nil, fmt.Errorf("outbox: send %d: %w", sendID, err)
	}
	rows, err := o.db.Reader().QueryContext(ctx, `
		SELECT id, retry_key, recipients FROM outbox_requests WHERE send_id = ? AND status = 'pending' ORDER BY seq`, sendID)
	if err != nil {
		return "", nil, "", nil, fmt.Errorf("outbox: load requests of send %d: %w", sendID, err)
	}
	defer rows.Close()
	var reqs []pendingRequest
	for rows.Next() {
		var (
			p  pendingRequest
			to string
		)
		if err := rows.Scan(&p.id, &p.retryKey, &to); err != nil {
			return "", nil, "", nil, fmt.Errorf("outbox: load requests of send %d: %w", sendID, err)
		}
		p.to = strings.Split(to, "\n")
		reqs = append(reqs, p)
	}
	return kind, msgs, unit, reqs, rows.Err()
}

// run makes the requests with o.workers goroutines and writes outcomes in
// batches as they arrive, so that the single DB writer never paces LINE.
func (o *Outbox) run(ctx context.Context, kind string, msgs []line.Message, unit string, reqs []pendingRequest) error {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	work := make(chan pendingRequest)
	results := make(chan outcome, len(reqs))

	var wg sync.WaitGroup
	for range min(o.workers, len(reqs)) {
		wg.Go(func() {
			for p := range work {
				oc := o.sendOne(ctx, kind, msgs, unit, p)
				if errors.Is(oc.err, line.ErrMonthlyLimit) {
					// A hard stop: nothing more can go out this
					// month, so the rest stays pending.
					stop()
				}
				results <- oc
			}
		})
	}
	go func() {
		defer close(work)
		for _, p := range reqs {
			select {
			case work <- p:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(results)
	}()

	firstErr, writeErr := RecordOutcomes(ctx, results, func(oc outcome) error { return oc.err }, o.record)
	if writeErr != nil {
		return errors.Join(firstErr, fmt.Errorf("outbox: record outcomes: %w", writeErr))
	}
	if firstErr == nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return firstErr
}

func (o *Outbox) sendOne(ctx context.Context, kind string, msgs []line.Message, unit string, p pendingRequest) outcome {
	res, err := SendWith(ctx, o.send, kind, p.to, msgs, p.retryKey, unit)
	return outcome{id: p.id, res: res, err: err, status: Status(err)}
}

func (o *Outbox) record(ctx context.Context, batch []outcome) error {
	now := o.now().UnixMilli()
	return o.db.Write(ctx, func(tx *sql.Tx) error {
		for _, oc := range batch {
			var sentAt any
			if oc.status == "sent" {
				sentAt = now
			}
			msg := ErrorText(oc.err)
			if _, err := tx.ExecContext(ctx, `
				UPDATE outbox_requests SET status = ?, attempts = attempts + ?, http_status = ?, request_id = ?,
				       accepted_request_id = ?, error = ?, sent_at = ? WHERE id = ?`,
				oc.status, oc.res.Attempts, oc.res.Status, oc.res.RequestID, oc.res.AcceptedRequestID, msg, sentAt, oc.id); err != nil {
				return err
			}
		}
		return nil
	})
}

// finish sets the send's status from its requests and returns its summary.
func (o *Outbox) finish(ctx context.Context, sendID int64) (Result, error) {
	var res Result
	err := o.db.Write(context.WithoutCancel(ctx), func(tx *sql.Tx) error {
		r, err := summarise(ctx, tx, sendID)
		if err != nil {
			return err
		}
		var finished any
		if r.Pending == 0 {
			finished = o.now().UnixMilli()
		}
		if _, err := tx.ExecContext(ctx, `UPDATE outbox_sends SET status = ?, finished_at = ? WHERE id = ?`,
			r.Status, finished, sendID); err != nil {
			return err
		}
		res = r
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("outbox: finish send %d: %w", sendID, err)
	}
	return res, nil
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func summarise(ctx context.Context, q querier, sendID int64) (Result, error) {
	r := Result{SendID: sendID}
	err := q.QueryRowContext(ctx, `
		SELECT COUNT(*),
		       COUNT(*) FILTER (WHERE status = 'sent'),
		       COUNT(*) FILTER (WHERE status = 'failed'),
		       COUNT(*) FILTER (WHERE status = 'pending'),
		       COALESCE(SUM(recipient_count), 0),
		       COALESCE(SUM(recipient_count) FILTER (WHERE status = 'sent'), 0),
		       COALESCE(SUM(recipient_count) FILTER (WHERE status = 'pending'), 0)
		FROM outbox_requests WHERE send_id = ?`, sendID).
		Scan(&r.Requests, &r.Sent, &r.Failed, &r.Pending, &r.Recipients, &r.SentRecipients, &r.PendingRecipients)
	if err != nil {
		return r, fmt.Errorf("outbox: summarise send %d: %w", sendID, err)
	}
	if r.Requests == 0 {
		return r, fmt.Errorf("send %d: %w", sendID, ErrNotFound)
	}
	switch {
	case r.Pending > 0:
		r.Status = "pending"
	case r.Failed == 0:
		r.Status = "done"
	case r.Sent == 0:
		r.Status = "failed"
	default:
		r.Status = "partial"
	}
	return r, nil
}

// recipients checks and de-duplicates user IDs, keeping the first
// occurrence's order.
func recipients(ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, ErrNoRecipients
	}
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !line.IsUserID(id) {
			return nil, fmt.Errorf("outbox: malformed LINE user ID at position %d", len(out))
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out, nil
}
