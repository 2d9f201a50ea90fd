package customer_test

import (
	"context"
	"errors"
	"testing"

	"tsunagu/internal/customer"
)

func TestFindControl(t *testing.T) {
	for _, tc := range []struct {
		s, allow string
		want     int
	}{
		{"山田 太郎", "", -1},
		{"山田\x00太郎", "", 6},
		{"a\tb", "", 1},
		{"a\tb", "\t", -1},
		{"a\nb", "\t", 1},
		{"a\x7fb", "\t\n\r", 1},
		{"a\u0085b", "\t\n\r", 1},  // C1
		{"a\u00a0b", "", -1},       // NBSP (C2 A0) is not a control
		{"é", "", -1},              // C3 A9
		{"\x1b[31mred", "\t\n", 0}, // ESC
	} {
		if got := customer.FindControl(tc.s, tc.allow); got != tc.want {
			t.Errorf("FindControl(%q, %q) = %d, want %d", tc.s, tc.allow, got, tc.want)
		}
	}
}

// TestTypedTextRefusesControls: what staff type into the customer screens
// (tags, attribute definitions and values, products) is refused with a
// control character in it, as the import refuses it; tabs and line breaks
// are folded into spaces.
func TestTypedTextRefusesControls(t *testing.T) {
	ctx := context.Background()
	db, svc := setup(t)
	cid := id(t, svc, "A001")
	if err := svc.DefineAttribute(ctx, "staff:t", customer.AttributeDef{Key: "memo", Label: "メモ", Type: "text"}); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"tag":        svc.AddTag(ctx, "staff:t", cid, "VIP\x00"),
		"create tag": svc.CreateTag(ctx, "staff:t", "年金\x07"),
		"attribute":  svc.SetAttribute(ctx, "staff:t", cid, "memo", "メモ\x00"),
		"definition": svc.DefineAttribute(ctx, "staff:t", customer.AttributeDef{Key: "x", Label: "ラベル\x1b", Type: "text"}),
		"choice":     svc.DefineAttribute(ctx, "staff:t", customer.AttributeDef{Key: "y", Label: "区分", Type: "choice", Choices: []string{"A", "B\u0085"}}),
		"product": func() error {
			_, err := svc.AddProduct(ctx, "staff:t", cid, customer.Product{Type: "定期預金", AccountNo: "123\x00"})
			return err
		}(),
	} {
		if !errors.Is(err, customer.ErrControl) || !errors.Is(err, customer.ErrInvalid) {
			t.Errorf("%s: %v, want ErrControl", name, err)
		}
	}
	// Nothing of it was stored or audited.
	card, err := svc.Card(ctx, cid)
	if err != nil || len(card.Tags) != 0 || len(card.Attributes) != 0 || len(card.Products) != 0 {
		t.Errorf("card after refused edits: %+v %v", card, err)
	}
	assertAudit(t, db, customer.ActionTagAdd, 0)
	// Tabs and line breaks are whitespace.
	if err := svc.AddTag(ctx, "staff:t", cid, "年金\t受給"); err != nil {
		t.Fatal(err)
	}
	if err := svc.SetAttribute(ctx, "staff:t", cid, "memo", "一行目\r\n二行目"); err != nil {
		t.Fatal(err)
	}
	card, _ = svc.Card(ctx, cid)
	if len(card.Tags) != 1 || card.Tags[0] != "年金 受給" || card.Attributes[0].Value != "一行目 二行目" {
		t.Errorf("card %+v", card)
	}
}

func TestNormalizeCustomerNo(t *testing.T) {
	for in, want := range map[string]string{"ＡＢ１": "AB1", "ａｂ１": "ab1", " AB1 ": "AB1", "①２３": "123", "ab1": "ab1"} {
		if got := customer.NormalizeCustomerNo(in); got != want {
			t.Errorf("NormalizeCustomerNo(%q) = %q, want %q", in, got, want)
		}
	}
}
