package customer_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"tsunagu/internal/store/storetest"

	"lukechampine.com/adiantum"

	"tsunagu/internal/audit"
	"tsunagu/internal/customer"
	"tsunagu/internal/erasure"
	"tsunagu/internal/importer"
	"tsunagu/internal/store"
)

// Values of the customer who asks to be erased, and of one who stays.
const (
	goneName  = "消去対象 花子"
	goneKana  = "ショウキョタイショウ"
	gonePhone = "09087654321"
	goneEmail = "erase-me@example.jp"
	goneAddr  = "東京都千代田区丸の内9-9-9"
	goneText  = "住所変更のお願い-ERASE-ME"
	goneMedia = "JPEG-OF-A-DRIVERS-LICENCE-ERASE"
	goneUser  = "U00000000000000000000000000erased"
	keptName  = "残存 太郎"
	keptEmail = "keep-me@example.jp"
	keptText  = "満期のご相談-KEEP-ME"
	keptUser  = "U000000000000000000000000000kept"
)

// decryptedFile is the whole database file decrypted block by block, as the
// adiantum VFS stores it (free pages included): what someone with the key
// and the file could read. (The technique of erasure's test.)
func decryptedFile(t *testing.T, path string, key []byte) []byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c := adiantum.New(key)
	var out []byte
	var tweak [8]byte
	for off := 0; off+4096 <= len(raw); off += 4096 {
		binary.LittleEndian.PutUint64(tweak[:], uint64(off))
		block := append([]byte(nil), raw[off:off+4096]...)
		out = append(out, c.Decrypt(block, tweak[:])...)
	}
	if !bytes.HasPrefix(out, []byte("SQLite format 3\x00")) {
		t.Fatal("decryption of the test file failed")
	}
	return out
}

