// Package auth is Tsunagu's staff accounts: argon2id passwords, the
// first-run administrator, sign-in with lockout and backoff, sessions that
// lock when idle and end when a staff member is deactivated, and roles.
//
// Every change and every sign-in attempt is recorded with package audit in
// the same transaction as the change. Passwords are never stored, logged or
// returned; errors never contain them.
package auth

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"tsunagu/internal/audit"
	"tsunagu/internal/fielderr"
	"tsunagu/internal/store"
)

// Errors callers act on (the facade maps them to message codes).
var (
	ErrBadCredentials = errors.New("wrong login or password")
	ErrLockedOut      = errors.New("too many failed sign-ins: try again later")
	ErrIdleLocked     = errors.New("the session is locked: re-enter the password")
	ErrSessionEnded   = errors.New("the session has ended: sign in again")
	ErrSetupDone      = errors.New("the first administrator already exists")
	ErrNoStaff        = errors.New("no staff account exists yet")
	ErrWeakPassword   = errors.New("the password is too short or too long")
	ErrLoginTaken     = errors.New("the login name is already used")
	ErrInvalid        = errors.New("invalid login name, display name or role")
	ErrLastAdmin      = errors.New("the last active administrator cannot be removed or demoted")
	ErrNotFound       = errors.New("staff member not found")
	ErrSelf           = errors.New("staff members cannot deactivate themselves")
	ErrForbidden      = errors.New("the staff member's role does not allow this")
	// ErrPasswordChange: the password was set by an administrator and
	// must be replaced by the staff member's own before anything else.
	ErrPasswordChange = errors.New("the staff member must choose their own password first")
	ErrPasswordReused = errors.New("the new password is the same as the current one")
)

// Lockout policy: after LockoutThreshold consecutive failures, each further
// failure locks the account for LockoutBase doubled per extra failure, up
// to LockoutMax. A success resets the count.
const (
	LockoutThreshold = 5
	LockoutBase      = 30 * time.Second
	LockoutMax       = 15 * time.Minute
)

// DefaultIdleTimeout locks a session after five minutes without input.
const DefaultIdleTimeout = 5 * time.Minute

// Config holds the service's dependencies.
type Config struct {
	DB     *store.DB
	Clock  func() time.Time // nil: time.Now
	Params Params           // zero: DefaultParams
}

// Service manages staff and sessions over the customer DB.
type Service struct {
	db     *store.DB
	now    func() time.Time
	params Params
	dummy  string // a hash to check against for unknown logins (constant work)
}

// New returns the service.
func New(cfg Config) (*Service, error) {
	if cfg.DB == nil {
		return nil, errors.New("auth: DB is required")
	}
	s := &Service{db: cfg.DB, now: cfg.Clock, params: cfg.Params}
	if s.now == nil {
		s.now = time.Now
	}
	if s.params == (Params{}) {
		s.params = DefaultParams
	}
	var err error
	if s.dummy, err = HashPassword(randomToken(), s.params); err != nil {
		return nil, err
	}
	return s, nil
}

// Staff is a staff account as shown to administrators.
type Staff struct {
	ID            int64  `json:"id"`
	Login         string `json:"login"`
	DisplayName   string `json:"displayName"`
	Role          Role   `json:"role"`
	Active        bool   `json:"active"`
	LockedUntil   int64  `json:"lockedUntil"` // unix ms, 0 if not locked out
	CreatedAt     int64  `json:"createdAt"`
	DeactivatedAt int64  `json:"deactivatedAt"`
	// MustChangePassword: the password was set by an administrator
	// (account created or password reset) and not yet replaced.
	MustChangePassword bool `json:"mustChangePassword"`

	epoch int64
}

// Actor is the audit actor name of s.
func (s Staff) Actor() string { return audit.StaffActor(s.Login) }

// NewStaff describes an account to create.
type NewStaff struct {
	Login       string `json:"login"`
	DisplayName string `json:"displayName"`
	Role        Role   `json:"role"`
	Password    string `json:"password"`
}

