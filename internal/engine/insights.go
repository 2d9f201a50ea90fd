package engine

import (
	"context"
	"time"

	"tsunagu/internal/insights"
)

// SandboxInsightDelay is the sandbox simulator's statistics delay. LINE's
// is a day; the sandbox is for trying things out, so its figures appear
// after half a minute, yet not at once: the report's "LINE の集計は翌日に
// 反映されます" state is still seen (and the UI test sees both).
const SandboxInsightDelay = 30 * time.Second

// insightsFetcher returns the statistics fetcher over the background
// client; nil without LINE (the CLI opened without a channel).
func (e *Engine) insightsFetcher() (*insights.Fetcher, error) {
	if e.bgClient == nil || e.db == nil {
		return nil, nil
	}
	delay := time.Duration(0) // insights.DefaultDelay, LINE's
	if e.sandbox {
		delay = SandboxInsightDelay
	}
	return insights.New(insights.Config{DB: e.db, Line: e.bgClient, Daily: e.bgClient, Clock: e.clock, Delay: delay, Logger: e.log})
}

// fetchInsights is the scheduler's pass over LINE's statistics.
func (e *Engine) fetchInsights(ctx context.Context) {
	f, err := e.insightsFetcher()
	if err != nil || f == nil {
		return
	}
	if _, err := f.Fetch(ctx); err != nil {
		e.log.Warn("LINE statistics", "err", err)
	}
	// The daily friend counts and demographics take what the units left
	// of the hour's allowance.
	if _, err := f.FetchDaily(ctx); err != nil {
		e.log.Warn("LINE friend counts", "err", err)
	}
}

// CampaignInsights is campaign id's LINE statistics as stored.
func (e *Engine) CampaignInsights(ctx context.Context, id int64) (insights.Report, error) {
	return insights.Get(ctx, e.db, insights.CampaignKey(id))
}

// RefreshCampaignInsights asks LINE now for campaign id's statistics (if
// LINE's delay has passed and the hour's allowance is not spent) and
// returns what is stored.
func (e *Engine) RefreshCampaignInsights(ctx context.Context, id int64) (insights.Report, error) {
	f, err := e.insightsFetcher()
	if err != nil {
		return insights.Report{}, err
	}
	if f != nil {
		if _, err := f.FetchOne(ctx, insights.CampaignKey(id)); err != nil {
			return insights.Report{}, err
		}
	}
	return e.CampaignInsights(ctx, id)
}
