package customer_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"tsunagu/internal/audit"
	"tsunagu/internal/auth"
	"tsunagu/internal/customer"
	"tsunagu/internal/mask"
)

// A masked role (the agency) sees every customer and card with the personal
// values hidden, the number, branch and shape kept; other roles see them in
// full. Either way a card view is audited under the staff member.
func TestViewerMasksForMaskedRoles(t *testing.T) {
	ctx := context.Background()
	db, svc := setup(t)
	a1 := id(t, svc, "A001")
	if err := db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO line_users (user_id, display_name, follow_state, created_at) VALUES ('U1', 'LINE 太郎', 'following', 0)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	const admin = "staff:admin"
	if err := svc.LinkLine(ctx, admin, a1, "U1", "manual", admin); err != nil {
		t.Fatal(err)
	}
	if err := svc.DefineAttribute(ctx, admin, customer.AttributeDef{Key: "income", Label: "年収帯", Type: "text"}); err != nil {
		t.Fatal(err)
	}
	if err := svc.SetAttribute(ctx, admin, a1, "income", "1200万"); err != nil {
		t.Fatal(err)
	}
	agency := auth.Staff{ID: 7, Login: "ag", Role: auth.RoleAgency}
	operator := auth.Staff{ID: 8, Login: "op", Role: auth.RoleOperator}

	card, err := svc.As(agency).View(ctx, a1)
	if err != nil {
		t.Fatal(err)
	}
	if card.CustomerNo != "A001" || card.Branch != "001" || card.Name != mask.Placeholder || card.NameKana != mask.Placeholder || card.BirthDate != "" {
		t.Errorf("masked customer: %+v", card.Customer)
	}
	if len(card.ContactPoints) == 0 {
		t.Fatal("no contact points to check")
	}
	for _, p := range card.ContactPoints {
		if strings.Contains(p.Value, "1111-2222") || strings.Contains(p.Value, "taro@") {
			t.Errorf("contact point visible: %+v", p)
		}
	}
	if card.Line == nil || card.Line.LineUserID != mask.Placeholder || card.Line.DisplayName != mask.Placeholder || card.Line.FollowState != "following" {
		t.Errorf("LINE link: %+v", card.Line)
	}
	if len(card.Attributes) != 1 || card.Attributes[0].Value != mask.Placeholder || card.Attributes[0].Key != "income" {
		t.Errorf("attributes: %+v", card.Attributes)
	}
	got, err := audit.List(ctx, db.Reader(), audit.Filter{Action: customer.ActionView})
	if err != nil || len(got) != 1 || got[0].Actor != "staff:ag" || got[0].Target != customer.Target(a1) {
		t.Fatalf("agency view audit: %+v %v", got, err)
	}

	full, err := svc.As(operator).View(ctx, a1)
	if err != nil || full.Name != "山田 太郎" || full.Line == nil || full.Line.LineUserID != "U1" || full.Attributes[0].Value != "1200万" {
		t.Fatalf("operator card: %+v %v", full, err)
	}
	if got, _ := audit.List(ctx, db.Reader(), audit.Filter{Action: customer.ActionView}); len(got) != 2 || got[0].Actor != "staff:op" {
		t.Errorf("operator view audit: %+v", got)
	}

	page, err := svc.As(agency).List(ctx, customer.Filter{Query: "山田"})
	if err != nil || page.Total != 2 || len(page.Customers) != 2 {
		t.Fatalf("agency list: %+v %v", page, err)
	}
	for _, c := range page.Customers {
		if c.Name != mask.Placeholder || strings.Contains(c.Phone, "3333") || strings.Contains(c.Email, "taro") || c.CustomerNo == "" {
			t.Errorf("agency list row: %+v", c)
		}
	}
	if page, _ := svc.As(operator).List(ctx, customer.Filter{Query: "A002"}); len(page.Customers) != 1 || page.Customers[0].Name != "山田 花子" {
		t.Errorf("operator list: %+v", page)
	}
}

// Masking returns a copy: the card it was made from keeps its values.
func TestCardMaskedIsACopy(t *testing.T) {
	c := customer.Card{Customer: customer.Customer{Name: "山田"}, ContactPoints: []customer.ContactPoint{{Kind: "email", Value: "a@b.jp"}},
		Line: &customer.LineLink{LineUserID: "U1"}, Attributes: []customer.Attribute{{Key: "k", Value: "v"}},
		Products: []customer.Product{{ProductCode: "TEIKI1", AccountNo: "1234567"}}}
	m := c.Masked()
	if m.ContactPoints[0].Value != mask.Email("a@b.jp") || m.Line.LineUserID != mask.Placeholder ||
		m.Products[0].AccountNo != "*****67" || m.Products[0].ProductCode != "TEIKI1" {
		t.Errorf("masked: %+v", m)
	}
	if c.Name != "山田" || c.ContactPoints[0].Value != "a@b.jp" || c.Line.LineUserID != "U1" || c.Attributes[0].Value != "v" || c.Products[0].AccountNo != "1234567" {
		t.Errorf("original changed: %+v", c)
	}
}
