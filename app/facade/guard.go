package facade

import (
	"context"
	"database/sql"
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
// in or on a locked session (SessionService's public methods and Status);
// guard_test.go lists every method with its permission and fails for a
// method missing from its table, so a new method cannot be left unguarded.
//
// Results for a masked role (agency) are masked by the feature that owns
// the data (customer.Service.As, inbox.Inbox.As, segment.Preview.Mask ...),
// given the staff member that call passes in.

// security is App's sign-in state: one session per window.
type security struct {
	mu      sync.Mutex
	session *auth.Session

	stopSchedule context.CancelFunc // ends the backup/retention loop
	scheduleDone chan struct{}
}

// authService returns the auth service over the running engine's DB.
func (a *App) authService() (*auth.Service, *engine.Engine, error) {
	a.mu.RLock()
	eng := a.eng
	a.mu.RUnlock()
	if eng == nil || eng.DB() == nil {
		return nil, nil, msgcode.New(msgcode.NotStarted)
	}
	svc, err := eng.Auth()
	if err != nil {
		return nil, nil, a.userError(err)
	}
	return svc, eng, nil
}

func (a *App) currentSession() *auth.Session {
	a.sec.mu.Lock()
	defer a.sec.mu.Unlock()
	return a.sec.session
}

// require is the guard at the top of every bound method: it returns the
// signed-in staff member if their session is valid, unlocked and their role
// has permission p, and a message code error otherwise.
func (a *App) require(p auth.Permission) (auth.Staff, error) {
	st, _, _, err := a.requireService(p)
	return st, err
}

// requireService is require for methods that go on to use the auth service
// or the engine: the guard already looked them up.
func (a *App) requireService(p auth.Permission) (auth.Staff, *auth.Service, *engine.Engine, error) {
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
		return auth.Staff{}, nil, nil, a.userError(err)
	}
	return st, svc, eng, nil
}

func (a *App) endSession(ss *auth.Session) {
	a.sec.mu.Lock()
	defer a.sec.mu.Unlock()
	if a.sec.session == ss {
		a.sec.session = nil
	}
}

// record appends an audit entry in its own transaction, for actions whose
// change is not in the DB (keychain items) or is made by a package that does
// not audit yet. Prefer audit.Record inside the change's own transaction.
func (a *App) record(eng *engine.Engine, e audit.Entry) error {
	return eng.DB().Write(a.context(), func(tx *sql.Tx) error {
		_, err := audit.Record(a.context(), tx, e)
		return err
	})
}

func (a *App) context() context.Context {
	if a.ctx == nil {
		return context.Background()
	}
	return a.ctx
}

func (a *App) now() int64 {
	if a.opts.Clock != nil {
		return a.opts.Clock().UnixMilli()
	}
	return 0 // audit.Record fills in time.Now
}

// auditChannelLocked records a change of the channel credentials (kept in the
// keychain, so not in a DB transaction). Called with a.mu held.
func (a *App) auditChannelLocked(st auth.Staff, action string) {
	if a.eng == nil {
		return
	}
	if err := a.record(a.eng, audit.Entry{At: a.now(), Actor: st.Actor(), Action: action}); err != nil {
		a.opts.Logger.Error("audit channel change", "err", err)
	}
}
