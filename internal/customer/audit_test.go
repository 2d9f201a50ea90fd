package customer_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"

	"tsunagu/internal/audit"
	"tsunagu/internal/customer"
)

// TestEditsAndViewsAudited: every change to a customer and every view of
// a card is on the trail, with the actor, the customer as target and what
// changed, never the customer's personal data; the chain verifies.
func TestEditsAndViewsAudited(t *testing.T) {
	ctx := context.Background()
	db, svc := setup(t)
	a1 := id(t, svc, "A001")
	db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO line_users (user_id, display_name, follow_state, created_at) VALUES ('U1', 'LINE U1', 'following', 0)`)
		return err
	})
	const actor = "staff:suzuki"
	steps := []struct {
		action string
		do     func() error
		detail map[string]string
	}{
		{customer.ActionConsent, func() error { return svc.SetConsent(ctx, actor, a1, customer.ChannelEmail, true, actor) },
			map[string]string{"channel": "email", "granted": "true"}},
		{customer.ActionLinkLine, func() error { return svc.LinkLine(ctx, actor, a1, "U1", "manual", actor) },
			map[string]string{"method": "manual"}},
		{customer.ActionUnlinkLine, func() error { return svc.UnlinkLine(ctx, actor, a1) }, nil},
		{customer.ActionProductAdd, func() error {
			_, err := svc.AddProduct(ctx, actor, a1, customer.Product{Type: "定期預金"})
			return err
		}, map[string]string{"type": "定期預金"}},
		{customer.ActionAttributeDefine, func() error {
			return svc.DefineAttribute(ctx, actor, customer.AttributeDef{Key: "income", Label: "年収帯", Type: "text"})
		}, map[string]string{"type": "text"}},
		{customer.ActionAttributeSet, func() error { return svc.SetAttribute(ctx, actor, a1, "income", "1200万") },
			map[string]string{"attribute": "income"}},
		{customer.ActionTagAdd, func() error { return svc.AddTag(ctx, actor, a1, "VIP") }, map[string]string{"tag": "VIP"}},
		{customer.ActionTagRemove, func() error { return svc.RemoveTag(ctx, actor, a1, "VIP") }, map[string]string{"tag": "VIP"}},
		{customer.ActionView, func() error {
			card, err := svc.View(ctx, actor, a1)
			if err == nil && card.CustomerNo != "A001" {
				err = errors.New("wrong card")
			}
			return err
		}, nil},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.action, err)
		}
		got, err := audit.List(ctx, db.Reader(), audit.Filter{Limit: 1})
		if err != nil || len(got) != 1 {
			t.Fatalf("%s: %v %v", st.action, got, err)
		}
		e := got[0]
		wantTarget := customer.Target(a1)
		if st.action == customer.ActionAttributeDefine {
			wantTarget = "attribute:income"
		} else if e.Detail["customerNo"] != "A001" {
			t.Errorf("%s: customer number %+v", st.action, e.Detail)
		}
		if e.Action != st.action || e.Actor != actor || e.Target != wantTarget {
			t.Errorf("%s: entry %+v", st.action, e)
		}
		for k, v := range st.detail {
			if e.Detail[k] != v {
				t.Errorf("%s: detail %s = %q, want %q", st.action, k, e.Detail[k], v)
			}
		}
		for _, v := range e.Detail {
			for _, pii := range []string{"山田", "taro@", "0311112222", "U1", "1200"} {
				if strings.Contains(v, pii) {
					t.Errorf("%s: entry holds personal data %q: %+v", st.action, pii, e.Detail)
				}
			}
		}
	}

	// Failed changes leave no entry; no-ops (removing an absent tag) none.
	before, _ := audit.List(ctx, db.Reader(), audit.Filter{})
	if err := svc.SetConsent(ctx, actor, 999, customer.ChannelSMS, true, actor); !errors.Is(err, customer.ErrNotFound) {
		t.Errorf("consent of a missing customer: %v", err)
	}
	if err := svc.SetAttribute(ctx, actor, a1, "nope", "1"); !errors.Is(err, customer.ErrNotFound) {
		t.Errorf("unknown attribute: %v", err)
	}
	if err := svc.AddTag(ctx, actor, 999, "VIP"); !errors.Is(err, customer.ErrNotFound) {
		t.Errorf("tag on a missing customer: %v", err)
	}
	if _, err := svc.View(ctx, actor, 999); !errors.Is(err, customer.ErrNotFound) {
		t.Errorf("view of a missing customer: %v", err)
	}
	if err := svc.RemoveTag(ctx, actor, a1, "absent"); err != nil {
		t.Fatal(err)
	}
	after, _ := audit.List(ctx, db.Reader(), audit.Filter{})
	if len(after) != len(before) {
		t.Errorf("failed changes left %d entries", len(after)-len(before))
	}
	if rep, err := audit.Verify(ctx, db.Reader()); err != nil || !rep.OK {
		t.Fatalf("chain: %+v %v", rep, err)
	}
}

// TestViewFailsClosed: if the view cannot be recorded, the card is not
// returned.
func TestViewFailsClosed(t *testing.T) {
	ctx := context.Background()
	db, svc := setup(t)
	a1 := id(t, svc, "A001")
	if _, err := db.Writer().Exec(`CREATE TRIGGER block_audit BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'blocked'); END`); err != nil {
		t.Fatal(err)
	}
	card, err := svc.View(ctx, "staff:suzuki", a1)
	if err == nil || card.Name != "" {
		t.Fatalf("card returned without its audit entry: %v", err)
	}
	if err := svc.AddTag(ctx, "staff:suzuki", a1, "VIP"); err == nil {
		t.Fatal("change made without its audit entry")
	}
	if c, _ := svc.Card(ctx, a1); len(c.Tags) != 0 {
		t.Errorf("tag kept although its entry failed: %v", c.Tags)
	}
}
