package inbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"tsunagu/internal/audit"
	"tsunagu/internal/clicks"
	"tsunagu/internal/line"
)

// The send queue. Every outgoing message is stored 'pending' (with its
// retry key, and the reply token it may use) before anything is sent, and
// leaves that state only with LINE's answer: 'sent', or 'failed' for a
// reason a resend cannot fix. A temporary failure (LINE unreachable, slow,
// 5xx, 429) leaves it pending with a backoff, and the background sender
// delivers it later, with the same retry key. Messages of one conversation
// go out in order: a waiting message holds back the later ones of its
// conversation, never another conversation's.

// SendQueueConfig configures the background sender; zero fields take the
// defaults.
type SendQueueConfig struct {
	// Sender makes the background requests; nil means Config.Sender. The
	// engine gives a client that does not retry by itself.
	Sender Sender
	// Workers is how many conversations are delivered at once (8).
	Workers int
	// Timeout bounds one background request (60 s: outlasts an API that
	// answers after 30 s).
	Timeout time.Duration
	Backoff Backoff // default 1 s doubling to 5 min
	Breaker BreakerConfig
	Poll    time.Duration // how often the queue is looked at when idle (5 s)
}

func (c SendQueueConfig) withDefaults() SendQueueConfig {
	if c.Workers <= 0 {
		c.Workers = 8
	}
	if c.Timeout <= 0 {
		c.Timeout = 60 * time.Second
	}
	c.Backoff = c.Backoff.withDefaults(time.Second, 5*time.Minute)
	if c.Poll <= 0 {
		c.Poll = 5 * time.Second
	}
	return c
}

// RetryKeyWindow is how long after a push attempt whose outcome is unknown
// the push is still resent: LINE remembers a retry key for 24 hours, after
// which a resend of a request that did get through would deliver it twice.
// Attempts that certainly never reached LINE (a refused connection, a 429)
// do not start the window, so an outage of any length ends with the push
// delivered.
const RetryKeyWindow = 23 * time.Hour

// SendErrWaiting is stored with a message waiting in the queue after a
// temporary failure (shown as 送信待ち; it goes out by itself).
const SendErrWaiting = "errors.sendWaiting"

// sendPath is how a delivery reaches LINE: staff sends wait for one attempt
// under Config.SendTimeout (SendTimeout), the background sender under its
// own timeout. Both use the queue's client, which makes one attempt and
// never retries by itself:
// a clerk pressing 送信 during an outage must not wait out a client's
// retries (15 s against a refused connection); the queue retries instead.
type sendPath struct {
	s       Sender
	timeout time.Duration
}

func (ib *Inbox) staffPath() sendPath { return sendPath{s: ib.queuePath().s, timeout: ib.sendTO} }

func (ib *Inbox) queuePath() sendPath {
	s := ib.queueCfg.Sender
	if s == nil {
		s = ib.send
	}
	return sendPath{s: s, timeout: ib.queueCfg.Timeout}
}

// queued is a pending outgoing message as the sender needs it.
type queued struct {
	id         int64
	via        string
	key        sql.NullString
	token      sql.NullString
	tokenUntil sql.NullInt64
	tried      sql.NullInt64
	uncertain  sql.NullInt64
	next       sql.NullInt64
	attempts   int
	body       string
	payload    sql.NullString
	userID     string
}

