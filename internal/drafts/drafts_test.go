package drafts_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"tsunagu/internal/customer"
	"tsunagu/internal/drafts"
	"tsunagu/internal/erasure"
	"tsunagu/internal/store"
	"tsunagu/internal/store/storetest"
)

type fixture struct {
	db            *store.DB
	svc           *drafts.Service
	tanaka, sato  int64
	conv1, conv2  int64 // conversations of U1 and U2
	customer      int64 // linked to U2
	otherCustomer int64 // not linked
	ctx           context.Context
	eraser        *erasure.Eraser
	now           time.Time
}

func exec(t *testing.T, db *store.DB, q string, args ...any) int64 {
	t.Helper()
	r, err := db.Writer().Exec(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	id, _ := r.LastInsertId()
	return id
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := storetest.New(t)
	f := &fixture{db: db, ctx: context.Background(), now: time.UnixMilli(1_700_000_000_000)}
	clock := func() time.Time { return f.now }
	f.svc = drafts.New(db, clock)
	f.eraser = erasure.New(db, customer.ErasureHooks(), clock)
	staff := `INSERT INTO staff (login, display_name, role, password_hash, created_at, updated_at) VALUES (?, ?, 'operator', 'x', 1, 1)`
	f.tanaka = exec(t, db, staff, "tanaka", "田中")
	f.sato = exec(t, db, staff, "sato", "佐藤")
	for _, u := range []string{"U1", "U2"} {
		exec(t, db, `INSERT INTO line_users (user_id, created_at) VALUES (?, 1)`, u)
	}
	f.conv1 = exec(t, db, `INSERT INTO conversations (line_user_id, created_at) VALUES ('U1', 1)`)
	f.conv2 = exec(t, db, `INSERT INTO conversations (line_user_id, created_at) VALUES ('U2', 1)`)
	cust := `INSERT INTO customers (customer_no, name, created_at, updated_at) VALUES (?, ?, 1, 1)`
	f.customer = exec(t, db, cust, "C-1", "山田 太郎")
	f.otherCustomer = exec(t, db, cust, "C-2", "鈴木 花子")
	exec(t, db, `INSERT INTO customer_line_links (customer_id, line_user_id, linked_at, method) VALUES (?, 'U2', 1, 'manual')`, f.customer)
	return f
}

func key(id int64) string { return strconv.FormatInt(id, 10) }

func (f *fixture) save(t *testing.T, staff int64, kind drafts.Kind, k, body string) {
	t.Helper()
	if _, err := f.svc.Save(f.ctx, staff, kind, k, body); err != nil {
		t.Fatalf("save %s/%s: %v", kind, k, err)
	}
}

func (f *fixture) body(t *testing.T, staff int64, kind drafts.Kind, k string) string {
	t.Helper()
	d, err := f.svc.Get(f.ctx, staff, kind, k)
	if err != nil {
		t.Fatalf("get %s/%s: %v", kind, k, err)
	}
	return d.Body
}

func TestSaveGetListDeleteArePerStaff(t *testing.T) {
	f := newFixture(t)
	f.save(t, f.tanaka, drafts.KindReply, key(f.conv1), `"田中の返信"`)
	f.save(t, f.tanaka, drafts.KindCampaign, "new", `{"name":"秋のキャンペーン"}`)
	f.save(t, f.sato, drafts.KindReply, key(f.conv1), `"佐藤の返信"`)

	if got := f.body(t, f.tanaka, drafts.KindReply, key(f.conv1)); got != `"田中の返信"` {
		t.Errorf("tanaka's reply draft = %s", got)
	}
	if got := f.body(t, f.sato, drafts.KindReply, key(f.conv1)); got != `"佐藤の返信"` {
		t.Errorf("sato's reply draft = %s", got)
	}
	// Sato has no campaign draft: Tanaka's is not visible to him.
	if got := f.body(t, f.sato, drafts.KindCampaign, "new"); got != "" {
		t.Errorf("sato sees a campaign draft %s", got)
	}
	list, err := f.svc.List(f.ctx, f.sato, drafts.KindCampaign)
	if err != nil || len(list) != 0 {
		t.Errorf("sato's campaign drafts = %v, %v", list, err)
	}
	list, err = f.svc.List(f.ctx, f.tanaka, drafts.KindReply)
	if err != nil || len(list) != 1 || list[0].Body != `"田中の返信"` || list[0].UpdatedAt != f.now.UnixMilli() {
		t.Errorf("tanaka's reply drafts = %+v, %v", list, err)
	}

	// A later save replaces; an emptied editor deletes.
	f.now = f.now.Add(time.Second)
	f.save(t, f.tanaka, drafts.KindReply, key(f.conv1), `"書き直し"`)
	if got := f.body(t, f.tanaka, drafts.KindReply, key(f.conv1)); got != `"書き直し"` {
		t.Errorf("after a second save: %s", got)
	}
	f.save(t, f.tanaka, drafts.KindReply, key(f.conv1), `""`)
	if got := f.body(t, f.tanaka, drafts.KindReply, key(f.conv1)); got != "" {
		t.Errorf("an emptied draft is still there: %s", got)
	}
	// Deleting one's own draft leaves the other person's alone.
	if err := f.svc.Delete(f.ctx, f.tanaka, drafts.KindCampaign, "new"); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Delete(f.ctx, f.tanaka, drafts.KindReply, key(f.conv1)); err != nil {
		t.Fatal(err)
	}
	if got := f.body(t, f.sato, drafts.KindReply, key(f.conv1)); got != `"佐藤の返信"` {
		t.Errorf("tanaka's delete removed sato's draft: %s", got)
	}
}

func TestErasureRemovesDrafts(t *testing.T) {
	f := newFixture(t)
	f.save(t, f.tanaka, drafts.KindReply, key(f.conv1), `"U1 への返信"`)
	f.save(t, f.sato, drafts.KindNote, key(f.conv1), `"U1 のメモ"`)
	f.save(t, f.tanaka, drafts.KindReply, key(f.conv2), `"U2 への返信"`)
	f.save(t, f.tanaka, drafts.KindCustomer, key(f.customer), `{"note":"山田様"}`)
	f.save(t, f.tanaka, drafts.KindCustomer, key(f.otherCustomer), `{"note":"鈴木様"}`)
	f.save(t, f.tanaka, drafts.KindCampaign, "new", `{"name":"秋"}`)

	if _, err := f.eraser.EraseConversation(f.ctx, "staff:admin", f.conv1); err != nil {
		t.Fatal(err)
	}
	if got := f.body(t, f.tanaka, drafts.KindReply, key(f.conv1)); got != "" {
		t.Errorf("reply draft of an erased conversation remains: %s", got)
	}
	if got := f.body(t, f.sato, drafts.KindNote, key(f.conv1)); got != "" {
		t.Errorf("note draft of an erased conversation remains: %s", got)
	}
	if got := f.body(t, f.tanaka, drafts.KindReply, key(f.conv2)); got == "" {
		t.Error("erasing U1 removed the draft to U2")
	}

	// Erasing the customer erases their linked LINE user's conversation too.
	if _, err := f.eraser.EraseCustomer(f.ctx, "staff:admin", f.customer); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		kind drafts.Kind
		key  string
	}{{drafts.KindCustomer, key(f.customer)}, {drafts.KindReply, key(f.conv2)}} {
		if got := f.body(t, f.tanaka, c.kind, c.key); got != "" {
			t.Errorf("%s draft %s of an erased customer remains: %s", c.kind, c.key, got)
		}
	}
	if got := f.body(t, f.tanaka, drafts.KindCustomer, key(f.otherCustomer)); got == "" {
		t.Error("erasing one customer removed another's draft")
	}
	if got := f.body(t, f.tanaka, drafts.KindCampaign, "new"); got == "" {
		t.Error("erasure removed a campaign draft")
	}
	var rows int
	if err := f.db.Reader().QueryRow(`SELECT count(*) FROM drafts WHERE body LIKE '%U1%' OR body LIKE '%U2%' OR body LIKE '%山田%'`).Scan(&rows); err != nil || rows != 0 {
		t.Errorf("erased text left in drafts: %d rows, %v", rows, err)
	}

	// A draft about an erased conversation cannot be saved again.
	if _, err := f.svc.Save(f.ctx, f.tanaka, drafts.KindReply, key(f.conv1), `"遅れて保存"`); !errors.Is(err, drafts.ErrNotFound) {
		t.Errorf("save to an erased conversation: %v, want ErrNotFound", err)
	}
}

