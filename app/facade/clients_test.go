package facade

import (
	"slices"
	"testing"

	"tsunagu/internal/audit"
	"tsunagu/internal/auth"
	"tsunagu/internal/customer"
	"tsunagu/internal/msgcode"
)

// Two clients of one App (the window and a seat, issue 18) each have their
// own session: each is its own staff member with its own role, and signing
// out or locking one leaves the other as it was.
func TestClientsHaveTheirOwnSessions(t *testing.T) {
	window := startApp(t, nil)
	firstAdmin(t, window)
	if _, err := addStaff(window, auth.NewStaff{Login: "madoguchi", DisplayName: "窓口 花子", Role: auth.RoleOperator, Password: "operator password 1"}); err != nil {
		t.Fatal(err)
	}
	seat := window.NewClient("窓口2")

	// The seat starts signed out, whoever is signed in at the window.
	if st, err := (&SessionService{seat}).AuthState(); err != nil || st.SignedIn {
		t.Fatalf("a new seat is signed in: %+v %v", st, err)
	}
	if _, err := (&CustomerService{seat}).Customers(customer.Filter{Limit: 5}); msgcode.Code(err) != msgcode.SignInRequired {
		t.Fatalf("a seat without sign-in read customers: %v", err)
	}
	if st, err := (&SessionService{seat}).SignIn("madoguchi", "operator password 1"); err != nil || st.Staff.Role != auth.RoleOperator {
		t.Fatalf("seat sign-in: %+v %v", st, err)
	}

	// Each is its own staff member, with its own role.
	if got := (&SystemService{seat}).Status().StaffName; got != "窓口 花子" {
		t.Fatalf("seat status names %q", got)
	}
	if got := (&SystemService{window}).Status().StaffName; got != "支店長" {
		t.Fatalf("window status names %q", got)
	}
	if _, err := (&StaffService{seat}).ListStaff(); msgcode.Code(err) != msgcode.Forbidden {
		t.Fatalf("an operator's seat listed staff: %v", err)
	}
	if _, err := (&StaffService{window}).ListStaff(); err != nil {
		t.Fatalf("the administrator's window: %v", err)
	}

	// Locking the window leaves the seat working; unlocking is the window's.
	if err := (&SessionService{window}).Lock(); err != nil {
		t.Fatal(err)
	}
	if _, err := (&CustomerService{seat}).Customers(customer.Filter{Limit: 5}); err != nil {
		t.Fatalf("the seat after the window locked: %v", err)
	}
	if _, err := (&CustomerService{window}).Customers(customer.Filter{Limit: 5}); msgcode.Code(err) != msgcode.SessionLocked {
		t.Fatalf("the locked window: %v", err)
	}
	if _, err := (&SessionService{seat}).Unlock(testAdminPW); err == nil {
		t.Fatal("the seat unlocked with the window's password")
	}
	if _, err := (&SessionService{window}).Unlock(testAdminPW); err != nil {
		t.Fatal(err)
	}

	// The trail names the seat beside the staff member; the window's
	// entries name none.
	rep, err := (&AuditService{window}).AuditEntries(audit.Filter{Action: audit.ActionSignIn})
	if err != nil {
		t.Fatal(err)
	}
	// Newest first: the seat's sign-in, then addStaff's (through auth, no
	// client), then the window's.
	var got []string
	for _, e := range rep.Entries {
		got = append(got, e.Actor+"@"+e.Detail[audit.DetailSeat])
	}
	if want := []string{"staff:madoguchi@窓口2", "staff:madoguchi@", "staff:admin@"}; !slices.Equal(got, want) {
		t.Fatalf("sign-in entries %q, want %q", got, want)
	}
	if !rep.Chain.OK {
		t.Fatalf("the chain after entries with a seat: %+v", rep.Chain)
	}

	// Signing out the seat leaves the window signed in.
	if err := (&SessionService{seat}).SignOut(); err != nil {
		t.Fatal(err)
	}
	if st, _ := (&SessionService{seat}).AuthState(); st.SignedIn {
		t.Fatal("the seat is still signed in after signing out")
	}
	if st, _ := (&SessionService{window}).AuthState(); !st.SignedIn || st.Locked {
		t.Fatalf("the window after the seat signed out: %+v", st)
	}
	if _, err := (&StaffService{window}).ListStaff(); err != nil {
		t.Fatalf("the window after the seat signed out: %v", err)
	}
}