// HasStaff reports whether any account exists (false: first run).
func (s *Service) HasStaff(ctx context.Context) (bool, error) {
	var n int
	if err := s.db.Reader().QueryRowContext(ctx, `SELECT count(*) FROM staff`).Scan(&n); err != nil {
		return false, fmt.Errorf("count staff: %w", err)
	}
	return n > 0, nil
}

// CreateFirstAdmin creates the first administrator. It fails with
// ErrSetupDone once any account exists: the check and the insert are one
// transaction, so two windows racing cannot both succeed.
func (s *Service) CreateFirstAdmin(ctx context.Context, n NewStaff) (Staff, error) {
	n.Role = RoleAdmin
	if err := validate(n); err != nil {
		return Staff{}, err
	}
	hash, err := HashPassword(n.Password, s.params)
	if err != nil {
		return Staff{}, err
	}
	var st Staff
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		var count int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM staff`).Scan(&count); err != nil {
			return fmt.Errorf("count staff: %w", err)
		}
		if count > 0 {
			return ErrSetupDone
		}
		if st, err = s.insert(ctx, tx, n, hash); err != nil {
			return err
		}
		_, err = audit.Record(ctx, tx, s.entry(st.Actor(), audit.ActionFirstAdmin, st, nil))
		return err
	})
	return st, err
}

// CreateStaff adds an account; actor is the audit actor (the facade checks
// PermStaff first).
func (s *Service) CreateStaff(ctx context.Context, actor string, n NewStaff) (Staff, error) {
	if err := validate(n); err != nil {
		return Staff{}, err
	}
	hash, err := HashPassword(n.Password, s.params)
	if err != nil {
		return Staff{}, err
	}
	var st Staff
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		if st, err = s.insert(ctx, tx, n, hash); err != nil {
			return err
		}
		// The administrator knows this password: the new staff member
		// replaces it at first sign-in.
		if _, err := tx.ExecContext(ctx, `UPDATE staff SET must_change_password = 1 WHERE id = ?`, st.ID); err != nil {
			return fmt.Errorf("mark initial password: %w", err)
		}
		st.MustChangePassword = true
		_, err = audit.Record(ctx, tx, s.entry(actor, audit.ActionStaffCreate, st, map[string]string{"role": string(st.Role)}))
		return err
	})
	return st, err
}

// List returns every account, active ones first.
func (s *Service) List(ctx context.Context) ([]Staff, error) {
	rows, err := s.db.Reader().QueryContext(ctx, `SELECT `+staffCols+` FROM staff ORDER BY active DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("list staff: %w", err)
	}
	defer rows.Close()
	out := []Staff{}
	for rows.Next() {
		st, _, err := scanStaff(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

// ActorNames maps every account's audit actor ("staff:tanaka") to its
// display name, deactivated accounts included: the one place a screen
// learns who a recorded actor is, so no screen shows a login or an
// actor code where a person is meant.
func (s *Service) ActorNames(ctx context.Context) (map[string]string, error) {
	rows, err := s.db.Reader().QueryContext(ctx, `SELECT login, display_name FROM staff`)
	if err != nil {
		return nil, fmt.Errorf("staff display names: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var login, name string
		if err := rows.Scan(&login, &name); err != nil {
			return nil, fmt.Errorf("staff display names: %w", err)
		}
		if name = strings.TrimSpace(name); name == "" {
			name = login
		}
		out[audit.StaffActor(login)] = name
	}
	return out, rows.Err()
}

// Get returns one account by login.
func (s *Service) Get(ctx context.Context, login string) (Staff, error) {
	st, _, err := scanStaff(s.db.Reader().QueryRowContext(ctx, `SELECT `+staffCols+` FROM staff WHERE login = ?`, login))
	return st, err
}

// SetRole changes a role. The last active administrator keeps theirs. The
// staff member's sessions end, so the new role applies at once.
func (s *Service) SetRole(ctx context.Context, actor string, id int64, role Role) error {
	if !role.Valid() {
		return fielderr.New(ErrInvalid, "role", fielderr.Choose)
	}
	return s.change(ctx, actor, id, audit.ActionStaffRole, map[string]string{"role": string(role)}, func(tx *sql.Tx, st Staff) error {
		if st.Role == RoleAdmin && role != RoleAdmin && st.Active {
			if err := s.keepAdmin(ctx, tx, id); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `UPDATE staff SET role = ?, session_epoch = session_epoch + 1, updated_at = ? WHERE id = ?`, role, s.now().UnixMilli(), id)
		return err
	})
}

// Deactivate ends a staff member's access at once: their sessions fail
// their next check. Their messages, notes and history stay; the account row
// stays too (audit entries name it).
func (s *Service) Deactivate(ctx context.Context, actor string, id int64) error {
	return s.change(ctx, actor, id, audit.ActionStaffDeactivate, nil, func(tx *sql.Tx, st Staff) error {
		if actor == st.Actor() {
			return ErrSelf
		}
		if st.Role == RoleAdmin && st.Active {
			if err := s.keepAdmin(ctx, tx, id); err != nil {
				return err
			}
		}
		now := s.now().UnixMilli()
		_, err := tx.ExecContext(ctx, `UPDATE staff SET active = 0, deactivated_at = ?, session_epoch = session_epoch + 1, updated_at = ? WHERE id = ?`, now, now, id)
		return err
	})
}

// Reactivate lets a deactivated staff member sign in again.
func (s *Service) Reactivate(ctx context.Context, actor string, id int64) error {
	return s.change(ctx, actor, id, audit.ActionStaffReactivate, nil, func(tx *sql.Tx, st Staff) error {
		_, err := tx.ExecContext(ctx, `UPDATE staff SET active = 1, deactivated_at = NULL, failed_attempts = 0, locked_until = 0, updated_at = ? WHERE id = ?`, s.now().UnixMilli(), id)
		return err
	})
}

// ResetPassword sets a new password (an administrator's reset), clears a
// lockout and ends the staff member's sessions. The staff member must
// replace it with their own at their next sign-in.
func (s *Service) ResetPassword(ctx context.Context, actor string, id int64, password string) error {
	if err := checkPasswordPolicy("password", password); err != nil {
		return err
	}
	hash, err := HashPassword(password, s.params)
	if err != nil {
		return err
	}
	return s.change(ctx, actor, id, audit.ActionStaffPassword, nil, func(tx *sql.Tx, st Staff) error {
		_, err := tx.ExecContext(ctx, `UPDATE staff SET password_hash = ?, must_change_password = 1, failed_attempts = 0, locked_until = 0, session_epoch = session_epoch + 1, updated_at = ? WHERE id = ?`, hash, s.now().UnixMilli(), id)
		return err
	})
}

// --- sessions ---

// Session is one signed-in staff member in one window. It is safe for
// concurrent use. Its state lives in memory; whether it may still be used is
// checked against the DB on every call (Check), so a deactivation or role
// change from another window or tsunagu-cli ends it at once.
type Session struct {
	mu     sync.Mutex
	staff  Staff
	last   time.Time // last user input
	locked bool
	ended  bool
}

// Staff is the signed-in staff member.
func (ss *Session) Staff() Staff {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.staff
}

// Locked reports whether the session is idle-locked.
func (ss *Session) Locked() bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.locked
}

// SignIn checks a login and password. Failures count towards the lockout
// and are audited; an unknown login costs the same time as a known one.
func (s *Service) SignIn(ctx context.Context, login, password string) (*Session, error) {
	login = strings.TrimSpace(login)
	st, hash, err := scanStaff(s.db.Reader().QueryRowContext(ctx, `SELECT `+staffCols+` FROM staff WHERE login = ?`, login))
	if errors.Is(err, ErrNotFound) {
		CheckPassword(password, s.dummy)
		// The typed login is not recorded: people type passwords into
		// the login field.
		werr := s.db.Write(ctx, func(tx *sql.Tx) error {
			_, err := audit.Record(ctx, tx, audit.Entry{At: s.now().UnixMilli(), Actor: "unknown", Action: audit.ActionSignInFailed, Detail: map[string]string{"reason": "unknown_login"}})
			return err
		})
		return nil, errors.Join(ErrBadCredentials, werr)
	}
	if err != nil {
		return nil, err
	}
	if err := s.verify(ctx, st, hash, password, "signin"); err != nil {
		return nil, err
	}
	return &Session{staff: st, last: s.now()}, nil
}

// verify checks password against st's hash, applying the lockout, and
// records the outcome (failure, lockout or, for sign-in, success).
func (s *Service) verify(ctx context.Context, st Staff, hash, password, purpose string) error {
	now := s.now()
	if !st.Active {
		CheckPassword(password, s.dummy)
		return s.recordFailure(ctx, st, "inactive", false)
	}
	if st.LockedUntil > now.UnixMilli() {
		// Not even checked: a locked account gives no oracle.
		CheckPassword(password, s.dummy)
		_ = s.recordFailure(ctx, st, "locked_out", false)
		return ErrLockedOut
	}
	ok, p, err := CheckPassword(password, hash)
	if err != nil {
		return fmt.Errorf("staff %d: %w", st.ID, err)
	}
	if !ok {
		return s.recordFailure(ctx, st, "bad_password", true)
	}
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		if p != s.params {
			// Parameters changed since the hash was made: upgrade it.
			if h, err := HashPassword(password, s.params); err == nil {
				if _, err := tx.ExecContext(ctx, `UPDATE staff SET password_hash = ? WHERE id = ?`, h, st.ID); err != nil {
					return err
				}
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE staff SET failed_attempts = 0, locked_until = 0 WHERE id = ?`, st.ID); err != nil {
			return fmt.Errorf("reset failures: %w", err)
		}
		action := audit.ActionSignIn
		if purpose == "unlock" {
			action = audit.ActionUnlocked
		}
		_, err := audit.Record(ctx, tx, audit.Entry{At: now.UnixMilli(), Actor: st.Actor(), Action: action})
		return err
	})
}

// recordFailure counts a failed attempt (if count) and applies the backoff.
func (s *Service) recordFailure(ctx context.Context, st Staff, reason string, count bool) error {
	now := s.now().UnixMilli()
	lockedOut := false
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		if count {
			var failures int
			if err := tx.QueryRowContext(ctx, `UPDATE staff SET failed_attempts = failed_attempts + 1 WHERE id = ? RETURNING failed_attempts`, st.ID).Scan(&failures); err != nil {
				return fmt.Errorf("count failure: %w", err)
			}
			if d := Backoff(failures); d > 0 {
				lockedOut = true
				if _, err := tx.ExecContext(ctx, `UPDATE staff SET locked_until = ? WHERE id = ?`, now+d.Milliseconds(), st.ID); err != nil {
					return fmt.Errorf("lock out: %w", err)
				}
				if _, err := audit.Record(ctx, tx, audit.Entry{At: now, Actor: st.Actor(), Action: audit.ActionLockedOut,
					Detail: map[string]string{"failures": strconv.Itoa(failures), "seconds": strconv.Itoa(int(d.Seconds()))}}); err != nil {
					return err
				}
			}
		}
		_, err := audit.Record(ctx, tx, audit.Entry{At: now, Actor: st.Actor(), Action: audit.ActionSignInFailed, Detail: map[string]string{"reason": reason}})
		return err
	})
	if err != nil {
		return errors.Join(ErrBadCredentials, err)
	}
	if lockedOut {
		return ErrLockedOut
	}
	return ErrBadCredentials
}

// Backoff is how long the account is locked after the given number of
// consecutive failures: nothing below LockoutThreshold, then LockoutBase
// doubling per further failure, at most LockoutMax.
func Backoff(failures int) time.Duration {
	if failures < LockoutThreshold {
		return 0
	}
	d := LockoutBase
	for i := LockoutThreshold; i < failures && d < LockoutMax; i++ {
		d *= 2
	}
	return min(d, LockoutMax)
}

// Check is called before every action of a session: it ends the session if
// the staff member was deactivated or changed since sign-in, locks it after
// the idle timeout, and returns the (current) staff member.
func (s *Service) Check(ctx context.Context, ss *Session) (Staff, error) {
	if ss == nil {
		return Staff{}, ErrSessionEnded
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.ended {
		return Staff{}, ErrSessionEnded
	}
	cur, _, err := scanStaff(s.db.Reader().QueryRowContext(ctx, `SELECT `+staffCols+` FROM staff WHERE id = ?`, ss.staff.ID))
	if errors.Is(err, ErrNotFound) || (err == nil && (!cur.Active || cur.epoch != ss.staff.epoch)) {
		ss.ended = true
		return Staff{}, ErrSessionEnded
	}
	if err != nil {
		return Staff{}, err
	}
	// Read from the row, not the sign-in snapshot: the flag is cleared by
	// the change of password, and an administrator's reset ends the session.
	ss.staff.MustChangePassword = cur.MustChangePassword
	if ss.locked {
		return Staff{}, ErrIdleLocked
	}
	idle, err := s.IdleTimeout(ctx)
	if err != nil {
		return Staff{}, err
	}
	if now := s.now(); now.Sub(ss.last) >= idle {
		ss.locked = true
		werr := s.db.Write(ctx, func(tx *sql.Tx) error {
			_, err := audit.Record(ctx, tx, audit.Entry{At: now.UnixMilli(), Actor: ss.staff.Actor(), Action: audit.ActionLocked, Detail: map[string]string{"reason": "idle"}})
			return err
		})
		return Staff{}, errors.Join(ErrIdleLocked, werr)
	}
	return ss.staff, nil
}

// Authorize is the check of every guarded call: Check, then whether the
// staff member's role allows p. A refusal is audited (access.denied) with
// the role and the permission: auditors look for these.
func (s *Service) Authorize(ctx context.Context, ss *Session, p Permission) (Staff, error) {
	st, err := s.Check(ctx, ss)
	if err != nil {
		return Staff{}, err
	}
	// Until an administrator-set password is replaced, only the session
	// itself works (changing the password, lock, sign-out).
	if st.MustChangePassword && p != PermSession {
		return Staff{}, ErrPasswordChange
	}
	if st.Role.Allows(p) {
		return st, nil
	}
	werr := s.db.Write(ctx, func(tx *sql.Tx) error {
		_, err := audit.Record(ctx, tx, audit.Entry{At: s.now().UnixMilli(), Actor: st.Actor(), Action: audit.ActionDenied,
			Detail: map[string]string{"permission": string(p), "role": string(st.Role)}})
		return err
	})
	if werr != nil {
		return Staff{}, errors.Join(ErrForbidden, fmt.Errorf("audit a refused call: %w", werr))
	}
	return Staff{}, ErrForbidden
}

// Touch records user input (keys, clicks) in the session; it does nothing
// once the session is locked. Only input counts: background refreshes must
// not keep an unattended screen open.
func (s *Service) Touch(ss *Session) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if !ss.locked && !ss.ended {
		ss.last = s.now()
	}
}

// Lock locks the session now (the "lock" button, or the OS screen lock).
func (s *Service) Lock(ctx context.Context, ss *Session) error {
	ss.mu.Lock()
	already := ss.locked || ss.ended
	ss.locked = true
	st := ss.staff
	ss.mu.Unlock()
	if already {
		return nil
	}
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		_, err := audit.Record(ctx, tx, audit.Entry{At: s.now().UnixMilli(), Actor: st.Actor(), Action: audit.ActionLocked, Detail: map[string]string{"reason": "manual"}})
		return err
	})
}

// Unlock re-checks the signed-in staff member's password. Failures count
// towards the lockout like sign-in failures.
func (s *Service) Unlock(ctx context.Context, ss *Session, password string) error {
	ss.mu.Lock()
	id, ended := ss.staff.ID, ss.ended
	ss.mu.Unlock()
	if ended {
		return ErrSessionEnded
	}
	st, hash, err := scanStaff(s.db.Reader().QueryRowContext(ctx, `SELECT `+staffCols+` FROM staff WHERE id = ?`, id))
	if err != nil {
		return err
	}
	if err := s.verify(ctx, st, hash, password, "unlock"); err != nil {
		return err
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if !st.Active || st.epoch != ss.staff.epoch {
		ss.ended = true
		return ErrSessionEnded
	}
	ss.locked, ss.last = false, s.now()
	return nil
}

// SignOut ends the session.
func (s *Service) SignOut(ctx context.Context, ss *Session) error {
	ss.mu.Lock()
	already := ss.ended
	ss.ended = true
	st := ss.staff
	ss.mu.Unlock()
	if already {
		return nil
	}
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		_, err := audit.Record(ctx, tx, audit.Entry{At: s.now().UnixMilli(), Actor: st.Actor(), Action: audit.ActionSignOut})
		return err
	})
}

// ChangeOwnPassword changes the session's own password after checking the
// current one. The session stays valid; others of the same staff end.
func (s *Service) ChangeOwnPassword(ctx context.Context, ss *Session, current, next string) error {
	if err := checkPasswordPolicy("next", next); err != nil {
		return err
	}
	st := ss.Staff()
	_, hash, err := scanStaff(s.db.Reader().QueryRowContext(ctx, `SELECT `+staffCols+` FROM staff WHERE id = ?`, st.ID))
	if err != nil {
		return err
	}
	if ok, _, err := CheckPassword(current, hash); err != nil || !ok {
		return ErrBadCredentials
	}
	// Keeping the password an administrator chose would leave it known to
	// them: the change must be a real one.
	if next == current {
		return ErrPasswordReused
	}
	newHash, err := HashPassword(next, s.params)
	if err != nil {
		return err
	}
	// The session is held while the epoch moves in the DB and in memory
	// together: a Check in between (a heartbeat sent with the click that
	// saves) would otherwise see them differ and end this session too.
	ss.mu.Lock()
	defer ss.mu.Unlock()
	var epoch int64
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `UPDATE staff SET password_hash = ?, must_change_password = 0, session_epoch = session_epoch + 1, updated_at = ? WHERE id = ? RETURNING session_epoch`,
			newHash, s.now().UnixMilli(), st.ID).Scan(&epoch); err != nil {
			return fmt.Errorf("change password: %w", err)
		}
		_, err := audit.Record(ctx, tx, s.entry(st.Actor(), audit.ActionStaffPassword, st, map[string]string{"by": "self"}))
		return err
	})
	if err != nil {
		return err
	}
	ss.staff.epoch = epoch
	ss.staff.MustChangePassword = false
	return nil
}

// --- settings ---

const settingIdleMinutes = "idle_minutes"

// IdleTimeout is how long a session may go without input before it locks.
func (s *Service) IdleTimeout(ctx context.Context) (time.Duration, error) {
	v, err := GetSetting(ctx, s.db.Reader(), settingIdleMinutes)
	if err != nil || v == "" {
		return DefaultIdleTimeout, err
	}
	m, err := strconv.Atoi(v)
	if err != nil || m <= 0 {
		return DefaultIdleTimeout, nil
	}
	return time.Duration(m) * time.Minute, nil
}

// SetIdleTimeout changes the idle lock (1–60 minutes).
func (s *Service) SetIdleTimeout(ctx context.Context, actor string, minutes int) error {
	if minutes < 1 || minutes > 60 {
		// The field's name on the security settings form.
		var l fielderr.List
		l.AddBetween("idleMinutes", 1, 60)
		return l.Err(ErrInvalid)
	}
	return SetSetting(ctx, s.db, actor, settingIdleMinutes, strconv.Itoa(minutes))
}

// GetSetting reads a security setting ("" if unset).
func GetSetting(ctx context.Context, q *sql.DB, key string) (string, error) {
	var v string
	err := q.QueryRowContext(ctx, `SELECT value FROM security_settings WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read setting %s: %w", key, err)
	}
	return v, nil
}

// SetSetting writes a security setting and audits the change with its old
// and new value (settings hold no secrets or personal data).
func SetSetting(ctx context.Context, db *store.DB, actor, key, value string) error {
	return db.Write(ctx, func(tx *sql.Tx) error {
		var old string
		if err := tx.QueryRowContext(ctx, `SELECT value FROM security_settings WHERE key = ?`, key).Scan(&old); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read setting %s: %w", key, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO security_settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`, key, value); err != nil {
			return fmt.Errorf("write setting %s: %w", key, err)
		}
		_, err := audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: audit.ActionSettings, Target: key, Detail: map[string]string{"old": old, "new": value}})
		return err
	})
}

