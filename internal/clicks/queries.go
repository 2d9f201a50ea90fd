package clicks

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"tsunagu/internal/segment"
)

// Kinds of send a customer's click names (CustomerClick.Source).
const (
	KindCampaign = "campaign"
	KindReminder = "reminder" // a date automation
	KindWelcome  = "welcome"  // a welcome step
	KindReply    = "reply"    // a staff reply in the inbox (SourceName: who sent it)
)

// CustomerClick is one link of one send a customer opened.
type CustomerClick struct {
	Source       string `json:"source"`       // KindCampaign, KindReminder, KindWelcome, KindReply
	SourceName   string `json:"sourceName"`   // the campaign's or automation's name
	CampaignID   int64  `json:"campaignId"`   // 0 unless a campaign
	CampaignName string `json:"campaignName"` // "" unless a campaign
	URL          string `json:"url"`
	Clicks       int    `json:"clicks"`
	FirstAt      int64  `json:"firstAt"` // unix ms
	LastAt       int64  `json:"lastAt"`
}

// ForCustomer lists the links a customer opened, the latest first: links
// sent to them, and to their linked LINE users before they were a customer
// (a welcome step).
func (s *Service) ForCustomer(ctx context.Context, customer int64) ([]CustomerClick, error) {
	rows, err := s.db.Reader().QueryContext(ctx, `WITH mine AS (
			SELECT id, source, source_id, url FROM tracked_links WHERE customer_id = ?1
			UNION SELECT id, source, source_id, url FROM tracked_links
			WHERE line_user_id IN (SELECT line_user_id FROM customer_line_links WHERE customer_id = ?1))
		SELECT t.source, t.source_id, CASE t.source WHEN 'campaign' THEN coalesce(c.name, '') WHEN 'automation' THEN coalesce(a.name, '')
			WHEN 'reply' THEN coalesce((SELECT m.sent_by FROM messages m WHERE m.id = t.source_id), '') ELSE '' END,
			coalesce(a.kind, ''), t.url, COUNT(*), MIN(k.clicked_at), MAX(k.clicked_at)
		FROM mine t JOIN link_clicks k ON k.link_id = t.id
		LEFT JOIN campaigns c ON t.source = 'campaign' AND c.id = t.source_id
		LEFT JOIN automations a ON t.source = 'automation' AND a.id = t.source_id
		GROUP BY t.source, t.source_id, t.url ORDER BY MAX(k.clicked_at) DESC LIMIT 200`, customer)
	if err != nil {
		return nil, fmt.Errorf("clicks: customer's clicks: %w", err)
	}
	defer rows.Close()
	out := []CustomerClick{}
	for rows.Next() {
		var (
			c        CustomerClick
			id       int64
			autoKind string
		)
		if err := rows.Scan(&c.Source, &id, &c.SourceName, &autoKind, &c.URL, &c.Clicks, &c.FirstAt, &c.LastAt); err != nil {
			return nil, fmt.Errorf("clicks: customer's clicks: %w", err)
		}
		switch c.Source {
		case SourceCampaign:
			c.CampaignID, c.CampaignName = id, c.SourceName
		case SourceAutomation:
			c.Source = KindReminder
			if autoKind == "welcome" {
				c.Source = KindWelcome
			}
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
	return s.ForSource(ctx, Campaign(campaign))
}

// ForSource is ForCampaign for any source (every Key of it together).
func (s *Service) ForSource(ctx context.Context, src Source) ([]LinkStats, error) {
	// Each link's clicks through link_clicks_once (link_id leads it).
	rows, err := s.db.Reader().QueryContext(ctx, `SELECT url, COUNT(*), SUM(n > 0), SUM(n) FROM (
			SELECT t.url, (SELECT COUNT(*) FROM link_clicks k WHERE k.link_id = t.id) AS n
			FROM tracked_links t WHERE t.source = ? AND t.source_id = ?)
		GROUP BY url ORDER BY url`, src.Kind, src.ID)
	if err != nil {
		return nil, fmt.Errorf("clicks: links of %s %d: %w", src.Kind, src.ID, err)
	}
	defer rows.Close()
	out := []LinkStats{}
	for rows.Next() {
		var l LinkStats
		if err := rows.Scan(&l.URL, &l.Recipients, &l.Clickers, &l.Clicks); err != nil {
			return nil, fmt.Errorf("clicks: links of %s %d: %w", src.Kind, src.ID, err)
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
	// Per customer: did any of their links (of the campaign, of the link)
	// get a click.
	q := `SELECT t.customer_id FROM tracked_links t WHERE t.source = 'campaign' AND t.source_id = ?` + link + `
		AND t.customer_id IS NOT NULL GROUP BY t.customer_id
		HAVING SUM(EXISTS (SELECT 1 FROM link_clicks k WHERE k.link_id = t.id)) `
	switch c.Cmp {
	case CmpClicked:
		return q + `> 0`, args, nil
	case CmpNotClicked:
		return q + `= 0`, args, nil
	}
	return "", nil, fmt.Errorf("%w: click: comparison %q", segment.ErrInvalid, c.Cmp)
}
