package customer_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"tsunagu/internal/customer"
	"tsunagu/internal/importer"
	"tsunagu/internal/store"
)

func version(t *testing.T, db *store.DB, id int64) int64 {
	t.Helper()
	var v int64
	if err := db.Reader().QueryRow(`SELECT version FROM customers WHERE id = ?`, id).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func count(t *testing.T, db *store.DB, q string, args ...any) (n int) {
	t.Helper()
	if err := db.Reader().QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// An edit from a card loaded at an older version is refused with ErrStale
// and writes nothing, not even its audit entry; from the current version it
// goes through. Each card edit checks.
func TestStaleEditRefused(t *testing.T) {
	ctx := context.Background()
	db, svc := setup(t)
	a1 := id(t, svc, "A001")
	if err := svc.DefineAttribute(ctx, "staff:admin", customer.AttributeDef{Key: "memo", Label: "メモ", Type: "text"}); err != nil {
		t.Fatal(err)
	}
	card, err := svc.Card(ctx, a1)
	if err != nil || card.Version < 1 {
		t.Fatalf("card version %d: %v", card.Version, err)
	}
	loaded := card.Version
	// A colleague saves first.
	if err := svc.From(loaded).SetAttribute(ctx, "staff:yamada", a1, "memo", "住所変更の相談"); err != nil {
		t.Fatal(err)
	}
	audited := count(t, db, `SELECT count(*) FROM audit_log`)
	for name, edit := range map[string]func(customer.Editor) error{
		"attribute": func(e customer.Editor) error {
			return e.SetAttribute(ctx, "staff:tanaka", a1, "memo", "年金の相談")
		},
		"consent": func(e customer.Editor) error {
			return e.SetConsent(ctx, "staff:tanaka", a1, customer.ChannelSMS, true, "staff:tanaka")
		},
		"tag add": func(e customer.Editor) error { return e.AddTag(ctx, "staff:tanaka", a1, "年金") },
		"tag remove": func(e customer.Editor) error {
			return e.RemoveTag(ctx, "staff:tanaka", a1, "年金")
		},
	} {
		if err := edit(svc.From(loaded)); !errors.Is(err, customer.ErrStale) {
			t.Errorf("%s from version %d: %v, want ErrStale", name, loaded, err)
		}
		if err := edit(svc.From(0)); !errors.Is(err, customer.ErrInvalid) {
			t.Errorf("%s without a version: %v, want ErrInvalid", name, err)
		}
	}
	after, err := svc.Card(ctx, a1)
	if err != nil {
		t.Fatal(err)
	}
	if after.Attributes[0].Value != "住所変更の相談" || len(after.Tags) != 0 || len(after.Consents) != 0 {
		t.Errorf("a refused edit wrote: %+v %v %+v", after.Attributes, after.Tags, after.Consents)
	}
	if n := count(t, db, `SELECT count(*) FROM audit_log`); n != audited {
		t.Errorf("refused edits audited: %d entries, was %d", n, audited)
	}
	if after.ChangedBy != "staff:yamada" || after.ChangedAt == 0 {
		t.Errorf("last change by %q at %d", after.ChangedBy, after.ChangedAt)
	}
	// From the current version it goes through, and moves the version on.
	if err := svc.From(after.Version).SetAttribute(ctx, "staff:tanaka", a1, "memo", "年金の相談"); err != nil {
		t.Fatal(err)
	}
	if v := version(t, db, a1); v <= after.Version {
		t.Errorf("version %d after a save from %d", v, after.Version)
	}
	if err := svc.From(1).SetAttribute(ctx, "staff:tanaka", 999, "memo", "x"); !errors.Is(err, customer.ErrNotFound) {
		t.Errorf("a missing customer: %v", err)
	}
}

// Every writer of a customer or of what its card shows moves the version
// on, in its own transaction, and leaves other customers' alone: the
// card's edits, products, the LINE link and its removal by erasure, the
// administrators' deletions, the import (changed rows, contracts, missing
// rows inactivated), and a direct write to each card table (contact points
// have no writer of their own; surveys write customer_attributes).
func TestEveryWriterBumpsTheVersion(t *testing.T) {
	ctx := context.Background()
	db, svc := setup(t)
	a1, b1 := id(t, svc, "A001"), id(t, svc, "B001")
	if err := svc.DefineAttribute(ctx, "staff:admin", customer.AttributeDef{Key: "memo", Label: "メモ", Type: "text"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO line_users(user_id, display_name, follow_state, created_at) VALUES ('U1', 'LINE', 'following', 1)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	file := func(name, text string) string {
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	sqlWrite := func(q string, args ...any) func() error {
		return func() error {
			return db.Write(ctx, func(tx *sql.Tx) error { _, err := tx.Exec(q, args...); return err })
		}
	}
	writers := []struct {
		name  string
		write func() error
	}{
		{"consent", func() error { return svc.SetConsent(ctx, "staff:t", a1, customer.ChannelEmail, true, "staff:t") }},
		{"tag add", func() error { return svc.AddTag(ctx, "staff:t", a1, "年金") }},
		{"tag remove", func() error { return svc.RemoveTag(ctx, "staff:t", a1, "年金") }},
		{"attribute", func() error { return svc.SetAttribute(ctx, "staff:t", a1, "memo", "相談") }},
		{"product", func() error {
			_, err := svc.AddProduct(ctx, "staff:t", a1, customer.Product{Type: "定期預金"})
			return err
		}},
		{"link", func() error { return svc.LinkLine(ctx, "staff:t", a1, "U1", "manual", "staff:t") }},
		{"unlink", func() error { return svc.UnlinkLine(ctx, "staff:t", a1) }},
		{"link again", func() error { return svc.LinkLine(ctx, "staff:t", a1, "U1", "manual", "staff:t") }},
		{"erasure unlinks the LINE user", func() error {
			return db.Write(ctx, func(tx *sql.Tx) error { return customer.UnlinkLineUser(ctx, tx, "U1") })
		}},
		{"tag add (for the administrator)", func() error { return svc.AddTag(ctx, "staff:t", a1, "VIP") }},
		{"administrator deletes a tag", func() error { return svc.DeleteTag(ctx, "staff:admin", "VIP") }},
		{"administrator deletes an attribute", func() error { return svc.DeleteAttribute(ctx, "staff:admin", "memo") }},
		{"contact point added", sqlWrite(`INSERT INTO contact_points (customer_id, kind, value, source, created_at) VALUES (?, 'email', 'a@example.jp', 'manual', 0)`, a1)},
		{"contact point changed", sqlWrite(`UPDATE contact_points SET value = 'b@example.jp' WHERE customer_id = ?`, a1)},
		{"contact point removed", sqlWrite(`DELETE FROM contact_points WHERE customer_id = ?`, a1)},
		{"product changed", sqlWrite(`UPDATE products SET status = 'closed' WHERE customer_id = ?`, a1)},
		{"import changes the row", func() error {
			_, err := importer.Import(ctx, db, file("c.csv", "顧客番号,氏名,店番\nA001,山田 太郎,009\n"), importer.Options{})
			return err
		}},
		{"import of contracts", func() error {
			_, err := importer.Import(ctx, db, file("k.csv", "顧客番号,商品種別,口座番号,開設日,満期日,状態\nA001,普通預金,1234567,R5.4.1,,有効\n"),
				importer.Options{Kind: importer.KindContracts})
			return err
		}},
		{"import inactivates missing rows", func() error {
			_, err := importer.Import(ctx, db, file("m.csv", "顧客番号,氏名,店番\nA002,山田 花子,002\nB001,佐藤 100%_本店,001\n"),
				importer.Options{Missing: importer.MissingInactivate})
			return err
		}},
	}
	for _, w := range writers {
		before, other := version(t, db, a1), version(t, db, b1)
		if err := w.write(); err != nil {
			t.Fatalf("%s: %v", w.name, err)
		}
		if v := version(t, db, a1); v <= before {
			t.Errorf("%s: version %d, was %d", w.name, v, before)
		}
		if w.name != "import inactivates missing rows" { // it rewrites the rows in its file
			if v := version(t, db, b1); v != other {
				t.Errorf("%s moved another customer's version: %d, was %d", w.name, v, other)
			}
		}
	}
	// Erasure removes the row: an edit from its card finds no customer.
	if err := db.Write(ctx, func(tx *sql.Tx) error { _, err := customer.EraseCustomer(ctx, tx, b1); return err }); err != nil {
		t.Fatal(err)
	}
	if err := svc.From(1).AddTag(ctx, "staff:t", b1, "年金"); !errors.Is(err, customer.ErrNotFound) {
		t.Errorf("an edit of an erased customer: %v", err)
	}
}
