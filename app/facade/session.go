package facade

import (
	"errors"
	"tsunagu/internal/msgcode"

	"tsunagu/internal/audit"
	"tsunagu/internal/auth"
)

// AuthState tells the UI which screen to show: first-run setup, sign-in,
// the lock screen, or the app with what the role may do.
type AuthState struct {
	FirstRun    bool          `json:"firstRun"` // no staff account yet: create the administrator
	SignedIn    bool          `json:"signedIn"`
	Locked      bool          `json:"locked"` // idle lock: only Unlock works
	Staff       *StaffSummary `json:"staff,omitempty"`
	Permissions []string      `json:"permissions"`
	IdleMinutes int           `json:"idleMinutes"`
	Masked      bool          `json:"masked"` // personal data is masked for this role
}

// StaffSummary is the signed-in staff member.
type StaffSummary struct {
	Login       string    `json:"login"`
	DisplayName string    `json:"displayName"`
	Role        auth.Role `json:"role"`
}

// allPermissions is what AuthState reports per role, for the UI to show only
// what the role may use (the Go guards enforce it regardless).
var allPermissions = []auth.Permission{
	auth.PermInboxRead, auth.PermInboxReply, auth.PermCustomersRead, auth.PermCustomersEdit, auth.PermImport,
	auth.PermErase, auth.PermDrafts, auth.PermApprove, auth.PermExport, auth.PermSettings, auth.PermChannel,
	auth.PermStaff, auth.PermBackup, auth.PermAuditRead, auth.PermAuditExport, auth.PermSandbox,
}

// AuthState is public (no guard): the UI calls it before anyone signs in.
// It reveals no customer data.
func (a *App) AuthState() (AuthState, error) {
	svc, _, err := a.authService()
	if err != nil {
		return AuthState{Permissions: []string{}}, err
	}
	st := AuthState{Permissions: []string{}}
	has, err := svc.HasStaff(a.context())
	if err != nil {
		return st, a.userError(err)
	}
	st.FirstRun = !has
	idle, err := svc.IdleTimeout(a.context())
	if err != nil {
		return st, a.userError(err)
	}
	st.IdleMinutes = int(idle.Minutes())
	ss := a.currentSession()
	if ss == nil {
		return st, nil
	}
	staff, err := svc.Check(a.context(), ss)
	switch {
	case errors.Is(err, auth.ErrSessionEnded):
		a.endSession(ss)
		return st, nil
	case errors.Is(err, auth.ErrIdleLocked):
		staff, st.Locked = ss.Staff(), true
	case err != nil:
		return st, a.userError(err)
	}
	st.SignedIn = true
	st.Staff = &StaffSummary{Login: staff.Login, DisplayName: staff.DisplayName, Role: staff.Role}
	st.Masked = staff.Role.Masked()
	for _, p := range allPermissions {
		if staff.Role.Allows(p) {
			st.Permissions = append(st.Permissions, string(p))
		}
	}
	return st, nil
}

// CreateFirstAdmin is public only while no account exists (first run): it
// creates the administrator and signs them in.
func (a *App) CreateFirstAdmin(login, displayName, password string) (AuthState, error) {
	svc, _, err := a.authService()
	if err != nil {
		return AuthState{Permissions: []string{}}, err
	}
	if _, err := svc.CreateFirstAdmin(a.context(), auth.NewStaff{Login: login, DisplayName: displayName, Password: password}); err != nil {
		return AuthState{Permissions: []string{}}, a.userError(err)
	}
	return a.SignIn(login, password)
}

// SignIn is public: it starts a session for this window.
func (a *App) SignIn(login, password string) (AuthState, error) {
	svc, _, err := a.authService()
	if err != nil {
		return AuthState{Permissions: []string{}}, err
	}
	ss, err := svc.SignIn(a.context(), login, password)
	if err != nil {
		return AuthState{Permissions: []string{}}, a.userError(err)
	}
	a.sec.mu.Lock()
	prev := a.sec.session
	a.sec.session = ss
	a.sec.mu.Unlock()
	if prev != nil {
		_ = svc.SignOut(a.context(), prev)
	}
	return a.AuthState()
}

// SignOut ends this window's session.
func (a *App) SignOut() error {
	if _, err := a.requireSession(); err != nil {
		return err
	}
	svc, _, err := a.authService()
	if err != nil {
		return err
	}
	ss := a.currentSession()
	a.endSession(ss)
	return a.userError(svc.SignOut(a.context(), ss))
}

// Lock locks the screen now.
func (a *App) Lock() error {
	_, svc, _, err := a.requireService(auth.PermSession)
	if err != nil {
		return err
	}
	return a.userError(svc.Lock(a.context(), a.currentSession()))
}

// Unlock re-enters the password of the signed-in staff member.
func (a *App) Unlock(password string) (AuthState, error) {
	ss, err := a.requireSession()
	if err != nil {
		return AuthState{Permissions: []string{}}, err
	}
	svc, _, err := a.authService()
	if err != nil {
		return AuthState{Permissions: []string{}}, err
	}
	if err := svc.Unlock(a.context(), ss, password); err != nil {
		if errors.Is(err, auth.ErrSessionEnded) {
			a.endSession(ss)
		}
		return AuthState{Permissions: []string{}}, a.userError(err)
	}
	return a.AuthState()
}

// Heartbeat reports user input (the UI calls it, throttled, on keys and
// clicks). It fails with errors.sessionLocked once the idle lock applies.
func (a *App) Heartbeat() error {
	ss, err := a.requireSession()
	if err != nil {
		return err
	}
	svc, _, err := a.authService()
	if err != nil {
		return err
	}
	if _, err := svc.Check(a.context(), ss); err != nil {
		return a.userError(err)
	}
	svc.Touch(ss)
	return nil
}

// ChangePassword changes the signed-in staff member's own password.
func (a *App) ChangePassword(current, next string) error {
	_, svc, _, err := a.requireService(auth.PermSession)
	if err != nil {
		return err
	}
	return a.userError(svc.ChangeOwnPassword(a.context(), a.currentSession(), current, next))
}

// --- staff management (administrators) ---

// --- audit trail (auditors) ---

// AuditReport is the audit viewer's page: entries and the chain's state.
type AuditReport struct {
	Entries []audit.Entry `json:"entries"`
	Chain   audit.Report  `json:"chain"`
}

// requireSession is the guard of the few methods that work on a locked
// session (Unlock, Heartbeat, SignOut): a session must exist, nothing more.
func (a *App) requireSession() (*auth.Session, error) {
	if _, _, err := a.authService(); err != nil {
		return nil, err
	}
	ss := a.currentSession()
	if ss == nil {
		return nil, msgcode.New(msgcode.SignInRequired)
	}
	return ss, nil
}
