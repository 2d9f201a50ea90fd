package campaign

import (
	"context"
	"fmt"
	"time"
)

// Upcoming is a campaign that will still send LINE messages: scheduled, or
// sending/paused with LINE requests not yet sent.
type Upcoming struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Status      string `json:"status"`
	ScheduledAt int64  `json:"scheduledAt"` // unix ms; 0 for a campaign already sending
	// LineRecipients is the LINE recipients it will still send to: for a
	// scheduled campaign, who its rules reach on LINE now (the same choice
	// of channel and consent as its send); for a sending or paused one,
	// the recipients of its LINE requests not yet sent.
	LineRecipients int64 `json:"lineRecipients"`
}

// UpcomingLine lists the campaigns that will send LINE messages before
// until: scheduled ones whose time is before until (including one whose
// time has passed and the scheduler is about to start), and sending or
// paused ones with LINE requests still pending. It reads; it asks LINE
// nothing (the dashboard's quota forecast).
func (s *Service) UpcomingLine(ctx context.Context, until time.Time) ([]Upcoming, error) {
	rows, err := s.db.Reader().QueryContext(ctx, `SELECT id, name, status, coalesce(scheduled_at, 0) FROM campaigns
		WHERE (status = 'scheduled' AND scheduled_at < ?) OR status = 'sending' OR status = 'paused' ORDER BY coalesce(scheduled_at, 0), id`,
		until.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("campaign: upcoming: %w", err)
	}
	var out []Upcoming
	for rows.Next() {
		var u Upcoming
		if err := rows.Scan(&u.ID, &u.Name, &u.Status, &u.ScheduledAt); err != nil {
			rows.Close()
			return nil, fmt.Errorf("campaign: upcoming: %w", err)
		}
		out = append(out, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("campaign: upcoming: %w", err)
	}
	kept := out[:0]
	for _, u := range out {
		if u.Status == StatusScheduled {
			c, err := s.Get(ctx, u.ID)
			if err != nil {
				return nil, err
			}
			if !hasChannel(c.Channels, ChannelLine) {
				continue
			}
			rs, err := s.resolve(ctx, s.db.Reader(), c.Rules, c.Channels, c.Content)
			if err != nil {
				return nil, fmt.Errorf("campaign: upcoming %d: %w", u.ID, err)
			}
			for _, r := range rs {
				if r.channel == ChannelLine {
					u.LineRecipients++
				}
			}
		} else {
			u.ScheduledAt = 0
			if err := s.db.Reader().QueryRowContext(ctx, `SELECT coalesce(sum(recipient_count), 0) FROM campaign_line_requests
				WHERE campaign_id = ? AND status = 'pending'`, u.ID).Scan(&u.LineRecipients); err != nil {
				return nil, fmt.Errorf("campaign: upcoming %d: %w", u.ID, err)
			}
		}
		if u.LineRecipients > 0 {
			kept = append(kept, u)
		}
	}
	return kept, nil
}

func hasChannel(chs []string, ch string) bool {
	for _, c := range chs {
		if c == ch {
			return true
		}
	}
	return false
}
