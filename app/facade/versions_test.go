package facade

import (
	"context"
	"database/sql"
	"testing"

	"tsunagu/internal/auth"
	"tsunagu/internal/campaign"
	"tsunagu/internal/customer"
	"tsunagu/internal/msgcode"
	"tsunagu/internal/segment"
)

// Two people on one customer and one campaign from two clients (the window
// and a seat, issue 18): an edit or an approval from a view loaded before
// the other's change is refused with its stale code and writes nothing; the
// same change from a freshly loaded view goes through.
func TestStaleEditsFromTwoClients(t *testing.T) {
	window := startApp(t, nil)
	firstAdmin(t, window)
	for _, n := range []auth.NewStaff{
		{Login: "madoguchi", DisplayName: "窓口 花子", Role: auth.RoleOperator, Password: "operator password 1"},
		{Login: "ap", DisplayName: "承認者", Role: auth.RoleApprover, Password: "approver password 1"},
	} {
		if _, err := addStaff(window, n); err != nil {
			t.Fatal(err)
		}
	}
	seat := window.NewClient("窓口2")
	if _, err := (&SessionService{seat}).SignIn("madoguchi", "operator password 1"); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var id int64
	if err := window.eng.DB().Write(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO customers (customer_no, name, branch, created_at, updated_at) VALUES ('8001', '山田 花子', '本店', 0, 0) RETURNING id`).Scan(&id)
	}); err != nil {
		t.Fatal(err)
	}
	w, s := &CustomerService{window}, &CustomerService{seat}
	if err := w.DefineAttribute(customer.AttributeDef{Key: "memo", Label: "メモ", Type: "text"}); err != nil {
		t.Fatal(err)
	}
	edits := func() (n int) {
		t.Helper()
		if err := window.eng.DB().Reader().QueryRow(`SELECT count(*) FROM audit_log WHERE action = ?`, customer.ActionAttributeSet).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// Both open the card.
	wCard, err := w.Customer(id)
	if err != nil {
		t.Fatal(err)
	}
	sCard, err := s.Customer(id)
	if err != nil || sCard.Version != wCard.Version || sCard.Version < 1 {
		t.Fatalf("cards at versions %d and %d: %v", wCard.Version, sCard.Version, err)
	}

	// The window saves first; the seat's save from its older card is
	// refused, and neither its value nor an audit entry is written.
	if err := w.SetCustomerAttribute(id, wCard.Version, "memo", "窓口で住所変更の相談"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetCustomerAttribute(id, sCard.Version, "memo", "年金の受取口座を変更したい"); msgcode.Code(err) != msgcode.CustomerStale {
		t.Fatalf("stale save from the seat: %v", err)
	}
	for name, stale := range map[string]func() error{
		"consent":    func() error { return s.SetCustomerConsent(id, sCard.Version, customer.ChannelEmail, true) },
		"tag add":    func() error { return s.AddCustomerTag(id, sCard.Version, "年金") },
		"tag remove": func() error { return s.RemoveCustomerTag(id, sCard.Version, "年金") },
	} {
		if err := stale(); msgcode.Code(err) != msgcode.CustomerStale {
			t.Errorf("stale %s from the seat: %v", name, err)
		}
	}
	if err := s.SetCustomerAttribute(id, 0, "memo", "x"); msgcode.Code(err) != msgcode.InvalidValue {
		t.Errorf("a save without a version: %v", err)
	}
	if n := edits(); n != 1 {
		t.Errorf("%d attribute entries after one accepted save, want 1", n)
	}

	// The seat loads the latest card: the window's value, who changed it,
	// and a new version; its save from there goes through.
	fresh, err := s.Customer(id)
	if err != nil {
		t.Fatal(err)
	}
	if fresh.Version <= sCard.Version || len(fresh.Attributes) != 1 || fresh.Attributes[0].Value != "窓口で住所変更の相談" ||
		fresh.ChangedBy != "staff:admin" || fresh.ChangedAt == 0 || len(fresh.Consents) != 0 || len(fresh.Tags) != 0 {
		t.Fatalf("fresh card: version %d (was %d) attributes %+v changed by %q at %d consents %+v tags %v",
			fresh.Version, sCard.Version, fresh.Attributes, fresh.ChangedBy, fresh.ChangedAt, fresh.Consents, fresh.Tags)
	}
	if err := s.SetCustomerAttribute(id, fresh.Version, "memo", "年金の受取口座を変更したい"); err != nil {
		t.Fatalf("fresh save from the seat: %v", err)
	}
	if after, _ := w.Customer(id); after.Attributes[0].Value != "年金の受取口座を変更したい" || after.ChangedBy != "staff:madoguchi" {
		t.Errorf("after the seat's save: %+v by %q", after.Attributes, after.ChangedBy)
	}

	// Maker-checker from two clients: the approver on the seat opened the
	// campaign, then its author changed it at the window; approving what
	// the approver saw is refused, approving the new version is not.
	if _, err := (&SessionService{seat}).SignIn("ap", "approver password 1"); err != nil {
		t.Fatal(err)
	}
	if _, err := (&SessionService{window}).SignIn("madoguchi", "operator password 1"); err != nil {
		t.Fatal(err)
	}
	wc, sc := &CampaignService{window}, &CampaignService{seat}
	rules := segment.Node{Op: "and", Children: []segment.Node{{Cond: &segment.Condition{Kind: segment.KindField, Field: "branch", Cmp: "eq", Value: "本店"}}}}
	d := campaign.Draft{Name: "お知らせ", Rules: rules, Channels: []string{campaign.ChannelEmail},
		Content: campaign.Content{Email: campaign.Email{Subject: "お知らせ", Text: "{氏名} 様"}}}
	c, err := wc.CreateCampaign(d)
	if err != nil {
		t.Fatal(err)
	}
	seen, err := sc.Campaign(c.ID)
	if err != nil {
		t.Fatal(err)
	}
	d.Content.Email.Text = "{氏名} 様 金利が変わります"
	if _, err := wc.UpdateCampaign(c.ID, c.Version, d); err != nil {
		t.Fatal(err)
	}
	if _, err := sc.ApproveCampaign(seen.ID, seen.Version); msgcode.Code(err) != msgcode.CampaignStale {
		t.Fatalf("approval of what the approver no longer sees: %v", err)
	}
	now, err := sc.Campaign(c.ID)
	if err != nil || now.Status != campaign.StatusDraft || now.ApprovedBy != "" {
		t.Fatalf("after the refused approval: %+v %v", now, err)
	}
	if ok, err := sc.ApproveCampaign(now.ID, now.Version); err != nil || ok.Status != campaign.StatusApproved {
		t.Fatalf("approval of the current version: %+v %v", ok, err)
	}
}
