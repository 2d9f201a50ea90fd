package facade

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"tsunagu/internal/dispatch"
	"tsunagu/internal/msgcode"

	"tsunagu/internal/audit"
	"tsunagu/internal/auth"
	"tsunagu/internal/secrets/secretstest"
)

var testParams = auth.Params{Time: 1, Memory: 1024, Threads: 1, KeyLen: 32, SaltLen: 16}

const testAdminPW = "administrator pw 1"

func firstAdmin(t *testing.T, app *Client) {
	t.Helper()
	st, err := (&SessionService{app}).CreateFirstAdmin("admin", "支店長", testAdminPW)
	if err != nil || !st.SignedIn || st.Staff.Role != auth.RoleAdmin {
		t.Fatalf("first admin: %+v %v", st, err)
	}
}

// public are the bound methods without a guard: what the UI needs before
// anyone signs in, or (Unlock, Heartbeat, SignOut) on a locked session.
var public = map[string]bool{
	"Status": true, "AuthState": true, "SignIn": true, "CreateFirstAdmin": true,
	"Unlock": true, "Heartbeat": true, "SignOut": true,
	// Which role this installation has (seatrole.go): no customer data.
	"SeatRole": true,
	// Only while the engine is not running, when nobody can sign in
	// (system.go, backup.go; docs/security.md).
	"RetryStart": true, "RestoreKeyFromCode": true,
	// A new installation's 「支店の親機に接続する」, only while it is fresh:
	// no staff account and no LINE channel (seatpair.go).
	"FindPrimaries": true, "ProbePrimary": true, "PairWithPrimary": true,
}

