package inbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"tsunagu/internal/line"
	"tsunagu/internal/store"
)

// incoming is the part of a webhook event the inbox keeps.
type incoming struct {
	eventType  string
	eventID    string
	userID     string // empty for group/room sources: not a 1:1 conversation
	timestamp  int64
	redelivery bool
	replyToken string
	// standby: another channel (a module) is answering this chat; the
	// event is kept but its reply token must not be used.
	standby bool
	// message, postback, videoPlayComplete, accountLink, follow: what the
	// conversation shows
	kind      string
	body      string
	messageID string
	unread    bool
	// follow: the user unblocked the account rather than adding it anew
	unblocked bool
	// unsend: LINE's ID of the message the user took back
	unsendID string
	// message: its markAsReadToken (line.Webhook.MarkAsReadTokens)
	readToken string
	// postback: its params (datetime picker), handed to hooks only
	postbackParams map[string]string
	// message: the fetch lane of its content ("" if none to fetch)
	fetchLane string
}

// parseEvent reduces a webhook event to what the inbox stores. Events
// without a webhookEventId cannot be deduplicated: false. Known event types
// that are not about a 1:1 chat (join, beacon, membership ...) and unknown
// types are recorded (so a redelivery is recognised) and otherwise ignored.
func parseEvent(ev line.Event) (incoming, bool) {
	in := incoming{eventType: unknownType(ev.Type), eventID: ev.ID, userID: ev.UserID, timestamp: ev.Timestamp,
		redelivery: ev.Redelivery, replyToken: ev.ReplyToken, standby: ev.Standby}
	switch ev.Type {
	case "message":
		in.kind, in.body, in.messageID = ev.MessageKind, ev.MessageBody, ev.MessageID
		in.fetchLane = contentLane(ev.MessageKind, ev.ContentExternal, ev.FileSize)
		in.unread = true
	case "follow":
		in.kind = "follow"
		if ev.Unblocked {
			in.unblocked = true
			in.body = "unblocked"
		}
	case "unfollow":
		in.kind = "unfollow"
	case "postback":
		in.kind, in.unread = "postback", true
		in.body, in.postbackParams = ev.PostbackData, ev.PostbackParams
	case "videoPlayComplete":
		in.kind, in.body = "videoPlayComplete", ev.TrackingID
	case "accountLink":
		// The nonce is the linking feature's business; the inbox shows
		// only whether linking succeeded.
		in.kind, in.body = "accountLink", ev.LinkResult
	case "unsend":
		in.unsendID = ev.UnsendID
	}
	return in, in.eventID != ""
}

// unknownType keeps an event type fit for the webhook_events table.
func unknownType(t string) string {
	if t == "" {
		return "unknown"
	}
	if len(t) > 40 {
		t = t[:40]
	}
	return t
}

