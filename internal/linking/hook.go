package linking

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"tsunagu/internal/customer"
	"tsunagu/internal/inbox"
	"tsunagu/internal/store"
)

// Rate limit and identity check limits.
const (
	// MaxWrongAttempts code messages that link nothing (wrong, expired,
	// used) are accepted per LINE user within AttemptWindow; after that
	// code messages are not even checked, so codes cannot be guessed.
	MaxWrongAttempts = 5
	AttemptWindow    = time.Hour
	// MaxIdentityFailures wrong birth dates invalidate the code.
	MaxIdentityFailures = 3
)

// Hook returns the inbox hook that redeems codes sent in the chat. It must
// come first in the hook list: a consumed code stops the chain (no keyword
// reply to a code).
func (s *Service) Hook() inbox.Hook { return hook{s} }

type hook struct{ s *Service }

// HandleEvent implements inbox.Hook. It runs inside the webhook's
// transaction; redeliveries never reach it, so a code is redeemed and
// answered once.
func (h hook) HandleEvent(ctx context.Context, tx *sql.Tx, ev inbox.HookEvent) (inbox.HookResult, error) {
	if ev.Type != "message" || ev.Kind != "text" || ev.UserID == "" {
		return inbox.HookResult{}, nil
	}
	code, isCode := ParseMessage(ev.Text)
	linked, err := userLinked(ctx, ev.Q(tx), ev.UserID)
	if err != nil {
		return inbox.HookResult{}, err
	}
	switch {
	case linked && isCode:
		return answer(ReplyAlreadyLinked), nil
	case linked:
		return inbox.HookResult{}, nil
	case isCode:
		return h.s.redeem(ctx, tx, ev, code)
	default:
		return h.s.identityAnswer(ctx, tx, ev)
	}
}

// answer is a reply that ends the chain and keeps the customer's message
// out of the unread count: it was an exchange with the app.
func answer(text string) inbox.HookResult {
	return inbox.HookResult{Replies: []inbox.HookReply{{Text: text, SentBy: SentBy, Audit: Actor, Source: "linking"}}, Stop: true, Internal: true}
}