func addConversation(t *testing.T, db *store.DB, user, text, media string) {
	t.Helper()
	err := db.Write(context.Background(), func(tx *sql.Tx) error {
		if _, err := tx.Exec(`INSERT INTO line_users(user_id, display_name, follow_state, created_at) VALUES (?, ?, 'following', 1)`, user, "LINE "+text); err != nil {
			return err
		}
		var conv, msg int64
		if err := tx.QueryRow(`INSERT INTO conversations(line_user_id, last_message_at, last_preview, created_at) VALUES (?, 1, ?, 1) RETURNING id`, user, text).Scan(&conv); err != nil {
			return err
		}
		if err := tx.QueryRow(`INSERT INTO messages(conversation_id, direction, kind, body, created_at) VALUES (?, 'in', 'text', ?, 1) RETURNING id`, conv, text).Scan(&msg); err != nil {
			return err
		}
		_, err := tx.Exec(`INSERT INTO message_content(message_id, content_type, data, fetched_at) VALUES (?, 'image/jpeg', ?, 1)`, msg, []byte(media))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestEraseCustomerLeavesNoTrace: erasing a customer removes their record,
// contact points, consents, products, attributes, tags, LINE link and the
// LINE user's conversation, messages and media, so that after the VACUUM
// the decrypted file holds none of it, while another customer's data
// stays; the erasure is audited with the customer's ID only.
func TestEraseCustomerLeavesNoTrace(t *testing.T) {
	ctx := context.Background()
	d := storetest.NewAt(t, filepath.Join(t.TempDir(), "t.db"))
	db, path, key := d.DB, d.Path, d.Key
	csv := "顧客番号,氏名,フリガナ,携帯電話,メールアドレス,住所,店番,メール配信同意\n" +
		"E001," + goneName + "," + goneKana + "," + gonePhone + "," + goneEmail + "," + goneAddr + ",001,1\n" +
		"K001," + keptName + ",ザンゾン,09011112222," + keptEmail + ",大阪府,001,1\n"
	src := filepath.Join(t.TempDir(), "c.csv")
	os.WriteFile(src, []byte(csv), 0o600)
	if _, err := importer.Import(ctx, db, src, importer.Options{}); err != nil {
		t.Fatal(err)
	}
	svc := customer.New(db, nil)
	gone, _ := svc.IDByNumber(ctx, "E001")
	kept, _ := svc.IDByNumber(ctx, "K001")
	addConversation(t, db, goneUser, goneText, goneMedia)
	addConversation(t, db, keptUser, keptText, "kept-media")
	const actor = "staff:admin"
	for _, err := range []error{
		svc.LinkLine(ctx, actor, gone, goneUser, "manual", actor),
		svc.LinkLine(ctx, actor, kept, keptUser, "manual", actor),
		svc.AddTag(ctx, actor, gone, "年金"),
		svc.DefineAttribute(ctx, actor, customer.AttributeDef{Key: "note", Label: "メモ", Type: "text"}),
		svc.SetAttribute(ctx, actor, gone, "note", "ERASE-ATTRIBUTE-VALUE"),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.AddProduct(ctx, actor, gone, customer.Product{Type: "定期預金", ProductCode: "ERASE-PRODUCT"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.View(ctx, actor, gone); err != nil {
		t.Fatal(err)
	}
	gones := []string{goneName, goneKana, gonePhone, goneEmail, goneAddr, goneText, goneMedia, goneUser, "ERASE-ATTRIBUTE-VALUE", "ERASE-PRODUCT"}
	db.Writer().Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	before := decryptedFile(t, path, key)
	for _, v := range gones {
		if !bytes.Contains(before, []byte(v)) {
			t.Fatalf("test setup: %q not in the file before erasing", v)
		}
	}

	e := erasure.New(db, customer.ErasureHooks(), nil)
	res, err := e.EraseCustomer(ctx, actor, gone)
	if err != nil || res.Conversations != 1 || res.Messages != 1 {
		t.Fatalf("erase: %+v %v", res, err)
	}
	if _, err := e.EraseCustomer(ctx, actor, gone); !errors.Is(err, customer.ErrNotFound) {
		t.Errorf("second erase: %v", err)
	}
	entries, _ := audit.List(ctx, db.Reader(), audit.Filter{Action: audit.ActionErase})
	if len(entries) != 1 || entries[0].Actor != actor || entries[0].Target != customer.Target(gone) || entries[0].Detail["messages"] != "1" {
		t.Fatalf("audit: %+v", entries)
	}
	if rep, err := audit.Verify(ctx, db.Reader()); err != nil || !rep.OK {
		t.Fatalf("chain: %+v %v", rep, err)
	}
	for _, table := range []string{"contact_points", "consents", "products", "customer_attributes", "customer_tags", "customer_line_links"} {
		var n int
		db.Reader().QueryRow(`SELECT count(*) FROM `+table+` WHERE customer_id = ?`, gone).Scan(&n)
		if n != 0 {
			t.Errorf("%s: %d rows of the erased customer left", table, n)
		}
	}
	card, err := svc.Card(ctx, kept)
	if err != nil || card.Line == nil || card.Email != keptEmail {
		t.Fatalf("the other customer: %+v %v", card, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	plain := decryptedFile(t, path, key)
	for _, v := range gones {
		if bytes.Contains(plain, []byte(v)) {
			t.Errorf("%q still in the decrypted file", v)
		}
	}
	for _, v := range []string{keptName, keptEmail, keptText, keptUser} {
		if !bytes.Contains(plain, []byte(v)) {
			t.Errorf("the other customer's %q is gone too", v)
		}
	}
}

// TestEraseConversationUnlinks: erasing a LINE user's conversation through
// the hooks removes their customer link, and keeps the customer.
func TestEraseConversationUnlinks(t *testing.T) {
	ctx := context.Background()
	db, svc := setup(t)
	a1 := id(t, svc, "A001")
	addConversation(t, db, goneUser, goneText, goneMedia)
	if err := svc.LinkLine(ctx, "staff:admin", a1, goneUser, "manual", "staff:admin"); err != nil {
		t.Fatal(err)
	}
	var conv int64
	db.Reader().QueryRow(`SELECT id FROM conversations WHERE line_user_id = ?`, goneUser).Scan(&conv)
	if _, err := erasure.New(db, customer.ErasureHooks(), nil).EraseConversation(ctx, "staff:admin", conv); err != nil {
		t.Fatal(err)
	}
	card, err := svc.Card(ctx, a1)
	if err != nil || card.Line != nil || card.LineLinked {
		t.Fatalf("after erasing the conversation: %+v %v", card.Line, err)
	}
}
