package inbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// MessageContent returns the downloaded content of an incoming image,
// video, audio or file message, and its MIME type. It is stored in the
// encrypted DB; ErrNotFound if there is none (not media, not downloaded
// yet, or taken back by the customer).
func (ib *Inbox) MessageContent(ctx context.Context, messageID int64) ([]byte, string, error) {
	var (
		data []byte
		typ  string
	)
	err := ib.db.Reader().QueryRowContext(ctx, `SELECT data, content_type FROM message_content WHERE message_id = ?`, messageID).
		Scan(&data, &typ)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", fmt.Errorf("content of message %d: %w", messageID, ErrNotFound)
	}
	if err != nil {
		return nil, "", fmt.Errorf("content of message %d: %w", messageID, err)
	}
	return data, typ, nil
}

// FetchContent downloads (again) the content of an incoming media message,
// e.g. after the automatic download at arrival failed. LINE keeps content
// for a limited time only.
func (ib *Inbox) FetchContent(ctx context.Context, messageID int64) error {
	var lineID sql.NullString
	err := ib.db.Reader().QueryRowContext(ctx, `
		SELECT line_message_id FROM messages WHERE id = ? AND direction = 'in' AND unsent_at IS NULL`, messageID).Scan(&lineID)
	if errors.Is(err, sql.ErrNoRows) || err == nil && !lineID.Valid {
		return fmt.Errorf("message %d: %w", messageID, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("message %d: %w", messageID, err)
	}
	convID, err := ib.fetchContent(ctx, lineID.String)
	if err != nil {
		return err
	}
	ib.notify(convID)
	return nil
}

// fetchContent downloads the content of the message LINE knows as lineID
// and stores it; it returns the conversation to refresh.
func (ib *Inbox) fetchContent(ctx context.Context, lineID string) (int64, error) {
	if ib.content == nil {
		return 0, nil
	}
	data, typ, err := ib.content.Content(ctx, lineID)
	if err != nil {
		return 0, fmt.Errorf("download content: %w", err)
	}
	var convID int64
	err = ib.db.Write(ctx, func(tx *sql.Tx) error {
		var id int64
		// An unsend that arrived meanwhile wins: nothing is stored.
		err := tx.QueryRowContext(ctx, `
			SELECT id, conversation_id FROM messages WHERE line_message_id = ? AND direction = 'in' AND unsent_at IS NULL`, lineID).
			Scan(&id, &convID)
		if errors.Is(err, sql.ErrNoRows) {
			convID = 0
			return nil
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `
			INSERT INTO message_content (message_id, content_type, data, fetched_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (message_id) DO UPDATE SET content_type = excluded.content_type, data = excluded.data, fetched_at = excluded.fetched_at`,
			id, typ, data, ib.now().UnixMilli())
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store content: %w", err)
	}
	return convID, nil
}
