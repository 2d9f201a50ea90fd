package insights

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"tsunagu/internal/line"
	"tsunagu/internal/linesim"
	"tsunagu/internal/store"
	"tsunagu/internal/store/storetest"
)

type simEnv struct {
	db     *store.DB
	sim    *linesim.Server
	cl     *line.Client
	offset atomic.Int64
	base   time.Time
}

func (e *simEnv) now() time.Time { return e.base.Add(time.Duration(e.offset.Load())) }
func (e *simEnv) at(t time.Time) { e.offset.Store(int64(t.Sub(e.base))) }

func newSimEnv(t *testing.T, base time.Time, simDelay time.Duration) *simEnv {
	t.Helper()
	e := &simEnv{db: storetest.New(t), base: base}
	e.sim = linesim.New(linesim.Config{AccessToken: "insights-test", ChannelSecret: "secret", Clock: e.now, InsightDelay: simDelay})
	if err := e.sim.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.sim.Close() })
	cl, err := line.New(line.Config{Endpoint: e.sim.URL(), AccessToken: "insights-test",
		Retry: line.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	e.cl = cl
	return e
}

func (e *simEnv) friends(n int, targetable bool) []string {
	ids := make([]string, n)
	for i := range ids {
		c := linesim.Customer{UserID: linesim.NewUserID(), DisplayName: "c", Following: true}
		if targetable {
			c.Gender, c.Age, c.Area = []string{"female", "male"}[i%2], "from30to34", "東京"
		}
		e.sim.AddCustomer(c)
		ids[i] = c.UserID
	}
	return ids
}

func jstTime(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, jst)
}

func days(t *testing.T, db *store.DB, from, to time.Time) map[string]FollowerDay {
	t.Helper()
	ds, err := FollowerDays(context.Background(), db, from, to)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]FollowerDay{}
	for _, d := range ds {
		out[d.Date] = d
	}
	return out
}

