package dashboard

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"tsunagu/internal/automation"
	"tsunagu/internal/campaign"
	"tsunagu/internal/line"
	"tsunagu/internal/linesim"
	"tsunagu/internal/segment"
	"tsunagu/internal/store"
	"tsunagu/internal/store/storetest"
)

const (
	author   = "staff:author"
	approver = "staff:approver"
)

type env struct {
	db    *store.DB
	sim   *linesim.Server
	cl    *line.Client
	camps *campaign.Service
	autos *automation.Service
	now   time.Time
}

func newEnv(t *testing.T, now time.Time) *env {
	t.Helper()
	e := &env{db: storetest.New(t), now: now}
	clock := func() time.Time { return e.now }
	e.sim = linesim.New(linesim.Config{AccessToken: "dash-test", ChannelSecret: "secret", Clock: clock})
	if err := e.sim.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.sim.Close() })
	cl, err := line.New(line.Config{Endpoint: e.sim.URL(), AccessToken: "dash-test",
		Retry: line.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	e.cl = cl
	segs := segment.New(e.db, clock, nil)
	if e.camps, err = campaign.New(campaign.Config{DB: e.db, Segments: segs, Line: cl, Quota: cl, Clock: clock}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.camps.Close)
	if e.autos, err = automation.New(automation.Config{DB: e.db, Segments: segs, Clock: clock}); err != nil {
		t.Fatal(err)
	}
	return e
}

// customer is one row of the fixture.
type customer struct {
	linked, following       bool
	consentLine, consentEml bool
	consentSMS, inactive    bool
	birth                   string
}

func (e *env) load(t *testing.T, cs []customer) {
	t.Helper()
	ms := e.now.UnixMilli()
	err := e.db.Write(context.Background(), func(tx *sql.Tx) error {
		var base int
		if err := tx.QueryRow(`SELECT count(*) FROM customers`).Scan(&base); err != nil {
			return err
		}
		for i, c := range cs {
			status := "active"
			if c.inactive {
				status = "inactive"
			}
			var id int64
			if err := tx.QueryRow(`INSERT INTO customers (customer_no, name, status, birth_date, consent_line, consent_email, consent_sms, created_at, updated_at)
				VALUES (?, '山田 花子', ?, ?, ?, ?, ?, ?, ?) RETURNING id`, fmt.Sprintf("C%04d", base+i), status, c.birth,
				c.consentLine, c.consentEml, c.consentSMS, ms, ms).Scan(&id); err != nil {
				return err
			}
			if !c.linked {
				continue
			}
			user := linesim.NewUserID()
			state := "following"
			if !c.following {
				state = "unfollowed"
			}
			if _, err := tx.Exec(`INSERT INTO line_users (user_id, follow_state, created_at) VALUES (?, ?, ?)`, user, state, ms); err != nil {
				return err
			}
			if _, err := tx.Exec(`INSERT INTO customer_line_links (customer_id, line_user_id, linked_at, method) VALUES (?, ?, ?, 'manual')`, id, user, ms); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func text(s string) []campaign.LineMessage { return []campaign.LineMessage{{Kind: "text", Text: s}} }

func (e *env) scheduled(t *testing.T, name, at string, bubbles int) {
	t.Helper()
	ctx := context.Background()
	msgs := []campaign.LineMessage{}
	for i := range bubbles {
		msgs = append(msgs, campaign.LineMessage{Kind: "text", Text: fmt.Sprintf("{氏名} 様 お知らせ %d", i+1)})
	}
	c, err := e.camps.Create(ctx, author, campaign.Draft{Name: name, Rules: segment.Node{Op: "and"}, Channels: []string{campaign.ChannelLine},
		Content: campaign.Content{Line: msgs}})
	if err != nil {
		t.Fatal(err)
	}
	if c, err = e.camps.Approve(ctx, approver, c.ID, c.Version); err != nil {
		t.Fatal(err)
	}
	if _, err = e.camps.Schedule(ctx, approver, c.ID, at, "Asia/Tokyo"); err != nil {
		t.Fatal(err)
	}
}

func (e *env) activeRule(t *testing.T, d automation.Draft) automation.Rule {
	t.Helper()
	ctx := context.Background()
	r, err := e.autos.Create(ctx, author, d)
	if err != nil {
		t.Fatal(err)
	}
	if r, err = e.autos.Approve(ctx, approver, r.ID, r.Version); err != nil {
		t.Fatal(err)
	}
	if r, err = e.autos.Activate(ctx, approver, r.ID); err != nil {
		t.Fatal(err)
	}
	return r
}

// The quota forecast adds up, per LINE's rule (one send to one person is
// one message, whatever its bubbles): a campaign scheduled this month, its
// LINE recipients (consenting, linked, following); not one scheduled next
// month; a birthday reminder, the customers due on its remaining days; a
// welcome series, the steps still due in open series plus new friends at
// the last 30 days' pace. Past what remains, it says by how much.
func TestForecastWithAScheduledCampaign(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, jst)
	e := newEnv(t, now)
	var cs []customer
	for i := range 20 { // reached on LINE
		c := customer{linked: true, following: true, consentLine: true}
		switch i {
		case 0:
			c.birth = "1980-12-10" // this month, still to come
		case 1:
			c.birth = "1975-12-24"
		case 2:
			c.birth = "1990-12-01" // this month, passed
		case 3:
			c.birth = "1985-01-03" // next month
		}
		cs = append(cs, c)
	}
	for range 4 { // linked but no LINE consent
		cs = append(cs, customer{linked: true, following: true, consentEml: true, birth: "1970-12-20"})
	}
	for range 3 { // blocking
		cs = append(cs, customer{linked: true, following: false, consentLine: true})
	}
	for range 2 { // not linked; email and SMS consent
		cs = append(cs, customer{consentEml: true, consentSMS: true})
	}
	cs = append(cs, customer{inactive: true, linked: true, following: true, consentLine: true})
	e.load(t, cs)

	e.scheduled(t, "年末のお知らせ", "2026-12-20T10:00", 3)
	e.scheduled(t, "新年のご挨拶", "2027-01-05T10:00", 1)
	e.activeRule(t, automation.Draft{Name: "誕生日", Kind: automation.KindDate, Spec: automation.Spec{
		Field: automation.FieldBirthday, At: "10:00", Rules: segment.Node{Op: "and"}, Channels: []string{campaign.ChannelLine},
		Content: campaign.Content{Line: text("{氏名} 様 お誕生日おめでとうございます")}}})
	welcome := e.activeRule(t, automation.Draft{Name: "あいさつ", Kind: automation.KindWelcome, Spec: automation.Spec{Steps: []automation.Step{
		{DelayHours: 1, Messages: text("ご登録ありがとうございます")},
		{DelayDays: 2, Messages: text("店舗のご案内")},
	}}})
	// Six follows in the last 30 days (one before them); two series still
	// open at step 2, followed a day ago.
	err := e.db.Write(ctx, func(tx *sql.Tx) error {
		for i, ago := range []int{1, 1, 5, 10, 20, 29, 31} {
			next, stopped := 2, any(now.AddDate(0, 0, -ago+1).UnixMilli())
			if i < 2 {
				next, stopped = 1, nil
			}
			if _, err := tx.Exec(`INSERT INTO automation_welcome (automation_id, line_user_id, followed_at, next_step, stopped_at) VALUES (?, ?, ?, ?, ?)`,
				welcome.ID, linesim.NewUserID(), now.AddDate(0, 0, -ago).UnixMilli(), next, stopped); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	e.sim.SetMonthlyQuota(1000, 980)

	d, err := New(Config{DB: e.db, Quota: e.cl, Campaigns: e.camps, Automations: e.autos, Clock: func() time.Time { return e.now }})
	if err != nil {
		t.Fatal(err)
	}
	q, err := d.Forecast(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if q.Month != "2026-12" || !q.Known || !q.Limited || q.Limit != 1000 || q.Used != 980 || q.Remaining != 20 {
		t.Fatalf("quota %+v", q)
	}
	// The campaign: 20 people, not 20 × 3 bubbles; January's is not this month's.
	if len(q.Campaigns) != 1 || q.Campaigns[0].Name != "年末のお知らせ" || q.Campaigns[0].LineRecipients != 20 {
		t.Fatalf("campaigns %+v", q.Campaigns)
	}
	byName := map[string]automation.Forecast{}
	for _, f := range q.Automations {
		byName[f.Name] = f
	}
	// Birthdays on Dec 10 and 24 (Dec 1 has passed, Jan 3 is next month,
	// Dec 20's four have no LINE consent).
	if f := byName["誕生日"]; f.Messages != 2 {
		t.Fatalf("birthday reminder %+v, want 2", f)
	}
	// In series: 2 friends × step 2 (due tomorrow). New friends: 6 in 30
	// days = 0.2 a day; from now to Jan 1 00:00 JST is 25.5 days; step 1
	// (1 hour after a follow) can still go out for 25.5 − 1/24 days of
	// follows, step 2 (2 days after) for 23.5: 0.2 × 48.958 = 9.79 → 10.
	if f := byName["あいさつ"]; f.InSeries != 2 || f.Follows != 6 || f.NewFriends != 10 || f.Messages != 12 {
		t.Fatalf("welcome series %+v, want 2 in series + 10 new", f)
	}
	if q.Forecast != 20+2+12 || !q.Exceeds || q.Shortfall != 34-20 {
		t.Fatalf("forecast %d, exceeds %v by %d; want 34, 14 over the 20 left", q.Forecast, q.Exceeds, q.Shortfall)
	}

	// Room enough: no warning.
	e.sim.SetMonthlyQuota(1000, 900)
	if q, err = d.Forecast(ctx); err != nil || q.Exceeds || q.Remaining != 100 || q.Forecast != 34 {
		t.Fatalf("with 100 left: %+v, %v", q, err)
	}
	// No limit: nothing to exceed.
	e.sim.SetMonthlyQuota(0, 0)
	if q, err = d.Forecast(ctx); err != nil || !q.Known || q.Limited || q.Exceeds || q.Forecast != 34 {
		t.Fatalf("unlimited: %+v, %v", q, err)
	}
	// LINE unreachable: the quota is unknown, the forecast still shown.
	if err := e.sim.Drill("refuse", 0); err != nil {
		t.Fatal(err)
	}
	if q, err = d.Forecast(ctx); err != nil || q.Known || q.Exceeds || q.Forecast != 34 {
		t.Fatalf("LINE unreachable: %+v, %v", q, err)
	}
}

// Own counts: linked customers and consenting active customers per
// channel, live today and as the day's snapshot; a day without a snapshot
// is unknown, not zero; LINE's days without figures keep their status.
func TestOwnCountsSnapshotAndSeries(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, jst)
	e := newEnv(t, now)
	e.load(t, []customer{
		{linked: true, following: true, consentLine: true},
		{linked: true, following: true, consentLine: true, consentEml: true},
		{consentEml: true, consentSMS: true},
		{inactive: true, linked: true, consentLine: true, consentEml: true, consentSMS: true},
	})
	d, err := New(Config{DB: e.db, Clock: func() time.Time { return e.now }, Days: 3})
	if err != nil {
		t.Fatal(err)
	}
	e.now = now.AddDate(0, 0, -2)
	if err := d.Snapshot(ctx); err != nil {
		t.Fatal(err)
	}
	e.now = now
	e.load(t, []customer{{linked: true, following: true, consentSMS: true}})
	got, err := d.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Days) != 3 || got.Days[0].Date != "2026-12-04" || got.Days[2].Date != "2026-12-06" {
		t.Fatalf("days %+v", got.Days)
	}
	want := []OwnDay{
		{Known: true, Linked: 3, ConsentLine: 2, ConsentEmail: 2, ConsentSMS: 1},
		{}, // Dec 5: Tsunagu did not run
		{Known: true, Linked: 4, ConsentLine: 2, ConsentEmail: 2, ConsentSMS: 2},
	}
	for i, w := range want {
		if got.Days[i].Own != w {
			t.Errorf("%s own %+v, want %+v", got.Days[i].Date, got.Days[i].Own, w)
		}
		if got.Days[i].Line.Status != "missing" {
			t.Errorf("%s LINE %+v: nothing was fetched", got.Days[i].Date, got.Days[i].Line)
		}
	}
	if got.Demographics.Status != "none" || got.Quota.Known || got.Quota.Forecast != 0 {
		t.Fatalf("without LINE: demographics %+v, quota %+v", got.Demographics, got.Quota)
	}
}
