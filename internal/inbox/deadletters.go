package inbox

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"tsunagu/internal/audit"
	"tsunagu/internal/line"
	"tsunagu/internal/store"
)

// EventDeadLetters is emitted (with no payload) when dead letters are added
// or resolved, so the status area can refresh its count.
const EventDeadLetters = "inbox:deadletters"

// Dead-letter states.
const (
	DeadLetterOpen        = "open"
	DeadLetterReprocessed = "reprocessed"
	DeadLetterDiscarded   = "discarded"
)

// ErrDeadLetterClosed: the dead letter was already reprocessed or discarded.
var ErrDeadLetterClosed = errors.New("dead letter is no longer open")

// DeadLetter is a webhook event (or a signed body) the inbox could not
// store. The body is not part of it: it is customer data, and only
// ReprocessDeadLetter reads it.
type DeadLetter struct {
	ID         int64     `json:"id"`
	Kind       string    `json:"kind"`
	Reason     string    `json:"reason"`
	ReceivedAt time.Time `json:"receivedAt"`
	Attempts   int       `json:"attempts"`
	State      string    `json:"state"`
}

// deadLetter is one to record.
type deadLetter struct {
	key, kind, reason, userID string
	body                      []byte
}

// deadLetterOf builds the dead letter of one event (raw, as it stood in a
// body for destination). Its body is a webhook of that event alone, so it
// can be processed again like any other.
func deadLetterOf(destination string, raw json.RawMessage, reason string) deadLetter {
	var head struct {
		Type           string `json:"type"`
		WebhookEventID string `json:"webhookEventId"`
		Source         struct {
			UserID string `json:"userId"`
		} `json:"source"`
	}
	_ = json.Unmarshal(raw, &head) // best effort: the event may be any JSON
	if len(raw) == 0 || !json.Valid(raw) {
		raw = json.RawMessage("null")
	}
	body, _ := json.Marshal(struct {
		Destination string            `json:"destination"`
		Events      []json.RawMessage `json:"events"`
	}{destination, []json.RawMessage{raw}})
	dl := deadLetter{kind: unknownType(head.Type), reason: reason, userID: head.Source.UserID, body: body}
	if head.WebhookEventID != "" && len(head.WebhookEventID) <= 64 {
		dl.key = "ev:" + head.WebhookEventID
	} else {
		sum := sha256.Sum256(raw)
		dl.key = "sha:" + hex.EncodeToString(sum[:])
	}
	return dl
}

// recordDeadLetter keeps dl; the same event again counts as one more
// attempt and keeps the newest reason.
func (ib *Inbox) recordDeadLetter(ctx context.Context, tx store.Execer, dl deadLetter, now int64) error {
	var user any
	if dl.userID != "" {
		user = dl.userID
	}
	_, err := tx.ExecContext(ctx, `
		INSERT INTO dead_letters (dedup_key, kind, reason, line_user_id, body, received_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (dedup_key) DO UPDATE SET attempts = attempts + 1, reason = excluded.reason,
			state = CASE WHEN state = 'reprocessed' THEN state ELSE 'open' END`,
		dl.key, dl.kind, truncate(dl.reason, 500), user, dl.body, now)
	if err != nil {
		return fmt.Errorf("record dead letter: %w", err)
	}
	return nil
}

// RecordBadBody keeps a body whose LINE signature was valid but which is
// not a webhook at all (line.ErrMalformedWebhook), so the relay can be
// acknowledged and the cause looked at later.
func (ib *Inbox) RecordBadBody(ctx context.Context, body []byte, reason string) error {
	sum := sha256.Sum256(body)
	dl := deadLetter{key: "sha:" + hex.EncodeToString(sum[:]), kind: "body", reason: reason, body: body}
	err := ib.db.Write(ctx, func(tx *sql.Tx) error { return ib.recordDeadLetter(ctx, tx, dl, ib.now().UnixMilli()) })
	if err == nil {
		ib.log.Warn("signed webhook body kept as a dead letter")
		ib.emitDeadLetters()
	}
	return err
}

// OpenDeadLetters counts the dead letters waiting for someone.
func (ib *Inbox) OpenDeadLetters(ctx context.Context) (int64, error) {
	var n int64
	err := ib.db.Reader().QueryRowContext(ctx, `SELECT count(*) FROM dead_letters WHERE state = 'open'`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count dead letters: %w", err)
	}
	return n, nil
}

