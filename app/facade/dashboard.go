package facade

import (
	"context"

	"tsunagu/internal/auth"
	"tsunagu/internal/dashboard"
	"tsunagu/internal/engine"
)

// The friends dashboard (issue 20). Its figures are counts, like the
// campaign reports, and whoever may see those (PermDrafts) sees it.

// Dashboard is LINE's friend counts and demographics as last fetched,
// Tsunagu's own counts per day (today live), and the month's quota with
// the forecast of scheduled sends.
func (s *DashboardService) Dashboard() (dashboard.Dashboard, error) {
	return call(s.a, auth.PermDrafts, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) (dashboard.Dashboard, error) {
		return eng.Dashboard(ctx)
	})
}

// RefreshDashboard asks LINE now for the friend counts and demographics
// that are due (not before LINE's delay, within its hourly limit) and
// returns the dashboard.
func (s *DashboardService) RefreshDashboard() (dashboard.Dashboard, error) {
	return call(s.a, auth.PermDrafts, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) (dashboard.Dashboard, error) {
		return eng.RefreshDashboard(ctx)
	})
}