// methodPerms is the permission every other bound method requires. A method
// missing here fails TestEveryMethodIsGuarded: add it with its permission
// (and its call(s.a, perm, ...) guard).
var methodPerms = map[string]auth.Permission{
	// seatadmin.go (issue 18, branch seats on the primary)
	"SeatAdmin":         auth.PermStaff,
	"IssueSeatCode":     auth.PermStaff,
	"RevokeSeat":        auth.PermStaff,
	"SetSeatPort":       auth.PermStaff,
	"AllowSeatFirewall": auth.PermStaff,
	// surveys.go (issue 11, surveys)
	"Surveys":             auth.PermCustomersRead,
	"GetSurvey":           auth.PermCustomersRead,
	"SaveSurvey":          auth.PermDrafts,
	"CopySurvey":          auth.PermDrafts,
	"SetSurveyStatus":     auth.PermDrafts,
	"DeleteSurvey":        auth.PermDrafts,
	"SendSurvey":          auth.PermInboxReply,
	"EnterSurveyAnswers":  auth.PermCustomersEdit,
	"ImportSurveyAnswers": auth.PermImport,
	"SurveyResults":       auth.PermCustomersRead,
	"ExportSurveyAnswers": auth.PermExport,
	"SurveyStartData":     auth.PermDrafts,
	"SandboxPhoneActions": auth.PermSandbox,
	"SandboxTap":          auth.PermSandbox,
	// linking.go (issue 7, linking)
	"ConversationCustomer": auth.PermInboxRead,
	"CustomerLink":         auth.PermInboxRead,
	"LinkingSettings":      auth.PermInboxRead,
	"LinkSearchCustomers":  auth.PermCustomersEdit,
	"LinkConversation":     auth.PermCustomersEdit,
	"LinkCandidates":       auth.PermCustomersEdit,
	"RelinkConversation":   auth.PermCustomersEdit,
	"UnlinkCustomer":       auth.PermCustomersEdit,
	"IssueLinkCode":        auth.PermCustomersEdit,
	"RevokeLinkCode":       auth.PermCustomersEdit,
	"SetLinkingSettings":   auth.PermSettings,

	"Conversations": auth.PermInboxRead,
	"Messages":      auth.PermInboxRead,
	"MarkRead":      auth.PermInboxReply,
	"Reply":         auth.PermInboxReply,
	// presence.go (issue 18: working together)
	"ViewConversation":    auth.PermInboxRead,
	"AnsweredSince":       auth.PermInboxReply,
	"RetryMessage":        auth.PermInboxReply,
	"ReplyTracked":        auth.PermInboxReply,
	"ReplyLinksTrackable": auth.PermInboxReply,
	"SandboxCustomers":    auth.PermSandbox,
	"SandboxChat":         auth.PermSandbox,
	"SandboxSend":         auth.PermSandbox,
	"SandboxFollow":       auth.PermSandbox,
	"SaveChannel":         auth.PermChannel,
	"ClearChannel":        auth.PermChannel,
	"Lock":                auth.PermSession,
	"ChangePassword":      auth.PermSession,
	"SaveDraft":           auth.PermSession,
	"GetDraft":            auth.PermSession,
	"ListDrafts":          auth.PermSession,
	"DeleteDraft":         auth.PermSession,
	"ListStaff":           auth.PermStaff,
	"ActorNames":          auth.PermSession, // issue 19 item 13
	"StaffRoles":          auth.PermStaff,
	"CreateStaff":         auth.PermStaff,
	"SetStaffRole":        auth.PermStaff,
	"DeactivateStaff":     auth.PermStaff,
	"ReactivateStaff":     auth.PermStaff,
	"ResetStaffPassword":  auth.PermStaff,
	"SetIdleMinutes":      auth.PermSettings,
	"AppVersion":          auth.PermSession,
	"CheckForUpdate":      auth.PermSession,
	"InstallUpdate":       auth.PermSettings,
	"AuditEntries":        auth.PermAuditRead,
	"AuditActors":         auth.PermAuditRead,
	"ExportAudit":         auth.PermAuditExport,
	"PickBackupFolder":    auth.PermBackup, // issue 19 item 15
	"CreateRecoveryCode":  auth.PermBackup,
	"BackupSettings":      auth.PermBackup,
	"SetBackupSettings":   auth.PermBackup,
	"BackupNow":           auth.PermBackup,
	"EraseConversation":   auth.PermErase,
	"EraseCustomer":       auth.PermErase,
	"SetRetentionDays":    auth.PermSettings,
	// relay.go (issue 4)
	"RelayStatus":           auth.PermChannel,
	"RelayEnroll":           auth.PermChannel,
	"RelayDisconnect":       auth.PermChannel,
	"RelaySetWebhookOnLINE": auth.PermChannel,
	// line.go (issue 3)
	"Quota":              auth.PermInboxRead,
	"MessageContent":     auth.PermInboxRead,
	"SaveMessageContent": auth.PermInboxRead,
	"SandboxSendSticker": auth.PermSandbox,
	"SandboxSendImage":   auth.PermSandbox,
	"SandboxPostback":    auth.PermSandbox,
	"LineSettings":       auth.PermInboxRead,
	"SetLineSettings":    auth.PermSettings,
	// linestatus.go (issue 17)
	"LineStatus":           auth.PermInboxRead,
	"FetchContent":         auth.PermInboxRead,
	"SandboxSetOutage":     auth.PermSandbox,
	"SandboxExpireContent": auth.PermSandbox,
	// customers.go
	"Customers":             auth.PermCustomersRead,
	"Customer":              auth.PermCustomersRead,
	"CustomerFilterOptions": auth.PermCustomersRead,
	"CustomerClicks":        auth.PermCustomersRead,
	"PickImportFile":        auth.PermImport,
	"ImportFields":          auth.PermImport,
	"ImportPreview":         auth.PermImport,
	"RunImport":             auth.PermImport,
	"CancelImport":          auth.PermImport,
	"SaveImportReport":      auth.PermImport,
	"ImportProfiles":        auth.PermImport,
	"SaveImportProfile":     auth.PermImport,
	"ImportHistory":         auth.PermImport,
	"ExportCustomers":       auth.PermExport,
	// attributes.go (issue 5)
	"AttributeDefs":        auth.PermCustomersRead,
	"DefineAttribute":      auth.PermSettings,
	"DeleteAttribute":      auth.PermSettings,
	"TagList":              auth.PermCustomersRead,
	"CreateTag":            auth.PermSettings,
	"DeleteTag":            auth.PermSettings,
	"SetCustomerConsent":   auth.PermCustomersEdit,
	"AddCustomerTag":       auth.PermCustomersEdit,
	"RemoveCustomerTag":    auth.PermCustomersEdit,
	"SetCustomerAttribute": auth.PermCustomersEdit,
	// inbox.go (issue 7, inbox)
	"ConversationPage":      auth.PermInboxRead,
	"GetConversation":       auth.PermInboxRead,
	"MessagePage":           auth.PermInboxRead,
	"Assignees":             auth.PermInboxRead,
	"AssignConversation":    auth.PermInboxReply,
	"SetConversationStatus": auth.PermInboxReply,
	"ConversationNotes":     auth.PermInboxRead,
	"AddNote":               auth.PermInboxReply,
	"DeleteNote":            auth.PermInboxReply,
	"CannedReplies":         auth.PermInboxReply,
	"ExpandCannedReply":     auth.PermInboxReply,
	"SearchCannedReplies":   auth.PermInboxReply,
	"SaveCannedReply":       auth.PermSettings,
	"DeleteCannedReply":     auth.PermSettings,
	"ReplyImage":            auth.PermInboxReply,
	"AutoReplyRules":        auth.PermSettings,
	"SaveAutoReplyRule":     auth.PermSettings,
	"DeleteAutoReplyRule":   auth.PermSettings,
	"BusinessHours":         auth.PermSettings,
	"SaveBusinessHours":     auth.PermSettings,
	// campaigns.go (issue 8)
	"SegmentCount":                auth.PermCustomersRead,
	"SegmentPreview":              auth.PermCustomersRead,
	"Segments":                    auth.PermDrafts,
	"SaveSegment":                 auth.PermDrafts,
	"DeleteSegment":               auth.PermDrafts,
	"Campaigns":                   auth.PermDrafts,
	"Campaign":                    auth.PermDrafts,
	"CreateCampaign":              auth.PermDrafts,
	"UpdateCampaign":              auth.PermDrafts,
	"CampaignPlan":                auth.PermDrafts,
	"CampaignPlanDraft":           auth.PermDrafts,
	"PreviewCampaignContent":      auth.PermDrafts,
	"ReturnCampaign":              auth.PermApprove,
	"RequestCampaignApproval":     auth.PermDrafts,
	"CampaignsWaitingForApproval": auth.PermApprove,
	"CampaignChannelSetup":        auth.PermDrafts,
	"ApproveCampaign":             auth.PermApprove,
	"ScheduleCampaign":            auth.PermApprove,
	"SendCampaign":                auth.PermApprove,
	"CancelCampaign":              auth.PermDrafts,
	"PauseCampaign":               auth.PermDrafts,
	"ResumeCampaign":              auth.PermApprove,
	"CampaignReport":              auth.PermDrafts,
	"CampaignInsights":            auth.PermDrafts,
	"RefreshCampaignInsights":     auth.PermDrafts,
	"CampaignDeliveries":          auth.PermDrafts,
	"ExportCampaignReport":        auth.PermExport,
	"CampaignLinkPlan":            auth.PermDrafts,
	"CampaignLinkClicks":          auth.PermDrafts,
	"GetDeliverySettings":         auth.PermSettings,
	"SaveMailSettings":            auth.PermSettings,
	"SaveSMSSettings":             auth.PermSettings,
	"SendTestEmail":               auth.PermSettings,
	"SendTestSMS":                 auth.PermSettings,
	// automations.go (issue 11)
	"Automations":            auth.PermDrafts,
	"CreateAutomation":       auth.PermDrafts,
	"UpdateAutomation":       auth.PermDrafts,
	"DeleteAutomation":       auth.PermDrafts,
	"ApproveAutomation":      auth.PermApprove,
	"ActivateAutomation":     auth.PermApprove,
	"PauseAutomation":        auth.PermDrafts,
	"PreviewAutomation":      auth.PermDrafts,
	"PreviewAutomationDraft": auth.PermDrafts,
	"AutomationStats":        auth.PermDrafts,
	// inflow routes (routes.go)
	"Routes":             auth.PermDrafts,
	"CreateRoute":        auth.PermDrafts,
	"UpdateRoute":        auth.PermDrafts,
	"ArchiveRoute":       auth.PermDrafts,
	"RouteQRCode":        auth.PermDrafts,
	"RouteAccount":       auth.PermDrafts,
	"SaveRouteQRCode":    auth.PermExport,
	"SaveRoutePoster":    auth.PermExport,
	"RouteReport":        auth.PermDrafts,
	"ExportRouteReport":  auth.PermExport,
	"Forms":              auth.PermDrafts,
	"CreateForm":         auth.PermDrafts,
	"UpdateForm":         auth.PermDrafts,
	"PublishForm":        auth.PermDrafts,
	"ArchiveForm":        auth.PermDrafts,
	"FormAnswers":        auth.PermCustomersRead,
	"ExportFormAnswers":  auth.PermExport,
	"FormSettings":       auth.PermDrafts,
	"SetFormSettings":    auth.PermSettings,
	"FormPrefillPreview": auth.PermInboxReply,
	"SendPrefilledForm":  auth.PermInboxReply,
	"SandboxNewFriend":   auth.PermSandbox,
	// consultation booking (booking.go)
	"BookingTypes":        auth.PermCustomersRead,
	"SaveBookingType":     auth.PermSettings,
	"BookingHours":        auth.PermCustomersRead,
	"SetBookingHours":     auth.PermSettings,
	"BookingClosedDays":   auth.PermCustomersRead,
	"BookingHolidays":     auth.PermCustomersRead,
	"SetBookingClosedDay": auth.PermSettings,
	"BookingSettings":     auth.PermCustomersRead,
	"SetBookingSettings":  auth.PermSettings,
	"BookingReminder":     auth.PermCustomersRead,
	"SetBookingReminder":  auth.PermSettings,
	"BookingAvailability": auth.PermCustomersRead,
	"Bookings":            auth.PermCustomersRead,
	"BookingConfirmation": auth.PermCustomersRead,
	"BookOnBehalf":        auth.PermCustomersEdit,
	"CancelBooking":       auth.PermCustomersEdit,
	"RescheduleBooking":   auth.PermCustomersEdit,
	"RecordNoShow":        auth.PermCustomersEdit,
	"ExportBookingsICS":   auth.PermExport,
	// richmenus.go (issue 11)
	"RichMenuDesigns":             auth.PermSettings,
	"RichMenuTemplates":           auth.PermSettings,
	"SaveRichMenuDesign":          auth.PermSettings,
	"DeleteRichMenuDesign":        auth.PermSettings,
	"RichMenuImage":               auth.PermSettings,
	"UploadRichMenuImage":         auth.PermSettings,
	"UsePlaceholderRichMenuImage": auth.PermSettings,
	"RichMenuAssignments":         auth.PermSettings,
	"SaveRichMenuAssignments":     auth.PermSettings,
	"PublishRichMenus":            auth.PermSettings,
	"SyncRichMenus":               auth.PermSettings,
	"RichMenuStatus":              auth.PermSettings,
	"SandboxRichMenu":             auth.PermSandbox,

	// dashboard.go (issue 20, the friends dashboard)
	"Dashboard":        auth.PermDrafts,
	"RefreshDashboard": auth.PermDrafts,
	"SandboxSetQuota":  auth.PermSandbox,
}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func startApp(t *testing.T, clk *testClock) *Client {
	t.Helper()
	kr := secretstest.Keyring(t)
	dir := filepath.Join(t.TempDir(), "data")
	secretstest.CleanupDataDir(t, kr, dir)
	opts := Options{DataDir: dir, Keyring: kr, Version: "test", AuthParams: testParams}
	if clk != nil {
		opts.Clock = clk.Now
	}
	h := New(opts)
	if err := h.Start(context.Background(), &recorder{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Stop() })
	return h.App()
}

