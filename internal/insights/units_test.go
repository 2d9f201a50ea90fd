package insights

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"tsunagu/internal/line"
	"tsunagu/internal/store/storetest"
)

// Every delivery gets a valid unit name of its own, the same one on every
// later call; a reminder or welcome step keeps one per JST month.
func TestAssignOneUnitPerDelivery(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 30, 16, 0, 0, 0, time.UTC) // 2026-12-01 01:00 JST
	assign := func(d Delivery, now time.Time) string {
		t.Helper()
		var unit string
		err := db.Write(ctx, func(tx *sql.Tx) error {
			var err error
			unit, err = Assign(ctx, tx, d, now)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return unit
	}
	c12 := assign(Campaign(12), at)
	if err := line.ValidateUnitName(c12); err != nil || !strings.HasPrefix(c12, "c12_") {
		t.Fatalf("campaign unit %q: %v", c12, err)
	}
	if again := assign(Campaign(12), at.Add(time.Hour)); again != c12 {
		t.Fatalf("campaign 12 again: %q, want %q", again, c12)
	}
	r1 := assign(Reminder(5, at), at)
	if !strings.HasPrefix(r1, "a5_202612_") || assign(Reminder(5, at.AddDate(0, 0, 20)), at.AddDate(0, 0, 20)) != r1 {
		t.Fatalf("reminder unit %q is not one for December (JST)", r1)
	}
	if r0 := assign(Reminder(5, at.Add(-2*time.Hour)), at.Add(-2*time.Hour)); r0 == r1 || !strings.HasPrefix(r0, "a5_202611_") {
		t.Fatalf("November's reminder unit %q (December's %q)", r0, r1)
	}
	w := assign(WelcomeStep(5, 1, at), at)
	if !strings.HasPrefix(w, "a5s2_202612_") || w == r1 {
		t.Fatalf("welcome step unit %q", w)
	}
	if u, err := UnitOf(ctx, db.Reader(), CampaignKey(12)); err != nil || u != c12 {
		t.Fatalf("UnitOf = %q, %v", u, err)
	}
	var first, last int64
	if err := db.Reader().QueryRow(`SELECT first_sent_at, last_sent_at FROM line_units WHERE delivery = ?`, CampaignKey(12)).Scan(&first, &last); err != nil ||
		first != at.UnixMilli() || last != at.Add(time.Hour).UnixMilli() {
		t.Fatalf("sent at %d..%d, %v", first, last, err)
	}
}

// Past the month's 1,000 names a delivery is recorded without a unit (no
// LINE statistics), sent anyway; the next month has names again.
func TestAssignStopsAtTheMonthlyLimit(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	at := time.Date(2026, 12, 10, 3, 0, 0, 0, time.UTC)
	err := db.Write(ctx, func(tx *sql.Tx) error {
		for i := range MaxUnitsPerMonth {
			u, err := Assign(ctx, tx, Campaign(int64(i+1)), at)
			if err != nil {
				return err
			}
			if u == "" {
				t.Errorf("campaign %d got no unit", i+1)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var over, next string
	err = db.Write(ctx, func(tx *sql.Tx) error {
		if over, err = Assign(ctx, tx, Campaign(1001), at); err != nil {
			return err
		}
		next, err = Assign(ctx, tx, Campaign(1002), at.AddDate(0, 1, 0))
		return err
	})
	if err != nil || over != "" || next == "" {
		t.Fatalf("1,001st unit %q, next month's %q, %v", over, next, err)
	}
	r, err := Get(ctx, db, CampaignKey(1001))
	if err != nil || r.Status != StatusNone || !r.NoUnit {
		t.Fatalf("report of the delivery past the limit: %+v, %v", r, err)
	}
	if r, err := Get(ctx, db, CampaignKey(1)); err != nil || r.Status != StatusWaiting || r.Stats != nil {
		t.Fatalf("report before any figures: %+v, %v", r, err)
	}
	if r, err := Get(ctx, db, CampaignKey(99999)); err != nil || r.Status != StatusNone || r.NoUnit {
		t.Fatalf("report of an unknown delivery: %+v, %v", r, err)
	}
}