func TestDeactivationRemovesTheStaffMembersDrafts(t *testing.T) {
	f := newFixture(t)
	f.save(t, f.tanaka, drafts.KindCampaign, "new", `{"name":"秋"}`)
	f.save(t, f.sato, drafts.KindCampaign, "new", `{"name":"冬"}`)
	exec(t, f.db, `UPDATE staff SET updated_at = 2 WHERE id = ?`, f.tanaka) // other updates keep drafts
	if got := f.body(t, f.tanaka, drafts.KindCampaign, "new"); got == "" {
		t.Fatal("an unrelated staff update removed the draft")
	}
	exec(t, f.db, `UPDATE staff SET active = 0 WHERE id = ?`, f.tanaka)
	if got := f.body(t, f.tanaka, drafts.KindCampaign, "new"); got != "" {
		t.Errorf("deactivated staff member's draft remains: %s", got)
	}
	if got := f.body(t, f.sato, drafts.KindCampaign, "new"); got == "" {
		t.Error("deactivating tanaka removed sato's draft")
	}
}

func TestInvalidDraftsAreRefused(t *testing.T) {
	f := newFixture(t)
	big := `"` + strings.Repeat("あ", drafts.MaxBody/3+1) + `"`
	for _, c := range []struct {
		name string
		kind drafts.Kind
		key  string
		body string
		want error
	}{
		{"unknown kind", "password", "1", `"x"`, drafts.ErrInvalid},
		{"empty key", drafts.KindCampaign, "", `"x"`, drafts.ErrInvalid},
		{"long key", drafts.KindCampaign, strings.Repeat("k", 65), `"x"`, drafts.ErrInvalid},
		{"reply key not an ID", drafts.KindReply, "new", `"x"`, drafts.ErrInvalid},
		{"not JSON", drafts.KindCampaign, "new", `{"name":`, drafts.ErrInvalid},
		{"too large", drafts.KindCampaign, "new", big, drafts.ErrTooLarge},
		{"unknown conversation", drafts.KindReply, "999", `"x"`, drafts.ErrNotFound},
		{"unknown customer", drafts.KindCustomer, "999", `{"a":1}`, drafts.ErrNotFound},
	} {
		if _, err := f.svc.Save(f.ctx, f.tanaka, c.kind, c.key, c.body); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
}

func TestDraftCountIsLimited(t *testing.T) {
	f := newFixture(t)
	tx, err := f.db.Writer().Begin()
	if err != nil {
		t.Fatal(err)
	}
	for i := range drafts.MaxPerStaff {
		if _, err := tx.Exec(`INSERT INTO drafts (staff_id, kind, key, body, updated_at) VALUES (?, 'campaign', ?, '{"a":1}', 1)`, f.tanaka, strconv.Itoa(i+1)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Save(f.ctx, f.tanaka, drafts.KindCampaign, "new", `{"a":1}`); !errors.Is(err, drafts.ErrTooLarge) {
		t.Errorf("one draft over the limit: %v, want ErrTooLarge", err)
	}
	// Updating a draft already kept is still possible at the limit.
	f.save(t, f.tanaka, drafts.KindCampaign, "1", `{"a":2}`)
	// The limit is per staff member.
	f.save(t, f.sato, drafts.KindCampaign, "new", `{"a":1}`)
}
