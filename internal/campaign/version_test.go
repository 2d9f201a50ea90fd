package campaign

import (
	"context"
	"errors"
	"testing"
)

// Two people on one campaign (seats, issue 18): an edit, a 差し戻し or an
// approval from a view of an older version is refused with ErrStale and
// writes nothing, audit included; from the current version the edit goes
// through.
func TestStaleEditRefusedWritesNothing(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.load(t, mixed(5))
	ctx := context.Background()
	c, err := e.svc.Create(ctx, author, testDraft())
	if err != nil {
		t.Fatal(err)
	}
	audited := func() (n int) {
		t.Helper()
		if err := e.db.Reader().QueryRow(`SELECT count(*) FROM audit_log WHERE target = ?`, target(c.ID)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	mine := testDraft()
	mine.Content.SMS.Text = "窓口1の案"
	if _, err := e.svc.Update(ctx, author, c.ID, c.Version, mine); err != nil {
		t.Fatal(err)
	}
	before, entries := mustGet(t, e, c.ID), audited()

	theirs := testDraft()
	theirs.Content.SMS.Text = "窓口2の案"
	if _, err := e.svc.Update(ctx, approver, c.ID, c.Version, theirs); !errors.Is(err, ErrStale) {
		t.Fatalf("edit from version %d: %v", c.Version, err)
	}
	if _, err := e.svc.Return(ctx, approver, c.ID, c.Version, "金額を確認してください"); !errors.Is(err, ErrStale) {
		t.Fatalf("send back version %d: %v", c.Version, err)
	}
	if _, err := e.svc.Approve(ctx, approver, c.ID, c.Version); !errors.Is(err, ErrStale) {
		t.Fatalf("approve version %d: %v", c.Version, err)
	}
	after := mustGet(t, e, c.ID)
	if after.Version != before.Version || after.Content.SMS.Text != "窓口1の案" || after.ReturnedAt != 0 || after.ApprovedBy != "" {
		t.Errorf("refused changes wrote: %+v", after)
	}
	if n := audited(); n != entries {
		t.Errorf("refused changes audited: %d entries, was %d", n, entries)
	}
	if got, err := e.svc.Update(ctx, approver, c.ID, before.Version, theirs); err != nil || got.Version != before.Version+1 || got.Content.SMS.Text != "窓口2の案" {
		t.Fatalf("edit from the current version: %+v %v", got, err)
	}
}

func mustGet(t *testing.T, e *env, id int64) Campaign {
	t.Helper()
	c, err := e.svc.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
