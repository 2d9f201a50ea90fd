package inbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// Reading conversations and messages.

// Conversations lists every conversation: unread ones first, then the most
// recent. For the CLI and tests; screens page through List.
func (ib *Inbox) Conversations(ctx context.Context) ([]Conversation, error) {
	rows, err := ib.db.Reader().QueryContext(ctx, convSelect+convFrom+`
		ORDER BY (c.unread > 0) DESC, c.last_message_at DESC, c.id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list conversations: %w", err)
	}
	defer rows.Close()
	out := []Conversation{}
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			return nil, fmt.Errorf("list conversations: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Messages returns a conversation's messages in order.
func (ib *Inbox) Messages(ctx context.Context, conversationID int64) ([]Message, error) {
	var exists int
	err := ib.db.Reader().QueryRowContext(ctx, `SELECT 1 FROM conversations WHERE id = ?`, conversationID).Scan(&exists)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("conversation %d: %w", conversationID, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("conversation %d: %w", conversationID, err)
	}
	rows, err := ib.db.Reader().QueryContext(ctx, `
		SELECT `+messageColumns+` FROM messages WHERE conversation_id = ? ORDER BY id`, conversationID)
	if err != nil {
		return nil, fmt.Errorf("messages of conversation %d: %w", conversationID, err)
	}
	defer rows.Close()
	out := []Message{}
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("messages of conversation %d: %w", conversationID, err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// FollowState is what the DB last recorded for a LINE user: "following",
// "unfollowed", "unknown", or "" for a user never seen.
func (ib *Inbox) FollowState(ctx context.Context, userID string) (string, error) {
	var state string
	err := ib.db.Reader().QueryRowContext(ctx, `SELECT follow_state FROM line_users WHERE user_id = ?`, userID).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("follow state: %w", err)
	}
	return state, nil
}

// A recorded send's delivery status is its request's (RecordSent); a
// pruned request leaves the row's own.
const messageColumns = `id, conversation_id, direction, kind, body, COALESCE(sent_by,''), COALESCE(via,''),
	CASE WHEN outbox_request IS NOT NULL THEN COALESCE((SELECT r.status FROM outbox_requests r WHERE r.id = messages.outbox_request), status)
	     WHEN campaign_request IS NOT NULL THEN COALESCE((SELECT r.status FROM campaign_line_requests r WHERE r.id = messages.campaign_request), status)
	     ELSE status END,
	error, created_at,
	unsent_at IS NOT NULL, EXISTS (SELECT 1 FROM message_content mc WHERE mc.message_id = messages.id),
	CASE WHEN kind = 'postback' THEN COALESCE((SELECT label FROM postback_labels p WHERE p.data = messages.body), '') ELSE '' END,
	internal,
	COALESCE((SELECT CASE WHEN j.status = 'pending' THEN 'pending' ELSE j.reason END FROM fetch_jobs j WHERE j.message_id = messages.id), ''),
	COALESCE(source, ''), outbox_request IS NOT NULL OR campaign_request IS NOT NULL,
	CASE WHEN source LIKE 'campaign:%' THEN (SELECT name FROM campaigns WHERE id = CAST(substr(source, 10) AS INTEGER))
	     WHEN source LIKE 'survey:%' THEN (SELECT name FROM surveys WHERE id = CAST(substr(source, 8) AS INTEGER))
	     WHEN source LIKE 'automation:%' THEN (SELECT name FROM automations WHERE id = CAST(substr(source, 12) AS INTEGER))
	     WHEN source LIKE 'reply:%' THEN (SELECT r.sent_by FROM messages r WHERE r.id = CAST(substr(messages.source, 7) AS INTEGER))
	END,
	CASE WHEN source LIKE 'automation:%' THEN (SELECT kind FROM automations WHERE id = CAST(substr(source, 12) AS INTEGER)) END`

type scanner interface{ Scan(dest ...any) error }

func scanMessage(r scanner) (Message, error) {
	var (
		m                  Message
		source             string
		sourceName, autoKd sql.NullString
	)
	err := r.Scan(&m.ID, &m.ConversationID, &m.Direction, &m.Kind, &m.Body, &m.SentBy, &m.Via, &m.Status, &m.Error, &m.CreatedAt, &m.Unsent, &m.HasContent,
		&m.Label, &m.Internal, &m.Fetch, &source, &m.Tracked, &sourceName, &autoKd)
	m.Origin = origin(source, autoKd.String)
	m.OriginName = sourceName.String
	return m, err
}

// Origins of outgoing messages no staff member typed (Message.Origin).
const (
	OriginCampaign  = "campaign"
	OriginSurvey    = "survey"
	OriginReminder  = "reminder"  // a date automation (birthday, maturity)
	OriginWelcome   = "welcome"   // a welcome series step
	OriginAutoreply = "autoreply" // a keyword or away reply, a linking answer
	// OriginReply is a click line's (kind link_click) on a link a staff
	// member's reply carried; OriginName is who sent it.
	OriginReply = "reply"
)

// origin names the kind of feature a message's source is.
func origin(source, automationKind string) string {
	feature, _, _ := strings.Cut(source, ":")
	switch feature {
	case "":
		return ""
	case "campaign":
		return OriginCampaign
	case "survey":
		return OriginSurvey
	case "reply":
		return OriginReply
	case "automation":
		if automationKind == "welcome" {
			return OriginWelcome
		}
		return OriginReminder
	default: // autoreply, linking
		return OriginAutoreply
	}
}

func (ib *Inbox) message(ctx context.Context, id int64) (Message, error) {
	m, err := scanMessage(ib.db.Reader().QueryRowContext(ctx, `SELECT `+messageColumns+` FROM messages WHERE id = ?`, id))
	if err != nil {
		return Message{}, fmt.Errorf("message %d: %w", id, err)
	}
	return m, nil
}
