package inbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"tsunagu/internal/audit"
	"tsunagu/internal/clicks"
	"tsunagu/internal/line"
)

// Staff sends: a reply or a retry is stored, keyed and audited in one
// transaction, then delivered through the conversation's send queue
// (sender.go).

// Message error codes stored with failed sends (and shown translated).
const (
	SendErrFailed      = "errors.sendFailed"
	SendErrUnreachable = "errors.unreachable"
	SendErrUncertain   = "errors.sendUncertain"
)

// Reply sends text from staff to the conversation's customer. It uses the
// newest unused reply token if it is still fresh, and otherwise a push whose
// retry key is stored before the request leaves. The message is stored
// (pending, with its key and token) and audited (message.send, naming the
// conversation and message, never the text) in one transaction, then
// delivered through the conversation's send queue, after any earlier
// message still waiting there. The returned message carries the outcome:
// "sent"; "pending" if LINE could not be reached (it goes out by itself
// once LINE answers again, Run); or "failed" for good, with the error
// returned too.
func (ib *Inbox) Reply(ctx context.Context, conversationID int64, by Actor, text string) (Message, error) {
	return ib.ReplyTracked(ctx, conversationID, by, text, nil)
}

// ReplyTracked is Reply with the links of text in track (those the clerk
// chose to track; a reply's links go as written by default) tracked for
// this friend: in the transaction that stores the reply, each gets a token
// (clicks, source "reply", the message) and the message's payload is the
// text carrying the tracked links, while its body, which the conversation
// shows, keeps the links as written. The sender publishes the tokens to
// the relay before the request leaves (sendQueued). Without a relay
// (Links, or none enrolled) nothing is tracked.
func (ib *Inbox) ReplyTracked(ctx context.Context, conversationID int64, by Actor, text string, track []string) (Message, error) {
	if ib.send == nil {
		return Message{}, ErrOffline
	}
	if by.Audit == "" {
		return Message{}, ErrNoActor
	}
	if err := checkText(text); err != nil {
		return Message{}, err
	}
	track, base, err := ib.replyTracking(ctx, text, track)
	if err != nil {
		return Message{}, err
	}
	unlock := ib.locks.lock(conversationID)
	defer unlock()
	now := ib.now()
	var msgID int64
	err = ib.db.Write(ctx, func(tx *sql.Tx) error {
		var follow, user string
		err := tx.QueryRowContext(ctx, `
			SELECT u.follow_state, u.user_id FROM conversations c
			JOIN line_users u ON u.user_id = c.line_user_id WHERE c.id = ?`, conversationID).Scan(&follow, &user)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("conversation %d: %w", conversationID, ErrNotFound)
		}
		if err != nil {
			return err
		}
		if follow == "unfollowed" {
			return ErrUnreachable
		}
		// Claim the reply token in the same transaction that records the
		// reply, so two staff replying at once never use one token twice.
		token, until, err := claimReplyToken(ctx, tx, conversationID, now.Add(-ib.ttl), ib.ttl)
		if err != nil {
			return err
		}
		via := "reply"
		if token == nil {
			via = "push"
		}
		// Even a reply gets its key now: if LINE refuses the token, the
		// push that follows uses this stored key.
		res, err := tx.ExecContext(ctx, `
			INSERT INTO messages (conversation_id, direction, kind, body, sent_by, via, retry_key, status, created_at, send_token, send_token_until)
			VALUES (?, 'out', 'text', ?, ?, ?, ?, 'pending', ?, ?, ?)`,
			conversationID, text, by.Name, via, ib.newKey(), now.UnixMilli(), token, until)
		if err != nil {
			return err
		}
		if msgID, err = res.LastInsertId(); err != nil {
			return err
		}
		if len(track) > 0 {
			if err := ib.trackReply(ctx, tx, msgID, user, text, track, base); err != nil {
				return err
			}
		}
		if err := touchConversation(ctx, tx, conversationID, now.UnixMilli(), "text", text, false); err != nil {
			return err
		}
		return recordSend(ctx, tx, by, audit.ActionMessageSend, conversationID, msgID, via, now)
	})
	if err != nil {
		return Message{}, fmt.Errorf("reply to conversation %d: %w", conversationID, err)
	}
	ib.notify(conversationID)
	return ib.deliverNow(ctx, conversationID, msgID)
}