// bound lists every bound method of the app's services.
func bound(t *testing.T, app *Client) *dispatch.Table {
	t.Helper()
	table, err := dispatch.New(app.Services()...)
	if err != nil {
		t.Fatal(err)
	}
	return table
}

// callByName invokes a bound method by name with zero arguments of its
// types, as the UI could, and returns its error.
func callByName(t *testing.T, app *Client, name string) error {
	t.Helper()
	m, ok := bound(t, app).Lookup(name)
	if !ok {
		t.Fatalf("no bound method %s", name)
	}
	_, err := m.CallZero()
	return err
}

// TestEveryMethodIsGuarded calls every bound method signed out, and as every
// role: a role without the method's permission must get errors.forbidden, a
// role with it must not, and signed out every non-public method fails.
func TestEveryMethodIsGuarded(t *testing.T) {
	app := startApp(t, nil)
	table := bound(t, app)
	var methods []string
	for _, m := range table.Methods() {
		name := m.Name
		if public[name] {
			continue
		}
		if _, ok := methodPerms[name]; !ok {
			t.Errorf("bound method %s.%s has no entry in methodPerms: give it a call(perm) guard and list it", m.Service, name)
			continue
		}
		methods = append(methods, name)
	}
	for name := range methodPerms {
		if _, ok := table.Lookup(name); !ok {
			t.Errorf("methodPerms lists %s, which no service has", name)
		}
	}

	for _, name := range methods {
		if err := callByName(t, app, name); err == nil || err.Error() != msgcode.SignInRequired {
			t.Errorf("%s signed out: %v, want %s", name, err, msgcode.SignInRequired)
		}
	}

	firstAdmin(t, app)
	passwords := map[auth.Role]string{}
	for _, r := range auth.Roles() {
		if r == auth.RoleAdmin {
			passwords[r] = testAdminPW
			continue
		}
		pw := "password of " + string(r)
		if _, err := addStaff(app, auth.NewStaff{Login: string(r), DisplayName: string(r), Role: r, Password: pw}); err != nil {
			t.Fatal(err)
		}
		passwords[r] = pw
	}
	login := func(r auth.Role) {
		t.Helper()
		l := string(r)
		if r == auth.RoleAdmin {
			l = "admin"
		}
		if _, err := (&SessionService{app}).SignIn(l, passwords[r]); err != nil {
			t.Fatalf("sign in as %s: %v", r, err)
		}
	}
	for _, r := range auth.Roles() {
		for _, name := range methods {
			login(r) // afresh: the call before may have locked or ended it
			err := callByName(t, app, name)
			forbidden := err != nil && err.Error() == msgcode.Forbidden
			if allowed := r.Allows(methodPerms[name]); allowed == forbidden {
				t.Errorf("%s as %s: err %v (allowed: %v)", name, r, err, allowed)
			}
			if err != nil && (err.Error() == msgcode.SignInRequired || err.Error() == msgcode.SessionEnded) {
				t.Errorf("%s as %s: %v", name, r, err)
			}
		}
	}
}

