// Package erasure deletes a person's data on request (Japan's APPI) and
// applies the retention policy for conversations.
//
// Erasing a LINE user removes their messages (with downloaded media), their
// conversation, their webhook event records, their profile and their trace
// in the outbox (pushes to them, their ID in multicasts; see
// outbox.EraseLineUser), in one
// transaction that also writes the audit entry. The database runs with
// secure_delete, so the freed pages are overwritten with zeros; a VACUUM
// and a WAL checkpoint afterwards leave no copy in free pages or in the WAL.
// The audit entry names the conversation ID and counts, never the person.
//
// Customer records belong to package customer: customer.ErasureHooks
// gives the Customer hook (customer.EraseCustomer: deletes a customer's
// rows and returns their linked LINE users) and the LineUser hook
// (customer.UnlinkLineUser: removes the link). Callers pass them to New.
package erasure

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"tsunagu/internal/audit"
	"tsunagu/internal/auth"
	"tsunagu/internal/fielderr"
	"tsunagu/internal/outbox"
	"tsunagu/internal/store"
)

// ErrNotFound means there is nothing to erase under that ID.
var ErrNotFound = errors.New("nothing to erase: not found")

// Hooks let features erase their own rows in the same transaction.
type Hooks struct {
	// LineUser removes a feature's rows about a LINE user (e.g. the
	// customer link) before the user is deleted.
	LineUser []func(ctx context.Context, tx *sql.Tx, lineUserID string) error
	// Customer deletes a customer's records and returns the LINE users
	// linked to them, which are then erased too. Nil: EraseCustomer
	// fails.
	Customer func(ctx context.Context, tx *sql.Tx, customerID int64) (lineUserIDs []string, err error)
}

// Eraser erases on request.
type Eraser struct {
	db    *store.DB
	hooks Hooks
	now   func() time.Time
}

// New returns an Eraser.
func New(db *store.DB, hooks Hooks, clock func() time.Time) *Eraser {
	if clock == nil {
		clock = time.Now
	}
	return &Eraser{db: db, hooks: hooks, now: clock}
}

// Result counts what was erased.
type Result struct {
	Conversations int `json:"conversations"`
	Messages      int `json:"messages"`
	// Bookings: consultation bookings that ended before the retention
	// period (package booking; erasure of a user removes theirs by trigger).
	Bookings    int `json:"bookings,omitempty"`
	FormAnswers int `json:"formAnswers,omitempty"` // retention only: web form answers (and refused submissions) removed
}

// EraseConversation erases the LINE user of a conversation and everything
// of theirs.
func (e *Eraser) EraseConversation(ctx context.Context, actor string, conversationID int64) (Result, error) {
	var res Result
	err := e.db.Write(ctx, func(tx *sql.Tx) error {
		var user string
		err := tx.QueryRowContext(ctx, `SELECT line_user_id FROM conversations WHERE id = ?`, conversationID).Scan(&user)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if res, err = e.eraseLineUser(ctx, tx, user); err != nil {
			return err
		}
		return e.record(ctx, tx, actor, "conversation:"+strconv.FormatInt(conversationID, 10), res)
	})
	if err != nil {
		return res, fmt.Errorf("erase conversation %d: %w", conversationID, err)
	}
	return res, e.compact(ctx)
}

// EraseCustomer erases a customer (through Hooks.Customer) and every LINE
// user linked to them, in one transaction.
func (e *Eraser) EraseCustomer(ctx context.Context, actor string, customerID int64) (Result, error) {
	if e.hooks.Customer == nil {
		return Result{}, errors.New("erase customer: no customer feature is wired in")
	}
	var total Result
	err := e.db.Write(ctx, func(tx *sql.Tx) error {
		users, err := e.hooks.Customer(ctx, tx, customerID)
		if err != nil {
			return err
		}
		for _, u := range users {
			r, err := e.eraseLineUser(ctx, tx, u)
			if err != nil {
				return err
			}
			total.Conversations += r.Conversations
			total.Messages += r.Messages
		}
		return e.record(ctx, tx, actor, "customer:"+strconv.FormatInt(customerID, 10), total)
	})
	if err != nil {
		return total, fmt.Errorf("erase customer %d: %w", customerID, err)
	}
	return total, e.compact(ctx)
}

func (e *Eraser) eraseLineUser(ctx context.Context, tx *sql.Tx, user string) (Result, error) {
	var res Result
	for _, h := range e.hooks.LineUser {
		if err := h(ctx, tx, user); err != nil {
			return res, err
		}
	}
	if err := outbox.EraseLineUser(ctx, tx, user); err != nil {
		return res, fmt.Errorf("erase: %w", err)
	}
	steps := []struct {
		sql   string
		count *int
	}{
		{`DELETE FROM message_content WHERE message_id IN (SELECT m.id FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE c.line_user_id = ?)`, nil},
		{`DELETE FROM messages WHERE conversation_id IN (SELECT id FROM conversations WHERE line_user_id = ?)`, &res.Messages},
		{`DELETE FROM conversations WHERE line_user_id = ?`, &res.Conversations},
		{`DELETE FROM webhook_events WHERE line_user_id = ?`, nil},
		{`DELETE FROM dead_letters WHERE line_user_id = ?`, nil},
		{`DELETE FROM line_users WHERE user_id = ?`, nil},
	}
	for _, s := range steps {
		r, err := tx.ExecContext(ctx, s.sql, user)
		if err != nil {
			return res, fmt.Errorf("erase: %w", err)
		}
		if s.count != nil {
			n, _ := r.RowsAffected()
			*s.count = int(n)
		}
	}
	return res, nil
}

