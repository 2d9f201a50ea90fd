package facade

// SessionService: sign-in, the idle lock and the own password. The rules
// are auth's (auth.Service.State, Heartbeat ...); the window holds only its
// current *auth.Session (guard.go), and forgets it once it has ended.

import (
	"context"

	"tsunagu/internal/auth"
	"tsunagu/internal/engine"
	"tsunagu/internal/msgcode"
)

// AuthState tells the UI which screen to show (auth.State under the
// contract's name).
type AuthState auth.State

// StaffSummary is the signed-in staff member.
type StaffSummary = auth.StaffSummary

// AuthState is public (no guard): the UI calls it before anyone signs in.
// It reveals no customer data.
func (s *SessionService) AuthState() (AuthState, error) {
	return unguarded(s.a, false, func(ctx context.Context, svc *auth.Service, ss *auth.Session) (AuthState, error) {
		st, err := svc.State(ctx, ss)
		return AuthState(st), err
	})
}

// CreateFirstAdmin is public only while no account exists (first run): it
// creates the administrator and signs them in.
func (s *SessionService) CreateFirstAdmin(login, displayName, password string) (AuthState, error) {
	_, err := unguarded(s.a, false, func(ctx context.Context, svc *auth.Service, _ *auth.Session) (auth.Staff, error) {
		return svc.CreateFirstAdmin(ctx, auth.NewStaff{Login: login, DisplayName: displayName, Password: password})
	})
	if err != nil {
		return AuthState{}, err
	}
	return s.SignIn(login, password)
}

// SignIn is public: it starts a session for this window, replacing (and
// ending) the one it had.
func (s *SessionService) SignIn(login, password string) (AuthState, error) {
	s.a.leave()
	s.a.files.drop() // a seat's opened file is the session's
	return unguarded(s.a, false, func(ctx context.Context, svc *auth.Service, prev *auth.Session) (AuthState, error) {
		ss, err := svc.SignIn(ctx, login, password)
		if err != nil {
			return AuthState{}, err
		}
		s.a.sessMu.Lock()
		s.a.session = ss
		s.a.sessMu.Unlock()
		if prev != nil {
			_ = svc.SignOut(ctx, prev) // the new session stands even if the old one's audit entry fails
		}
		st, err := svc.State(ctx, ss)
		return AuthState(st), err
	})
}

// SignOut ends this window's session (also a locked one).
func (s *SessionService) SignOut() error {
	s.a.leave()
	s.a.files.drop() // a seat's opened file is the session's
	_, err := unguarded(s.a, true, func(ctx context.Context, svc *auth.Service, ss *auth.Session) (struct{}, error) {
		return struct{}{}, svc.SignOut(ctx, ss)
	})
	return err
}

// Lock locks the screen now.
func (s *SessionService) Lock() error {
	s.a.leave()
	s.a.files.drop() // a seat's opened file is the session's
	return authRun(s.a, auth.PermSession, func(ctx context.Context, _ auth.Staff, svc *auth.Service) error {
		return svc.Lock(ctx, s.a.currentSession())
	})
}

// Unlock re-enters the password of the signed-in staff member.
func (s *SessionService) Unlock(password string) (AuthState, error) {
	return unguarded(s.a, true, func(ctx context.Context, svc *auth.Service, ss *auth.Session) (AuthState, error) {
		if err := svc.Unlock(ctx, ss, password); err != nil {
			return AuthState{}, err
		}
		st, err := svc.State(ctx, ss)
		return AuthState(st), err
	})
}

// Heartbeat reports user input (the UI calls it, throttled, on keys and
// clicks). It fails with errors.sessionLocked once the idle lock applies.
func (s *SessionService) Heartbeat() error {
	_, err := unguarded(s.a, true, func(ctx context.Context, svc *auth.Service, ss *auth.Session) (struct{}, error) {
		return struct{}{}, svc.Heartbeat(ctx, ss)
	})
	return err
}

// ChangePassword changes the signed-in staff member's own password.
func (s *SessionService) ChangePassword(current, next string) error {
	return authRun(s.a, auth.PermSession, func(ctx context.Context, _ auth.Staff, svc *auth.Service) error {
		return svc.ChangeOwnPassword(ctx, s.a.currentSession(), current, next)
	})
}

// unguarded is call for the methods without a permission guard: what the UI
// needs before signing in, and (withSession: a session must exist, locked
// or not) Unlock, Heartbeat and SignOut. fn gets this window's session
// (nil if none); a session that has ended by the time fn returns is
// forgotten, so the next call starts from the sign-in screen.
func unguarded[T any](a *Client, withSession bool, fn func(ctx context.Context, svc *auth.Service, ss *auth.Session) (T, error)) (T, error) {
	var zero T
	svc, _, err := a.authService()
	if err != nil {
		return zero, err
	}
	ss := a.currentSession()
	if withSession && ss == nil {
		return zero, msgcode.New(msgcode.SignInRequired)
	}
	v, err := fn(a.context(), svc, ss)
	if ss != nil && ss.Ended() {
		a.endSession(ss)
	}
	if withSession && err != nil {
		a.files.drop() // locked or ended (Heartbeat, Unlock): a seat's opened file goes
	}
	if err != nil {
		return zero, a.userError(err)
	}
	return v, nil
}

// authCall is call for methods of the staff service (auth.Service).
func authCall[T any](a *Client, p auth.Permission, fn func(ctx context.Context, st auth.Staff, svc *auth.Service) (T, error)) (T, error) {
	return call(a, p, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (T, error) {
		svc, err := eng.Auth()
		if err != nil {
			var zero T
			return zero, err
		}
		return fn(ctx, st, svc)
	})
}

// authRun is authCall for methods without a result.
func authRun(a *Client, p auth.Permission, fn func(ctx context.Context, st auth.Staff, svc *auth.Service) error) error {
	_, err := authCall(a, p, func(ctx context.Context, st auth.Staff, svc *auth.Service) (struct{}, error) {
		return struct{}{}, fn(ctx, st, svc)
	})
	return err
}