// DeliverPending sends every queued message now, in order per
// conversation, and returns once each was attempted (a message still
// waiting after a temporary failure holds back the rest of its
// conversation). It ignores backoffs but not the breaker. The background
// sender does the same by itself (Run); the CLI and tests call it to
// settle the queue.
func (ib *Inbox) DeliverPending(ctx context.Context) error {
	if ib.send == nil {
		return ErrOffline
	}
	convs, _, err := ib.queuedConversations(ctx, true)
	if err != nil {
		return err
	}
	var errs []error
	for _, id := range convs {
		if _, err := ib.deliverConversation(ctx, id, ib.queuePath(), 0, true); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Settle does now, once, what the background workers (Run) do: it
// delivers the queued sends, then works the due fetch jobs. For the CLI,
// which runs no workers, and for tests of what follows a webhook rather
// than of its timing.
func (ib *Inbox) Settle(ctx context.Context) error {
	return errors.Join(ib.DeliverPending(ctx), ib.FetchPending(ctx))
}

// ResumePending delivers the sends a crash or an outage left pending, at
// start: pushes go out with their stored retry keys, each resend audited
// (message.retry by the system) since it is this process's decision; a
// reply whose attempt had begun is marked failed with "send uncertain" for
// staff to check rather than risking a duplicate.
func (ib *Inbox) ResumePending(ctx context.Context) error {
	if ib.send == nil {
		return ErrOffline
	}
	if err := ib.auditResume(ctx); err != nil {
		return err
	}
	return ib.DeliverPending(ctx)
}

// auditResume records a system retry for every push a previous process
// left pending.
func (ib *Inbox) auditResume(ctx context.Context) error {
	now := ib.now()
	err := ib.db.Write(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, conversation_id FROM messages
			WHERE status = 'pending' AND direction = 'out' AND via = 'push' AND retry_key IS NOT NULL ORDER BY id`)
		if err != nil {
			return err
		}
		type row struct{ id, conv int64 }
		var list []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.id, &r.conv); err != nil {
				rows.Close()
				return err
			}
			list = append(list, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, r := range list {
			if err := recordSend(ctx, tx, SystemActor, audit.ActionMessageRetry, r.conv, r.id, "push", now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("audit resumed sends: %w", err)
	}
	return nil
}

// runSender delivers queued messages until ctx ends, starting with what a
// previous process left (ResumePending).
func (ib *Inbox) runSender(ctx context.Context) {
	if err := ib.auditResume(ctx); err != nil && ctx.Err() == nil {
		ib.log.Warn("resuming pending sends", "err", err)
	}
	for ctx.Err() == nil {
		woken := ib.sendSig.wait()
		wait := ib.queueCfg.Poll
		if open, w := ib.brSend.peek(); open && w > 0 {
			// Sends queued meanwhile (auto-replies) show 送信待ち too.
			if err := ib.markWaiting(ctx); err != nil && ctx.Err() == nil {
				ib.log.Warn("marking queued sends waiting", "err", err)
			}
			sleep(ctx, min(w, wait), woken)
			continue
		}
		convs, next, err := ib.queuedConversations(ctx, false)
		if err != nil {
			if ctx.Err() == nil {
				ib.log.Warn("reading the send queue", "err", err)
			}
			sleep(ctx, wait, nil)
			continue
		}
		sem := make(chan struct{}, ib.queueCfg.Workers)
		var wg sync.WaitGroup
		for _, id := range convs {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				if _, err := ib.deliverConversation(ctx, id, ib.queuePath(), 0, false); err != nil && ctx.Err() == nil {
					ib.log.Warn("delivering queued sends", "conversation", id, "err", err)
				}
			})
		}
		wg.Wait()
		if len(convs) > 0 {
			// More may have become due meanwhile; a short pause keeps a
			// store that keeps failing from spinning.
			sleep(ctx, 10*time.Millisecond, nil)
			continue
		}
		if next > 0 {
			wait = min(wait, time.Duration(next-ib.now().UnixMilli())*time.Millisecond)
		}
		sleep(ctx, max(wait, time.Millisecond), woken)
	}
}

// queuedConversations returns the conversations whose first queued message
// is due (all of them with all set), oldest first, and the earliest time
// another becomes due (0: none).
func (ib *Inbox) queuedConversations(ctx context.Context, all bool) ([]int64, int64, error) {
	rows, err := ib.db.Reader().QueryContext(ctx, `
		SELECT conversation_id, COALESCE(next_send_at, 0) FROM messages
		WHERE direction = 'out' AND status = 'pending' ORDER BY conversation_id, id`)
	if err != nil {
		return nil, 0, fmt.Errorf("read send queue: %w", err)
	}
	defer rows.Close()
	now := ib.now().UnixMilli()
	var (
		out  []int64
		next int64
		last int64 = -1
	)
	for rows.Next() {
		var conv, at int64
		if err := rows.Scan(&conv, &at); err != nil {
			return nil, 0, fmt.Errorf("read send queue: %w", err)
		}
		if conv == last {
			continue // only the first message of a conversation counts
		}
		last = conv
		if all || at <= now {
			out = append(out, conv)
		} else if next == 0 || at < next {
			next = at
		}
	}
	return out, next, rows.Err()
}

// deliverConversation delivers a conversation's queued messages in order
// under its lock. It returns the send error of the message target (0:
// none) and any error storing outcomes.
func (ib *Inbox) deliverConversation(ctx context.Context, convID int64, p sendPath, target int64, ignoreBackoff bool) (error, error) {
	unlock := ib.locks.lock(convID)
	defer unlock()
	return ib.deliverLocked(ctx, convID, p, target, ignoreBackoff)
}

// deliverLocked is deliverConversation with the conversation's lock held.
func (ib *Inbox) deliverLocked(ctx context.Context, convID int64, p sendPath, target int64, ignoreBackoff bool) (targetErr, err error) {
	qs, err := ib.loadQueue(ctx, convID)
	if err != nil {
		return nil, err
	}
	changed := false
	defer func() {
		if changed {
			ib.notify(convID)
		}
	}()
	for _, q := range qs {
		now := ib.now()
		switch {
		case q.via == "reply" && (q.tried.Valid || !q.token.Valid):
			// A reply attempt that began before a crash, or one stored
			// without its token (an older version): its outcome is
			// open and a reply cannot be made idempotent. Staff decide.
			if err := ib.recordFailed(ctx, q.id, SendErrUncertain, ""); err != nil {
				return targetErr, err
			}
			changed = true
			continue
		case q.via == "push" && q.uncertain.Valid && now.Sub(time.UnixMilli(q.uncertain.Int64)) >= RetryKeyWindow:
			if err := ib.recordFailed(ctx, q.id, SendErrUncertain, ""); err != nil {
				return targetErr, err
			}
			changed = true
			continue
		case !ignoreBackoff && q.next.Valid && q.next.Int64 > now.UnixMilli():
			return targetErr, nil // it waits, and the later ones behind it
		}
		if ok, _ := ib.brSend.allow(); !ok {
			// LINE is down: everything waits, and says so.
			return targetErr, ib.markWaiting(ctx)
		}
		waiting, sendErr, err := ib.sendQueued(ctx, p, q)
		changed = true
		if q.id == target {
			targetErr = sendErr
		}
		if err != nil {
			return targetErr, err
		}
		if waiting {
			// The ones behind it wait for it, and say so (送信待ち, not
			// 送信中 for as long as the outage lasts).
			return targetErr, ib.markQueueWaiting(ctx, convID)
		}
	}
	return targetErr, nil
}

// markQueueWaiting marks a conversation's queued messages not yet marked
// as waiting.
func (ib *Inbox) markQueueWaiting(ctx context.Context, convID int64) error {
	err := ib.db.Write(context.WithoutCancel(ctx), func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE messages SET error = ? WHERE conversation_id = ? AND status = 'pending' AND direction = 'out' AND error = ''`,
			SendErrWaiting, convID)
		return err
	})
	if err != nil {
		return fmt.Errorf("mark queued sends of conversation %d waiting: %w", convID, err)
	}
	return nil
}

