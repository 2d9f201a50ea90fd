package facade

// StaffService: staff accounts and the idle lock (administrators).

import (
	"context"

	"tsunagu/internal/auth"
)

// ListStaff lists every account, including deactivated ones.
func (s *StaffService) ListStaff() ([]auth.Staff, error) {
	return authCall(s.a, auth.PermStaff, func(ctx context.Context, _ auth.Staff, svc *auth.Service) ([]auth.Staff, error) {
		return svc.List(ctx)
	})
}

// CreateStaff adds an account with an initial password.
func (s *StaffService) CreateStaff(n auth.NewStaff) (auth.Staff, error) {
	return authCall(s.a, auth.PermStaff, func(ctx context.Context, st auth.Staff, svc *auth.Service) (auth.Staff, error) {
		return svc.CreateStaff(ctx, st.Actor(), n)
	})
}

// SetStaffRole changes a staff member's role (their sessions end).
func (s *StaffService) SetStaffRole(id int64, role string) error {
	return authRun(s.a, auth.PermStaff, func(ctx context.Context, st auth.Staff, svc *auth.Service) error {
		return svc.SetRole(ctx, st.Actor(), id, auth.Role(role))
	})
}

// DeactivateStaff ends a staff member's access at once; their history stays.
func (s *StaffService) DeactivateStaff(id int64) error {
	return authRun(s.a, auth.PermStaff, func(ctx context.Context, st auth.Staff, svc *auth.Service) error {
		return svc.Deactivate(ctx, st.Actor(), id)
	})
}

// ReactivateStaff restores a deactivated account.
func (s *StaffService) ReactivateStaff(id int64) error {
	return authRun(s.a, auth.PermStaff, func(ctx context.Context, st auth.Staff, svc *auth.Service) error {
		return svc.Reactivate(ctx, st.Actor(), id)
	})
}

// ResetStaffPassword sets a new password for a staff member (their sessions
// end, a lockout is cleared).
func (s *StaffService) ResetStaffPassword(id int64, password string) error {
	return authRun(s.a, auth.PermStaff, func(ctx context.Context, st auth.Staff, svc *auth.Service) error {
		return svc.ResetPassword(ctx, st.Actor(), id, password)
	})
}

// SetIdleMinutes changes the idle auto-lock (1–60 minutes).
func (s *StaffService) SetIdleMinutes(minutes int) error {
	return authRun(s.a, auth.PermSettings, func(ctx context.Context, st auth.Staff, svc *auth.Service) error {
		return svc.SetIdleTimeout(ctx, st.Actor(), minutes)
	})
}

// StaffRoles lists every role with what it may do (auth's table), so the
// staff screen describes roles and what a role change grants or removes.
func (s *StaffService) StaffRoles() ([]auth.RoleInfo, error) {
	return authCall(s.a, auth.PermStaff, func(context.Context, auth.Staff, *auth.Service) ([]auth.RoleInfo, error) {
		return auth.RoleTable(), nil
	})
}

// ActorNames maps recorded actors ("staff:tanaka") to staff display names
// for every signed-in role: screens show who imported, approved or wrote
// something by name, never by login (auth.Service.ActorNames).
func (s *StaffService) ActorNames() (map[string]string, error) {
	return authCall(s.a, auth.PermSession, func(ctx context.Context, _ auth.Staff, svc *auth.Service) (map[string]string, error) {
		return svc.ActorNames(ctx)
	})
}
