package line

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"tsunagu/internal/linesim"
)

func oneText(t *testing.T, s string) Message {
	t.Helper()
	m, err := Text(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// simClient starts a bare simulator with cfg and a client for it.
func simClient(t *testing.T, cfg linesim.Config) (*linesim.Server, *Client) {
	t.Helper()
	cfg.ChannelSecret, cfg.AccessToken = docSecret, simToken
	sim := linesim.New(cfg)
	if err := sim.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	c, err := NewClient(sim.URL(), simToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	return sim, c
}

// A campaign to 1,000 friends with one aggregation unit; a subset opens
// and taps. LINE's figures are "not yet" before its aggregation delay,
// right after it, and withheld (not zero) where under 20 people stand
// behind them.
func TestStatisticsPerUnitCampaign(t *testing.T) {
	e := newEnv(t) // the clock starts at 2026-04-01 18:00 JST
	ctx := context.Background()
	var friends []string
	for i := range 1000 {
		friends = append(friends, e.follower(fmt.Sprintf("f%d", i)))
	}
	const unit = "maturity_2026_04"
	const rates, branch = "https://example.com/rates", "https://example.com/branch"
	msgs := []Message{oneText(t, "満期のご案内 "+rates), oneText(t, "支店のご案内 "+branch)}
	var requests []string
	for _, chunk := range Chunks(friends) {
		res, err := e.client.MulticastWithOptions(ctx, chunk, msgs, uuid.NewString(), SendOptions{AggregationUnit: unit})
		if err != nil {
			t.Fatalf("multicast: %v", err)
		}
		requests = append(requests, res.RequestID)
	}
	if len(requests) != 2 {
		t.Fatalf("%d multicasts, want 2", len(requests))
	}
	for _, d := range e.sim.Deliveries(friends[999]) {
		if d.Unit != unit {
			t.Fatalf("delivery carries unit %q, want %q", d.Unit, unit)
		}
	}
	// A second unit that only 19 people open.
	small, err := e.client.MulticastWithOptions(ctx, friends[:40], []Message{oneText(t, "ご来店ありがとうございました")}, uuid.NewString(), SendOptions{AggregationUnit: "thanks_2026_04"})
	if err != nil {
		t.Fatal(err)
	}

	e.clock.Advance(2 * time.Hour)
	for i, u := range friends[:250] {
		if err := e.sim.OpenMessage(u, requests[i/500]); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range friends[:60] {
		if err := e.sim.ClickURL(u, requests[0], rates); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range friends[600:615] { // 15 people: too few to show
		if err := e.sim.ClickURL(u, requests[1], branch); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range friends[:19] {
		if err := e.sim.OpenMessage(u, small.RequestID); err != nil {
			t.Fatal(err)
		}
	}

	day := e.clock.Now()
	st, err := e.client.StatisticsPerUnit(ctx, unit, day, day)
	if err != nil {
		t.Fatalf("StatisticsPerUnit: %v", err)
	}
	if !st.Pending || !st.UniqueImpression.Withheld || st.UniqueImpression.String() != "withheld" || len(st.Bubbles) != 0 {
		t.Fatalf("before LINE's delay: %+v, want pending with nothing shown", st)
	}

	e.clock.Advance(linesim.DefaultInsightDelay)
	st, err = e.client.StatisticsPerUnit(ctx, unit, day, day)
	if err != nil {
		t.Fatal(err)
	}
	// 250 opened; the 15 who tapped the branch link showed its bubble
	// by tapping it.
	if st.Pending || st.UniqueImpression != (Figure{Value: 265}) || st.UniqueClick != (Figure{Value: 75}) ||
		!st.UniqueMediaPlayed.Withheld || !st.UniqueMediaPlayed100Percent.Withheld {
		t.Errorf("overview: %+v", st)
	}
	if len(st.Bubbles) != 2 || st.Bubbles[0].Seq != 1 || st.Bubbles[0].Impression != (Figure{Value: 250}) ||
		st.Bubbles[1].UniqueImpression != (Figure{Value: 265}) || !st.Bubbles[1].MediaPlayed.Withheld {
		t.Errorf("bubbles: %+v", st.Bubbles)
	}
	if len(st.URLs) != 2 {
		t.Fatalf("urls: %+v", st.URLs)
	}
	if u := st.URLs[0]; u.Seq != 1 || u.URL != rates || u.Click != (Figure{Value: 60}) || u.UniqueClickOfRequest != (Figure{Value: 60}) {
		t.Errorf("rates link: %+v", u)
	}
	if u := st.URLs[1]; u.Seq != 2 || u.URL != branch || !u.Click.Withheld || !u.UniqueClick.Withheld || u.Click.Value != 0 {
		t.Errorf("branch link, tapped by 15: %+v, want withheld", u)
	}

	st, err = e.client.StatisticsPerUnit(ctx, "thanks_2026_04", day, day)
	if err != nil {
		t.Fatal(err)
	}
	if st.Pending || !st.UniqueImpression.Withheld || len(st.Bubbles) != 1 || !st.Bubbles[0].Impression.Withheld {
		t.Errorf("19 openers: %+v, want aggregated but withheld", st)
	}

	// The reads went through the SDK to the insight endpoint.
	n := 0
	for _, r := range e.client.Requests() {
		if r.Endpoint == EndpointStatisticsPerUnit && r.Status == 200 {
			n++
		}
	}
	if n != 3 {
		t.Errorf("%d insight requests logged, want 3", n)
	}
}

func TestStatisticsPerUnitChecksItsArguments(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	day := e.clock.Now()
	for _, tc := range []struct {
		unit     string
		from, to time.Time
	}{
		{"bad-name", day, day},
		{strings.Repeat("a", 31), day, day},
		{"ok", day, day.AddDate(0, 0, 31)},
		{"ok", day, day.AddDate(0, 0, -1)},
	} {
		if _, err := e.client.StatisticsPerUnit(ctx, tc.unit, tc.from, tc.to); err == nil {
			t.Errorf("%q %s..%s: no error", tc.unit, statsDate(tc.from), statsDate(tc.to))
		}
	}
	if _, err := e.client.StatisticsPerUnit(ctx, "ok", day, day.AddDate(0, 0, 30)); err != nil {
		t.Errorf("30 days: %v", err)
	}
	if _, err := e.client.PushWithOptions(ctx, e.follower("a"), []Message{oneText(t, "x")}, uuid.NewString(), SendOptions{AggregationUnit: "春"}); !errors.Is(err, ErrBadUnitName) {
		t.Errorf("push with a bad unit: %v", err)
	}
	if n := len(e.client.Requests()); n != 1 {
		t.Errorf("%d requests sent, want only the valid 30-day read", n)
	}
}

func TestUnitNamesAndMonthlyLimit(t *testing.T) {
	clk := &clock{t: time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC)}
	sim, c := simClient(t, linesim.Config{Clock: clk.Now, UnitsPerMonth: 230})
	ctx := context.Background()
	u := linesim.NewUserID()
	sim.AddCustomer(linesim.Customer{UserID: u, DisplayName: "a", Following: true})
	var want []string
	for i := range 231 {
		name := fmt.Sprintf("step_%03d", i)
		if i < 230 {
			want = append(want, name)
		}
		if _, err := c.PushWithOptions(ctx, u, []Message{oneText(t, "x")}, uuid.NewString(), SendOptions{AggregationUnit: name}); err != nil {
			t.Fatalf("push %d: %v", i, err)
		}
	}
	// The name past the month's limit was still sent, without a unit.
	ds := sim.Deliveries(u)
	if len(ds) != 231 || ds[230].Unit != "" || ds[229].Unit != "step_229" {
		t.Fatalf("deliveries: %d, last units %q %q", len(ds), ds[229].Unit, ds[230].Unit)
	}
	n, err := c.UnitsUsedThisMonth(ctx)
	if err != nil || n != 230 {
		t.Fatalf("UnitsUsedThisMonth = %d, %v", n, err)
	}
	names, err := c.UnitNames(ctx) // three pages of 100
	if err != nil || strings.Join(names, ",") != strings.Join(want, ",") {
		t.Fatalf("UnitNames: %d names, %v", len(names), err)
	}
	// Existing callers send without a unit, as before.
	if _, err := c.Push(ctx, u, []Message{oneText(t, "y")}, uuid.NewString()); err != nil {
		t.Fatal(err)
	}
	if d := sim.Deliveries(u); d[len(d)-1].Unit != "" {
		t.Errorf("plain push carries unit %q", d[len(d)-1].Unit)
	}
	clk.Advance(21 * 24 * time.Hour) // May in JST
	if n, err := c.UnitsUsedThisMonth(ctx); err != nil || n != 0 {
		t.Errorf("next month: %d, %v", n, err)
	}
}

func TestFollowersAndDemographics(t *testing.T) {
	clk := &clock{t: time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)} // 18:00 JST
	sim, c := simClient(t, linesim.Config{Clock: clk.Now})
	ctx := context.Background()
	var ids []string
	for i := range 24 {
		cu := linesim.Customer{UserID: linesim.NewUserID(), DisplayName: "c", Following: true, Gender: "female", Age: "from40to44", Area: "大阪"}
		if i%4 == 0 {
			cu.Gender = "male"
		}
		sim.AddCustomer(cu)
		ids = append(ids, cu.UserID)
	}
	apr1 := clk.Now()
	f, err := c.Followers(ctx, apr1)
	if err != nil || f.Status != DailyUnready || f.Followers != 0 || f.Date != "20260401" {
		t.Fatalf("today: %+v, %v", f, err)
	}
	clk.Advance(24 * time.Hour)
	for _, id := range ids[:5] {
		if err := sim.Unfollow(ctx, id); err != nil && !errors.Is(err, linesim.ErrNoWebhookURL) {
			t.Fatal(err)
		}
	}
	clk.Advance(24 * time.Hour) // 04-03 18:00 JST: 04-01 is counted, 04-02 not yet
	if f, err = c.Followers(ctx, apr1); err != nil || f != (Followers{Date: "20260401", Status: DailyReady, Followers: 24, TargetedReaches: 24}) {
		t.Errorf("04-01: %+v, %v", f, err)
	}
	if f, err = c.Followers(ctx, apr1.AddDate(0, 0, 1)); err != nil || f.Status != DailyUnready {
		t.Errorf("04-02 too early: %+v, %v", f, err)
	}
	clk.Advance(24 * time.Hour)
	if f, err = c.Followers(ctx, apr1.AddDate(0, 0, 1)); err != nil || f != (Followers{Date: "20260402", Status: DailyReady, Followers: 24, TargetedReaches: 19, Blocks: 5}) {
		t.Errorf("04-02: %+v, %v", f, err)
	}
	if f, err = c.Followers(ctx, time.Date(2016, 10, 31, 12, 0, 0, 0, jst)); err != nil || f.Status != DailyOutOfService {
		t.Errorf("2016-10-31: %+v, %v", f, err)
	}

	// 19 friends are left: a targeted reach too small for demographics.
	d, err := c.Demographics(ctx)
	if err != nil || d.Available || d.Genders != nil {
		t.Fatalf("19 friends: %+v, %v", d, err)
	}
	sim.AddCustomer(linesim.Customer{UserID: linesim.NewUserID(), DisplayName: "new", Following: true,
		Gender: "male", Age: "from20to24", Area: "大阪", AppType: "android"})
	clk.Advance(linesim.DefaultInsightDelay)
	d, err = c.Demographics(ctx)
	if err != nil || !d.Available {
		t.Fatalf("20 friends: %+v, %v", d, err)
	}
	// Of the 19 left, ids[5:] holds 4 men (8, 12, 16, 20) and 15 women.
	if fmt.Sprint(d.Genders) != "[{female 75} {male 25}]" || fmt.Sprint(d.AppTypes) != "[{android 5} {unknown 95}]" {
		t.Errorf("demographics: %+v", d)
	}
}

// A limit of 60 an hour lets a report's reads leave at once, and never
// more than the allowance in any hour.
func TestHourlyBucket(t *testing.T) {
	b := newBuckets(nil)[EndpointStatisticsPerUnit]
	if b.perHour != 60 {
		t.Fatalf("statistics per unit: %d an hour, want LINE's 60", b.perHour)
	}
	b = &bucket{perHour: 3}
	t0 := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	var got []time.Duration
	for _, now := range []time.Time{t0, t0, t0, t0, t0.Add(30 * time.Minute), t0.Add(30 * time.Minute), t0.Add(3 * time.Hour)} {
		got = append(got, b.reserve(now).Sub(t0))
	}
	if fmt.Sprint(got) != "[0s 0s 0s 1h0m0s 1h0m0s 1h0m0s 3h0m0s]" {
		t.Errorf("departures %v", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	full := &bucket{perHour: 1}
	if err := full.wait(ctx); err != nil {
		t.Fatal(err)
	}
	if err := full.wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("second request in the hour: %v, want to wait", err)
	}
}