func TestAgencySeesMaskedInbox(t *testing.T) {
	app := startApp(t, nil)
	firstAdmin(t, app)
	cs, err := sandboxSvc(app).SandboxCustomers()
	if err != nil {
		t.Fatal(err)
	}
	const text = "口座番号は1234567です"
	if err := sandboxSvc(app).SandboxSend(cs[0].UserID, text); err != nil {
		t.Fatal(err)
	}
	if _, err := addStaff(app, auth.NewStaff{Login: "ad", DisplayName: "代理店", Role: auth.RoleAgency, Password: "agency password"}); err != nil {
		t.Fatal(err)
	}
	if _, err := (&SessionService{app}).SignIn("ad", "agency password"); err != nil {
		t.Fatal(err)
	}
	st, _ := (&SessionService{app}).AuthState()
	if !st.Masked {
		t.Error("agency state not masked")
	}
	convs, err := inboxSvc(app).Conversations()
	if err != nil || len(convs) != 1 {
		t.Fatalf("conversations: %v %v", convs, err)
	}
	c := convs[0]
	if c.DisplayName == cs[0].DisplayName || strings.Contains(c.LastPreview, "1234567") || c.LineUserID == cs[0].UserID || c.Unread != 1 {
		t.Fatalf("not masked: %+v", c)
	}
	msgs, err := inboxSvc(app).Messages(c.ID)
	if err != nil || len(msgs) == 0 {
		t.Fatal(msgs, err)
	}
	for _, m := range msgs {
		if strings.Contains(m.Body, "1234567") {
			t.Fatalf("body visible to agency: %+v", m)
		}
	}
	if _, err := inboxSvc(app).Reply(c.ID, "x"); err == nil || err.Error() != msgcode.Forbidden {
		t.Fatalf("agency reply: %v", err)
	}
	// The refused call is in the audit trail under the agency's name.
	if _, err := (&SessionService{app}).SignIn("admin", testAdminPW); err != nil {
		t.Fatal(err)
	}
	rep, err := (&AuditService{app}).AuditEntries(audit.Filter{Action: audit.ActionDenied})
	if err != nil || len(rep.Entries) != 1 || rep.Entries[0].Actor != "staff:ad" || rep.Entries[0].Detail["permission"] != string(auth.PermInboxReply) {
		t.Fatalf("denied call audit: %+v %v", rep.Entries, err)
	}
}

