package facade

import (
	"strings"
	"testing"
	"tsunagu/internal/msgcode"

	"tsunagu/internal/auth"
	"tsunagu/internal/inbox"
)

// The inbox through the bound object: a clerk pages, searches, notes and
// answers with a canned reply; an agency (masked) account sees counts and
// shapes but no text, and may not search.
func TestInboxWorkThroughFacade(t *testing.T) {
	app := startApp(t, nil)
	firstAdmin(t, app)
	cs, err := sandboxSvc(app).SandboxCustomers()
	if err != nil {
		t.Fatal(err)
	}
	if err := sandboxSvc(app).SandboxSend(cs[0].UserID, "住宅ローンの繰上返済について相談したいです"); err != nil {
		t.Fatal(err)
	}
	page, err := inboxSvc(app).ConversationPage(inbox.ListQuery{Search: "繰上返済"})
	if err != nil || len(page.Conversations) != 1 || !strings.Contains(page.Conversations[0].Snippet, "繰上返済") {
		t.Fatalf("search: %+v %v", page, err)
	}
	id := page.Conversations[0].ID
	// The profile (the name {氏名} takes) is fetched in the background
	// after the message is stored: let that happen first.
	if err := app.eng.Inbox().Settle(app.context()); err != nil {
		t.Fatal(err)
	}
	if _, err := inboxSvc(app).AddNote(id, "口座番号 7654321 の件"); err != nil {
		t.Fatal(err)
	}
	c, err := inboxSvc(app).SaveCannedReply(inbox.CannedReply{Title: "挨拶", Body: "{氏名}様 担当の{担当者}です。"})
	if err != nil {
		t.Fatal(err)
	}
	text, err := inboxSvc(app).ExpandCannedReply(id, c.ID)
	if err != nil || text != cs[0].DisplayName+"様 担当の支店長です。" {
		t.Fatalf("expanded %q %v", text, err)
	}
	if err := inboxSvc(app).SetConversationStatus(id, "bogus"); err == nil || err.Error() != msgcode.InvalidInput {
		t.Fatalf("bad status: %v", err)
	}
	if _, err := inboxSvc(app).ReplyImage(id, "data:image/gif;base64,R0lGODlhAQABAAAAACw="); err == nil || err.Error() != msgcode.ImageInvalid {
		t.Fatalf("gif: %v", err)
	}

	if _, err := addStaff(app, auth.NewStaff{Login: "ad", DisplayName: "代理店", Role: auth.RoleAgency, Password: "agency password"}); err != nil {
		t.Fatal(err)
	}
	if _, err := (&SessionService{app}).SignIn("ad", "agency password"); err != nil {
		t.Fatal(err)
	}
	if _, err := inboxSvc(app).ConversationPage(inbox.ListQuery{Search: "繰上返済"}); err == nil || err.Error() != msgcode.ContentMasked {
		t.Fatalf("agency search: %v", err)
	}
	page, err = inboxSvc(app).ConversationPage(inbox.ListQuery{})
	if err != nil || len(page.Conversations) != 1 || strings.Contains(page.Conversations[0].LastPreview, "繰上返済") {
		t.Fatalf("agency list: %+v %v", page, err)
	}
	notes, err := inboxSvc(app).ConversationNotes(id)
	if err != nil || len(notes) != 1 || strings.Contains(notes[0].Body, "7654321") {
		t.Fatalf("agency notes: %+v %v", notes, err)
	}
	msgs, err := inboxSvc(app).MessagePage(id, 0)
	if err != nil || len(msgs.Messages) == 0 || strings.Contains(msgs.Messages[0].Body, "繰上返済") {
		t.Fatalf("agency messages: %+v %v", msgs, err)
	}
}

// The bound services of this engineer's files, as the UI reaches them.
func inboxSvc(a *Client) *InboxService       { return &InboxService{a} }
func customerSvc(a *Client) *CustomerService { return &CustomerService{a} }
func linkingSvc(a *Client) *LinkingService   { return &LinkingService{a} }
func sandboxSvc(a *Client) *SandboxService   { return &SandboxService{a} }