// --- helpers ---

const staffCols = `id, login, display_name, role, password_hash, active, locked_until, created_at, coalesce(deactivated_at, 0), session_epoch, must_change_password`

type rowScanner interface{ Scan(dest ...any) error }

func scanStaff(r rowScanner) (Staff, string, error) {
	var st Staff
	var hash string
	err := r.Scan(&st.ID, &st.Login, &st.DisplayName, &st.Role, &hash, &st.Active, &st.LockedUntil, &st.CreatedAt, &st.DeactivatedAt, &st.epoch, &st.MustChangePassword)
	if errors.Is(err, sql.ErrNoRows) {
		return Staff{}, "", ErrNotFound
	}
	if err != nil {
		return Staff{}, "", fmt.Errorf("read staff: %w", err)
	}
	return st, hash, nil
}

func (s *Service) insert(ctx context.Context, tx *sql.Tx, n NewStaff, hash string) (Staff, error) {
	now := s.now().UnixMilli()
	res, err := tx.ExecContext(ctx, `INSERT INTO staff(login, display_name, role, password_hash, created_at, updated_at) VALUES (?,?,?,?,?,?) ON CONFLICT(login) DO NOTHING`,
		strings.TrimSpace(n.Login), strings.TrimSpace(n.DisplayName), n.Role, hash, now, now)
	if err != nil {
		return Staff{}, fmt.Errorf("insert staff: %w", err)
	}
	if k, _ := res.RowsAffected(); k == 0 {
		return Staff{}, fielderr.New(ErrLoginTaken, "login", fielderr.Taken)
	}
	id, _ := res.LastInsertId()
	return Staff{ID: id, Login: strings.TrimSpace(n.Login), DisplayName: strings.TrimSpace(n.DisplayName), Role: n.Role, Active: true, CreatedAt: now}, nil
}

