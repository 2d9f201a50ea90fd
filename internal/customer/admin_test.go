package customer_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/driver"
	"github.com/ncruces/go-sqlite3/ext/fts5"

	"tsunagu/internal/customer"
)

func TestAttributeDefinitions(t *testing.T) {
	ctx := context.Background()
	db, svc := setup(t)
	tests := []struct {
		name string
		def  customer.AttributeDef
		ok   bool
	}{
		{"text", customer.AttributeDef{Key: "memo", Label: "メモ", Type: "text"}, true},
		{"full-width key is folded", customer.AttributeDef{Key: "ＩＮＣＯＭＥ", Label: "年収帯", Type: "choice", Choices: []string{"〜300万", " 300万〜 ", "〜300万", ""}}, true},
		{"number", customer.AttributeDef{Key: "children", Label: "子どもの数", Type: "number"}, true},
		{"no label", customer.AttributeDef{Key: "x", Type: "text"}, false},
		{"key with spaces", customer.AttributeDef{Key: "a b", Label: "A", Type: "text"}, false},
		{"unknown type", customer.AttributeDef{Key: "y", Label: "Y", Type: "money"}, false},
		{"choice without choices", customer.AttributeDef{Key: "z", Label: "Z", Type: "choice", Choices: []string{" "}}, false},
		{"duplicate key", customer.AttributeDef{Key: "memo", Label: "別", Type: "text"}, false},
	}
	for _, tt := range tests {
		err := svc.DefineAttribute(ctx, "staff:admin", tt.def)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, customer.ErrInvalid)) {
			t.Errorf("%s: err %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
	defs, err := svc.AttributeDefs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, d := range defs {
		keys = append(keys, d.Key)
		if d.Key == "income" && strings.Join(d.Choices, ",") != "〜300万,300万〜" {
			t.Errorf("choices cleaned to %q", d.Choices)
		}
	}
	sort.Strings(keys)
	if strings.Join(keys, ",") != "children,income,memo" {
		t.Errorf("definitions %v", keys)
	}
	a1 := id(t, svc, "A001")
	if err := svc.SetAttribute(ctx, "staff:tanaka", a1, "income", "300万〜"); err != nil {
		t.Fatal(err)
	}
	if err := svc.DeleteAttribute(ctx, "staff:admin", "income"); err != nil {
		t.Fatal(err)
	}
	if err := svc.DeleteAttribute(ctx, "staff:admin", "income"); !errors.Is(err, customer.ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
	if c, _ := svc.Card(ctx, a1); len(c.Attributes) != 0 {
		t.Errorf("values of a deleted attribute remain: %+v", c.Attributes)
	}
	assertAudit(t, db, "customer.attribute_define", 3)
	assertAudit(t, db, "customer.attribute_delete", 1)
}

func TestTagAdministration(t *testing.T) {
	ctx := context.Background()
	db, svc := setup(t)
	if err := svc.CreateTag(ctx, "staff:admin", " ＶＩＰ "); err != nil {
		t.Fatal(err)
	}
	if err := svc.CreateTag(ctx, "staff:admin", "VIP"); !errors.Is(err, customer.ErrInvalid) {
		t.Errorf("duplicate tag: %v", err)
	}
	if err := svc.CreateTag(ctx, "staff:admin", "  "); !errors.Is(err, customer.ErrInvalid) {
		t.Errorf("empty tag: %v", err)
	}
	a1, a2 := id(t, svc, "A001"), id(t, svc, "A002")
	for _, c := range []int64{a1, a2} {
		if err := svc.AddTag(ctx, "staff:tanaka", c, "VIP"); err != nil {
			t.Fatal(err)
		}
	}
	tags, err := svc.TagList(ctx)
	if err != nil || len(tags) != 1 || tags[0] != (customer.TagInfo{Name: "VIP", Customers: 2}) {
		t.Fatalf("tags %+v %v", tags, err)
	}
	if err := svc.DeleteTag(ctx, "staff:admin", "VIP"); err != nil {
		t.Fatal(err)
	}
	if c, _ := svc.Card(ctx, a1); len(c.Tags) != 0 {
		t.Errorf("tags after delete: %v", c.Tags)
	}
	if err := svc.DeleteTag(ctx, "staff:admin", "VIP"); !errors.Is(err, customer.ErrNotFound) {
		t.Errorf("delete missing tag: %v", err)
	}
	assertAudit(t, db, "customer.tag_create", 1)
	assertAudit(t, db, "customer.tag_delete", 1)
}

func assertAudit(t *testing.T, db interface{ Reader() *sql.DB }, action string, want int) {
	t.Helper()
	var n int
	if err := db.Reader().QueryRow(`SELECT count(*) FROM audit_log WHERE action = ?`, action).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != want {
		t.Errorf("%d %s audit entries, want %d", n, action, want)
	}
}

// TestMigration0007 applies the migrations before 0007 to a database with
// contact points as rows, then 0007: the imported ones become columns,
// the manual ones stay.
func TestMigration0007(t *testing.T) {
	ctx := context.Background()
	db, err := driver.Open("file:"+filepath.Join(t.TempDir(), "m.db"), func(c *sqlite3.Conn) error {
		if err := fts5.Register(c); err != nil {
			return err
		}
		return c.Exec(`PRAGMA foreign_keys=ON`)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	files, _ := filepath.Glob("../store/migrations/*.sql")
	sort.Strings(files)
	apply := func(f string) {
		t.Helper()
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, string(b)); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	var m0007 string
	for _, f := range files {
		if strings.HasPrefix(filepath.Base(f), "0007_") {
			m0007 = f
			break
		}
		apply(f)
	}
	for _, q := range []string{
		`INSERT INTO customers (id, customer_no, name, created_at, updated_at) VALUES (1, 'A1', 'a', 0, 0), (2, 'A2', 'b', 0, 0)`,
		`INSERT INTO contact_points (customer_id, kind, value, source, created_at) VALUES
			(1, 'phone', '0311112222', 'import', 0), (1, 'email', 'a@example.jp', 'import', 0),
			(1, 'email', 'extra@example.jp', 'manual', 0), (2, 'mobile', '09011112222', 'import', 0)`,
		`INSERT INTO products (customer_id, type, created_at) VALUES (1, '普通預金', 0)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	apply(m0007)
	var got []string
	rows, err := db.QueryContext(ctx, `SELECT customer_no || ':' || phone || '/' || mobile || '/' || email FROM customers ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		rows.Scan(&s)
		got = append(got, s)
	}
	rows.Close()
	if strings.Join(got, " ") != "A1:0311112222//a@example.jp A2:/09011112222/" {
		t.Errorf("columns after 0007: %v", got)
	}
	var left string
	db.QueryRowContext(ctx, `SELECT group_concat(value || ':' || source) FROM contact_points`).Scan(&left)
	if left != "extra@example.jp:manual" {
		t.Errorf("contact_points after 0007: %q", left)
	}
	var kind, acct string
	if err := db.QueryRowContext(ctx, `SELECT p.account_no, (SELECT count(*) FROM imports) || coalesce((SELECT kind FROM imports), '') FROM products p`).Scan(&acct, &kind); err != nil || acct != "" {
		t.Errorf("products after 0007: %q %v", acct, err)
	}
}