func TestIdleLockInFacade(t *testing.T) {
	clk := &testClock{t: time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)}
	app := startApp(t, clk)
	firstAdmin(t, app)
	if _, err := inboxSvc(app).Conversations(); err != nil {
		t.Fatal(err)
	}
	clk.Add(4 * time.Minute)
	if err := (&SessionService{app}).Heartbeat(); err != nil {
		t.Fatal(err)
	}
	clk.Add(4 * time.Minute)
	if _, err := inboxSvc(app).Conversations(); err != nil {
		t.Fatalf("input 4 min ago: %v", err)
	}
	clk.Add(2 * time.Minute)
	if _, err := inboxSvc(app).Conversations(); err == nil || err.Error() != msgcode.SessionLocked {
		t.Fatalf("after 6 min idle: %v", err)
	}
	if st, _ := (&SessionService{app}).AuthState(); !st.Locked || !st.SignedIn {
		t.Fatalf("state: %+v", st)
	}
	if _, err := (&SessionService{app}).Unlock("wrong one!!"); err == nil || err.Error() != msgcode.BadCredentials {
		t.Fatalf("wrong unlock: %v", err)
	}
	if _, err := (&SessionService{app}).Unlock(testAdminPW); err != nil {
		t.Fatal(err)
	}
	if _, err := inboxSvc(app).Conversations(); err != nil {
		t.Fatalf("after unlock: %v", err)
	}
}

