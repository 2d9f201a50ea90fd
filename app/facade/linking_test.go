package facade

import (
	"context"
	"database/sql"
	"testing"
	"tsunagu/internal/msgcode"

	"tsunagu/internal/auth"
	"tsunagu/internal/linking"
)

// TestLinkingThroughFacade: staff find a customer and link a sandbox
// conversation to them; the one-to-one rule and the required reason come
// back as message codes; the agency role sees the card masked.
func TestLinkingThroughFacade(t *testing.T) {
	app := startApp(t, nil)
	firstAdmin(t, app)
	ctx := context.Background()
	var custID int64
	if err := app.eng.DB().Write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO customers (customer_no, name, name_kana, branch, created_at, updated_at) VALUES ('8001', '山田 花子', 'ヤマダ ハナコ', '001', 0, 0)`)
		if err != nil {
			return err
		}
		custID, err = res.LastInsertId()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	cs, err := sandboxSvc(app).SandboxCustomers()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs[:2] {
		if err := sandboxSvc(app).SandboxSend(c.UserID, "こんにちは"); err != nil {
			t.Fatal(err)
		}
	}
	// The profiles (the names compared below) are fetched in the
	// background after the messages are stored: let that happen first.
	if err := app.eng.Inbox().Settle(app.context()); err != nil {
		t.Fatal(err)
	}
	convs, err := inboxSvc(app).Conversations()
	if err != nil || len(convs) != 2 {
		t.Fatalf("conversations: %+v %v", convs, err)
	}
	conv, other := convs[0], convs[1]

	before, err := linkingSvc(app).ConversationCustomer(conv.ID)
	if err != nil || before.Linked || before.DisplayName != conv.DisplayName {
		t.Fatalf("before: %+v %v", before, err)
	}
	found, err := linkingSvc(app).LinkSearchCustomers("ﾔﾏﾀﾞ")
	if err != nil || len(found) != 1 || found[0].ID != custID {
		t.Fatalf("search: %+v %v", found, err)
	}
	if err := linkingSvc(app).LinkConversation(conv.ID, custID, linking.ConsentNone); err != nil {
		t.Fatal(err)
	}
	if err := linkingSvc(app).LinkConversation(other.ID, custID, linking.ConsentNone); err == nil || err.Error() != msgcode.LinkCustomerTaken {
		t.Fatalf("second user for a customer: %v", err)
	}
	if _, err := linkingSvc(app).IssueLinkCode(linking.IssueRequest{CustomerID: custID, Delivery: "letter"}); err == nil || err.Error() != msgcode.LinkCustomerTaken {
		t.Fatalf("code for a linked customer: %v", err)
	}
	if _, err := linkingSvc(app).IssueLinkCode(linking.IssueRequest{CustomerID: custID, Delivery: "email", Destination: "x@example.jp"}); err == nil || err.Error() != msgcode.LinkCustomerTaken {
		t.Fatalf("email code: %v", err)
	}
	got, err := linkingSvc(app).ConversationCustomer(conv.ID)
	if err != nil || !got.Linked || got.Card == nil || got.Card.Name != "山田 花子" || got.Link.Method != "manual" {
		t.Fatalf("after: %+v %v", got, err)
	}
	if err := linkingSvc(app).UnlinkCustomer(custID, " "); err == nil || err.Error() != msgcode.LinkReasonRequired {
		t.Fatalf("unlink without reason: %v", err)
	}
	set, err := linkingSvc(app).LinkingSettings()
	if err != nil || set.CodeValidityDays != linking.DefaultCodeDays || set.CanEmail {
		t.Fatalf("settings: %+v %v", set, err)
	}

	if _, err := addStaff(app, auth.NewStaff{Login: "ag", DisplayName: "代理店", Role: auth.RoleAgency, Password: "agency password"}); err != nil {
		t.Fatal(err)
	}
	if _, err := (&SessionService{app}).SignIn("ag", "agency password"); err != nil {
		t.Fatal(err)
	}
	masked, err := linkingSvc(app).ConversationCustomer(conv.ID)
	if err != nil || masked.Card == nil || masked.Card.Name == "山田 花子" || masked.Card.NameKana == "ヤマダ ハナコ" ||
		masked.DisplayName == conv.DisplayName || masked.Link.LineUserID == cs[0].UserID || masked.Card.CustomerNo != "8001" {
		t.Fatalf("agency sees: %+v %v", masked, err)
	}
	if err := linkingSvc(app).LinkConversation(other.ID, custID, linking.ConsentNone); err == nil || err.Error() != msgcode.Forbidden {
		t.Fatalf("agency link: %v", err)
	}
}
