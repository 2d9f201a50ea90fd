package inbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/line/line-bot-sdk-go/v8/linebot/webhook"
)

// incoming is the part of a webhook event the inbox keeps.
type incoming struct {
	eventType  string
	eventID    string
	userID     string // empty for group/room sources: not a 1:1 conversation
	timestamp  int64
	redelivery bool
	replyToken string
	// message events only
	kind      string
	body      string
	messageID string
}

// parseEvent reduces an SDK event to what the inbox stores. Events without a
// webhookEventId cannot be deduplicated and are ignored.
func parseEvent(ev webhook.EventInterface) (incoming, bool) {
	var in incoming
	switch e := ev.(type) {
	case webhook.MessageEvent:
		in = incoming{eventType: "message", eventID: e.WebhookEventId, userID: userOf(e.Source),
			timestamp: e.Timestamp, redelivery: redelivered(e.DeliveryContext), replyToken: e.ReplyToken}
		in.kind, in.body, in.messageID = describeMessage(e.Message)
	case webhook.FollowEvent:
		in = incoming{eventType: "follow", eventID: e.WebhookEventId, userID: userOf(e.Source),
			timestamp: e.Timestamp, redelivery: redelivered(e.DeliveryContext), replyToken: e.ReplyToken}
	case webhook.UnfollowEvent:
		in = incoming{eventType: "unfollow", eventID: e.WebhookEventId, userID: userOf(e.Source),
			timestamp: e.Timestamp, redelivery: redelivered(e.DeliveryContext)}
	default:
		return incoming{}, false
	}
	return in, in.eventID != ""
}

func userOf(src webhook.SourceInterface) string {
	switch s := src.(type) {
	case webhook.UserSource:
		return s.UserId
	case *webhook.UserSource:
		return s.UserId
	}
	return ""
}

func redelivered(dc *webhook.DeliveryContext) bool { return dc != nil && dc.IsRedelivery }

// describeMessage gives the stored kind and a readable body for each message
// type; media content itself is fetched by a later feature.
func describeMessage(m webhook.MessageContentInterface) (kind, body, id string) {
	switch c := m.(type) {
	case webhook.TextMessageContent:
		return "text", c.Text, c.Id
	case webhook.StickerMessageContent:
		body := c.PackageId + "/" + c.StickerId
		if c.Text != "" {
			body = c.Text
		}
		return "sticker", body, c.Id
	case webhook.ImageMessageContent:
		return "image", "", c.Id
	case webhook.VideoMessageContent:
		return "video", "", c.Id
	case webhook.AudioMessageContent:
		return "audio", "", c.Id
	case webhook.FileMessageContent:
		return "file", c.FileName, c.Id
	case webhook.LocationMessageContent:
		return "location", strings.TrimSpace(c.Title + " " + c.Address), c.Id
	}
	return "other", "", ""
}

// recordEvent stores the event's ID; false means it was already stored.
func recordEvent(ctx context.Context, tx *sql.Tx, in incoming, now int64) (bool, error) {
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

// ensureUser creates the LINE user and their conversation if new.
func ensureUser(ctx context.Context, tx *sql.Tx, userID string, now int64) (created bool, err error) {
	res, err := tx.ExecContext(ctx, `
		INSERT INTO line_users (user_id, created_at) VALUES (?, ?) ON CONFLICT (user_id) DO NOTHING`, userID, now)
	if err != nil {
		return false, fmt.Errorf("add LINE user: %w", err)
	}
	n, _ := res.RowsAffected()
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO conversations (line_user_id, created_at) VALUES (?, ?) ON CONFLICT (line_user_id) DO NOTHING`, userID, now); err != nil {
		return false, fmt.Errorf("add conversation: %w", err)
	}
	return n == 1, nil
}

// applyEvent updates the conversation for a fresh event and returns its ID.
func (ib *Inbox) applyEvent(ctx context.Context, tx *sql.Tx, in incoming, now int64) (int64, error) {
	var convID int64
	if err := tx.QueryRowContext(ctx, `SELECT id FROM conversations WHERE line_user_id = ?`, in.userID).Scan(&convID); err != nil {
		return 0, fmt.Errorf("find conversation: %w", err)
	}
	var (
		kind, body string
		unread     bool
	)
	switch in.eventType {
	case "message":
		kind, body, unread = in.kind, in.body, true
	case "follow", "unfollow":
		state := "following"
		if in.eventType == "unfollow" {
			state = "unfollowed"
		}
		if _, err := tx.ExecContext(ctx, `UPDATE line_users SET follow_state = ? WHERE user_id = ?`, state, in.userID); err != nil {
			return 0, fmt.Errorf("update follow state: %w", err)
		}
		kind = in.eventType
	default:
		return 0, nil
	}
	var token, msgID any
	if in.replyToken != "" {
		token = in.replyToken
	}
	if in.messageID != "" {
		msgID = in.messageID
	}
	_, err := tx.ExecContext(ctx, `
		INSERT INTO messages (conversation_id, direction, kind, body, line_message_id, webhook_event_id, reply_token, status, created_at)
		VALUES (?, 'in', ?, ?, ?, ?, ?, 'received', ?)`,
		convID, kind, body, msgID, in.eventID, token, eventTime(in, now))
	if err != nil {
		return 0, fmt.Errorf("store message: %w", err)
	}
	if err := touchConversation(ctx, tx, convID, eventTime(in, now), kind, body, unread); err != nil {
		return 0, err
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
func touchConversation(ctx context.Context, tx *sql.Tx, convID, at int64, kind, preview string, unread bool) error {
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
