package inbox

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"tsunagu/internal/audit"
	"tsunagu/internal/line"
)

// by is a staff actor for tests.
func by(name string) Actor { return Actor{Audit: audit.StaffActor("test"), Name: name} }

func auditEntries(t *testing.T, f *fixture) []audit.Entry {
	t.Helper()
	list, err := audit.List(context.Background(), f.db.Reader(), audit.Filter{Action: "message."})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func count(t *testing.T, f *fixture, query string, args ...any) int {
	t.Helper()
	var n int
	if err := f.db.Reader().QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// withTrigger installs a temporary trigger on the writer connection that
// makes inserts into table fail, for the rest of the test.
func withTrigger(t *testing.T, f *fixture, table string) {
	t.Helper()
	ctx := context.Background()
	name := "test_refuse_" + table
	err := f.db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TEMP TRIGGER `+name+` BEFORE INSERT ON main.`+table+
			` BEGIN SELECT RAISE(ABORT, 'test: insert refused'); END`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = f.db.Write(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `DROP TRIGGER IF EXISTS temp.`+name)
			return err
		})
	})
}

func TestReplyAuditedWithoutText(t *testing.T) {
	f := newFixture(t)
	f.receive(t, textEvent(userA, "質問です", f.clock.Now()))
	c := f.onlyConversation(t)
	const secret = "口座番号は1234567です"
	m, err := f.ib.Reply(context.Background(), c.ID, Actor{Audit: audit.StaffActor("sato"), Name: "佐藤"}, secret)
	if err != nil {
		t.Fatal(err)
	}
	list := auditEntries(t, f)
	if len(list) != 1 {
		t.Fatalf("want 1 audit entry, got %+v", list)
	}
	e := list[0]
	if e.Actor != "staff:sato" || e.Action != audit.ActionMessageSend || e.Target != "conversation:"+strconv.FormatInt(c.ID, 10) ||
		e.Detail["message"] != strconv.FormatInt(m.ID, 10) || e.Detail["via"] != "reply" || e.At != f.clock.Now().UnixMilli() {
		t.Fatalf("entry = %+v (message %d)", e, m.ID)
	}
	if m.SentBy != "佐藤" {
		t.Fatalf("sent_by = %q", m.SentBy)
	}
	var raw string
	if err := f.db.Reader().QueryRow(`SELECT actor || action || target || detail FROM audit_log`).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(raw, "1234567") || strings.Contains(raw, "口座") || strings.Contains(raw, "佐藤") {
		t.Fatalf("audit entry holds message text or a name: %q", raw)
	}
}

// The message and its audit entry commit or roll back together.
func TestReplyAuditSameTransaction(t *testing.T) {
	t.Run("audit refused", func(t *testing.T) {
		f := newFixture(t)
		f.receive(t, textEvent(userA, "質問です", f.clock.Now()))
		c := f.onlyConversation(t)
		withTrigger(t, f, "audit_log")
		if _, err := f.ib.Reply(context.Background(), c.ID, by("佐藤"), "回答です"); err == nil {
			t.Fatal("reply succeeded without its audit entry")
		}
		if n := count(t, f, `SELECT count(*) FROM messages WHERE direction = 'out'`); n != 0 {
			t.Fatalf("%d outgoing messages stored without an audit entry", n)
		}
		if n := count(t, f, `SELECT count(*) FROM messages WHERE reply_token_used = 1`); n != 0 {
			t.Fatal("reply token claimed by a rolled-back reply")
		}
		if len(f.send.pushes)+len(f.send.replies) != 0 {
			t.Fatal("sent although nothing was stored")
		}
	})
	t.Run("message refused", func(t *testing.T) {
		f := newFixture(t)
		f.receive(t, textEvent(userA, "質問です", f.clock.Now()))
		c := f.onlyConversation(t)
		withTrigger(t, f, "messages")
		if _, err := f.ib.Reply(context.Background(), c.ID, by("佐藤"), "回答です"); err == nil {
			t.Fatal("reply succeeded although its message was refused")
		}
		if list := auditEntries(t, f); len(list) != 0 {
			t.Fatalf("audit entry without its message: %+v", list)
		}
	})
	t.Run("no actor", func(t *testing.T) {
		f := newFixture(t)
		f.receive(t, textEvent(userA, "質問です", f.clock.Now()))
		c := f.onlyConversation(t)
		if _, err := f.ib.Reply(context.Background(), c.ID, Actor{Name: "佐藤"}, "回答です"); !errors.Is(err, ErrNoActor) {
			t.Fatalf("err = %v", err)
		}
		if _, err := f.ib.RetryMessage(context.Background(), 1, Actor{}); !errors.Is(err, ErrNoActor) {
			t.Fatalf("retry err = %v", err)
		}
	})
}

func TestRetryAudited(t *testing.T) {
	f := newFixture(t)
	f.receive(t, textEvent(userA, "質問です", f.clock.Now()))
	f.clock.Add(time.Hour)
	f.send.pushErr = []error{&line.APIError{Status: 500, Message: "Internal error"}}
	c := f.onlyConversation(t)
	ctx := context.Background()
	m, err := f.ib.Reply(ctx, c.ID, by("佐藤"), "回答です")
	if err != nil || m.Status != "pending" || len(f.send.pushes) != 1 {
		t.Fatalf("first push should fail and wait: %+v %v", m, err)
	}

	// A retry whose audit entry cannot be written does not send.
	withTrigger(t, f, "audit_log")
	if _, err := f.ib.RetryMessage(ctx, m.ID, Actor{Audit: audit.StaffActor("suzuki")}); err == nil {
		t.Fatal("retry succeeded without its audit entry")
	}
	if len(f.send.pushes) != 1 {
		t.Fatalf("retry sent without its audit entry: %d pushes", len(f.send.pushes))
	}
	if err := f.db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DROP TRIGGER temp.test_refuse_audit_log`)
		return err
	}); err != nil {
		t.Fatal(err)
	}

	if _, err := f.ib.RetryMessage(ctx, m.ID, Actor{Audit: audit.StaffActor("suzuki")}); err != nil {
		t.Fatal(err)
	}
	list := auditEntries(t, f) // newest first
	if len(list) != 2 || list[0].Action != audit.ActionMessageRetry || list[0].Actor != "staff:suzuki" ||
		list[0].Detail["message"] != strconv.FormatInt(m.ID, 10) || list[0].Target != "conversation:"+strconv.FormatInt(c.ID, 10) ||
		list[1].Action != audit.ActionMessageSend || list[1].Detail["via"] != "push" {
		t.Fatalf("entries = %+v", list)
	}
	rep, err := audit.Verify(ctx, f.db.Reader())
	if err != nil || !rep.OK || rep.Entries != 2 {
		t.Fatalf("chain: %+v %v", rep, err)
	}
}

func TestResumePendingAuditedAsSystem(t *testing.T) {
	f := newFixture(t)
	f.receive(t, textEvent(userA, "質問です", f.clock.Now()))
	c := f.onlyConversation(t)
	ctx := context.Background()
	if err := f.db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO messages (conversation_id, direction, kind, body, via, retry_key, status, created_at)
			VALUES (?, 'out', 'text', 'push pending', 'push', 'a6e1d1a0-5f3c-4c62-9d4e-222222222222', 'pending', 1)`, c.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := f.ib.ResumePending(ctx); err != nil {
		t.Fatal(err)
	}
	list := auditEntries(t, f)
	if len(list) != 1 || list[0].Actor != audit.SystemActor || list[0].Action != audit.ActionMessageRetry {
		t.Fatalf("entries = %+v", list)
	}
	if rep, err := audit.Verify(ctx, f.db.Reader()); err != nil || !rep.OK {
		t.Fatalf("chain: %+v %v", rep, err)
	}
}
