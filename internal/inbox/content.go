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
