package inbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"tsunagu/internal/auth"
	"tsunagu/internal/line"
)

// Marking a conversation read, here and (when an administrator turned it
// on) on LINE (既読).

// MarkRead clears a conversation's unread count. If the administrator has
// turned on marking read on LINE (SetMarkReadOnLINE), the customer's
// messages are then marked read on LINE too (MarkReadOnLINE); that is best
// effort: the conversation is read here whatever LINE answers, and a
// failure is only logged (the next MarkRead tries again).
func (ib *Inbox) MarkRead(ctx context.Context, conversationID int64) error {
	var n int64
	err := ib.db.Write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE conversations SET unread = 0 WHERE id = ?`, conversationID)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("mark conversation %d read: %w", conversationID, err)
	}
	if n == 0 {
		return fmt.Errorf("conversation %d: %w", conversationID, ErrNotFound)
	}
	ib.notify(conversationID)
	if ib.marker == nil {
		return nil
	}
	on, err := ib.MarkReadOnLINEEnabled(ctx)
	if err != nil {
		ib.log.Warn("reading the mark-read-on-LINE setting", "err", err)
		return nil
	}
	if on {
		if err := ib.MarkReadOnLINE(ctx, conversationID); err != nil {
			ib.log.Warn("marking a conversation read on LINE", "conversation", conversationID, "err", err)
		}
	}
	return nil
}

// SettingMarkReadOnLINE is the setting (in security_settings, changed by an
// administrator, audited) that makes MarkRead mark messages read on LINE:
// "on" or anything else for off. Off by default: once customers see 既読
// they expect an answer soon, and a branch may not want to promise that
// before someone has replied.
const SettingMarkReadOnLINE = "line_mark_read"

// MarkReadTimeout bounds one mark-as-read call to LINE, retries included: it
// runs while staff open a conversation and must not keep them waiting on a
// LINE outage.
const MarkReadTimeout = 5 * time.Second

// MarkReadOnLINEEnabled reports whether MarkRead also marks messages read
// on LINE.
func (ib *Inbox) MarkReadOnLINEEnabled(ctx context.Context) (bool, error) {
	v, err := auth.GetSetting(ctx, ib.db.Reader(), SettingMarkReadOnLINE)
	if err != nil {
		return false, err
	}
	return v == "on", nil
}

// SetMarkReadOnLINE turns marking read on LINE on or off; the change is
// audited (settings.change, with the old and new value) by actor.
func (ib *Inbox) SetMarkReadOnLINE(ctx context.Context, actor string, on bool) error {
	v := "off"
	if on {
		v = "on"
	}
	if err := auth.SetSetting(ctx, ib.db, actor, SettingMarkReadOnLINE, v); err != nil {
		return fmt.Errorf("set %s: %w", SettingMarkReadOnLINE, err)
	}
	return nil
}

// MarkReadOnLINE marks the conversation's messages read on LINE: the
// customer sees 既読 on everything sent so far. It uses the newest stored
// read token (LINE marks that message and all earlier ones), then forgets
// the tokens it covered, so a second call without new messages sends
// nothing. A token LINE refuses for good (4xx) is forgotten as well, so it
// is not sent again and again. It does not depend on the setting: MarkRead
// does.
func (ib *Inbox) MarkReadOnLINE(ctx context.Context, conversationID int64) error {
	if ib.marker == nil {
		return ErrOffline
	}
	var (
		msgID int64
		token string
	)
	err := ib.db.Reader().QueryRowContext(ctx, `
		SELECT id, mark_as_read_token FROM messages
		WHERE conversation_id = ? AND direction = 'in' AND mark_as_read_token IS NOT NULL AND mark_as_read_token <> ''
		ORDER BY id DESC LIMIT 1`, conversationID).Scan(&msgID, &token)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // nothing new since the last time, or no conversation
	}
	if err != nil {
		return fmt.Errorf("mark conversation %d read on LINE: %w", conversationID, err)
	}
	mctx, cancel := context.WithTimeout(ctx, MarkReadTimeout)
	sendErr := ib.marker.MarkAsReadByToken(mctx, token)
	cancel()
	var apiErr *line.APIError
	if sendErr != nil && !(errors.As(sendErr, &apiErr) && !apiErr.Temporary()) {
		// Uncertain or temporary: keep the token for the next try.
		return fmt.Errorf("mark conversation %d read on LINE: %w", conversationID, sendErr)
	}
	err = ib.db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `
			UPDATE messages SET mark_as_read_token = NULL
			WHERE conversation_id = ? AND id <= ? AND mark_as_read_token IS NOT NULL`, conversationID, msgID)
		return err
	})
	if err != nil {
		return fmt.Errorf("forget read tokens of conversation %d: %w", conversationID, err)
	}
	if sendErr != nil {
		return fmt.Errorf("mark conversation %d read on LINE: %w", conversationID, sendErr)
	}
	return nil
}
