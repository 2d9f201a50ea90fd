package facade

// StaffService: staff accounts and the idle lock (administrators).

import "tsunagu/internal/auth"

// ListStaff lists every account, including deactivated ones.
func (a *App) ListStaff() ([]auth.Staff, error) {
	_, svc, _, err := a.requireService(auth.PermStaff)
	if err != nil {
		return nil, err
	}
	list, err := svc.List(a.context())
	return list, a.userError(err)
}

// CreateStaff adds an account with an initial password.
func (a *App) CreateStaff(n auth.NewStaff) (auth.Staff, error) {
	st, svc, _, err := a.requireService(auth.PermStaff)
	if err != nil {
		return auth.Staff{}, err
	}
	created, err := svc.CreateStaff(a.context(), st.Actor(), n)
	return created, a.userError(err)
}

// SetStaffRole changes a staff member's role (their sessions end).
func (a *App) SetStaffRole(id int64, role string) error {
	st, svc, _, err := a.requireService(auth.PermStaff)
	if err != nil {
		return err
	}
	return a.userError(svc.SetRole(a.context(), st.Actor(), id, auth.Role(role)))
}

// DeactivateStaff ends a staff member's access at once; their history stays.
func (a *App) DeactivateStaff(id int64) error {
	st, svc, _, err := a.requireService(auth.PermStaff)
	if err != nil {
		return err
	}
	return a.userError(svc.Deactivate(a.context(), st.Actor(), id))
}

// ReactivateStaff restores a deactivated account.
func (a *App) ReactivateStaff(id int64) error {
	st, svc, _, err := a.requireService(auth.PermStaff)
	if err != nil {
		return err
	}
	return a.userError(svc.Reactivate(a.context(), st.Actor(), id))
}

// ResetStaffPassword sets a new password for a staff member (their sessions
// end, a lockout is cleared).
func (a *App) ResetStaffPassword(id int64, password string) error {
	st, svc, _, err := a.requireService(auth.PermStaff)
	if err != nil {
		return err
	}
	return a.userError(svc.ResetPassword(a.context(), st.Actor(), id, password))
}

// SetIdleMinutes changes the idle auto-lock (1–60 minutes).
func (a *App) SetIdleMinutes(minutes int) error {
	st, svc, _, err := a.requireService(auth.PermSettings)
	if err != nil {
		return err
	}
	return a.userError(svc.SetIdleTimeout(a.context(), st.Actor(), minutes))
}
