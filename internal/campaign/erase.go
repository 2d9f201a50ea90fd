package campaign

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// EraseLineUser removes a LINE user ID from every campaign LINE request that
// names it. It is an erasure hook (erasure.Hooks.LineUser): after an APPI
// erasure the ID must not survive in a campaign's request rows. Per-recipient
// rows are keyed by customer and leave with the customer (a trigger in
// 0010_campaigns.sql).
//
// A request still pending keeps its retry key: if LINE had accepted it
// before a crash, the resend is answered 409 and delivers nothing more; if
// not, it now goes out without the erased user, which is what erasure asks.
// A request that named only this user is deleted when it was sent (the
// report keeps its counts from the recipients' rows); a pending one is
// marked failed with nobody left to send to.
func EraseLineUser(ctx context.Context, tx *sql.Tx, lineUserID string) error {
	if lineUserID == "" {
		return nil
	}
	rows, err := tx.QueryContext(ctx, `
		SELECT id, status, recipients FROM campaign_line_requests
		WHERE instr(char(10) || recipients || char(10), char(10) || ? || char(10)) > 0`, lineUserID)
	if err != nil {
		return fmt.Errorf("erase from campaign requests: %w", err)
	}
	type hit struct {
		id         int64
		status, to string
	}
	var hits []hit
	for rows.Next() {
		var h hit
		if err := rows.Scan(&h.id, &h.status, &h.to); err != nil {
			rows.Close()
			return fmt.Errorf("erase from campaign requests: %w", err)
		}
		hits = append(hits, h)
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("erase from campaign requests: %w", err)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("erase from campaign requests: %w", err)
	}
	for _, h := range hits {
		var keep []string
		for _, id := range strings.Split(h.to, "\n") {
			if id != lineUserID && id != "" {
				keep = append(keep, id)
			}
		}
		var err error
		switch {
		case len(keep) > 0:
			_, err = tx.ExecContext(ctx, `UPDATE campaign_line_requests SET recipients = ?, recipient_count = ? WHERE id = ?`,
				strings.Join(keep, "\n"), len(keep), h.id)
		case h.status == "pending":
			_, err = tx.ExecContext(ctx, `UPDATE campaign_line_requests SET recipients = '', recipient_count = 0, status = 'failed' WHERE id = ?`, h.id)
		default:
			_, err = tx.ExecContext(ctx, `UPDATE campaign_line_requests SET recipients = '', recipient_count = 0 WHERE id = ?`, h.id)
		}
		if err != nil {
			return fmt.Errorf("erase from campaign requests: %w", err)
		}
	}
	return nil
}
