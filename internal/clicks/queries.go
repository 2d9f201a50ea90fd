package clicks

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"tsunagu/internal/segment"
)

// CustomerClick is one link of one campaign a customer opened.
type CustomerClick struct {
	CampaignID   int64  `json:"campaignId"`
	CampaignName string `json:"campaignName"`
	URL          string `json:"url"`
	Clicks       int    `json:"clicks"`
	FirstAt      int64  `json:"firstAt"` // unix ms
	LastAt       int64  `json:"lastAt"`
}

// ForCustomer lists the links a customer opened, the latest first.
func (s *Service) ForCustomer(ctx context.Context, customer int64) ([]CustomerClick, error) {
	rows, err := s.db.Reader().QueryContext(ctx, `SELECT k.campaign_id, COALESCE(c.name, ''), k.url, COUNT(*), MIN(k.clicked_at), MAX(k.clicked_at)
		FROM link_clicks k LEFT JOIN campaigns c ON c.id = k.campaign_id
		WHERE k.customer_id = ? GROUP BY k.campaign_id, k.url ORDER BY MAX(k.clicked_at) DESC LIMIT 200`, customer)
	if err != nil {
		return nil, fmt.Errorf("clicks: customer's clicks: %w", err)
	}
	defer rows.Close()
	out := []CustomerClick{}
	for rows.Next() {
		var c CustomerClick
		if err := rows.Scan(&c.CampaignID, &c.CampaignName, &c.URL, &c.Clicks, &c.FirstAt, &c.LastAt); err != nil {
			return nil, fmt.Errorf("clicks: customer's clicks: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// LinkStats are one tracked link's per-person figures in a campaign.
type LinkStats struct {
	URL        string `json:"url"`
	Recipients int    `json:"recipients"` // recipients whose message carried a token for it
	Clickers   int    `json:"clickers"`   // of them, who opened it at least once
	Clicks     int    `json:"clicks"`     // every click, repeats included
}

// ForCampaign returns the per-person figures of a campaign's tracked links,
// available as soon as the clicks are fetched (LINE's own statistics come a
// day later and only in aggregate).
func (s *Service) ForCampaign(ctx context.Context, campaign int64) ([]LinkStats, error) {
	rows, err := s.db.Reader().QueryContext(ctx, `SELECT t.url, COUNT(*),
			(SELECT COUNT(DISTINCT k.customer_id) FROM link_clicks k WHERE k.campaign_id = t.campaign_id AND k.url = t.url),
			(SELECT COUNT(*) FROM link_clicks k WHERE k.campaign_id = t.campaign_id AND k.url = t.url)
		FROM tracked_links t WHERE t.campaign_id = ? GROUP BY t.url ORDER BY t.url`, campaign)
	if err != nil {
		return nil, fmt.Errorf("clicks: campaign's links: %w", err)
	}
	defer rows.Close()
	out := []LinkStats{}
	for rows.Next() {
		var l LinkStats
		if err := rows.Scan(&l.URL, &l.Recipients, &l.Clickers, &l.Clicks); err != nil {
			return nil, fmt.Errorf("clicks: campaign's links: %w", err)
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// Segment comparisons of a click condition (segment.KindClick).
const (
	CmpClicked    = "clicked"     // opened link Value (any tracked link if "") of campaign Campaign
	CmpNotClicked = "not_clicked" // received it (tracked) and did not open it
)

// SegmentExtensions returns the segment compiler extension of clicks.
func SegmentExtensions() map[string]segment.Extension {
	return map[string]segment.Extension{segment.KindClick: SegmentCondition}
}

// SegmentCondition compiles a click condition to the set of customers it
// holds for. "Did not click" is among the campaign's tracked recipients, not
// everyone else: a customer who never got the link did not decline it.
func SegmentCondition(c segment.Condition, _ time.Time) (string, []any, error) {
	id, err := strconv.ParseInt(c.Campaign, 10, 64)
	if err != nil || id <= 0 {
		return "", nil, fmt.Errorf("%w: click: campaign %q", segment.ErrInvalid, c.Campaign)
	}
	link, args := "", []any{id}
	if c.Value != "" {
		link, args = " AND url = ?", append(args, c.Value)
	}
	switch c.Cmp {
	case CmpClicked:
		return `SELECT customer_id FROM link_clicks WHERE campaign_id = ?` + link, args, nil
	case CmpNotClicked:
		return `SELECT t.customer_id FROM tracked_links t WHERE t.campaign_id = ?` + link + `
			GROUP BY t.customer_id HAVING NOT EXISTS (SELECT 1 FROM link_clicks k WHERE k.campaign_id = t.campaign_id AND k.customer_id = t.customer_id` +
			map[bool]string{true: " AND k.url = t.url", false: ""}[c.Value != ""] + `)`, args, nil
	}
	return "", nil, fmt.Errorf("%w: click: comparison %q", segment.ErrInvalid, c.Cmp)
}
