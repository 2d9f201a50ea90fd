package erasure

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"tsunagu/internal/store/storetest"

	"lukechampine.com/adiantum"

	"tsunagu/internal/audit"
	"tsunagu/internal/fielderr"
	"tsunagu/internal/outbox"
	"tsunagu/internal/store"
)

const (
	erasedText = "住所は東京都千代田区丸の内9-9-9です-ERASE-ME"
	erasedBlob = "JPEG-BYTES-OF-A-DRIVERS-LICENCE-0xDEADBEEF"
	// Pushes from the outbox, personalised for one person each.
	erasedPushText = "花子様 ご融資の審査結果-ERASE-PUSH"
	keptPushText   = "太郎様 満期のご案内-KEEP-PUSH"
	keptText       = "定期預金の満期について相談したい-KEEP-ME"
)

var t0 = time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)

// addSend stores an outbox send of one request as package outbox does
// (messages as wire JSON, recipients one per line), with status "pending"
// or "sent".
func addSend(t *testing.T, db *store.DB, kind, text, status string, to ...string) int64 {
	t.Helper()
	var id int64
	err := db.Write(context.Background(), func(tx *sql.Tx) error {
		msgs, err := json.Marshal([]map[string]string{{"type": "text", "text": text}})
		if err != nil {
			return err
		}
		sendStatus, sentAt := "pending", any(nil)
		if status == "sent" {
			sendStatus, sentAt = "done", t0.UnixMilli()
		}
		if err := tx.QueryRow(`INSERT INTO outbox_sends (kind, source, messages, status, created_at, finished_at) VALUES (?, 'test', ?, ?, ?, ?) RETURNING id`,
			kind, msgs, sendStatus, t0.UnixMilli(), sentAt).Scan(&id); err != nil {
			return err
		}
		_, err = tx.Exec(`INSERT INTO outbox_requests (send_id, seq, retry_key, recipients, recipient_count, status, sent_at) VALUES (?, 0, ?, ?, ?, ?, ?)`,
			id, fmt.Sprintf("key-%d", id), strings.Join(to, "\n"), len(to), status, sentAt)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func newDB(t *testing.T) (*store.DB, string, []byte) {
	t.Helper()
	d := storetest.NewAt(t, filepath.Join(t.TempDir(), "t.db"))
	return d.DB, d.Path, d.Key
}

// addUser stores a LINE user with a conversation of two messages (one
// older than age) and one media item.
func addUser(t *testing.T, db *store.DB, user, text string, now time.Time) int64 {
	t.Helper()
	var conv int64
	err := db.Write(context.Background(), func(tx *sql.Tx) error {
		ms := now.UnixMilli()
		if _, err := tx.Exec(`INSERT INTO line_users(user_id, display_name, created_at) VALUES (?, ?, ?)`, user, "name of "+text, ms); err != nil {
			return err
		}
		if err := tx.QueryRow(`INSERT INTO conversations(line_user_id, last_message_at, last_preview, created_at) VALUES (?, ?, ?, ?) RETURNING id`, user, ms, text, ms).Scan(&conv); err != nil {
			return err
		}
		if _, err := tx.Exec(`INSERT INTO webhook_events(webhook_event_id, type, line_user_id, occurred_at, received_at) VALUES (?, 'message', ?, ?, ?)`, "ev-"+user, user, ms, ms); err != nil {
			return err
		}
		var msg int64
		if err := tx.QueryRow(`INSERT INTO messages(conversation_id, direction, kind, body, webhook_event_id, created_at) VALUES (?, 'in', 'text', ?, ?, ?) RETURNING id`, conv, text, "ev-"+user, ms).Scan(&msg); err != nil {
			return err
		}
		if _, err := tx.Exec(`INSERT INTO messages(conversation_id, direction, kind, body, status, created_at) VALUES (?, 'out', 'text', ?, 'sent', ?)`, conv, "reply to "+text, ms); err != nil {
			return err
		}
		_, err := tx.Exec(`INSERT INTO message_content(message_id, content_type, data, fetched_at) VALUES (?, 'image/jpeg', ?, ?)`, msg, []byte(erasedBlob+user), ms)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return conv
}

// decrypted returns the whole database file decrypted block by block, as
// the adiantum VFS stores it (free pages included): what someone with the
// key and the file could read.
func decrypted(t *testing.T, path string, key []byte) []byte {
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

func TestEraseLeavesNoTrace(t *testing.T) {
	ctx := context.Background()
	db, path, key := newDB(t)
	const (
		erased = "U0000000000000000000000000000erase"
		kept   = "U00000000000000000000000000000keep"
		third  = "U0000000000000000000000000000third"
	)
	conv := addUser(t, db, erased, erasedText, t0)
	addUser(t, db, kept, keptText, t0)
	// The outbox: a push personalised for each, a pending multicast to
	// all three, a sent multicast to the erased user and the kept one, and
	// a sent multicast chunk that named only the erased user.
	erasedPush := addSend(t, db, "push", erasedPushText, "pending", erased)
	keptPush := addSend(t, db, "push", keptPushText, "sent", kept)
	pendingMC := addSend(t, db, "multicast", "broadcast-pending", "pending", erased, kept, third)
	sentMC := addSend(t, db, "multicast", "broadcast-sent", "sent", kept, erased)
	aloneMC := addSend(t, db, "multicast", "broadcast-alone", "sent", erased)

	// Before: both are in the file (so the check below can fail).
	db.Writer().Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	if plain := decrypted(t, path, key); !bytes.Contains(plain, []byte(erasedText)) || !bytes.Contains(plain, []byte(erasedPushText)) {
		t.Fatal("test setup: erased text not in the file before erasing")
	}

	e := New(db, Hooks{}, func() time.Time { return t0 })
	res, err := e.EraseConversation(ctx, "staff:admin", conv)
	if err != nil {
		t.Fatal(err)
	}
	if res.Conversations != 1 || res.Messages != 2 {
		t.Fatalf("result %+v", res)
	}
	if _, err := e.EraseConversation(ctx, "staff:admin", conv); err == nil {
		t.Fatal("second erase found something")
	}
	entries, _ := audit.List(ctx, db.Reader(), audit.Filter{Action: audit.ActionErase})
	if len(entries) != 1 || strings.Contains(entries[0].Target, "erase") || entries[0].Detail["messages"] != "2" {
		t.Fatalf("audit %+v", entries)
	}
	// The outbox: the push to the erased user is gone with its send,
	// the multicasts keep the others, and the sends' statuses follow.
	ob, err := outbox.New(outbox.Config{DB: db})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{erasedPush, aloneMC} {
		if _, err := ob.Status(ctx, id); !errors.Is(err, outbox.ErrNotFound) {
			t.Errorf("send %d to the erased user only: %v", id, err)
		}
		var n int
		db.Reader().QueryRow(`SELECT count(*) FROM outbox_sends WHERE id = ?`, id).Scan(&n)
		if n != 0 {
			t.Errorf("send %d to the erased user only is still stored", id)
		}
	}
	for _, c := range []struct {
		send       int64
		recipients string
		status     string
	}{
		{keptPush, kept, "done"},
		{pendingMC, kept + "\n" + third, "pending"},
		{sentMC, kept, "done"},
	} {
		var to string
		var n int
		db.Reader().QueryRow(`SELECT recipients, recipient_count FROM outbox_requests WHERE send_id = ?`, c.send).Scan(&to, &n)
		if to != c.recipients || n != strings.Count(c.recipients, "\n")+1 {
			t.Errorf("send %d: recipients %q (%d), want %q", c.send, to, n, c.recipients)
		}
		if r, err := ob.Status(ctx, c.send); err != nil || r.Status != c.status {
			t.Errorf("send %d: %+v %v, want %s", c.send, r, err, c.status)
		}
	}
	var left int
	db.Reader().QueryRow(`SELECT count(*) FROM outbox_requests WHERE instr(recipients, ?) > 0`, erased).Scan(&left)
	if left != 0 {
		t.Errorf("%d outbox requests still name the erased user", left)
	}

	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + "-wal"); !os.IsNotExist(err) {
		t.Fatal("WAL left after close")
	}
	plain := decrypted(t, path, key)
	for _, gone := range []string{erasedText, erasedBlob + erased, erased, "name of " + erasedText, erasedPushText} {
		if bytes.Contains(plain, []byte(gone)) {
			t.Errorf("%q still in the decrypted file", gone)
		}
	}
	for _, v := range []string{keptText, keptPushText, kept, third, "broadcast-pending", "broadcast-sent"} {
		if !bytes.Contains(plain, []byte(v)) {
			t.Errorf("the other customer's %q is gone too", v)
		}
	}
}

func TestEraseCustomerThroughHook(t *testing.T) {
	ctx := context.Background()
	db, _, _ := newDB(t)
	defer db.Close()
	addUser(t, db, "Ucustomer", erasedText, t0)
	addUser(t, db, "Uother", keptText, t0)
	var unlinked []string
	e := New(db, Hooks{
		Customer: func(ctx context.Context, tx *sql.Tx, id int64) ([]string, error) { return []string{"Ucustomer"}, nil },
		LineUser: []func(context.Context, *sql.Tx, string) error{func(_ context.Context, _ *sql.Tx, u string) error {
			unlinked = append(unlinked, u)
			return nil
		}},
	}, nil)
	res, err := e.EraseCustomer(ctx, "staff:admin", 7)
	if err != nil || res.Messages != 2 || len(unlinked) != 1 {
		t.Fatalf("%+v %v %v", res, err, unlinked)
	}
	var n int
	db.Reader().QueryRow(`SELECT count(*) FROM messages`).Scan(&n)
	if n != 2 {
		t.Fatalf("messages left %d, want the other customer's 2", n)
	}
	if _, err := New(db, Hooks{}, nil).EraseCustomer(ctx, "x", 1); err == nil {
		t.Fatal("EraseCustomer without a customer hook succeeded")
	}
}

func TestRetention(t *testing.T) {
	ctx := context.Background()
	db, _, _ := newDB(t)
	defer db.Close()
	addUser(t, db, "Uold", erasedText, t0.Add(-100*24*time.Hour))
	addUser(t, db, "Unew", keptText, t0.Add(-time.Hour))
	// Web form answers and a refused submission, old and new.
	if err := db.Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.Exec(`INSERT INTO forms (id, title, intro, questions, done, thanks, token, created_at, updated_at)
			VALUES (1, 'f', '', '[]', '', '', 'tok', 0, 0)`); err != nil {
			return err
		}
		for i, at := range []time.Time{t0.Add(-100 * 24 * time.Hour), t0.Add(-time.Hour)} {
			if _, err := tx.Exec(`INSERT INTO form_answers (submit_id, form_id, line_user_id, answers, received_at, stored_at) VALUES (?, 1, 'Unew', '{}', ?, ?)`,
				fmt.Sprint("s", i), at.UnixMilli(), at.UnixMilli()); err != nil {
				return err
			}
			if _, err := tx.Exec(`INSERT INTO form_rejects (form_id, submit_id, reason, body, received_at) VALUES (1, ?, 'forged', '{}', ?)`,
				fmt.Sprint("r", i), at.UnixMilli()); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	e := New(db, Hooks{}, func() time.Time { return t0 })
	if res, err := e.ApplyRetention(ctx, audit.SystemActor, 0); err != nil || res.Messages != 0 {
		t.Fatalf("0 days keeps everything: %+v %v", res, err)
	}
	res, err := e.ApplyRetention(ctx, audit.SystemActor, 90)
	if err != nil || res.Messages != 2 || res.Conversations != 1 || res.FormAnswers != 2 {
		t.Fatalf("%+v %v", res, err)
	}
	var left string
	db.Reader().QueryRow(`SELECT group_concat(submit_id) FROM (SELECT submit_id FROM form_answers UNION ALL SELECT submit_id FROM form_rejects)`).Scan(&left)
	if left != "s1,r1" {
		t.Fatalf("form answers left: %s", left)
	}
	var bodies []string
	rows, _ := db.Reader().Query(`SELECT body FROM messages`)
	for rows.Next() {
		var b string
		rows.Scan(&b)
		bodies = append(bodies, b)
	}
	rows.Close()
	if len(bodies) != 2 || !strings.Contains(bodies[0], "KEEP") {
		t.Fatalf("left %v", bodies)
	}
}

// TestStoredRetention: the retention period is one setting with its bounds
// here, audited when changed, and the scheduler's pass applies it.
func TestStoredRetention(t *testing.T) {
	ctx := context.Background()
	db, _, _ := newDB(t)
	defer db.Close()
	addUser(t, db, "Uold", erasedText, t0.Add(-100*24*time.Hour))
	e := New(db, Hooks{}, func() time.Time { return t0 })
	if d, err := e.RetentionDays(ctx); err != nil || d != 0 {
		t.Fatalf("default: %d %v", d, err)
	}
	if res, err := e.ApplyStoredRetention(ctx, audit.SystemActor); err != nil || res.Messages != 0 {
		t.Fatalf("nothing stored keeps everything: %+v %v", res, err)
	}
	for _, bad := range []int{-1, MaxRetentionDays + 1} {
		err := e.SetRetentionDays(ctx, "staff:admin", bad)
		if !errors.Is(err, ErrInvalidRetention) {
			t.Fatalf("%d days: %v", bad, err)
		}
		// The security settings form marks its field.
		want := []fielderr.FieldError{{Field: "retentionDays", Code: fielderr.Between, Min: 0, Max: MaxRetentionDays}}
		if got := fielderr.Fields(err); !reflect.DeepEqual(got, want) {
			t.Fatalf("%d days: fields %+v, want %+v", bad, got, want)
		}
	}
	if err := e.SetRetentionDays(ctx, "staff:admin", 90); err != nil {
		t.Fatal(err)
	}
	if d, err := e.RetentionDays(ctx); err != nil || d != 90 {
		t.Fatalf("stored: %d %v", d, err)
	}
	if res, err := e.ApplyStoredRetention(ctx, audit.SystemActor); err != nil || res.Messages != 2 || res.Conversations != 1 {
		t.Fatalf("applied: %+v %v", res, err)
	}
	set, err := audit.List(ctx, db.Reader(), audit.Filter{Action: audit.ActionSettings})
	if err != nil || len(set) != 1 || set[0].Target != SettingRetentionDays || set[0].Detail["new"] != "90" || set[0].Actor != "staff:admin" {
		t.Fatalf("settings entries %+v %v", set, err)
	}
}