// redeem checks a code message from a LINE user who is not linked.
func (s *Service) redeem(ctx context.Context, tx *sql.Tx, ev inbox.HookEvent, code string) (inbox.HookResult, error) {
	now := s.now().UnixMilli()
	since := now - AttemptWindow.Milliseconds()
	var failures, notices int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE outcome <> 'throttled'), count(*) FILTER (WHERE outcome = 'throttled')
		FROM link_attempts WHERE line_user_id = ? AND at > ?`, ev.UserID, since).Scan(&failures, &notices); err != nil {
		return inbox.HookResult{}, fmt.Errorf("count link attempts: %w", err)
	}
	if failures >= MaxWrongAttempts {
		if notices > 0 {
			// Told once already: the message stays in the thread
			// for staff, with no answer and no check.
			return inbox.HookResult{Stop: true, Internal: true}, nil
		}
		return s.reject(ctx, tx, ev, "throttled", 0, ReplyThrottled)
	}
	if !inAlphabet(code) {
		return s.reject(ctx, tx, ev, "wrong", 0, ReplyWrong)
	}
	hash, err := hashCode(ctx, tx, code)
	if err != nil {
		return inbox.HookResult{}, err
	}
	var (
		id, customerID, expires int64
		state                   string
		user                    sql.NullString
	)
	err = tx.QueryRowContext(ctx, `SELECT id, customer_id, state, expires_at, line_user_id FROM link_codes WHERE code_hash = ?`, hash).
		Scan(&id, &customerID, &state, &expires, &user)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return s.reject(ctx, tx, ev, "wrong", 0, ReplyWrong)
	case err != nil:
		return inbox.HookResult{}, fmt.Errorf("find link code: %w", err)
	case state == "verifying" && user.String == ev.UserID:
		return answer(ReplyAskBirthDate), nil // sent again: ask again
	case state == "used" || state == "verifying":
		return s.reject(ctx, tx, ev, "used", id, ReplyUsed)
	case state != "pending" || expires <= now:
		return s.reject(ctx, tx, ev, "expired", id, ReplyExpired)
	}

	set, err := readSettings(ctx, tx)
	if err != nil {
		return inbox.HookResult{}, err
	}
	if set.IdentityCheck == IdentityBirthDate {
		if _, err := tx.ExecContext(ctx, `UPDATE link_codes SET state = 'verifying', line_user_id = ? WHERE id = ?`, ev.UserID, id); err != nil {
			return inbox.HookResult{}, fmt.Errorf("mark link code verifying: %w", err)
		}
		if err := s.record(ctx, tx, Actor, ActionCodeAccepted, customerID, map[string]string{
			"code": itoa(id), "conversation": itoa(ev.ConversationID)}); err != nil {
			return inbox.HookResult{}, err
		}
		return answer(ReplyAskBirthDate), nil
	}
	return s.complete(ctx, tx, ev, id, customerID)
}

// complete links the code's customer to the sender and closes the code.
func (s *Service) complete(ctx context.Context, tx *sql.Tx, ev inbox.HookEvent, codeID, customerID int64) (inbox.HookResult, error) {
	if _, err := tx.ExecContext(ctx, `UPDATE link_codes SET state = 'used', line_user_id = ?, closed_at = ? WHERE id = ?`,
		ev.UserID, s.now().UnixMilli(), codeID); err != nil {
		return inbox.HookResult{}, fmt.Errorf("close link code: %w", err)
	}
	err := s.linkTx(ctx, tx, Actor, customerID, ev.UserID, "code", map[string]string{"code": itoa(codeID), "conversation": itoa(ev.ConversationID)})
	if errors.Is(err, ErrCustomerLinked) || errors.Is(err, ErrUserLinked) {
		// Linked by staff since the code was issued: the code is
		// spent, and the customer is asked to call.
		if _, err := tx.ExecContext(ctx, `UPDATE link_codes SET state = 'invalidated' WHERE id = ?`, codeID); err != nil {
			return inbox.HookResult{}, err
		}
		if err := s.record(ctx, tx, Actor, ActionCodeInvalidated, customerID, map[string]string{"code": itoa(codeID), "why": "already linked"}); err != nil {
			return inbox.HookResult{}, err
		}
		return answer(ReplyCannotLink), nil
	}
	if err != nil {
		return inbox.HookResult{}, err
	}
	return answer(ReplyLinked), nil
}

// reject records a code message that linked nothing and answers it.
func (s *Service) reject(ctx context.Context, tx *sql.Tx, ev inbox.HookEvent, outcome string, codeID int64, reply string) (inbox.HookResult, error) {
	if _, err := tx.ExecContext(ctx, `INSERT INTO link_attempts (line_user_id, at, outcome) VALUES (?, ?, ?)`,
		ev.UserID, s.now().UnixMilli(), outcome); err != nil {
		return inbox.HookResult{}, fmt.Errorf("record link attempt: %w", err)
	}
	detail := map[string]string{"reason": outcome}
	if codeID != 0 {
		detail["code"] = itoa(codeID)
	}
	if err := s.recordConversation(ctx, tx, ActionCodeRejected, ev.ConversationID, detail); err != nil {
		return inbox.HookResult{}, err
	}
	return answer(reply), nil
}

// identityAnswer handles a message from a LINE user whose code waits for
// the identity check: a birth date is compared with the customer's. Messages
// without a digit are not an answer and go on to staff.
func (s *Service) identityAnswer(ctx context.Context, tx *sql.Tx, ev inbox.HookEvent) (inbox.HookResult, error) {
	var (
		id, customerID, expires int64
		failures                int
		birth                   string
	)
	// A text without digits cannot be a birth date: most messages end
	// here, without a query on the webhook's hot path.
	if !strings.ContainsAny(normDigits(ev.Text), "0123456789") {
		return inbox.HookResult{}, nil
	}
	err := tx.QueryRowContext(ctx, `SELECT l.id, l.customer_id, l.expires_at, l.id_failures, c.birth_date
		FROM link_codes l JOIN customers c ON c.id = l.customer_id
		WHERE l.line_user_id = ? AND l.state = 'verifying' ORDER BY l.id DESC LIMIT 1`, ev.UserID).
		Scan(&id, &customerID, &expires, &failures, &birth)
	if errors.Is(err, sql.ErrNoRows) {
		return inbox.HookResult{}, nil
	}
	if err != nil {
		return inbox.HookResult{}, fmt.Errorf("find code being verified: %w", err)
	}
	if expires <= s.now().UnixMilli() {
		if _, err := tx.ExecContext(ctx, `UPDATE link_codes SET state = 'invalidated', closed_at = ? WHERE id = ?`, s.now().UnixMilli(), id); err != nil {
			return inbox.HookResult{}, err
		}
		if err := s.record(ctx, tx, Actor, ActionCodeInvalidated, customerID, map[string]string{"code": itoa(id), "why": "expired"}); err != nil {
			return inbox.HookResult{}, err
		}
		return answer(ReplyExpired), nil
	}
	got, perr := customer.ParseDate(ev.Text)
	if perr == nil && got != "" && got == birth {
		return s.complete(ctx, tx, ev, id, customerID)
	}
	failures++
	if _, err := tx.ExecContext(ctx, `UPDATE link_codes SET id_failures = ? WHERE id = ?`, failures, id); err != nil {
		return inbox.HookResult{}, err
	}
	if err := s.record(ctx, tx, Actor, ActionIdentityFailed, customerID, map[string]string{
		"code": itoa(id), "failures": fmt.Sprint(failures), "conversation": itoa(ev.ConversationID)}); err != nil {
		return inbox.HookResult{}, err
	}
	if failures < MaxIdentityFailures {
		return answer(replyIdentityRetry(MaxIdentityFailures - failures)), nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE link_codes SET state = 'invalidated', closed_at = ? WHERE id = ?`, s.now().UnixMilli(), id); err != nil {
		return inbox.HookResult{}, err
	}
	if err := s.record(ctx, tx, Actor, ActionCodeInvalidated, customerID, map[string]string{"code": itoa(id), "why": "identity check failed"}); err != nil {
		return inbox.HookResult{}, err
	}
	return answer(ReplyIdentityLocked), nil
}

// normDigits folds full-width digits so ０ counts as a digit.
func normDigits(s string) string { return customer.NormalizeKey(s) }

func userLinked(ctx context.Context, tx store.Execer, userID string) (bool, error) {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM customer_line_links WHERE line_user_id = ?`, userID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("find LINE link: %w", err)
	}
	return true, nil
}
