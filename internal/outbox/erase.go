package outbox

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// EraseLineUser removes a LINE user from the outbox, for erasure on request
// (APPI), inside the caller's transaction (package erasure runs it with the
// rest of the person's data):
//
//   - a push to them (a send with one recipient, whose messages may be
//     personalised for them) is deleted with its request;
//   - their ID is removed from every multicast request's recipients, both
//     those still to be sent (so the resend leaves them out) and those
//     already sent (the record of who got it). A request left with no
//     recipient is deleted, and a send left with no request too.
//
// A pending multicast request that was already attempted is resent with its
// retry key and without the erased user: if LINE accepted the first attempt
// it answers 409 and delivers nothing again; otherwise the others get it.
// Sends whose last pending request is removed get their final status.
func EraseLineUser(ctx context.Context, tx *sql.Tx, lineUserID string) error {
	if lineUserID == "" {
		return nil
	}
	// Requests naming the user: recipients are one ID per line.
	rows, err := tx.QueryContext(ctx, `
		SELECT r.id, r.send_id, s.kind, r.recipients FROM outbox_requests r JOIN outbox_sends s ON s.id = r.send_id
		WHERE instr(char(10) || r.recipients || char(10), char(10) || ? || char(10)) > 0`, lineUserID)
	if err != nil {
		return fmt.Errorf("erase from outbox: %w", err)
	}
	type hit struct {
		id, sendID int64
		kind, to   string
	}
	var hits []hit
	for rows.Next() {
		var h hit
		if err := rows.Scan(&h.id, &h.sendID, &h.kind, &h.to); err != nil {
			rows.Close()
			return fmt.Errorf("erase from outbox: %w", err)
		}
		hits = append(hits, h)
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("erase from outbox: %w", err)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("erase from outbox: %w", err)
	}
	touched := map[int64]bool{}
	for _, h := range hits {
		touched[h.sendID] = true
		var keep []string
		if h.kind == "multicast" {
			for _, id := range strings.Split(h.to, "\n") {
				if id != lineUserID {
					keep = append(keep, id)
				}
			}
		}
		if len(keep) == 0 {
			if _, err := tx.ExecContext(ctx, `DELETE FROM outbox_requests WHERE id = ?`, h.id); err != nil {
				return fmt.Errorf("erase from outbox: %w", err)
			}
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE outbox_requests SET recipients = ?, recipient_count = ? WHERE id = ?`,
			strings.Join(keep, "\n"), len(keep), h.id); err != nil {
			return fmt.Errorf("erase from outbox: %w", err)
		}
	}
	for sendID := range touched {
		var left int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox_requests WHERE send_id = ?`, sendID).Scan(&left); err != nil {
			return fmt.Errorf("erase from outbox: %w", err)
		}
		if left == 0 {
			// A push to the user, or a multicast that reached no one
			// else: the send (and its messages) goes too.
			if _, err := tx.ExecContext(ctx, `DELETE FROM outbox_sends WHERE id = ?`, sendID); err != nil {
				return fmt.Errorf("erase from outbox: %w", err)
			}
			continue
		}
		r, err := summarise(ctx, tx, sendID)
		if err != nil {
			return fmt.Errorf("erase from outbox: %w", err)
		}
		// Removing the last pending request finishes the send; it is
		// stamped with its last delivery, the time that counts.
		if _, err := tx.ExecContext(ctx, `
			UPDATE outbox_sends SET status = ?,
			       finished_at = CASE WHEN ? THEN COALESCE(finished_at, (SELECT MAX(sent_at) FROM outbox_requests WHERE send_id = ?), created_at) END
			WHERE id = ?`, r.Status, r.Pending == 0, sendID, sendID); err != nil {
			return fmt.Errorf("erase from outbox: %w", err)
		}
	}
	return nil
}