func (ib *Inbox) loadQueue(ctx context.Context, convID int64) ([]queued, error) {
	rows, err := ib.db.Reader().QueryContext(ctx, `
		SELECT m.id, COALESCE(m.via,''), m.retry_key, m.send_token, m.send_token_until, m.tried_at, m.uncertain_since, m.next_send_at,
		       m.send_attempts, m.body, m.payload, c.line_user_id
		FROM messages m JOIN conversations c ON c.id = m.conversation_id
		WHERE m.conversation_id = ? AND m.direction = 'out' AND m.status = 'pending' ORDER BY m.id`, convID)
	if err != nil {
		return nil, fmt.Errorf("read queued sends of conversation %d: %w", convID, err)
	}
	defer rows.Close()
	var out []queued
	for rows.Next() {
		var q queued
		if err := rows.Scan(&q.id, &q.via, &q.key, &q.token, &q.tokenUntil, &q.tried, &q.uncertain, &q.next, &q.attempts,
			&q.body, &q.payload, &q.userID); err != nil {
			return nil, fmt.Errorf("read queued sends of conversation %d: %w", convID, err)
		}
		out = append(out, q)
	}
	return out, rows.Err()
}

// sendQueued makes one message's request (a reply while its token is
// fresh, else a push with its retry key) and stores the outcome. waiting
// reports a temporary failure: the message stays queued with a backoff.
func (ib *Inbox) sendQueued(ctx context.Context, p sendPath, q queued) (waiting bool, sendErr, err error) {
	var msgs []line.Message
	if q.payload.Valid {
		if msgs, err = line.UnmarshalMessages([]byte(q.payload.String)); err != nil {
			// Stored by us and never readable again: a resend cannot
			// fix it.
			return false, err, ib.recordFailed(ctx, q.id, SendErrFailed, "")
		}
		// A reply's tracked links go on the relay before the request
		// that carries them (nothing to publish: one indexed query).
		if ib.links != nil {
			if perr := ib.links.PublishSource(ctx, clicks.Source{Kind: clicks.SourceReply, ID: q.id}); perr != nil {
				ib.log.Warn("inbox: tracked links of a reply not published; it waits", "message", q.id, "err", perr)
				held := fmt.Errorf("%w: %w", errLinksHeld, perr)
				return true, held, ib.recordWaiting(ctx, q, held, "")
			}
		}
	}
	key := q.key.String
	if q.via == "reply" {
		if q.tokenUntil.Int64 > ib.now().UnixMilli() {
			// Stamped before the request leaves: after a crash from
			// here on, the reply is never resent.
			if err := ib.setTried(ctx, q.id); err != nil {
				return false, nil, err
			}
			rctx, cancel := context.WithTimeout(ctx, p.timeout)
			res, sendErr := replyWith(rctx, p.s, q.token.String, q.body, msgs)
			cancel()
			switch {
			case sendErr == nil:
				ib.sendAnswered(ctx)
				return false, nil, ib.recordSent(ctx, q.id, res)
			case isInvalidReplyToken(sendErr):
				ib.sendAnswered(ctx) // LINE refused the token before delivering: push
			case notDelivered(sendErr):
				ib.noteReachability(sendErr) // never reached LINE: push later
			default:
				// The reply may have been delivered: never resent.
				ib.noteReachability(sendErr)
				return false, sendErr, ib.recordFailed(ctx, q.id, sendErrCode(sendErr, true), res.RequestID)
			}
		}
		if key, err = ib.switchToPush(ctx, q.id, key); err != nil {
			return false, nil, err
		}
	}
	pctx, cancel := context.WithTimeout(ctx, p.timeout)
	res, sendErr := pushWith(pctx, p.s, q.userID, q.body, msgs, key)
	cancel()
	if sendErr == nil {
		ib.sendAnswered(ctx)
		return false, nil, ib.recordSent(ctx, q.id, res)
	}
	ib.noteReachability(sendErr)
	if !temporarySend(sendErr) {
		return false, sendErr, ib.recordFailed(ctx, q.id, sendErrCode(sendErr, false), res.RequestID)
	}
	return true, sendErr, ib.recordWaiting(ctx, q, sendErr, res.RequestID)
}

