package facade

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"tsunagu/internal/msgcode"

	"tsunagu/internal/customer"
	"tsunagu/internal/fielderr"
	"tsunagu/internal/importer"
	"tsunagu/internal/secrets/secretstest"
)

// TestCustomerCardEditsAndAdmin drives the contracts import, the attribute
// and tag administration and the card's edits through the facade, with the
// real engine and encrypted DB.
func TestCustomerCardEditsAndAdmin(t *testing.T) {
	files := t.TempDir()
	custs := filepath.Join(files, "顧客.csv")
	os.WriteFile(custs, []byte("顧客番号,氏名,店番\nK1,山田 太郎,001\nK2,佐藤 花子,002\n"), 0o600)
	contracts := filepath.Join(files, "契約.csv")
	os.WriteFile(contracts, []byte("顧客番号,商品種別,口座番号,開設日,満期日,状態\r\nK1,定期預金,1234567,R5.4.1,R10.4.1,有効\r\nK3,普通預金,7654321,,,\r\n"), 0o600)

	kr := secretstest.Keyring(t)
	dir := filepath.Join(t.TempDir(), "data")
	secretstest.CleanupDataDir(t, kr, dir)
	h := New(Options{DataDir: dir, Keyring: kr, AuthParams: testParams, FilePicker: pickerStub{open: custs, saveDir: files}})
	if err := h.Start(context.Background(), &events{}); err != nil {
		t.Fatal(err)
	}
	defer h.Stop()
	app := h.App()
	firstAdmin(t, app)

	if _, err := customerSvc(app).RunImport(ImportRequest{Path: custs}); err != nil {
		t.Fatal(err)
	}
	fields, err := customerSvc(app).ImportFields("contracts")
	if err != nil || !strings.Contains(strings.Join(fields, ","), importer.FieldAccountNo) {
		t.Errorf("contract fields %v %v", fields, err)
	}
	if _, err := customerSvc(app).ImportFields("loans"); err == nil || err.Error() != msgcode.ImportMapping {
		t.Errorf("unknown kind: %v", err)
	}
	pv, err := customerSvc(app).ImportPreview(ImportRequest{Kind: "contracts", Path: contracts})
	if err != nil || pv.Kind != "contracts" || pv.Mapping["口座番号"] != importer.FieldAccountNo {
		t.Fatalf("contracts preview %+v %v", pv, err)
	}
	res, err := customerSvc(app).RunImport(ImportRequest{Kind: "contracts", Path: contracts})
	if err != nil || res.New != 1 || res.Rejected != 1 || res.Issues[0].Reason != importer.ReasonUnknownCustomer {
		t.Fatalf("contracts import %+v %v", res, err)
	}
	hist, _ := customerSvc(app).ImportHistory()
	if len(hist) != 2 || hist[0].Kind != "contracts" {
		t.Errorf("history %+v", hist)
	}

	if err := customerSvc(app).DefineAttribute(customer.AttributeDef{Key: "nisa", Label: "NISA口座", Type: "boolean"}); err != nil {
		t.Fatal(err)
	}
	// A taken key is the invalid-value code naming the key field (issue 19 item 6).
	err = customerSvc(app).DefineAttribute(customer.AttributeDef{Key: "nisa", Label: "x", Type: "text"})
	var me *msgcode.Error
	if !errors.As(err, &me) || me.Code != msgcode.InvalidValue || len(me.Fields) != 1 || me.Fields[0].Field != "key" || me.Fields[0].Code != fielderr.Taken {
		t.Errorf("duplicate attribute: %v", err)
	}
	if err := customerSvc(app).CreateTag("年金受取"); err != nil {
		t.Fatal(err)
	}
	if fields, _ := customerSvc(app).ImportFields(""); !strings.Contains(strings.Join(fields, ","), "tags,attr:nisa") {
		t.Errorf("customer fields %v", fields)
	}
	page, _ := customerSvc(app).Customers(customer.Filter{Query: "K1"})
	k1 := page.Customers[0].ID
	// v is the customer's version now, as a freshly loaded card has it.
	v := func() int64 {
		p, err := customerSvc(app).Customers(customer.Filter{Query: "K1"})
		if err != nil {
			t.Fatal(err)
		}
		return p.Customers[0].Version
	}
	if err := customerSvc(app).SetCustomerConsent(k1, v(), customer.ChannelEmail, true); err != nil {
		t.Fatal(err)
	}
	if err := customerSvc(app).SetCustomerConsent(k1, v(), "fax", true); err == nil || err.Error() != msgcode.InvalidValue {
		t.Errorf("unknown channel: %v", err)
	}
	if err := customerSvc(app).AddCustomerTag(k1, v(), "年金受取"); err != nil {
		t.Fatal(err)
	}
	if err := customerSvc(app).SetCustomerAttribute(k1, v(), "nisa", "はい"); err != nil {
		t.Fatal(err)
	}
	if err := customerSvc(app).SetCustomerAttribute(k1, v(), "nisa", "たぶん"); err == nil || err.Error() != msgcode.InvalidValue {
		t.Errorf("bad boolean: %v", err)
	}
	card, err := customerSvc(app).Customer(k1)
	if err != nil {
		t.Fatal(err)
	}
	if len(card.Consents) != 1 || card.Consents[0].Source != "staff:admin" || !card.Consents[0].Granted {
		t.Errorf("consents %+v", card.Consents)
	}
	if strings.Join(card.Tags, ",") != "年金受取" || len(card.Attributes) != 1 || card.Attributes[0].Value != "true" {
		t.Errorf("tags %v attributes %+v", card.Tags, card.Attributes)
	}
	if len(card.Products) != 1 || card.Products[0].AccountNo != "1234567" || card.Products[0].MaturesOn != "2028-04-01" {
		t.Errorf("products %+v", card.Products)
	}
	for _, f := range []customer.Filter{{Consent: "email"}, {Tag: "年金受取"}, {LineLinked: "no", Branch: "001"}} {
		if p, err := customerSvc(app).Customers(f); err != nil || p.Total != 1 || p.Customers[0].ID != k1 {
			t.Errorf("filter %+v: %+v %v", f, p, err)
		}
	}
	if tags, _ := customerSvc(app).TagList(); len(tags) != 1 || tags[0].Customers != 1 {
		t.Errorf("tag list %+v", tags)
	}
	if err := customerSvc(app).RemoveCustomerTag(k1, v(), "年金受取"); err != nil {
		t.Fatal(err)
	}
	if err := customerSvc(app).DeleteTag("年金受取"); err != nil {
		t.Fatal(err)
	}
	if err := customerSvc(app).DeleteAttribute("nisa"); err != nil {
		t.Fatal(err)
	}
	if defs, _ := customerSvc(app).AttributeDefs(); len(defs) != 0 {
		t.Errorf("defs after delete %+v", defs)
	}
	var n int
	h.App().eng.DB().Reader().QueryRow(`SELECT count(*) FROM audit_log WHERE action IN ('customer.consent','customer.tag_add','customer.attribute_set',
		'customer.attribute_define','customer.tag_create','customer.tag_remove','customer.tag_delete','customer.attribute_delete')`).Scan(&n)
	if n != 8 {
		t.Errorf("%d audit entries for the edits, want 8", n)
	}
}