// change runs fn on staff member id in a transaction and audits it.
func (s *Service) change(ctx context.Context, actor string, id int64, action string, detail map[string]string, fn func(*sql.Tx, Staff) error) error {
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		st, _, err := scanStaff(tx.QueryRowContext(ctx, `SELECT `+staffCols+` FROM staff WHERE id = ?`, id))
		if err != nil {
			return err
		}
		if err := fn(tx, st); err != nil {
			return err
		}
		_, err = audit.Record(ctx, tx, s.entry(actor, action, st, detail))
		return err
	})
}

// keepAdmin fails if id is the only active administrator.
func (s *Service) keepAdmin(ctx context.Context, tx *sql.Tx, id int64) error {
	var others int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM staff WHERE role = 'admin' AND active = 1 AND id <> ?`, id).Scan(&others); err != nil {
		return fmt.Errorf("count administrators: %w", err)
	}
	if others == 0 {
		return ErrLastAdmin
	}
	return nil
}

func (s *Service) entry(actor, action string, st Staff, detail map[string]string) audit.Entry {
	return audit.Entry{At: s.now().UnixMilli(), Actor: actor, Action: action, Target: "staff:" + st.Login, Detail: detail}
}

// Limits of a new account's fields, in characters.
const (
	maxLogin       = 64
	maxDisplayName = 200
)

// validate checks a new account and names every wrong field by its JSON
// name in NewStaff, so the staff form marks them all at once. A weak
// password alone keeps its own sentinel (and message code).
func validate(n NewStaff) error {
	var l fielderr.List
	login := strings.TrimSpace(n.Login)
	switch {
	case login == "":
		l.Add("login", fielderr.Required)
	case utf8.RuneCountInString(login) > maxLogin:
		l.AddMax("login", fielderr.TooLong, maxLogin)
	case strings.ContainsAny(login, " \t\r\n:/\\\u3000"):
		// The login becomes the audit actor "staff:<login>": no separators.
		l.Add("login", fielderr.Format)
	}
	name := strings.TrimSpace(n.DisplayName)
	switch {
	case name == "":
		l.Add("displayName", fielderr.Required)
	case utf8.RuneCountInString(name) > maxDisplayName:
		l.AddMax("displayName", fielderr.TooLong, maxDisplayName)
	}
	if !n.Role.Valid() {
		l.Add("role", fielderr.Choose)
	}
	if l.Len() == 0 {
		return checkPasswordPolicy("password", n.Password)
	}
	addPasswordFault(&l, "password", n.Password)
	return l.Err(ErrInvalid)
}

func randomToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}
