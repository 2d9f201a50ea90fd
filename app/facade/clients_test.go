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

// Two clients in one conversation see each other (「山田さんが対応中」), and
// one about to reply learns that the other answered since it looked.
func TestClientsWorkTogether(t *testing.T) {
	window := startApp(t, nil)
	firstAdmin(t, window)
	if _, err := addStaff(window, auth.NewStaff{Login: "madoguchi", DisplayName: "窓口 花子", Role: auth.RoleOperator, Password: "operator password 1"}); err != nil {
		t.Fatal(err)
	}
	seat := window.NewClient("窓口2")
	if _, err := (&SessionService{seat}).SignIn("madoguchi", "operator password 1"); err != nil {
		t.Fatal(err)
	}
	cs, err := sandboxSvc(window).SandboxCustomers()
	if err != nil {
		t.Fatal(err)
	}
	if err := sandboxSvc(window).SandboxSend(cs[0].UserID, "住所変更の手続きを教えてください"); err != nil {
		t.Fatal(err)
	}
	convs, err := inboxSvc(window).Conversations()
	if err != nil || len(convs) != 1 {
		t.Fatalf("conversations: %v %v", convs, err)
	}
	id := convs[0].ID
	msgs, err := inboxSvc(seat).Messages(id)
	if err != nil {
		t.Fatal(err)
	}
	seen := msgs[len(msgs)-1].ID

	if others, err := inboxSvc(window).ViewConversation(id); err != nil || len(others) != 0 {
		t.Fatalf("alone in it: %+v %v", others, err)
	}
	others, err := inboxSvc(seat).ViewConversation(id)
	if err != nil || len(others) != 1 || others[0].Name != "支店長" || others[0].Seat != "" {
		t.Fatalf("the seat sees %+v %v, want the window's 支店長", others, err)
	}
	if others, _ := inboxSvc(window).ViewConversation(id); len(others) != 1 || others[0].Name != "窓口 花子" || others[0].Seat != "窓口2" {
		t.Fatalf("the window sees %+v, want 窓口 花子 at 窓口2", others)
	}
	if _, err := inboxSvc(window).ViewConversation(id + 1000); msgcode.Code(err) != msgcode.NotFound {
		t.Fatalf("an unknown conversation: %v", err)
	}

	// The window answers; the seat, which looked before, is told.
	if _, err := inboxSvc(window).Reply(id, "窓口でご案内します。"); err != nil {
		t.Fatal(err)
	}
	ans, err := inboxSvc(seat).AnsweredSince(id, seen)
	if err != nil || len(ans) != 1 || ans[0].By != "支店長" {
		t.Fatalf("the seat is told %+v %v", ans, err)
	}
	if ans, _ := inboxSvc(window).AnsweredSince(id, seen); len(ans) != 0 {
		t.Fatalf("the window is told of its own reply: %+v", ans)
	}

	// Signing out takes the seat out of the conversation.
	if err := (&SessionService{seat}).SignOut(); err != nil {
		t.Fatal(err)
	}
	if others, _ := inboxSvc(window).ViewConversation(id); len(others) != 0 {
		t.Fatalf("after the seat signed out the window sees %+v", others)
	}
}
