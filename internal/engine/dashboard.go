package engine

import (
	"context"

	"tsunagu/internal/dashboard"
)

// dashboardService is the friends dashboard over this engine's DB, its
// campaigns and rules, and LINE's quota (unknown without a channel).
func (e *Engine) dashboardService() (*dashboard.Service, error) {
	cfg := dashboard.Config{DB: e.db, Clock: e.clock}
	if e.client != nil {
		cfg.Quota = e.client
	}
	if e.camp.svc != nil {
		cfg.Campaigns = e.camp.svc
	}
	if e.auto != nil {
		cfg.Automations = e.auto
	}
	return dashboard.New(cfg)
}

// Dashboard is the friends dashboard as stored, with today's own counts
// live and the quota read from LINE now.
func (e *Engine) Dashboard(ctx context.Context) (dashboard.Dashboard, error) {
	d, err := e.dashboardService()
	if err != nil {
		return dashboard.Dashboard{}, err
	}
	return d.Get(ctx)
}

// RefreshDashboard asks LINE now for the daily friend counts and the
// demographics that are due (not before LINE's delay, within the hour's
// allowance), then returns the dashboard.
func (e *Engine) RefreshDashboard(ctx context.Context) (dashboard.Dashboard, error) {
	f, err := e.insightsFetcher()
	if err != nil {
		return dashboard.Dashboard{}, err
	}
	if f != nil {
		if _, err := f.FetchDaily(ctx); err != nil {
			return dashboard.Dashboard{}, err
		}
	}
	return e.Dashboard(ctx)
}

// snapshotOwnCounts is the scheduler's daily record of Tsunagu's own
// counts (the dashboard's history).
func (e *Engine) snapshotOwnCounts(ctx context.Context) {
	d, err := e.dashboardService()
	if err == nil {
		err = d.Snapshot(ctx)
	}
	if err != nil {
		e.log.Warn("dashboard snapshot", "err", err)
	}
}
