package inbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"tsunagu/internal/line"
	"tsunagu/internal/store"
)

// Fetch jobs: what the webhook's transaction records for the background
// fetcher (fetcher.go) to download from LINE. A job is a row of fetch_jobs
// (migration 0016), written in the transaction that stores its event, so an
// event is never stored without its job nor the reverse, and a redelivered
// event (already stored) adds none.

// Lanes of fetch jobs. Each lane has its own workers, so a video download
// never holds up an image or a profile.
const (
	LaneProfile = "profile"
	LaneSmall   = "small" // images, audio, files up to SmallFileBytes
	LaneLarge   = "large" // video, larger or unsized files
)

// SmallFileBytes is the largest file (by LINE's fileSize hint) fetched in
// the small lane.
const SmallFileBytes = 1 << 20

// Reasons a fetch was given up, stored on the job and shown in the thread.
const (
	FetchPending  = "pending"   // not fetched yet (Message.Fetch)
	FetchExpired  = "expired"   // LINE no longer has it (404/410)
	FetchRefused  = "refused"   // LINE refused the request for good (another 4xx)
	FetchTooLarge = "too_large" // over line.MaxContentSize
)

// contentLane is the lane of a media message's content: LaneSmall for
// images, audio and small files, LaneLarge for videos and large files, ""
// when there is nothing to fetch from LINE (not media, or hosted elsewhere).
func contentLane(kind string, external bool, fileSize int64) string {
	switch kind {
	case "image", "audio":
		if external {
			return ""
		}
		return LaneSmall
	case "video":
		if external {
			return ""
		}
		return LaneLarge
	case "file":
		if fileSize > 0 && fileSize <= SmallFileBytes {
			return LaneSmall
		}
		return LaneLarge
	}
	return ""
}

// laneOfKind is the lane of a content job recorded without LINE's hints
// (a staff re-fetch of a message whose job is gone).
func laneOfKind(kind string) string {
	if kind == "image" || kind == "audio" {
		return LaneSmall
	}
	return LaneLarge
}

// recordFetches records, inside the webhook's transaction, the jobs a fresh
// event needs: the sender's profile if it is new, stale or they just
// followed, and the content of a media message (msgID, its stored row).
func (ib *Inbox) recordFetches(ctx context.Context, tx store.Execer, in incoming, staleProfile bool, msgID, now int64) error {
	if staleProfile || in.eventType == "follow" {
		// A profile job given up earlier (LINE refused it) is tried again:
		// a new event is a new reason to.
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO fetch_jobs (kind, lane, target, line_user_id, next_at, created_at) VALUES ('profile', 'profile', ?, ?, ?, ?)
			ON CONFLICT (kind, target) DO UPDATE SET status = 'pending', reason = '', attempts = 0, next_at = excluded.next_at, finished_at = NULL
			WHERE fetch_jobs.status = 'gone'`,
			in.userID, in.userID, now, now); err != nil {
			return fmt.Errorf("record profile fetch: %w", err)
		}
	}
	if in.eventType == "message" && msgID != 0 && in.fetchLane != "" && in.messageID != "" {
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO fetch_jobs (kind, lane, target, message_id, next_at, created_at) VALUES ('content', ?, ?, ?, ?, ?)
			ON CONFLICT (kind, target) DO NOTHING`,
			in.fetchLane, in.messageID, msgID, now, now); err != nil {
			return fmt.Errorf("record content fetch: %w", err)
		}
	}
	return nil
}

// FetchContent asks for the content of an incoming media message to be
// fetched (again): after LINE refused it, or when staff press 再取得. The
// job is queued and the background fetcher downloads it; the conversation's
// change event follows. Content already stored is left as it is.
func (ib *Inbox) FetchContent(ctx context.Context, messageID int64) error {
	var (
		lineID sql.NullString
		kind   string
		convID int64
	)
	err := ib.db.Reader().QueryRowContext(ctx, `
		SELECT line_message_id, kind, conversation_id FROM messages WHERE id = ? AND direction = 'in' AND unsent_at IS NULL`, messageID).
		Scan(&lineID, &kind, &convID)
	if errors.Is(err, sql.ErrNoRows) || err == nil && (!lineID.Valid || !hasContent[kind]) {
		return fmt.Errorf("message %d: %w", messageID, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("message %d: %w", messageID, err)
	}
	now := ib.now().UnixMilli()
	err = ib.db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `
			INSERT INTO fetch_jobs (kind, lane, target, message_id, next_at, created_at)
			SELECT 'content', ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM message_content WHERE message_id = ?)
			ON CONFLICT (kind, target) DO UPDATE SET status = 'pending', reason = '', attempts = 0, next_at = excluded.next_at,
			       last_error = '', finished_at = NULL`,
			laneOfKind(kind), lineID.String, messageID, now, now, messageID)
		return err
	})
	if err != nil {
		return fmt.Errorf("queue fetch of message %d: %w", messageID, err)
	}
	ib.wakeFetcher()
	ib.notify(convID)
	return nil
}

// FetchCounts are the fetch jobs waiting or given up.
type FetchCounts struct {
	PendingProfiles int `json:"pendingProfiles"`
	PendingContent  int `json:"pendingContent"`
	Gone            int `json:"gone"` // content or profiles LINE would not give
}

// fetchCounts counts the jobs by state.
func (ib *Inbox) fetchCounts(ctx context.Context) (FetchCounts, error) {
	var c FetchCounts
	err := ib.db.Reader().QueryRowContext(ctx, `
		SELECT COUNT(*) FILTER (WHERE status = 'pending' AND kind = 'profile'),
		       COUNT(*) FILTER (WHERE status = 'pending' AND kind = 'content'),
		       COUNT(*) FILTER (WHERE status = 'gone')
		FROM fetch_jobs`).Scan(&c.PendingProfiles, &c.PendingContent, &c.Gone)
	if err != nil {
		return c, fmt.Errorf("count fetch jobs: %w", err)
	}
	return c, nil
}

// wakeFetcher tells the fetcher there may be new jobs, without waiting.
func (ib *Inbox) wakeFetcher() { ib.fetchSig.fire() }

// RefreshProfile fetches a user's display name and picture and stores them
// with the time of the fetch. If LINE answers 404 (blocked, not a friend, no
// consent) the user is marked unreachable, which later drives the email/SMS
// fallback; a later successful fetch or follow clears the mark. It returns
// the user's conversation ID (0 if none). Other failures change nothing: the
// conversation keeps what it had until a later refresh succeeds.
func (ib *Inbox) RefreshProfile(ctx context.Context, userID string) (int64, error) {
	if ib.send == nil {
		return 0, ErrOffline
	}
	p, err := ib.send.Profile(ctx, userID)
	unreachable := errors.Is(err, line.ErrUnreachable)
	if err != nil && !unreachable {
		return 0, fmt.Errorf("refresh profile: %w", err)
	}
	now := ib.now().UnixMilli()
	var convID int64
	err = ib.db.Write(ctx, func(tx *sql.Tx) error {
		var err error
		if unreachable {
			_, err = tx.ExecContext(ctx, `UPDATE line_users SET unreachable_at = COALESCE(unreachable_at, ?), profile_at = ? WHERE user_id = ?`,
				now, now, userID)
		} else {
			_, err = tx.ExecContext(ctx, `UPDATE line_users SET display_name = ?, picture_url = ?, profile_at = ?, unreachable_at = NULL WHERE user_id = ?`,
				p.DisplayName, p.PictureURL, now, userID)
		}
		if err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, `SELECT id FROM conversations WHERE line_user_id = ?`, userID).Scan(&convID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store profile: %w", err)
	}
	return convID, nil
}
