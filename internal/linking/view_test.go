package linking_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"tsunagu/internal/auth"
	"tsunagu/internal/customer"
	"tsunagu/internal/linking"
	"tsunagu/internal/mask"
)

// What staff see of a link beside a conversation and on a card: in full for
// a clerk, masked for the agency; the card beside a conversation is an
// audited view either way. Unlinking names the conversation to refresh.
func TestLinkViews(t *testing.T) {
	e := newEnv(t, &notifier{})
	ctx := context.Background()
	c1 := e.customer("4001", "山田 花子", "")
	u := e.friend("LINEの花子")
	e.send(u, "こんにちは")
	conv := e.conversation(u)
	clerk := auth.Staff{ID: 1, Login: "tanaka", Role: auth.RoleOperator}
	agency := auth.Staff{ID: 2, Login: "ag", Role: auth.RoleAgency}

	before, err := e.svc.ConversationLink(ctx, clerk, conv)
	if err != nil || before.Linked || before.Card != nil || before.DisplayName != "LINEの花子" || before.ConversationID != conv {
		t.Fatalf("unlinked: %+v %v", before, err)
	}
	if _, err := e.svc.ConversationLink(ctx, clerk, 9999); !errors.Is(err, linking.ErrNotFound) {
		t.Errorf("missing conversation: %v", err)
	}
	found, err := e.svc.SearchCustomers(ctx, "4001")
	if err != nil || len(found) != 1 || found[0].ID != c1 {
		t.Fatalf("search: %+v %v", found, err)
	}
	if none, err := e.svc.SearchCustomers(ctx, ""); err != nil || none == nil || len(none) != 0 {
		t.Errorf("empty search: %#v %v", none, err)
	}
	if err := e.svc.LinkConversation(ctx, staff, conv, c1); err != nil {
		t.Fatal(err)
	}
	views := len(e.audits(customer.ActionView))

	got, err := e.svc.ConversationLink(ctx, clerk, conv)
	if err != nil || !got.Linked || got.Card == nil || got.Card.Name != "山田 花子" || got.Link.LineUserID != u || got.Link.Method != "manual" {
		t.Fatalf("clerk: %+v %v", got, err)
	}
	masked, err := e.svc.ConversationLink(ctx, agency, conv)
	if err != nil || !masked.Linked || masked.Card == nil || masked.Card.Name != mask.Placeholder || masked.Card.CustomerNo != "4001" ||
		masked.DisplayName != mask.Placeholder || masked.Link.LineUserID != mask.Placeholder || masked.Card.Line == nil || masked.Card.Line.LineUserID != mask.Placeholder {
		t.Fatalf("agency: %+v %v", masked, err)
	}
	if v := e.audits(customer.ActionView); len(v) != views+2 || v[len(v)-2].Actor != "staff:tanaka" || v[len(v)-1].Actor != "staff:ag" {
		t.Errorf("card views audited: %+v", v)
	}

	// On the card: the email destination is offered to a clerk, nothing of
	// it to the agency.
	c2 := e.customer("4002", "佐藤 次郎", "")
	if err := e.db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO contact_points (customer_id, kind, value, source, created_at) VALUES (?, 'email', 'jiro@example.jp', 'import', 0)`, c2)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	cl, err := e.svc.CustomerLink(ctx, clerk, c2)
	if err != nil || cl.Link != nil || len(cl.Destinations[linking.DeliveryEmail]) != 1 || cl.Destinations[linking.DeliveryEmail][0] != "jiro@example.jp" {
		t.Fatalf("clerk card link: %+v %v", cl, err)
	}
	if al, err := e.svc.CustomerLink(ctx, agency, c2); err != nil || len(al.Destinations) != 0 {
		t.Fatalf("agency card link: %+v %v", al, err)
	}
	linked, err := e.svc.CustomerLink(ctx, agency, c1)
	if err != nil || linked.Link == nil || linked.Link.LineUserID != mask.Placeholder || linked.LineDisplayName != mask.Placeholder || linked.FollowState != "following" {
		t.Fatalf("agency linked card: %+v %v", linked, err)
	}
	if _, err := e.svc.CustomerLink(ctx, clerk, 9999); !errors.Is(err, customer.ErrNotFound) {
		t.Errorf("missing customer: %v", err)
	}

	if _, err := e.svc.UnlinkCustomer(ctx, staff, c1, ""); !errors.Is(err, linking.ErrReasonRequired) {
		t.Fatalf("unlink without reason: %v", err)
	}
	if id, err := e.svc.UnlinkCustomer(ctx, staff, c1, "取り違え"); err != nil || id != conv {
		t.Fatalf("unlink: %d %v", id, err)
	}
	if _, err := e.svc.UnlinkCustomer(ctx, staff, c1, "取り違え"); !errors.Is(err, linking.ErrNotLinked) {
		t.Fatalf("unlink again: %v", err)
	}
}