// recordEvent stores the event's ID; false means it was already stored.
func recordEvent(ctx context.Context, tx store.Execer, in incoming, now int64) (bool, error) {
	var user any
	if in.userID != "" {
		user = in.userID
	}
	res, err := tx.ExecContext(ctx, `
		INSERT INTO webhook_events (webhook_event_id, type, line_user_id, occurred_at, received_at, redelivery)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (webhook_event_id) DO NOTHING`,
		in.eventID, in.eventType, user, in.timestamp, now, in.redelivery)
	if err != nil {
		return false, fmt.Errorf("record event: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// handled are the event types the inbox shows.
var handled = map[string]bool{
	"message": true, "follow": true, "unfollow": true, "postback": true,
	"videoPlayComplete": true, "accountLink": true, "unsend": true,
}

// hasContent are the message kinds whose content LINE lets us download.
var hasContent = map[string]bool{"image": true, "video": true, "audio": true, "file": true}

// ensureUser creates the LINE user and their conversation if new, and
// reports whether their profile needs fetching: never fetched, or fetched
// before staleBefore (unix ms).
func ensureUser(ctx context.Context, tx store.Execer, userID string, now, staleBefore int64) (stale bool, err error) {
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO line_users (user_id, created_at) VALUES (?, ?) ON CONFLICT (user_id) DO NOTHING`, userID, now); err != nil {
		return false, fmt.Errorf("add LINE user: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO conversations (line_user_id, created_at) VALUES (?, ?) ON CONFLICT (line_user_id) DO NOTHING`, userID, now); err != nil {
		return false, fmt.Errorf("add conversation: %w", err)
	}
	var at sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT profile_at FROM line_users WHERE user_id = ?`, userID).Scan(&at); err != nil {
		return false, fmt.Errorf("read LINE user: %w", err)
	}
	return !at.Valid || at.Int64 < staleBefore, nil
}

// applyEvent updates the conversation for a fresh event and returns its ID
// and the stored message's (0 if it stored none).
func (ib *Inbox) applyEvent(ctx context.Context, tx store.Execer, in incoming, now int64) (convID, msgID int64, err error) {
	if err := tx.QueryRowContext(ctx, `SELECT id FROM conversations WHERE line_user_id = ?`, in.userID).Scan(&convID); err != nil {
		return 0, 0, fmt.Errorf("find conversation: %w", err)
	}
	switch in.eventType {
	case "message", "postback", "videoPlayComplete", "accountLink":
	case "follow":
		// A follow also clears an earlier profile 404: the user can be
		// reached again.
		if _, err := tx.ExecContext(ctx, `UPDATE line_users SET follow_state = 'following', unreachable_at = NULL WHERE user_id = ?`, in.userID); err != nil {
			return 0, 0, fmt.Errorf("update follow state: %w", err)
		}
	case "unfollow":
		if _, err := tx.ExecContext(ctx, `UPDATE line_users SET follow_state = 'unfollowed' WHERE user_id = ?`, in.userID); err != nil {
			return 0, 0, fmt.Errorf("update follow state: %w", err)
		}
	case "unsend":
		id, err := unsend(ctx, tx, convID, in, now)
		return id, 0, err
	default:
		return 0, 0, nil
	}
	var token, lineMsgID, readToken any
	if in.replyToken != "" {
		token = in.replyToken
	}
	if in.readToken != "" {
		readToken = in.readToken
	}
	if in.messageID != "" {
		lineMsgID = in.messageID
	}
	res, err := tx.ExecContext(ctx, `
		INSERT INTO messages (conversation_id, direction, kind, body, line_message_id, webhook_event_id, reply_token, mark_as_read_token, status, created_at)
		VALUES (?, 'in', ?, ?, ?, ?, ?, ?, 'received', ?)`,
		convID, in.kind, in.body, lineMsgID, in.eventID, token, readToken, eventTime(in, now))
	if err != nil {
		return 0, 0, fmt.Errorf("store message: %w", err)
	}
	if msgID, err = res.LastInsertId(); err != nil {
		return 0, 0, fmt.Errorf("store message: %w", err)
	}
	if err := touchConversation(ctx, tx, convID, eventTime(in, now), in.kind, in.body, in.unread); err != nil {
		return 0, 0, err
	}
	return convID, msgID, nil
}

// unsend hides a message the customer took back: its text and any
// downloaded content are erased (the DB overwrites deleted data), and the
// conversation preview no longer shows it. The row stays, marked unsent, so
// the thread shows that something was withdrawn.
func unsend(ctx context.Context, tx store.Execer, convID int64, in incoming, now int64) (int64, error) {
	if in.unsendID == "" {
		return 0, nil
	}
	var id int64
	err := tx.QueryRowContext(ctx, `
		SELECT id FROM messages WHERE conversation_id = ? AND direction = 'in' AND line_message_id = ?`,
		convID, in.unsendID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil // never received (or already gone)
	}
	if err != nil {
		return 0, fmt.Errorf("find unsent message: %w", err)
	}
	// Its read token goes too: a withdrawn message is not one to mark read.
	if _, err := tx.ExecContext(ctx, `UPDATE messages SET body = '', mark_as_read_token = NULL, unsent_at = ? WHERE id = ?`, eventTime(in, now), id); err != nil {
		return 0, fmt.Errorf("hide unsent message: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM message_content WHERE message_id = ?`, id); err != nil {
		return 0, fmt.Errorf("erase unsent content: %w", err)
	}
	// Nor is its content fetched any more.
	if _, err := tx.ExecContext(ctx, `DELETE FROM fetch_jobs WHERE message_id = ?`, id); err != nil {
		return 0, fmt.Errorf("drop fetch of unsent content: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `
		UPDATE conversations SET last_preview = '', last_kind = 'unsend'
		WHERE id = ? AND (SELECT MAX(id) FROM messages WHERE conversation_id = ?) = ?`, convID, convID, id); err != nil {
		return 0, fmt.Errorf("update conversation: %w", err)
	}
	return convID, nil
}

// eventTime orders messages by when the customer sent them, falling back to
// arrival time for events without a usable timestamp.
func eventTime(in incoming, now int64) int64 {
	if in.timestamp > 0 {
		return in.timestamp
	}
	return now
}

// touchConversation records the conversation's latest message; the UI shows
// the kind translated and the body (text, file name, place) after it.
func touchConversation(ctx context.Context, tx store.Execer, convID, at int64, kind, preview string, unread bool) error {
	inc := 0
	if unread {
		inc = 1
	}
	res, err := tx.ExecContext(ctx, `
		UPDATE conversations SET unread = unread + ?, last_message_at = MAX(last_message_at, ?), last_kind = ?, last_preview = ?,
		       status = CASE WHEN ? = 1 AND status = 'closed' THEN 'open' ELSE status END
		WHERE id = ?`, inc, at, kind, truncate(preview, 120), inc, convID)
	if err != nil {
		return fmt.Errorf("update conversation: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errors.New("update conversation: not found")
	}
	return nil
}

func truncate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
