package facade

import (
	"context"
	"errors"
	"sync"
	"tsunagu/internal/msgcode"

	"tsunagu/internal/audit"
	"tsunagu/internal/auth"
	"tsunagu/internal/engine"
)

// Role enforcement. Every bound method goes through call/run (call.go),
// whose guard is requireService: it fails with errors.signInRequired (no
// session), errors.sessionLocked (idle lock: the UI shows the lock screen),
// errors.sessionEnded (deactivated, role or password changed elsewhere) or
// errors.forbidden (the role lacks the permission; auth.Authorize audits
// it). The only methods without a guard are the ones needed before signing
// in or on a locked session (SessionService's public methods and Status),
// and the two of the start error screen that act only while the engine is
// not running (RetryStart, RestoreKeyFromCode: nobody can sign in then);
// guard_test.go lists every method with its permission and fails for a
// method missing from its table, so a new method cannot be left unguarded.
//
// Results for a masked role (agency) are masked by the feature that owns
// the data (customer.Service.As, inbox.Inbox.As, segment.Preview.Mask ...),
// given the staff member that call passes in.

// schedule is the App's backup and retention loop (backup.go).
type schedule struct {
	mu   sync.Mutex
	stop context.CancelFunc // ends the loop
	done chan struct{}
}

// authService returns the auth service over the running engine's DB.
func (a *App) authService() (*auth.Service, *engine.Engine, error) {
	a.mu.RLock()
	eng := a.eng
	a.mu.RUnlock()
	if eng == nil {
		return nil, nil, msgcode.New(msgcode.NotStarted)
	}
	svc, err := eng.Auth()
	if err != nil {
		return nil, nil, a.userError(err)
	}
	return svc, eng, nil
}

func (c *Client) currentSession() *auth.Session {
	c.sessMu.Lock()
	defer c.sessMu.Unlock()
	return c.session
}

// withStaff is st with the name of the client's signed-in staff member.
// Never the OS login name: before sign-in nobody is in charge, and the
// PC's account is often shared by a branch.
func (c *Client) withStaff(st Status) Status {
	if ss := c.currentSession(); ss != nil && !ss.Ended() {
		st.StaffName = ss.Staff().DisplayName
	}
	return st
}

// requireService is the guard of call/run: the signed-in staff member if
// their session is valid, unlocked and their role has permission p, with
// the auth service and engine it looked up; a message code error otherwise.
func (a *Client) requireService(p auth.Permission) (auth.Staff, *auth.Service, *engine.Engine, error) {
	svc, eng, err := a.authService()
	if err != nil {
		return auth.Staff{}, nil, nil, err
	}
	ss := a.currentSession()
	if ss == nil {
		return auth.Staff{}, nil, nil, msgcode.New(msgcode.SignInRequired)
	}
	st, err := svc.Authorize(a.context(), ss, p)
	if err != nil {
		if errors.Is(err, auth.ErrSessionEnded) {
			a.endSession(ss)
		}
		if errors.Is(err, auth.ErrForbidden) {
			// Logged without names: the permission says enough. The
			// audit trail names the staff member: auditors look there.
			a.opts.Logger.Warn("forbidden call", "permission", p, "err", err)
			return auth.Staff{}, nil, nil, msgcode.New(msgcode.Forbidden)
		}
		a.files.drop() // locked or ended: a seat's opened file goes with it
		return auth.Staff{}, nil, nil, a.userError(err)
	}
	return st, svc, eng, nil
}

func (c *Client) endSession(ss *auth.Session) {
	c.sessMu.Lock()
	defer c.sessMu.Unlock()
	if c.session == ss {
		c.session = nil
	}
}

// context is the App's context marked with the client's seat, so every
// audit entry of the call names it (audit.WithSeat).
func (c *Client) context() context.Context { return audit.WithSeat(c.App.context(), c.seat) }

func (a *App) context() context.Context {
	if a.ctx == nil {
		return context.Background()
	}
	return a.ctx
}
