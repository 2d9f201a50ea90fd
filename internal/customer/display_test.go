package customer_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tsunagu/internal/auth"
	"tsunagu/internal/customer"
	"tsunagu/internal/importer"
	"tsunagu/internal/store/storetest"
)

// Phones are shown by the numbering plan (042-383-1791 is 府中, not
// 04-2383-1791) in the display fields only: the stored values, which
// linking and other code compare, stay digits. A masked role gets the
// masked value in the display field too.
func TestPhoneDisplayFields(t *testing.T) {
	ctx := context.Background()
	db := storetest.New(t)
	csv := "顧客番号,氏名,電話番号,携帯電話,メールアドレス\n" +
		"F001,府中 一郎,042-383-1791,090-1234-5678,ichiro@example.jp\n"
	path := filepath.Join(t.TempDir(), "c.csv")
	if err := os.WriteFile(path, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := importer.Import(ctx, db, path, importer.Options{}); err != nil {
		t.Fatal(err)
	}
	svc := customer.New(db, func() time.Time { return time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC) })
	op := auth.Staff{ID: 1, Login: "op", Role: auth.RoleOperator}
	page, err := svc.As(op).List(ctx, customer.Filter{})
	if err != nil || len(page.Customers) != 1 {
		t.Fatalf("list: %+v %v", page, err)
	}
	c := page.Customers[0]
	if c.Phone != "09012345678" || c.PhoneDisplay != "090-1234-5678" {
		t.Errorf("list phone %q shown as %q", c.Phone, c.PhoneDisplay)
	}
	card, err := svc.As(op).View(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][2]string{}
	for _, p := range card.ContactPoints {
		got[p.Kind] = [2]string{p.Value, p.Display}
	}
	want := map[string][2]string{
		"phone":  {"0423831791", "042-383-1791"},
		"mobile": {"09012345678", "090-1234-5678"},
		"email":  {"ichiro@example.jp", "ichiro@example.jp"},
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: value/display %q, want %q", k, got[k], w)
		}
	}

	agency := auth.Staff{ID: 2, Login: "ag", Role: auth.RoleAgency}
	mcard, err := svc.As(agency).View(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(mcard.PhoneDisplay, "1234") {
		t.Errorf("masked list phone shown: %q", mcard.PhoneDisplay)
	}
	for _, p := range mcard.ContactPoints {
		if p.Display != p.Value || strings.Contains(p.Display, "383") || strings.Contains(p.Display, "ichiro") {
			t.Errorf("masked contact point shown: %+v", p)
		}
	}
}