func (e *Eraser) record(ctx context.Context, tx *sql.Tx, actor, target string, res Result) error {
	_, err := audit.Record(ctx, tx, audit.Entry{At: e.now().UnixMilli(), Actor: actor, Action: audit.ActionErase, Target: target,
		Detail: map[string]string{"conversations": strconv.Itoa(res.Conversations), "messages": strconv.Itoa(res.Messages)}})
	return err
}

// compact rebuilds the file and empties the WAL, so the erased rows are in
// neither free pages nor WAL frames (secure_delete already zeroed them in
// the pages SQLite freed).
func (e *Eraser) compact(ctx context.Context) error {
	if _, err := e.db.Writer().ExecContext(ctx, `VACUUM`); err != nil {
		return fmt.Errorf("vacuum after erase: %w", err)
	}
	if _, err := e.db.Writer().ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return fmt.Errorf("checkpoint after erase: %w", err)
	}
	return nil
}

// SettingRetentionDays is the security setting holding the retention
// period of conversations in days ("" or "0": keep forever).
const SettingRetentionDays = "retention_days"

// MaxRetentionDays is the longest retention period accepted: a hundred
// years; anything longer is a typo.
const MaxRetentionDays = 36500

// ErrInvalidRetention: a retention period outside 0–MaxRetentionDays days.
var ErrInvalidRetention = errors.New("erasure: retention period out of range")

// RetentionDays is the retention period of conversations in days; 0 keeps
// them forever (also when nothing or something unreadable is stored).
func (e *Eraser) RetentionDays(ctx context.Context) (int, error) {
	v, err := auth.GetSetting(ctx, e.db.Reader(), SettingRetentionDays)
	if err != nil {
		return 0, fmt.Errorf("retention period: %w", err)
	}
	if n, err := strconv.Atoi(v); err == nil && n > 0 {
		return n, nil
	}
	return 0, nil
}

// SetRetentionDays sets the retention period (0: keep forever); the change
// is audited as a settings change in the name of actor.
func (e *Eraser) SetRetentionDays(ctx context.Context, actor string, days int) error {
	if days < 0 || days > MaxRetentionDays {
		// The field's name on the security settings form.
		var l fielderr.List
		l.AddBetween("retentionDays", 0, MaxRetentionDays)
		return l.Err(ErrInvalidRetention)
	}
	return auth.SetSetting(ctx, e.db, actor, SettingRetentionDays, strconv.Itoa(days))
}

// ApplyStoredRetention applies the stored retention period, if any, in the
// name of actor (the scheduler's pass).
func (e *Eraser) ApplyStoredRetention(ctx context.Context, actor string) (Result, error) {
	days, err := e.RetentionDays(ctx)
	if err != nil {
		return Result{}, err
	}
	return e.ApplyRetention(ctx, actor, days)
}

// ApplyRetention deletes messages (and their media) and web form answers
// older than days, and clears the previews of conversations whose last
// message is older. It is
// audited as one entry with counts.
func (e *Eraser) ApplyRetention(ctx context.Context, actor string, days int) (Result, error) {
	if days <= 0 {
		return Result{}, nil
	}
	cutoff := e.now().Add(-time.Duration(days) * 24 * time.Hour).UnixMilli()
	var res Result
	err := e.db.Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM message_content WHERE message_id IN (SELECT id FROM messages WHERE created_at < ? AND status <> 'pending')`, cutoff); err != nil {
			return err
		}
		r, err := tx.ExecContext(ctx, `DELETE FROM messages WHERE created_at < ? AND status <> 'pending'`, cutoff)
		if err != nil {
			return err
		}
		n, _ := r.RowsAffected()
		res.Messages = int(n)
		r, err = tx.ExecContext(ctx, `UPDATE conversations SET last_preview = '' WHERE last_message_at < ? AND last_preview <> ''`, cutoff)
		if err != nil {
			return err
		}
		n, _ = r.RowsAffected()
		res.Conversations = int(n)
		if _, err := tx.ExecContext(ctx, `UPDATE bookings SET moved_to = NULL WHERE moved_to IN (SELECT id FROM bookings WHERE ends_at < ?)`, cutoff); err != nil {
			return err
		}
		if r, err = tx.ExecContext(ctx, `DELETE FROM bookings WHERE ends_at < ?`, cutoff); err != nil {
			return err
		}
		n, _ = r.RowsAffected()
		res.Bookings = int(n)
		// Web form answers by the day the relay received them, and the
		// refused submissions (their bodies hold answers too). The token
		// hashes stay: a submission taken once must not come back.
		r, err = tx.ExecContext(ctx, `DELETE FROM form_answers WHERE received_at < ?`, cutoff)
		if err != nil {
			return err
		}
		n, _ = r.RowsAffected()
		res.FormAnswers = int(n)
		r, err = tx.ExecContext(ctx, `DELETE FROM form_rejects WHERE received_at < ?`, cutoff)
		if err != nil {
			return err
		}
		n, _ = r.RowsAffected()
		res.FormAnswers += int(n)
		if res.Messages == 0 && res.Conversations == 0 && res.Bookings == 0 && res.FormAnswers == 0 {
			return nil
		}
		detail := map[string]string{"days": strconv.Itoa(days), "messages": strconv.Itoa(res.Messages), "conversations": strconv.Itoa(res.Conversations)}
		if res.Bookings > 0 {
			detail["bookings"] = strconv.Itoa(res.Bookings)
		}
		if res.FormAnswers > 0 {
			detail["formAnswers"] = strconv.Itoa(res.FormAnswers)
		}
		_, err = audit.Record(ctx, tx, audit.Entry{At: e.now().UnixMilli(), Actor: actor, Action: audit.ActionRetention, Detail: detail})
		return err
	})
	if err != nil {
		return res, fmt.Errorf("retention: %w", err)
	}
	if res.Messages > 0 {
		return res, e.compact(ctx)
	}
	return res, nil
}