// DeadLetters lists dead letters, newest first; all says whether closed ones
// are included.
func (ib *Inbox) DeadLetters(ctx context.Context, all bool) ([]DeadLetter, error) {
	rows, err := ib.db.Reader().QueryContext(ctx, `
		SELECT id, kind, reason, received_at, attempts, state FROM dead_letters
		WHERE ? OR state = 'open' ORDER BY id DESC`, all)
	if err != nil {
		return nil, fmt.Errorf("list dead letters: %w", err)
	}
	defer rows.Close()
	out := []DeadLetter{}
	for rows.Next() {
		var (
			d  DeadLetter
			at int64
		)
		if err := rows.Scan(&d.ID, &d.Kind, &d.Reason, &at, &d.Attempts, &d.State); err != nil {
			return nil, fmt.Errorf("list dead letters: %w", err)
		}
		d.ReceivedAt = time.UnixMilli(at)
		out = append(out, d)
	}
	return out, rows.Err()
}

// ReprocessDeadLetter runs an open dead letter through the inbox again, as
// if it had just arrived (its signature was checked when it came). It
// returns true if it was stored this time (the dead letter is then closed)
// and false if it failed again (the attempt and the new reason are kept).
// Either way the attempt is audited in the name of actor.
func (ib *Inbox) ReprocessDeadLetter(ctx context.Context, id int64, actor string) (bool, error) {
	if actor == "" {
		return false, ErrNoActor
	}
	var (
		body  []byte
		state string
	)
	err := ib.db.Reader().QueryRowContext(ctx, `SELECT body, state FROM dead_letters WHERE id = ?`, id).Scan(&body, &state)
	if errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("dead letter %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return false, fmt.Errorf("dead letter %d: %w", id, err)
	}
	if state != DeadLetterOpen {
		return false, fmt.Errorf("dead letter %d: %w", id, ErrDeadLetterClosed)
	}
	wh, perr := line.ParseVerified(body)
	if perr != nil {
		err := ib.db.Write(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `UPDATE dead_letters SET attempts = attempts + 1, reason = ? WHERE id = ?`,
				truncate(perr.Error(), 500), id); err != nil {
				return err
			}
			return ib.auditDeadLetter(ctx, tx, actor, audit.ActionDeadLetterReprocess, id, "failed")
		})
		return false, err
	}
	res, err := ib.HandleWebhooks(ctx, []*line.Webhook{wh})
	if err != nil {
		return false, fmt.Errorf("dead letter %d: %w", id, err)
	}
	if res.DeadLetters > 0 {
		err := ib.db.Write(ctx, func(tx *sql.Tx) error {
			return ib.auditDeadLetter(ctx, tx, actor, audit.ActionDeadLetterReprocess, id, "failed")
		})
		return false, err
	}
	err = ib.closeDeadLetter(ctx, id, DeadLetterReprocessed, actor, audit.ActionDeadLetterReprocess)
	return err == nil, err
}

// DiscardDeadLetter closes an open dead letter without storing it, audited
// in the name of actor.
func (ib *Inbox) DiscardDeadLetter(ctx context.Context, id int64, actor string) error {
	if actor == "" {
		return ErrNoActor
	}
	return ib.closeDeadLetter(ctx, id, DeadLetterDiscarded, actor, audit.ActionDeadLetterDiscard)
}

func (ib *Inbox) auditDeadLetter(ctx context.Context, tx *sql.Tx, actor, action string, id int64, result string) error {
	_, err := audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: action, Target: fmt.Sprintf("deadletter:%d", id),
		At: ib.now().UnixMilli(), Detail: map[string]string{"result": result}})
	return err
}

func (ib *Inbox) closeDeadLetter(ctx context.Context, id int64, state, actor, action string) error {
	var n int64
	err := ib.db.Write(ctx, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `UPDATE dead_letters SET state = ?, resolved_at = ? WHERE id = ? AND state = 'open'`,
			state, ib.now().UnixMilli(), id)
		if err != nil {
			return err
		}
		if n, err = r.RowsAffected(); err != nil || n == 0 {
			return err
		}
		return ib.auditDeadLetter(ctx, tx, actor, action, id, state)
	})
	if err != nil {
		return fmt.Errorf("dead letter %d: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("dead letter %d: %w", id, ErrDeadLetterClosed)
	}
	ib.emitDeadLetters()
	return nil
}

func (ib *Inbox) emitDeadLetters() {
	if ib.emit != nil {
		ib.emit.Emit(EventDeadLetters, nil)
	}
}
