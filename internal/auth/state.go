package auth

import (
	"context"
	"errors"
)

// State tells a window which screen to show for its session: first-run
// setup, sign-in, the lock screen, or the app with what the role may do.
// It holds no customer data: a window asks for it before anyone signs in.
type State struct {
	FirstRun    bool          `json:"firstRun"` // no staff account yet: create the administrator
	SignedIn    bool          `json:"signedIn"`
	Locked      bool          `json:"locked"` // idle lock: only Unlock works
	Staff       *StaffSummary `json:"staff,omitempty"`
	Permissions []string      `json:"permissions"`
	IdleMinutes int           `json:"idleMinutes"`
	Masked      bool          `json:"masked"` // personal data is masked for this role
	// MustChangePassword: the password was set by an administrator; the
	// window asks for the staff member's own before showing anything else.
	MustChangePassword bool `json:"mustChangePassword"`
}

// StaffSummary is the signed-in staff member as a window shows them.
type StaffSummary struct {
	Login       string `json:"login"`
	DisplayName string `json:"displayName"`
	Role        Role   `json:"role"`
}

// State reports the state of session ss (nil: nobody signed in here). A
// session that has ended (deactivated, role or password changed
// elsewhere) reports signed out, and ss.Ended becomes true: the window
// forgets it. An idle-locked session reports who is signed in, locked.
func (s *Service) State(ctx context.Context, ss *Session) (State, error) {
	st := State{Permissions: []string{}}
	has, err := s.HasStaff(ctx)
	if err != nil {
		return st, err
	}
	st.FirstRun = !has
	idle, err := s.IdleTimeout(ctx)
	if err != nil {
		return st, err
	}
	st.IdleMinutes = int(idle.Minutes())
	if ss == nil {
		return st, nil
	}
	staff, err := s.Check(ctx, ss)
	switch {
	case errors.Is(err, ErrSessionEnded):
		return st, nil
	case errors.Is(err, ErrIdleLocked):
		staff, st.Locked = ss.Staff(), true
	case err != nil:
		return st, err
	}
	st.SignedIn = true
	st.Staff = &StaffSummary{Login: staff.Login, DisplayName: staff.DisplayName, Role: staff.Role}
	st.Masked = staff.Role.Masked()
	st.MustChangePassword = staff.MustChangePassword
	for _, p := range staff.Role.Permissions() {
		st.Permissions = append(st.Permissions, string(p))
	}
	return st, nil
}

// Heartbeat records user input (keys, clicks) in session ss after
// checking it: it fails with ErrIdleLocked once the idle lock applies, so
// input cannot revive a session that has already locked.
func (s *Service) Heartbeat(ctx context.Context, ss *Session) error {
	if _, err := s.Check(ctx, ss); err != nil {
		return err
	}
	s.Touch(ss)
	return nil
}

// Ended reports whether the session has ended (signed out, deactivated,
// role or password changed elsewhere): no call will accept it again.
func (ss *Session) Ended() bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.ended
}
