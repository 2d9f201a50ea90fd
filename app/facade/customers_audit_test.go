package facade

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"tsunagu/internal/msgcode"

	"tsunagu/internal/audit"
	"tsunagu/internal/customer"
	"tsunagu/internal/export"
	"tsunagu/internal/importer"
	"tsunagu/internal/secrets/secretstest"
)

// TestCustomerFeatureAudited: through the bound methods, a card view, an
// import, a dry run and an export are each on the audit trail under the
// signed-in staff member, with no customer data; EraseCustomer deletes the
// customer and their LINE conversation in one audited transaction, and
// EraseConversation unlinks the LINE user from their customer.
func TestCustomerFeatureAudited(t *testing.T) {
	files := t.TempDir()
	csvPath := filepath.Join(files, "顧客.csv")
	os.WriteFile(csvPath, []byte("顧客番号,氏名,携帯電話,メールアドレス\n"+
		"E001,消去 花子,090-8765-4321,hanako@example.jp\n"+
		"K001,残存 太郎,090-1111-2222,taro@example.jp\n"+
		"L001,連携 次郎,090-3333-4444,jiro@example.jp\n"), 0o600)
	kr := secretstest.Keyring(t)
	dir := filepath.Join(t.TempDir(), "data")
	secretstest.CleanupDataDir(t, kr, dir)
	h := New(Options{DataDir: dir, Keyring: kr, AuthParams: testParams, FilePicker: pickerStub{open: csvPath, saveDir: files}})
	if err := h.Start(context.Background(), &events{}); err != nil {
		t.Fatal(err)
	}
	defer h.Stop()
	app := h.App()
	firstAdmin(t, app)
	eng, err := app.running()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db := eng.DB()
	last := func(action string) audit.Entry {
		t.Helper()
		got, err := audit.List(ctx, db.Reader(), audit.Filter{Action: action})
		if err != nil || len(got) == 0 {
			t.Fatalf("no %s entry: %v", action, err)
		}
		return got[0]
	}

	if _, err := customerSvc(app).RunImport(ImportRequest{Path: csvPath, DryRun: true, Profile: "勘定系"}); err != nil {
		t.Fatal(err)
	}
	if e := last(importer.ActionImportDryRun); e.Actor != "staff:admin" || e.Detail["new"] != "3" || e.Detail["profile"] != "勘定系" {
		t.Errorf("dry run entry %+v", e)
	}
	res, err := customerSvc(app).RunImport(ImportRequest{Path: csvPath})
	if err != nil || res.New != 3 {
		t.Fatalf("import: %+v %v", res, err)
	}
	if e := last(importer.ActionImport); e.Actor != "staff:admin" || e.Detail["new"] != "3" || e.Detail["file"] != "顧客.csv" || e.Detail["sha256"] != res.SHA256 {
		t.Errorf("import entry %+v", e)
	}

	page, err := customerSvc(app).Customers(customer.Filter{})
	if err != nil || page.Total != 3 {
		t.Fatalf("list: %+v %v", page, err)
	}
	ids := map[string]int64{}
	for _, c := range page.Customers {
		ids[c.CustomerNo] = c.ID
	}
	if _, err := customerSvc(app).Customer(ids["K001"]); err != nil {
		t.Fatal(err)
	}
	if e := last(customer.ActionView); e.Actor != "staff:admin" || e.Target != customer.Target(ids["K001"]) || e.Detail["customerNo"] != "K001" {
		t.Errorf("view entry %+v", e)
	}

	exp, err := customerSvc(app).ExportCustomers(export.SJIS)
	if err != nil || exp.Rows != 3 {
		t.Fatalf("export: %+v %v", exp, err)
	}
	if e := last(export.ActionExport); e.Actor != "staff:admin" || e.Detail["rows"] != "3" || e.Detail["encoding"] != export.SJIS {
		t.Errorf("export entry %+v", e)
	}

	// Two LINE users with a conversation each, linked to E001 and L001.
	svc := customer.New(db, nil)
	var convE, convL int64
	for _, u := range []struct {
		user, no string
		conv     *int64
	}{{"Uerase", "E001", &convE}, {"Ulinked", "L001", &convL}} {
		err := db.Write(ctx, func(tx *sql.Tx) error {
			if _, err := tx.Exec(`INSERT INTO line_users(user_id, display_name, follow_state, created_at) VALUES (?, 'x', 'following', 1)`, u.user); err != nil {
				return err
			}
			if err := tx.QueryRow(`INSERT INTO conversations(line_user_id, last_message_at, created_at) VALUES (?, 1, 1) RETURNING id`, u.user).Scan(u.conv); err != nil {
				return err
			}
			_, err := tx.Exec(`INSERT INTO messages(conversation_id, direction, kind, body, created_at) VALUES (?, 'in', 'text', 'secret text', 1)`, *u.conv)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.LinkLine(ctx, "staff:admin", ids[u.no], u.user, "manual", "staff:admin"); err != nil {
			t.Fatal(err)
		}
	}

	if err := (&ErasureService{app}).EraseCustomer(ids["E001"]); err != nil {
		t.Fatal(err)
	}
	if e := last(audit.ActionErase); e.Actor != "staff:admin" || e.Target != customer.Target(ids["E001"]) || e.Detail["conversations"] != "1" || e.Detail["messages"] != "1" {
		t.Errorf("erase entry %+v", e)
	}
	if err := (&ErasureService{app}).EraseCustomer(ids["E001"]); err == nil || err.Error() != msgcode.NotFound {
		t.Errorf("second erase: %v", err)
	}
	var n int
	db.Reader().QueryRow(`SELECT count(*) FROM conversations WHERE id = ?`, convE).Scan(&n)
	if n != 0 {
		t.Error("the erased customer's conversation is left")
	}
	if page, _ := customerSvc(app).Customers(customer.Filter{}); page.Total != 2 {
		t.Errorf("customers after erase: %d", page.Total)
	}

	// Erasing a conversation unlinks its LINE user; the customer stays.
	if err := (&ErasureService{app}).EraseConversation(convL); err != nil {
		t.Fatal(err)
	}
	card, err := customerSvc(app).Customer(ids["L001"])
	if err != nil || card.Line != nil || card.LineLinked {
		t.Fatalf("after erasing the conversation: %+v %v", card.Line, err)
	}

	all, _ := audit.List(ctx, db.Reader(), audit.Filter{})
	for _, e := range all {
		for _, v := range e.Detail {
			for _, pii := range []string{"花子", "太郎", "次郎", "09087654321", "example.jp", "secret text"} {
				if strings.Contains(v, pii) {
					t.Errorf("entry %s holds %q", e.Action, pii)
				}
			}
		}
	}
	if rep, err := audit.Verify(ctx, db.Reader()); err != nil || !rep.OK {
		t.Fatalf("chain: %+v %v", rep, err)
	}
}
