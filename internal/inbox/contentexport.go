package inbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"tsunagu/internal/export"
)

// ActionContentExport is the audit action of a customer's photo or file
// saved out of the encrypted DB to a file of the staff member's choice.
const ActionContentExport = "conversation.content_export"

// ContentFile is what the save dialog suggests for a message's content: a
// name made of its kind and time (never the customer or an internal ID) and
// an extension from its MIME type; the time is this PC's local time, as
// the clerk saw it in the conversation.
func (v Viewer) ContentFile(ctx context.Context, messageID int64) (string, error) {
	if v.st.Role.Masked() {
		return "", v.deny(ctx, DeniedContent)
	}
	var (
		kind, typ string
		at        int64
	)
	err := v.ib.db.Reader().QueryRowContext(ctx, `SELECT m.kind, c.content_type, m.created_at
		FROM message_content c JOIN messages m ON m.id = c.message_id WHERE c.message_id = ?`, messageID).Scan(&kind, &typ, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("content file of message %d: %w", messageID, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("content file of message %d: %w", messageID, err)
	}
	return kind + "-" + time.UnixMilli(at).Local().Format("20060102-150405") + contentExt(typ), nil
}

// ExportContent writes a message's content to path, audited (who, which
// conversation, kind and size) in a transaction committed before the file
// is written, as the customer export does: a crash between them leaves an
// entry too many, never a copy unaccounted for. A masked role is refused.
func (v Viewer) ExportContent(ctx context.Context, messageID int64, path string) error {
	return v.ExportContentTo(ctx, messageID, func(write func(io.Writer) (int, error)) (int, error) {
		return export.WriteFile(path, write)
	})
}

// ExportContentTo is ExportContent through save (a seat's file is made in
// the primary's memory, issue 18).
func (v Viewer) ExportContentTo(ctx context.Context, messageID int64, save export.Save) error {
	if v.st.Role.Masked() {
		return v.deny(ctx, DeniedContent)
	}
	data, _, err := v.ib.MessageContent(ctx, messageID)
	if err != nil {
		return err
	}
	if err := v.ib.db.Write(ctx, func(tx *sql.Tx) error {
		var convID int64
		var kind string
		if err := tx.QueryRowContext(ctx, `SELECT conversation_id, kind FROM messages WHERE id = ?`, messageID).Scan(&convID, &kind); err != nil {
			return fmt.Errorf("message %d: %w", messageID, err)
		}
		return v.ib.audit(ctx, tx, v.st.Actor(), ActionContentExport, convID, map[string]string{
			"content": kind, "bytes": strconv.Itoa(len(data)),
		})
	}); err != nil {
		return fmt.Errorf("export content of message %d: %w", messageID, err)
	}
	if _, err := save(func(w io.Writer) (int, error) { return w.Write(data) }); err != nil {
		return fmt.Errorf("export content of message %d: %w", messageID, err)
	}
	return nil
}

func contentExt(typ string) string {
	switch typ {
	case "image/jpeg":
		return ".jpg"
	case "image/png":
		return ".png"
	case "image/gif":
		return ".gif"
	case "image/webp":
		return ".webp"
	case "video/mp4":
		return ".mp4"
	case "audio/mp4", "audio/x-m4a":
		return ".m4a"
	case "application/pdf":
		return ".pdf"
	}
	return ""
}