// LINE's daily friend counts: a date is asked for only once LINE's delay
// has passed since it ended; a date LINE is still counting is stored as
// unready (no counts, never zeros) and asked again later; a ready date is
// never asked again; today is never asked.
func TestFetchDailyFollowersKeepsLINEsStatus(t *testing.T) {
	ctx := context.Background()
	e := newSimEnv(t, jstTime(2026, 12, 1, 10, 0), 2*time.Hour)
	// 30 friends on Dec 1 (25 whose demographics LINE knows); on Dec 3 two block.
	ids := append(e.friends(25, true), e.friends(5, false)...)
	e.at(jstTime(2026, 12, 3, 12, 0))
	for _, id := range ids[:2] {
		e.sim.AddCustomer(linesim.Customer{UserID: id, DisplayName: "c", Following: false, Gender: "female", Age: "from30to34", Area: "東京"})
	}
	// The fetcher expects a 1-hour delay; LINE here takes 2: it asks for
	// Dec 4 at 01:30 on Dec 5 and LINE says it is still counting.
	f, err := New(Config{DB: e.db, Line: e.cl, Daily: e.cl, Clock: e.now, Delay: time.Hour, Refetch: 30 * time.Minute, FollowerDays: 5})
	if err != nil {
		t.Fatal(err)
	}
	e.at(jstTime(2026, 12, 5, 1, 30))
	res, err := f.FetchDaily(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Nov 30 to Dec 4 (five days) and the demographics.
	if res.Asked != 6 || res.Ready != 4 || res.Unready != 1 || !res.Demographics {
		t.Fatalf("first pass %+v, want 5 dates (4 ready, Dec 4 unready) and the demographics", res)
	}
	got := days(t, e.db, jstTime(2026, 11, 30, 0, 0), e.now())
	want := map[string]FollowerDay{
		"2026-11-30": {Status: DayReady},
		"2026-12-01": {Status: DayReady, Followers: 30, TargetedReaches: 25},
		"2026-12-02": {Status: DayReady, Followers: 30, TargetedReaches: 25},
		"2026-12-03": {Status: DayReady, Followers: 30, TargetedReaches: 23, Blocks: 2},
		"2026-12-04": {Status: DayUnready},
		"2026-12-05": {Status: DayMissing}, // today: never asked
	}
	for date, w := range want {
		g := got[date]
		if g.Status != w.Status || g.Followers != w.Followers || g.TargetedReaches != w.TargetedReaches || g.Blocks != w.Blocks {
			t.Errorf("%s: %+v, want %+v", date, g, w)
		}
	}
	var nulls int
	if err := e.db.Reader().QueryRow(`SELECT count(*) FROM insight_followers WHERE status = 'unready' AND followers IS NULL AND blocks IS NULL`).Scan(&nulls); err != nil || nulls != 1 {
		t.Fatalf("the unready day is stored without counts: %d rows, %v", nulls, err)
	}

	// Before Refetch: nothing is asked again (ready days never are).
	e.at(jstTime(2026, 12, 5, 1, 50))
	if res, err := f.FetchDaily(ctx); err != nil || res.Asked != 0 {
		t.Fatalf("second pass asked %d (%v), want 0", res.Asked, err)
	}
	// After it and after LINE's own delay: Dec 4 once more, now ready.
	e.at(jstTime(2026, 12, 5, 2, 30))
	if res, err := f.FetchDaily(ctx); err != nil || res.Asked != 1 || res.Ready != 1 {
		t.Fatalf("third pass %+v (%v), want Dec 4 asked again and ready", res, err)
	}
	if g := days(t, e.db, jstTime(2026, 12, 4, 0, 0), jstTime(2026, 12, 4, 0, 0))["2026-12-04"]; g.Status != DayReady || g.Followers != 30 || g.Blocks != 2 {
		t.Fatalf("Dec 4 after LINE counted it: %+v", g)
	}
}

// The demographics: withheld while fewer than 20 friends have attributes
// LINE knows (stored as such, no shares), then LINE's shares; asked once a
// day.
func TestFetchDailyDemographicsWithheldUnderTwenty(t *testing.T) {
	ctx := context.Background()
	e := newSimEnv(t, jstTime(2026, 12, 1, 10, 0), time.Hour)
	e.friends(12, true)
	e.friends(30, false)
	f, err := New(Config{DB: e.db, Line: e.cl, Daily: e.cl, Clock: e.now, Delay: time.Hour, FollowerDays: 1})
	if err != nil {
		t.Fatal(err)
	}
	e.at(jstTime(2026, 12, 2, 12, 0))
	if d, err := GetDemographics(ctx, e.db); err != nil || d.Status != DemographicsNone {
		t.Fatalf("before any fetch: %+v, %v", d, err)
	}
	if _, err := f.FetchDaily(ctx); err != nil {
		t.Fatal(err)
	}
	d, err := GetDemographics(ctx, e.db)
	if err != nil || d.Status != DemographicsWithheld || len(d.Genders) != 0 || len(d.Ages) != 0 {
		t.Fatalf("12 known friends: %+v, %v; want withheld", d, err)
	}
	// More friends LINE can place; asked again only after a day.
	e.friends(20, true)
	e.at(jstTime(2026, 12, 2, 20, 0))
	if res, err := f.FetchDaily(ctx); err != nil || res.Demographics {
		t.Fatalf("asked again within a day: %+v, %v", res, err)
	}
	e.at(jstTime(2026, 12, 3, 13, 0))
	if res, err := f.FetchDaily(ctx); err != nil || !res.Demographics {
		t.Fatalf("a day later: %+v, %v", res, err)
	}
	d, err = GetDemographics(ctx, e.db)
	if err != nil || d.Status != DemographicsReady {
		t.Fatalf("32 known friends: %+v, %v", d, err)
	}
	share := map[string]float64{}
	for _, s := range d.Genders {
		share[s.Key] = s.Percentage
	}
	// 62 friends: 16 female, 16 male, 30 unknown.
	if share["female"] != 25.8 || share["male"] != 25.8 || share["unknown"] != 48.4 {
		t.Fatalf("genders %v", d.Genders)
	}
}

// The daily figures share the fetcher's hourly allowance with the
// per-unit statistics, counted from the stored check times.
func TestFetchDailyKeepsToTheHourlyAllowance(t *testing.T) {
	ctx := context.Background()
	e := newSimEnv(t, jstTime(2026, 12, 1, 10, 0), time.Hour)
	e.friends(3, false)
	now := jstTime(2026, 12, 20, 12, 0)
	e.at(now)
	// Two unit checks in the last hour, one before it.
	err := e.db.Write(ctx, func(tx *sql.Tx) error {
		for i, ago := range []time.Duration{10 * time.Minute, 50 * time.Minute, 70 * time.Minute} {
			if _, err := tx.Exec(`INSERT INTO line_units (delivery, unit, month, first_sent_at, last_sent_at, checked_at) VALUES (?, ?, '202612', 0, 0, ?)`,
				fmt.Sprintf("campaign:%d", i), fmt.Sprintf("c%d_x", i), now.Add(-ago).UnixMilli()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	f, err := New(Config{DB: e.db, Line: e.cl, Daily: e.cl, Clock: e.now, Delay: time.Hour, PerHour: 5, FollowerDays: 30})
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.FetchDaily(ctx)
	if err != nil || res.Asked != 3 || res.Demographics {
		t.Fatalf("with 2 of 5 used: %+v, %v; want 3 dates and no demographics", res, err)
	}
	// Newest first: Dec 17 to 19 are stored, older days are missing.
	got := days(t, e.db, jstTime(2026, 12, 16, 0, 0), now)
	if got["2026-12-19"].Status != DayReady || got["2026-12-17"].Status != DayReady || got["2026-12-16"].Status != DayMissing {
		t.Fatalf("days %+v", got)
	}
	if res, err := f.FetchDaily(ctx); err != nil || res.Asked != 0 {
		t.Fatalf("the hour's allowance is spent, yet %+v (%v)", res, err)
	}
	// The unit fetcher sees the same count: nothing left for it either.
	used, err := usedThisHour(ctx, e.db, now)
	if err != nil || used != 5 {
		t.Fatalf("used this hour %d, %v; want 5", used, err)
	}
}

// The pass never waits for the LINE client's own rate limit (real time;
// it would hold up the rest of the scheduled work for up to an hour): it
// stops where the client has no request left and goes on next pass.
func TestFetchDailyDoesNotWaitForTheClientLimit(t *testing.T) {
	ctx := context.Background()
	e := newSimEnv(t, jstTime(2026, 12, 1, 10, 0), time.Hour)
	e.friends(3, false)
	cl, err := line.New(line.Config{Endpoint: e.sim.URL(), AccessToken: "insights-test",
		Limits: map[line.Endpoint]float64{line.EndpointFollowers: 2.0 / 3600}})
	if err != nil {
		t.Fatal(err)
	}
	f, err := New(Config{DB: e.db, Line: cl, Daily: cl, Clock: e.now, Delay: time.Hour, FollowerDays: 10})
	if err != nil {
		t.Fatal(err)
	}
	e.at(jstTime(2026, 12, 20, 12, 0))
	done := make(chan struct{})
	var res DailyResult
	go func() {
		defer close(done)
		res, err = f.FetchDaily(ctx)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("FetchDaily waits for the client's hourly limit")
	}
	if err != nil || res.Asked != 2 || res.Ready != 2 {
		t.Fatalf("%+v, %v; want the 2 requests the client allows, then a quiet stop", res, err)
	}
}