func TestDeactivationEndsOtherWindow(t *testing.T) {
	app := startApp(t, nil)
	firstAdmin(t, app)
	staff, err := addStaff(app, auth.NewStaff{Login: "suzuki", DisplayName: "鈴木", Role: auth.RoleAdmin, Password: "suzuki password"})
	if err != nil {
		t.Fatal(err)
	}
	// Suzuki signs in in this window; the first administrator deactivates
	// them from another (a second auth service over the same DB).
	if _, err := (&SessionService{app}).SignIn("suzuki", "suzuki password"); err != nil {
		t.Fatal(err)
	}
	svc, eng, _ := app.authService()
	other, err := svc.SignIn(context.Background(), "admin", testAdminPW)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Deactivate(context.Background(), other.Staff().Actor(), staff.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := (&StaffService{app}).ListStaff(); err == nil || err.Error() != msgcode.SessionEnded {
		t.Fatalf("deactivated staff call: %v", err)
	}
	if st, _ := (&SessionService{app}).AuthState(); st.SignedIn {
		t.Fatal("still signed in")
	}
	entries, _ := audit.List(context.Background(), eng.DB().Reader(), audit.Filter{Action: audit.ActionStaffDeactivate})
	if len(entries) != 1 || entries[0].Target != "staff:suzuki" {
		t.Fatalf("audit: %+v", entries)
	}
}

func TestSecurityCodes(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want string
	}{
		{auth.ErrBadCredentials, msgcode.BadCredentials},
		{errors.Join(auth.ErrBadCredentials, errors.New("db")), msgcode.BadCredentials},
		{auth.ErrLockedOut, msgcode.LockedOut},
		{auth.ErrIdleLocked, msgcode.SessionLocked},
		{auth.ErrSessionEnded, msgcode.SessionEnded},
		{auth.ErrWeakPassword, msgcode.WeakPassword},
		{auth.ErrLastAdmin, msgcode.LastAdmin},
	} {
		if got := msgcode.Code(tt.err); got != tt.want {
			t.Errorf("msgcode.Code(%v) = %s, want %s", tt.err, got, tt.want)
		}
	}
}