// replyTracking returns the links of text among chosen (in text's order)
// and the prefix of tracked links, or nothing when none was chosen or no
// relay is enrolled. A link chosen when no relay can take it is an error
// (ErrLinksUntrackable), never sent untracked behind the clerk's back.
func (ib *Inbox) replyTracking(ctx context.Context, text string, chosen []string) ([]string, string, error) {
	if len(chosen) == 0 {
		return nil, "", nil
	}
	var track []string
	for _, u := range clicks.FindLinks(text) {
		if slices.Contains(chosen, u) {
			track = append(track, u)
		}
	}
	if len(track) == 0 {
		return nil, "", nil
	}
	base := ib.links.Base(ctx) // "" when ib.links is nil
	if base == "" {
		return nil, "", ErrLinksUntrackable
	}
	return track, base, nil
}

// trackReply mints the reply's tokens for the friend and stores, as the
// message's payload, the text that carries them.
func (ib *Inbox) trackReply(ctx context.Context, tx *sql.Tx, msgID int64, user, text string, track []string, base string) error {
	m, err := ib.links.NewSourceMinter(ctx, tx, clicks.Source{Kind: clicks.SourceReply, ID: msgID}, base)
	if err != nil {
		return err
	}
	defer m.Close()
	links, err := m.LinksFor(ctx, clicks.Recipient{LineUser: user}, track)
	if err != nil {
		return err
	}
	sent := clicks.ReplaceLinks(text, links)
	if err := checkText(sent); err != nil {
		return err // a tracked link is longer: the text may no longer fit
	}
	msg, err := line.Text(sent)
	if err != nil {
		return err
	}
	payload, err := line.MarshalMessages([]line.Message{msg})
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE messages SET payload = ? WHERE id = ?`, string(payload), msgID)
	return err
}

// deliverNow delivers a conversation's queue up to and including msgID,
// which staff just stored, with the conversation's lock held, and returns
// the message as it stands. If it has to wait (LINE down, or an earlier
// message waiting), the background sender takes it from there.
func (ib *Inbox) deliverNow(ctx context.Context, convID, msgID int64) (Message, error) {
	sendErr, err := ib.deliverLocked(ctx, convID, ib.staffPath(), msgID, true)
	if err != nil {
		return Message{}, err
	}
	m, err := ib.message(ctx, msgID)
	if err != nil {
		return Message{}, err
	}
	switch m.Status {
	case "pending":
		ib.sendSig.fire()
	case "failed":
		if sendErr == nil {
			sendErr = errors.New(m.Error)
		}
		return m, fmt.Errorf("send message %d: %w", msgID, sendErr)
	}
	return m, nil
}

// RetryMessage resends a failed (or waiting) outgoing message now. A push
// is resent with its stored retry key, so if the first attempt did reach
// LINE, LINE answers 409 and the customer still gets one copy. The message
// is checked, marked pending (switched to a push with a fresh stored key if
// it was a reply) and audited (message.retry) in one transaction before the
// request leaves.
func (ib *Inbox) RetryMessage(ctx context.Context, messageID int64, by Actor) (Message, error) {
	if ib.send == nil {
		return Message{}, ErrOffline
	}
	if by.Audit == "" {
		return Message{}, ErrNoActor
	}
	var convID int64
	if err := ib.db.Reader().QueryRowContext(ctx, `SELECT conversation_id FROM messages WHERE id = ?`, messageID).Scan(&convID); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			err = ErrNotFound
		}
		return Message{}, fmt.Errorf("retry message %d: %w", messageID, err)
	}
	unlock := ib.locks.lock(convID)
	defer unlock()
	now := ib.now()
	err := ib.db.Write(ctx, func(tx *sql.Tx) error {
		var (
			via, status, dir, follow string
			key                      sql.NullString
			uncertain                sql.NullInt64
		)
		err := tx.QueryRowContext(ctx, `
			SELECT u.follow_state, COALESCE(m.via,''), m.retry_key, m.status, m.direction, m.uncertain_since
			FROM messages m JOIN conversations c ON c.id = m.conversation_id
			JOIN line_users u ON u.user_id = c.line_user_id WHERE m.id = ?`, messageID).
			Scan(&follow, &via, &key, &status, &dir, &uncertain)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if dir != "out" || (status != "failed" && status != "pending") {
			return ErrNotRetrying
		}
		if follow == "unfollowed" {
			return ErrUnreachable
		}
		retryKey := key.String
		if via != "push" || !key.Valid {
			// A reply token is single-use: whatever happened to it, the
			// retry goes out as a push with a fresh, stored key.
			retryKey, uncertain = ib.newKey(), sql.NullInt64{}
		}
		// Pending again while the request is out: a crash now leaves a
		// keyed push that the sender resends harmlessly.
		if _, err := tx.ExecContext(ctx, `UPDATE messages SET via = 'push', retry_key = ?, status = 'pending', error = '',
			next_send_at = NULL, send_token = NULL, uncertain_since = ? WHERE id = ?`,
			retryKey, uncertain, messageID); err != nil {
			return err
		}
		return recordSend(ctx, tx, by, audit.ActionMessageRetry, convID, messageID, "push", now)
	})
	if err != nil {
		return Message{}, fmt.Errorf("retry message %d: %w", messageID, err)
	}
	ib.notify(convID)
	return ib.deliverNow(ctx, convID, messageID)
}

// recordSend audits a send or retry inside the transaction that stores it.
// The entry names the conversation and the message by ID and says how it
// goes out; it never holds the text (the audit trail outlives erasures and
// is exported to auditors). The outcome (sent, failed) is not audited: it is
// LINE's answer, not anyone's action, and it is kept on the message row
// (status, error, line_request_id), where a second entry per send would add
// nothing an auditor needs.
func recordSend(ctx context.Context, tx *sql.Tx, by Actor, action string, convID, msgID int64, via string, at time.Time) error {
	_, err := audit.Record(ctx, tx, audit.Entry{
		At:     at.UnixMilli(),
		Actor:  by.Audit,
		Action: action,
		Target: "conversation:" + strconv.FormatInt(convID, 10),
		Detail: map[string]string{"message": strconv.FormatInt(msgID, 10), "via": via},
	})
	return err
}

// SendTimeout bounds one staff send, retries included. The LINE client
// retries a push for up to about a minute; a clerk waiting on the screen is
// better told sooner that the outcome is open. The message stays queued
// with its stored key, so the background sender's resend cannot duplicate
// it.
const SendTimeout = 20 * time.Second

// switchToPush turns an outgoing message into a push with its retry key
// (a new one if key is ""), stored before the caller sends.
func (ib *Inbox) switchToPush(ctx context.Context, msgID int64, key string) (string, error) {
	if key == "" {
		key = ib.newKey()
	}
	err := ib.db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE messages SET via = 'push', retry_key = ?, status = 'pending', error = '', send_token = NULL
			WHERE id = ?`, key, msgID)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("prepare push for message %d: %w", msgID, err)
	}
	return key, nil
}

func checkText(text string) error {
	if strings.TrimSpace(text) == "" {
		return ErrEmpty
	}
	err := line.ValidateText(text)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, line.ErrTextTooLong):
		return fmt.Errorf("%w: %v", ErrTooLong, err)
	case errors.Is(err, line.ErrTextEmpty):
		return ErrEmpty
	}
	return err
}

func isInvalidReplyToken(err error) bool {
	var apiErr *line.APIError
	return errors.As(err, &apiErr) && apiErr.Status == 400 &&
		strings.Contains(strings.ToLower(apiErr.Message), "reply token")
}