func pushWith(ctx context.Context, s Sender, to, text string, msgs []line.Message, key string) (line.SendResult, error) {
	if msgs != nil {
		return s.Push(ctx, to, msgs, key)
	}
	return s.PushText(ctx, to, text, key)
}

func replyWith(ctx context.Context, s Sender, token, text string, msgs []line.Message) (line.SendResult, error) {
	if msgs != nil {
		return s.Reply(ctx, token, msgs)
	}
	return s.ReplyText(ctx, token, text)
}

// sendAnswered records that LINE answered a send: if that ends an outage,
// everything waiting is due now.
func (ib *Inbox) sendAnswered(ctx context.Context) {
	if ib.brSend.success() {
		ib.recovered(ctx, "send")
	}
}

// noteReachability feeds the send breaker: LINE answered (not with a 5xx)
// or it did not.
func (ib *Inbox) noteReachability(err error) {
	var apiErr *line.APIError
	if errors.As(err, &apiErr) && apiErr.Status < 500 {
		ib.sendAnswered(context.Background())
		return
	}
	if temporarySend(err) {
		ib.brSend.failure()
	}
}

// temporarySend reports whether a failed send may succeed unchanged later:
// LINE's 429 (not the monthly limit) and 5xx, and every failure without an
// answer (refused or dropped connection, timeout).
func temporarySend(err error) bool {
	if errors.Is(err, line.ErrMonthlyLimit) || errors.Is(err, line.ErrUnreachable) {
		return false
	}
	var apiErr *line.APIError
	if errors.As(err, &apiErr) {
		return apiErr.Temporary()
	}
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// errLinksHeld: a reply waits because its tracked links could not be put
// on the relay; no request left.
var errLinksHeld = errors.New("inbox: the reply's tracked links are not on the relay yet")

// notDelivered reports whether a failed request certainly never reached
// LINE: the connection was never made, or LINE answered 429 (it refuses
// before processing).
func notDelivered(err error) bool {
	if errors.Is(err, errLinksHeld) {
		return true
	}
	var apiErr *line.APIError
	if errors.As(err, &apiErr) {
		return apiErr.Status == http.StatusTooManyRequests && !errors.Is(err, line.ErrMonthlyLimit)
	}
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "dial"
}

// sendErrCode is the code stored with a send that failed for good.
func sendErrCode(err error, reply bool) string {
	switch {
	case errors.Is(err, line.ErrUnreachable):
		return SendErrUnreachable
	case reply && temporarySend(err):
		return SendErrUncertain
	}
	return SendErrFailed
}

func (ib *Inbox) setTried(ctx context.Context, msgID int64) error {
	err := ib.db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE messages SET tried_at = ?, send_attempts = send_attempts + 1 WHERE id = ?`, ib.now().UnixMilli(), msgID)
		return err
	})
	if err != nil {
		return fmt.Errorf("stamp reply attempt of message %d: %w", msgID, err)
	}
	return nil
}

// recordSent stores a delivered message.
func (ib *Inbox) recordSent(ctx context.Context, msgID int64, res line.SendResult) error {
	// On a 409 the request that delivered the message is the one LINE
	// accepted first.
	reqID := res.AcceptedRequestID
	if reqID == "" {
		reqID = res.RequestID
	}
	err := ib.db.Write(context.WithoutCancel(ctx), func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE messages SET status = 'sent', error = '', sent_at = ?, line_request_id = ?, next_send_at = NULL,
			send_token = NULL WHERE id = ?`, ib.now().UnixMilli(), reqID, msgID)
		return err
	})
	if err != nil {
		return fmt.Errorf("record send result of message %d: %w", msgID, err)
	}
	return nil
}

