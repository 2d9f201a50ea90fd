package auth_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"tsunagu/internal/auth"
)

// State walks a window through first run, sign-in, the idle lock and a
// session ended elsewhere; Heartbeat keeps a session open only until it
// has locked.
func TestStateAndHeartbeat(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()

	st, err := f.svc.State(ctx, nil)
	if err != nil || !st.FirstRun || st.SignedIn || st.Permissions == nil || len(st.Permissions) != 0 || st.IdleMinutes != 5 {
		t.Fatalf("first run: %+v %v", st, err)
	}
	f.admin(t)
	if st, _ := f.svc.State(ctx, nil); st.FirstRun || st.SignedIn {
		t.Fatalf("signed out: %+v", st)
	}
	if _, err := f.svc.CreateStaff(ctx, "staff:admin", auth.NewStaff{Login: "ag", DisplayName: "代理店", Role: auth.RoleAgency, Password: "agency password"}); err != nil {
		t.Fatal(err)
	}
	ss, err := f.svc.SignIn(ctx, "ag", "agency password")
	if err != nil {
		t.Fatal(err)
	}
	st, err = f.svc.State(ctx, ss)
	want := []string{string(auth.PermInboxRead), string(auth.PermCustomersRead), string(auth.PermDrafts)}
	if err != nil || !st.SignedIn || st.Locked || !st.Masked || st.Staff == nil || st.Staff.Login != "ag" || st.Staff.Role != auth.RoleAgency || !slices.Equal(st.Permissions, want) {
		t.Fatalf("agency: %+v %v", st, err)
	}

	f.clk.Add(4 * time.Minute)
	if err := f.svc.Heartbeat(ctx, ss); err != nil {
		t.Fatal(err)
	}
	f.clk.Add(4 * time.Minute)
	if st, _ := f.svc.State(ctx, ss); st.Locked {
		t.Fatal("locked although input came 4 minutes ago")
	}
	f.clk.Add(2 * time.Minute)
	if err := f.svc.Heartbeat(ctx, ss); !errors.Is(err, auth.ErrIdleLocked) {
		t.Fatalf("heartbeat after the idle lock: %v", err)
	}
	st, err = f.svc.State(ctx, ss)
	if err != nil || !st.Locked || !st.SignedIn || st.Staff.Login != "ag" || ss.Ended() {
		t.Fatalf("locked: %+v %v", st, err)
	}

	// Deactivated from another window: signed out here, and ended.
	ag, _ := f.svc.Get(ctx, "ag")
	if err := f.svc.Deactivate(ctx, "staff:admin", ag.ID); err != nil {
		t.Fatal(err)
	}
	st, err = f.svc.State(ctx, ss)
	if err != nil || st.SignedIn || st.Staff != nil || !ss.Ended() {
		t.Fatalf("after deactivation: %+v %v (ended %v)", st, err, ss.Ended())
	}
}

func TestRolePermissionsList(t *testing.T) {
	for _, r := range auth.Roles() {
		got := r.Permissions()
		for _, p := range auth.Permissions() {
			if r.Allows(p) != slices.Contains(got, p) {
				t.Errorf("%s: Permissions %v disagrees with Allows(%s)", r, got, p)
			}
		}
	}
	if got := auth.RoleAuditor.Permissions(); !slices.Equal(got, []auth.Permission{auth.PermAuditRead, auth.PermAuditExport}) {
		t.Errorf("auditor: %v", got)
	}
}
