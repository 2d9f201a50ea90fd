package auth_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"
	"tsunagu/internal/store/storetest"

	"tsunagu/internal/audit"
	"tsunagu/internal/auth"
	"tsunagu/internal/fielderr"
	"tsunagu/internal/store"
)

// cheap keeps the tests fast; TestProductionParams uses the real ones.
var cheap = auth.Params{Time: 1, Memory: 1024, Threads: 1, KeyLen: 32, SaltLen: 16}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type fixture struct {
	db  *store.DB
	svc *auth.Service
	clk *clock
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := storetest.New(t)
	clk := &clock{t: time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)}
	svc, err := auth.New(auth.Config{DB: db, Clock: clk.Now, Params: cheap})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{db: db, svc: svc, clk: clk}
}

const adminPW = "correct horse battery"

func (f *fixture) admin(t *testing.T) auth.Staff {
	t.Helper()
	st, err := f.svc.CreateFirstAdmin(context.Background(), auth.NewStaff{Login: "admin", DisplayName: "支店長", Password: adminPW})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func (f *fixture) actions(t *testing.T) []string {
	t.Helper()
	es, err := audit.List(context.Background(), f.db.Reader(), audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(es) - 1; i >= 0; i-- {
		out = append(out, es[i].Action)
	}
	return out
}

func TestPasswordHash(t *testing.T) {
	h, err := auth.HashPassword("パスワード12345", cheap)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		pw   string
		want bool
	}{{"パスワード12345", true}, {"パスワード1234", false}, {"", false}} {
		ok, p, err := auth.CheckPassword(tt.pw, h)
		if err != nil || ok != tt.want || p != cheap {
			t.Errorf("CheckPassword(%q) = %v %+v %v", tt.pw, ok, p, err)
		}
	}
	if _, _, err := auth.CheckPassword("x", "$argon2i$v=19$m=1,t=1,p=1$AA$AA"); err == nil {
		t.Error("malformed hash accepted")
	}
}

// TestProductionParams signs in once with DefaultParams, so what ships is
// exercised, and checks the stored hash names them.
func TestProductionParams(t *testing.T) {
	f := newFixture(t)
	svc, err := auth.New(auth.Config{DB: f.db, Clock: f.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateFirstAdmin(context.Background(), auth.NewStaff{Login: "admin", DisplayName: "A", Password: adminPW}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := svc.SignIn(context.Background(), "admin", adminPW); err != nil {
		t.Fatal(err)
	}
	t.Logf("sign-in with production argon2id params took %v", time.Since(start))
	var hash string
	f.db.Reader().QueryRow(`SELECT password_hash FROM staff`).Scan(&hash)
	if _, p, _ := auth.CheckPassword(adminPW, hash); p != auth.DefaultParams {
		t.Errorf("stored params %+v, want %+v", p, auth.DefaultParams)
	}
}

func TestFirstAdminOnlyOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if has, _ := f.svc.HasStaff(ctx); has {
		t.Fatal("fresh DB has staff")
	}
	if _, err := f.svc.CreateFirstAdmin(ctx, auth.NewStaff{Login: "a", DisplayName: "A", Password: "short"}); !errors.Is(err, auth.ErrWeakPassword) {
		t.Fatalf("weak password: %v", err)
	}
	st := f.admin(t)
	if st.Role != auth.RoleAdmin {
		t.Fatalf("role %s", st.Role)
	}
	if _, err := f.svc.CreateFirstAdmin(ctx, auth.NewStaff{Login: "evil", DisplayName: "E", Password: adminPW}); !errors.Is(err, auth.ErrSetupDone) {
		t.Fatalf("second first admin: %v", err)
	}
}

func TestLockoutWithBackoff(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.admin(t)
	for i := 1; i < auth.LockoutThreshold; i++ {
		if _, err := f.svc.SignIn(ctx, "admin", "wrong password!"); !errors.Is(err, auth.ErrBadCredentials) {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	if _, err := f.svc.SignIn(ctx, "admin", "wrong password!"); !errors.Is(err, auth.ErrLockedOut) {
		t.Fatalf("failure %d: %v, want locked out", auth.LockoutThreshold, err)
	}
	// Locked: even the right password is refused until the backoff ends.
	if _, err := f.svc.SignIn(ctx, "admin", adminPW); !errors.Is(err, auth.ErrLockedOut) {
		t.Fatalf("right password while locked: %v", err)
	}
	f.clk.Add(auth.LockoutBase)
	// One more failure doubles the lock.
	if _, err := f.svc.SignIn(ctx, "admin", "wrong password!"); !errors.Is(err, auth.ErrLockedOut) {
		t.Fatalf("failure after backoff: %v", err)
	}
	f.clk.Add(auth.LockoutBase)
	if _, err := f.svc.SignIn(ctx, "admin", adminPW); !errors.Is(err, auth.ErrLockedOut) {
		t.Fatalf("after 1x base of a 2x lock: %v", err)
	}
	f.clk.Add(auth.LockoutBase)
	if _, err := f.svc.SignIn(ctx, "admin", adminPW); err != nil {
		t.Fatalf("after the backoff: %v", err)
	}
	// Success resets the count.
	if _, err := f.svc.SignIn(ctx, "admin", "wrong password!"); !errors.Is(err, auth.ErrBadCredentials) {
		t.Fatalf("after reset: %v", err)
	}
	counts := map[string]int{}
	for _, a := range f.actions(t) {
		counts[a]++
	}
	if counts[audit.ActionLockedOut] != 2 || counts[audit.ActionSignIn] != 1 || counts[audit.ActionSignInFailed] < 7 {
		t.Errorf("audit counts %v", counts)
	}
}

func TestBackoff(t *testing.T) {
	for _, tt := range []struct {
		n    int
		want time.Duration
	}{{0, 0}, {4, 0}, {5, 30 * time.Second}, {6, time.Minute}, {7, 2 * time.Minute}, {10, auth.LockoutMax}, {100, auth.LockoutMax}} {
		if got := auth.Backoff(tt.n); got != tt.want {
			t.Errorf("Backoff(%d) = %v, want %v", tt.n, got, tt.want)
		}
	}
}

func TestUnknownLoginAudited(t *testing.T) {
	f := newFixture(t)
	f.admin(t)
	if _, err := f.svc.SignIn(context.Background(), "mypassword123", "x"); !errors.Is(err, auth.ErrBadCredentials) {
		t.Fatal(err)
	}
	es, _ := audit.List(context.Background(), f.db.Reader(), audit.Filter{Action: audit.ActionSignInFailed})
	if len(es) != 1 || es[0].Actor != "unknown" || es[0].Target != "" {
		t.Fatalf("entries %+v", es)
	}
}

func TestIdleLockAndUnlock(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.admin(t)
	ss, err := f.svc.SignIn(ctx, "admin", adminPW)
	if err != nil {
		t.Fatal(err)
	}
	f.clk.Add(auth.DefaultIdleTimeout - time.Second)
	if _, err := f.svc.Check(ctx, ss); err != nil {
		t.Fatalf("before timeout: %v", err)
	}
	f.svc.Touch(ss) // input resets the timer
	f.clk.Add(auth.DefaultIdleTimeout - time.Second)
	if _, err := f.svc.Check(ctx, ss); err != nil {
		t.Fatalf("after touch: %v", err)
	}
	f.clk.Add(2 * time.Second)
	if _, err := f.svc.Check(ctx, ss); !errors.Is(err, auth.ErrIdleLocked) {
		t.Fatalf("after timeout: %v", err)
	}
	f.svc.Touch(ss) // input on a locked screen does not unlock
	if _, err := f.svc.Check(ctx, ss); !errors.Is(err, auth.ErrIdleLocked) {
		t.Fatalf("touch unlocked: %v", err)
	}
	if err := f.svc.Unlock(ctx, ss, "wrong password!"); !errors.Is(err, auth.ErrBadCredentials) {
		t.Fatalf("wrong unlock: %v", err)
	}
	if err := f.svc.Unlock(ctx, ss, adminPW); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Check(ctx, ss); err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	// Outside 1–60 is refused, naming the security settings form's field.
	for _, bad := range []int{0, 61} {
		err := f.svc.SetIdleTimeout(ctx, "staff:admin", bad)
		want := []fielderr.FieldError{{Field: "idleMinutes", Code: fielderr.Between, Min: 1, Max: 60}}
		if !errors.Is(err, auth.ErrInvalid) || !reflect.DeepEqual(fielderr.Fields(err), want) {
			t.Fatalf("%d minutes: %v", bad, err)
		}
	}
	// A configured timeout applies.
	if err := f.svc.SetIdleTimeout(ctx, "staff:admin", 1); err != nil {
		t.Fatal(err)
	}
	f.clk.Add(61 * time.Second)
	if _, err := f.svc.Check(ctx, ss); !errors.Is(err, auth.ErrIdleLocked) {
		t.Fatalf("1-minute timeout: %v", err)
	}
}

func TestDeactivateEndsSessionsAtOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin := f.admin(t)
	clerk, err := f.svc.CreateStaff(ctx, admin.Actor(), auth.NewStaff{Login: "tanaka", DisplayName: "田中", Role: auth.RoleOperator, Password: "clerk password 1"})
	if err != nil {
		t.Fatal(err)
	}
	ss, err := f.svc.SignIn(ctx, "tanaka", "clerk password 1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Check(ctx, ss); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Deactivate(ctx, admin.Actor(), clerk.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Check(ctx, ss); !errors.Is(err, auth.ErrSessionEnded) {
		t.Fatalf("session after deactivation: %v", err)
	}
	if _, err := f.svc.SignIn(ctx, "tanaka", "clerk password 1"); !errors.Is(err, auth.ErrBadCredentials) {
		t.Fatalf("sign-in after deactivation: %v", err)
	}
	// The account (and so its history) stays.
	st, err := f.svc.Get(ctx, "tanaka")
	if err != nil || st.Active || st.DeactivatedAt == 0 {
		t.Fatalf("deactivated account: %+v %v", st, err)
	}
	if err := f.svc.Reactivate(ctx, admin.Actor(), clerk.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.SignIn(ctx, "tanaka", "clerk password 1"); err != nil {
		t.Fatalf("after reactivation: %v", err)
	}
}

func TestRoleChangeEndsSession(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin := f.admin(t)
	clerk, _ := f.svc.CreateStaff(ctx, admin.Actor(), auth.NewStaff{Login: "sato", DisplayName: "佐藤", Role: auth.RoleAdmin, Password: "clerk password 1"})
	ss, _ := f.svc.SignIn(ctx, "sato", "clerk password 1")
	if err := f.svc.SetRole(ctx, admin.Actor(), clerk.ID, auth.RoleAgency); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Check(ctx, ss); !errors.Is(err, auth.ErrSessionEnded) {
		t.Fatalf("session after role change: %v", err)
	}
}

func TestLastAdminProtected(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin := f.admin(t)
	if err := f.svc.SetRole(ctx, "os:root", admin.ID, auth.RoleOperator); !errors.Is(err, auth.ErrLastAdmin) {
		t.Fatalf("demote last admin: %v", err)
	}
	if err := f.svc.Deactivate(ctx, "os:root", admin.ID); !errors.Is(err, auth.ErrLastAdmin) {
		t.Fatalf("deactivate last admin: %v", err)
	}
	if err := f.svc.Deactivate(ctx, admin.Actor(), admin.ID); !errors.Is(err, auth.ErrSelf) {
		t.Fatalf("deactivate self: %v", err)
	}
	if _, err := f.svc.CreateStaff(ctx, admin.Actor(), auth.NewStaff{Login: "ADMIN", DisplayName: "x", Role: auth.RoleOperator, Password: adminPW}); !errors.Is(err, auth.ErrLoginTaken) {
		t.Fatalf("duplicate login (case-insensitive): %v", err)
	}
}

func TestRolePermissions(t *testing.T) {
	tests := []struct {
		role  auth.Role
		allow []auth.Permission
		deny  []auth.Permission
	}{
		{auth.RoleAdmin, []auth.Permission{auth.PermStaff, auth.PermSettings, auth.PermChannel, auth.PermExport, auth.PermInboxReply, auth.PermBackup},
			[]auth.Permission{auth.PermApprove, auth.PermAuditExport}},
		{auth.RoleApprover, []auth.Permission{auth.PermApprove, auth.PermInboxReply},
			[]auth.Permission{auth.PermStaff, auth.PermSettings, auth.PermChannel, auth.PermExport, auth.PermAuditRead}},
		{auth.RoleOperator, []auth.Permission{auth.PermInboxRead, auth.PermInboxReply, auth.PermCustomersEdit, auth.PermDrafts},
			[]auth.Permission{auth.PermApprove, auth.PermStaff, auth.PermExport, auth.PermAuditRead, auth.PermChannel, auth.PermErase}},
		{auth.RoleAuditor, []auth.Permission{auth.PermAuditRead, auth.PermAuditExport},
			[]auth.Permission{auth.PermInboxRead, auth.PermCustomersRead, auth.PermStaff, auth.PermSandbox}},
		{auth.RoleAgency, []auth.Permission{auth.PermDrafts, auth.PermInboxRead},
			[]auth.Permission{auth.PermInboxReply, auth.PermExport, auth.PermCustomersEdit, auth.PermAuditRead, auth.PermSandbox}},
		{auth.Role("root"), nil, []auth.Permission{auth.PermSession, auth.PermInboxRead, auth.PermStaff}},
	}
	for _, tt := range tests {
		for _, p := range tt.allow {
			if !tt.role.Allows(p) {
				t.Errorf("%s should have %s", tt.role, p)
			}
		}
		for _, p := range tt.deny {
			if tt.role.Allows(p) {
				t.Errorf("%s must not have %s", tt.role, p)
			}
		}
		if tt.role.Valid() != tt.role.Allows(auth.PermSession) {
			t.Errorf("%s: session permission", tt.role)
		}
	}
	if !auth.RoleAgency.Masked() || auth.RoleOperator.Masked() {
		t.Error("only agency is masked")
	}
}

func TestAuditChainAfterAuthActivity(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.admin(t)
	ss, _ := f.svc.SignIn(ctx, "admin", adminPW)
	f.svc.Lock(ctx, ss)
	f.svc.Unlock(ctx, ss, adminPW)
	f.svc.SignOut(ctx, ss)
	got := f.actions(t)
	want := []string{audit.ActionFirstAdmin, audit.ActionSignIn, audit.ActionLocked, audit.ActionUnlocked, audit.ActionSignOut}
	if len(got) != len(want) {
		t.Fatalf("actions %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("actions %v, want %v", got, want)
		}
	}
	if _, err := f.svc.Check(ctx, ss); !errors.Is(err, auth.ErrSessionEnded) {
		t.Fatalf("after sign-out: %v", err)
	}
	rep, err := audit.Verify(ctx, f.db.Reader())
	if err != nil || !rep.OK {
		t.Fatalf("verify %+v %v", rep, err)
	}
}

func TestChangeOwnPassword(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.admin(t)
	ss, _ := f.svc.SignIn(ctx, "admin", adminPW)
	other, _ := f.svc.SignIn(ctx, "admin", adminPW) // another window
	if err := f.svc.ChangeOwnPassword(ctx, ss, "not it at all", "a brand new passphrase"); !errors.Is(err, auth.ErrBadCredentials) {
		t.Fatalf("wrong current: %v", err)
	}
	if err := f.svc.ChangeOwnPassword(ctx, ss, adminPW, "short"); !errors.Is(err, auth.ErrWeakPassword) {
		t.Fatalf("weak: %v", err)
	}
	if err := f.svc.ChangeOwnPassword(ctx, ss, adminPW, "a brand new passphrase"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Check(ctx, ss); err != nil {
		t.Fatalf("own session after change: %v", err)
	}
	if _, err := f.svc.Check(ctx, other); !errors.Is(err, auth.ErrSessionEnded) {
		t.Fatalf("other session after change: %v", err)
	}
	if _, err := f.svc.SignIn(ctx, "admin", adminPW); !errors.Is(err, auth.ErrBadCredentials) {
		t.Fatalf("old password: %v", err)
	}
	if _, err := f.svc.SignIn(ctx, "admin", "a brand new passphrase"); err != nil {
		t.Fatalf("new password: %v", err)
	}
}

// An administrator knows the password they set: the staff member can do
// nothing but choose their own, and the same one again does not count.
func TestAdministratorSetPasswordMustBeChanged(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin := f.admin(t)
	adminSS, err := f.svc.SignIn(ctx, "admin", adminPW)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := f.svc.Authorize(ctx, adminSS, auth.PermStaff); err != nil || st.MustChangePassword {
		t.Fatalf("first administrator chose their own password: %+v %v", st, err)
	}
	clerk, err := f.svc.CreateStaff(ctx, admin.Actor(), auth.NewStaff{Login: "tanaka", DisplayName: "田中", Role: auth.RoleOperator, Password: "initial password 1"})
	if err != nil || !clerk.MustChangePassword {
		t.Fatalf("created: %+v %v", clerk, err)
	}
	ss, err := f.svc.SignIn(ctx, "tanaka", "initial password 1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Authorize(ctx, ss, auth.PermInboxRead); !errors.Is(err, auth.ErrPasswordChange) {
		t.Fatalf("inbox before own password: %v", err)
	}
	if _, err := f.svc.Authorize(ctx, ss, auth.PermSession); err != nil {
		t.Fatalf("the session itself must work (to change the password): %v", err)
	}
	if state, err := f.svc.State(ctx, ss); err != nil || !state.MustChangePassword || !state.SignedIn {
		t.Fatalf("state: %+v %v", state, err)
	}
	if err := f.svc.ChangeOwnPassword(ctx, ss, "initial password 1", "initial password 1"); !errors.Is(err, auth.ErrPasswordReused) {
		t.Fatalf("same password again: %v", err)
	}
	if err := f.svc.ChangeOwnPassword(ctx, ss, "initial password 1", "my own passphrase"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Authorize(ctx, ss, auth.PermInboxRead); err != nil {
		t.Fatalf("inbox after own password: %v", err)
	}
	if state, _ := f.svc.State(ctx, ss); state.MustChangePassword {
		t.Fatal("state still asks for a change")
	}
	if st, _ := f.svc.Get(ctx, "tanaka"); st.MustChangePassword {
		t.Fatal("flag not cleared in the DB")
	}

	// A reset by an administrator ends the session and asks again.
	if err := f.svc.ResetPassword(ctx, admin.Actor(), clerk.ID, "reset password 22"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Check(ctx, ss); !errors.Is(err, auth.ErrSessionEnded) {
		t.Fatalf("session after reset: %v", err)
	}
	ss, err = f.svc.SignIn(ctx, "tanaka", "reset password 22")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Authorize(ctx, ss, auth.PermCustomersRead); !errors.Is(err, auth.ErrPasswordChange) {
		t.Fatalf("customers after reset: %v", err)
	}
}

func TestRoleTableMatchesAllows(t *testing.T) {
	table := auth.RoleTable()
	if len(table) != len(auth.Roles()) {
		t.Fatalf("%d roles described, %d exist", len(table), len(auth.Roles()))
	}
	for _, ri := range table {
		got := map[auth.Permission]bool{}
		for _, p := range ri.Permissions {
			got[p] = true
		}
		for _, p := range auth.Permissions() {
			if got[p] != ri.Role.Allows(p) {
				t.Errorf("%s/%s: described %v, allowed %v", ri.Role, p, got[p], ri.Role.Allows(p))
			}
		}
		if ri.Masked != ri.Role.Masked() {
			t.Errorf("%s: masked %v", ri.Role, ri.Masked)
		}
	}
}

// A check of the same session while its own password changes (the UI sends
// a heartbeat with the click that saves) must not end that session.
func TestChangeOwnPasswordKeepsSessionUnderConcurrentChecks(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.admin(t)
	ss, err := f.svc.SignIn(ctx, "admin", adminPW)
	if err != nil {
		t.Fatal(err)
	}
	pw := adminPW
	for i := range 20 {
		next := fmt.Sprintf("passphrase number %d", i)
		stop, done := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(done)
			for {
				select {
				case <-stop:
					return
				default:
					f.svc.Check(ctx, ss)
				}
			}
		}()
		err := f.svc.ChangeOwnPassword(ctx, ss, pw, next)
		close(stop)
		<-done
		if err != nil {
			t.Fatal(err)
		}
		pw = next
		if _, err := f.svc.Check(ctx, ss); err != nil {
			t.Fatalf("round %d: own session after the change: %v", i, err)
		}
	}
}