// recordFailed stores a send that failed for good.
func (ib *Inbox) recordFailed(ctx context.Context, msgID int64, code, reqID string) error {
	err := ib.db.Write(context.WithoutCancel(ctx), func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE messages SET status = 'failed', error = ?, line_request_id = ?, next_send_at = NULL,
			send_token = NULL WHERE id = ?`, code, reqID, msgID)
		return err
	})
	if err != nil {
		return fmt.Errorf("record send result of message %d: %w", msgID, err)
	}
	return nil
}

// markWaiting shows every queued message not yet marked as waiting for
// LINE (送信待ち) while LINE does not answer.
func (ib *Inbox) markWaiting(ctx context.Context) error {
	convs := map[int64]bool{}
	err := ib.db.Write(context.WithoutCancel(ctx), func(tx *sql.Tx) error {
		clear(convs)
		rows, err := tx.QueryContext(ctx, `UPDATE messages SET error = ? WHERE status = 'pending' AND direction = 'out' AND error = ''
			RETURNING conversation_id`, SendErrWaiting)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return err
			}
			convs[id] = true
		}
		return rows.Err()
	})
	if err != nil {
		return fmt.Errorf("mark queued sends waiting: %w", err)
	}
	for id := range convs {
		ib.notify(id)
	}
	return nil
}

// recordWaiting keeps a message queued after a temporary failure, with a
// backoff; an attempt whose outcome is unknown starts the retry-key window.
func (ib *Inbox) recordWaiting(ctx context.Context, q queued, sendErr error, reqID string) error {
	now := ib.now().UnixMilli()
	var uncertain any
	if !notDelivered(sendErr) {
		uncertain = now
	}
	next := now + ib.queueCfg.Backoff.after(q.attempts+1).Milliseconds()
	err := ib.db.Write(context.WithoutCancel(ctx), func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE messages SET error = ?, line_request_id = ?, next_send_at = ?, send_attempts = send_attempts + 1,
			uncertain_since = COALESCE(uncertain_since, ?) WHERE id = ? AND status = 'pending'`,
			SendErrWaiting, reqID, next, uncertain, q.id)
		return err
	})
	if err != nil {
		return fmt.Errorf("requeue message %d: %w", q.id, err)
	}
	return nil
}

// convLocks serialises deliveries per conversation: its messages go out in
// order, and a reply token is never used by two senders at once.
type convLocks struct {
	mu sync.Mutex
	m  map[int64]*convLock
}

type convLock struct {
	sync.Mutex
	refs int
}

func (l *convLocks) lock(id int64) (unlock func()) {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[int64]*convLock{}
	}
	c := l.m[id]
	if c == nil {
		c = &convLock{}
		l.m[id] = c
	}
	c.refs++
	l.mu.Unlock()
	c.Lock()
	return func() {
		c.Unlock()
		l.mu.Lock()
		if c.refs--; c.refs == 0 {
			delete(l.m, id)
		}
		l.mu.Unlock()
	}
}