// Media cannot be masked like text: a masked role is refused customer
// content outright (before any lookup), and the refusal is audited.
func TestAgencyCannotFetchContent(t *testing.T) {
	app := startApp(t, nil)
	firstAdmin(t, app)
	cs, err := sandboxSvc(app).SandboxCustomers()
	if err != nil {
		t.Fatal(err)
	}
	if err := sandboxSvc(app).SandboxSendImage(cs[0].UserID); err != nil {
		t.Fatal(err)
	}
	convs, err := inboxSvc(app).Conversations()
	if err != nil || len(convs) != 1 {
		t.Fatalf("conversations: %v %v", convs, err)
	}
	// The photo is fetched by the engine's background fetcher, just
	// after the webhook was stored.
	var photo int64
	for deadline := time.Now().Add(10 * time.Second); photo == 0; {
		msgs, err := inboxSvc(app).Messages(convs[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if m.Kind == "image" && m.HasContent {
				photo = m.ID
			}
		}
		if photo == 0 && time.Now().After(deadline) {
			t.Fatalf("no downloaded photo: %+v", msgs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if url, err := inboxSvc(app).MessageContent(photo); err != nil || !strings.HasPrefix(url, "data:image/png;base64,") {
		t.Fatalf("administrator: %.40q %v", url, err)
	}

	for _, r := range []auth.Role{auth.RoleAgency} {
		if !r.Masked() {
			t.Fatalf("%s is expected to be masked", r)
		}
		login := "masked-" + string(r)
		if _, err := addStaff(app, auth.NewStaff{Login: login, DisplayName: login, Role: r, Password: "masked role password"}); err != nil {
			t.Fatal(err)
		}
		if _, err := (&SessionService{app}).SignIn(login, "masked role password"); err != nil {
			t.Fatal(err)
		}
		for _, id := range []int64{photo, 0, 999999} {
			if url, err := inboxSvc(app).MessageContent(id); err == nil || err.Error() != msgcode.ContentMasked || url != "" {
				t.Fatalf("%s content of %d: %.40q %v", r, id, url, err)
			}
		}
		// Nor may it have content fetched again.
		if err := inboxSvc(app).FetchContent(photo); err == nil || err.Error() != msgcode.ContentMasked {
			t.Fatalf("%s re-fetch: %v", r, err)
		}
		if _, err := (&SessionService{app}).SignIn("admin", testAdminPW); err != nil {
			t.Fatal(err)
		}
		rep, err := (&AuditService{app}).AuditEntries(audit.Filter{Action: audit.ActionDenied, Actor: "staff:" + login})
		if err != nil || len(rep.Entries) != 4 || rep.Entries[0].Detail["masked"] != "message_content" {
			t.Fatalf("masked refusal audit: %+v %v", rep.Entries, err)
		}
	}
}
