package facade

import (
	"context"
	"testing"

	"tsunagu/internal/auth"
	"tsunagu/internal/customer"
	"tsunagu/internal/msgcode"
)

// addStaff is how a test gets a staff member who can work: the signed-in
// administrator creates the account with an initial password, and the
// staff member replaces it with n.Password at their first sign-in (in a
// session of their own, so this window's session is untouched).
func addStaff(app *Client, n auth.NewStaff) (auth.Staff, error) {
	want := n.Password
	n.Password = want + " (initial)"
	st, err := (&StaffService{app}).CreateStaff(n)
	if err != nil {
		return st, err
	}
	svc, err := app.eng.Auth()
	if err != nil {
		return st, err
	}
	ctx := context.Background()
	ss, err := svc.SignIn(ctx, n.Login, n.Password)
	if err != nil {
		return st, err
	}
	if err := svc.ChangeOwnPassword(ctx, ss, n.Password, want); err != nil {
		return st, err
	}
	st.MustChangePassword = false
	return st, svc.SignOut(ctx, ss)
}

// A staff member signed in with the password an administrator set gets
// errors.passwordChangeRequired from every feature until they choose their
// own; the window's AuthState says so, so the UI can ask for it.
func TestInitialPasswordMustBeChangedThroughTheWindow(t *testing.T) {
	app := startApp(t, nil)
	firstAdmin(t, app)
	if _, err := (&StaffService{app}).CreateStaff(auth.NewStaff{Login: "sato", DisplayName: "佐藤", Role: auth.RoleOperator, Password: "initial password 1"}); err != nil {
		t.Fatal(err)
	}
	sess := &SessionService{app}
	st, err := sess.SignIn("sato", "initial password 1")
	if err != nil || !st.MustChangePassword {
		t.Fatalf("sign-in: %+v %v", st, err)
	}
	if _, err := customerSvc(app).Customers(customer.Filter{}); err == nil || err.Error() != msgcode.PasswordChangeNeeded {
		t.Fatalf("customers before own password: %v", err)
	}
	if err := sess.ChangePassword("initial password 1", "initial password 1"); err == nil || err.Error() != msgcode.PasswordReused {
		t.Fatalf("same password: %v", err)
	}
	if err := sess.ChangePassword("initial password 1", "sato's own passphrase"); err != nil {
		t.Fatal(err)
	}
	if st, err := sess.AuthState(); err != nil || st.MustChangePassword || !st.SignedIn {
		t.Fatalf("after change: %+v %v", st, err)
	}
	if _, err := customerSvc(app).Customers(customer.Filter{}); err != nil {
		t.Fatalf("customers after own password: %v", err)
	}
}

// StaffRoles describes every role by what auth allows it.
func TestStaffRolesDescribeAuthsTable(t *testing.T) {
	app := startApp(t, nil)
	firstAdmin(t, app)
	roles, err := (&StaffService{app}).StaffRoles()
	if err != nil {
		t.Fatal(err)
	}
	if len(roles) != len(auth.Roles()) {
		t.Fatalf("roles: %+v", roles)
	}
	for _, r := range roles {
		for _, p := range r.Permissions {
			if !r.Role.Allows(p) {
				t.Errorf("%s described with %s", r.Role, p)
			}
		}
		if len(r.Permissions) != len(r.Role.Permissions()) {
			t.Errorf("%s: %v", r.Role, r.Permissions)
		}
	}
}
