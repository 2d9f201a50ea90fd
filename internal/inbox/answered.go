package inbox

import (
	"context"
	"fmt"
	"strconv"

	"tsunagu/internal/audit"
)

// Answer is a staff reply someone else sent.
type Answer struct {
	MessageID int64  `json:"messageId"`
	By        string `json:"by"` // the staff member's display name
	At        int64  `json:"at"` // unix ms
}

// AnsweredSince lists the replies other staff members (not actor) sent in
// the conversation after message seen, oldest first: a clerk whose reply
// would cross a colleague's is asked first (issue 18). Who sent a reply is
// the audit trail's word (message.send names the actor and the message),
// not the display name, which two people may share.
func (ib *Inbox) AnsweredSince(ctx context.Context, conversationID, seen int64, actor string) ([]Answer, error) {
	rows, err := ib.db.Reader().QueryContext(ctx, `
		SELECT m.id, COALESCE(m.sent_by, ''), m.created_at FROM messages m
		JOIN audit_log a ON a.action = ? AND a.target = ?
			AND json_extract(a.detail, '$.message') = CAST(m.id AS TEXT)
		WHERE m.conversation_id = ? AND m.id > ? AND m.direction = 'out' AND a.actor LIKE 'staff:%' AND a.actor <> ?
		ORDER BY m.id`,
		audit.ActionMessageSend, "conversation:"+strconv.FormatInt(conversationID, 10), conversationID, seen, actor)
	if err != nil {
		return nil, fmt.Errorf("replies since message %d: %w", seen, err)
	}
	defer rows.Close()
	var out []Answer
	for rows.Next() {
		var a Answer
		if err := rows.Scan(&a.MessageID, &a.By, &a.At); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
