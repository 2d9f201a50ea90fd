package campaign

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"tsunagu/internal/insights"
	"tsunagu/internal/linesim"
)

// LINE's own statistics end to end: two campaigns to 1,000 simulated
// friends, each under its own unit; a subset opens and clicks; the fetcher
// (real SDK client, simulator with LINE's rules) finds nothing before
// LINE's delay, then stores the figures; a figure from fewer than 20
// people is withheld, never zero; the CSV export carries the same.
func TestCampaignLineStatistics(t *testing.T) {
	const (
		friends = 1000
		opened  = 300
		clicked = 100
		few     = 12 // under LINE's 20
		delay   = 2 * time.Hour
		newsURL = "https://example-shinkin.jp/news"
	)
	var offset atomic.Int64 // how far the simulated time has moved on since the send
	var e *env
	base := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	simNow := func() time.Time { return base.Add(time.Duration(offset.Load())) }
	e = newEnv(t, envOptions{noSMTP: true, sim: linesim.Config{InsightDelay: delay, Clock: simNow}})
	if !e.now.Equal(base) {
		t.Fatalf("env starts at %v, the simulator at %v", e.now, base)
	}
	ps := make([]person, friends)
	for i := range ps {
		ps[i] = person{no: fmt.Sprintf("C%06d", i), name: "山田 花子", active: true, branch: "本店",
			lineUser: linesim.NewUserID(), following: true, consentLine: true}
	}
	e.load(t, ps)
	ctx := context.Background()
	send := func(name string) Campaign {
		d := testDraft()
		d.Name, d.Channels = name, []string{ChannelLine}
		c := e.approved(t, e.svc, d)
		if err := e.svc.Run(ctx, approver, c.ID); err != nil {
			t.Fatal(err)
		}
		return c
	}
	big, small := send("満期のご案内"), send("セミナーのご案内")

	// Each campaign went out under one unit of its own.
	units := map[string]int{}
	for _, p := range ps {
		ds := e.sim.Deliveries(p.lineUser)
		if len(ds) != 4 {
			t.Fatalf("%s got %d messages, want 4", p.no, len(ds))
		}
		for _, d := range ds {
			units[d.Unit]++
		}
	}
	bigUnit, err := insights.UnitOf(ctx, e.db.Reader(), insights.CampaignKey(big.ID))
	if err != nil || bigUnit == "" || units[bigUnit] != 2*friends || len(units) != 2 || units[""] != 0 {
		t.Fatalf("units %v, campaign unit %q (%v)", units, bigUnit, err)
	}

	// Some friends open the first campaign and tap its link; a few open the second.
	reqOf := func(p person, unit string, want bool) string {
		for _, d := range e.sim.Deliveries(p.lineUser) {
			if (d.Unit == unit) == want {
				return d.RequestID
			}
		}
		t.Fatalf("no delivery of %s", p.no)
		return ""
	}
	for i, p := range ps[:opened] {
		ref := reqOf(p, bigUnit, true)
		if err := e.sim.OpenMessage(p.lineUser, ref); err != nil {
			t.Fatal(err)
		}
		if i < clicked {
			if err := e.sim.ClickURL(p.lineUser, ref, newsURL); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, p := range ps[:few] {
		if err := e.sim.OpenMessage(p.lineUser, reqOf(p, bigUnit, false)); err != nil {
			t.Fatal(err)
		}
	}

	// One request an hour, so the hourly allowance is seen at work.
	f, err := insights.New(insights.Config{DB: e.db, Line: e.cl, Clock: simNow, Delay: delay, PerHour: 1})
	if err != nil {
		t.Fatal(err)
	}
	wait := func(id int64) insights.Report {
		t.Helper()
		r, err := e.svc.Insights(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}

	// Before LINE's delay: LINE is not asked, the report says "tomorrow".
	offset.Store(int64(delay / 2))
	if res, err := f.Fetch(ctx); err != nil || res.Asked != 0 {
		t.Fatalf("before the delay: %+v, %v", res, err)
	}
	if r := wait(big.ID); r.Status != insights.StatusWaiting || r.Stats != nil {
		t.Fatalf("before the delay: %+v", r)
	}

	// After it: one unit per hour.
	offset.Store(int64(delay + time.Minute))
	if res, err := f.Fetch(ctx); err != nil || res.Asked != 1 || res.Stored != 1 {
		t.Fatalf("first pass: %+v, %v", res, err)
	}
	if res, err := f.Fetch(ctx); err != nil || res.Asked != 0 {
		t.Fatalf("same hour: %+v, %v (over the hourly allowance)", res, err)
	}
	offset.Store(int64(delay + time.Hour + 2*time.Minute))
	if res, err := f.Fetch(ctx); err != nil || res.Asked != 1 || res.Stored != 1 {
		t.Fatalf("next hour: %+v, %v", res, err)
	}

	r := wait(big.ID)
	if r.Status != insights.StatusReady || r.Final || r.Stats == nil {
		t.Fatalf("big: %+v", r)
	}
	st := r.Stats
	if st.Opened != (insights.Figure{Value: opened}) || st.Clicked != (insights.Figure{Value: clicked}) || !st.Played.Withheld {
		t.Fatalf("big overview %+v", st)
	}
	if len(st.Bubbles) != 2 || st.Bubbles[0].Opened.Value != opened || st.Bubbles[1].Opened.Value != opened {
		t.Fatalf("big bubbles %+v", st.Bubbles)
	}
	if len(st.Links) != 1 || st.Links[0].URL != newsURL || st.Links[0].Seq != 2 || st.Links[0].Clicked != (insights.Figure{Value: clicked}) {
		t.Fatalf("big links %+v", st.Links)
	}
	sr := wait(small.ID)
	if sr.Status != insights.StatusReady || !sr.Stats.Opened.Withheld || sr.Stats.Opened.Value != 0 || !sr.Stats.Clicked.Withheld {
		t.Fatalf("12 people must be withheld: %+v", sr.Stats)
	}

	// The CSV export carries the same figures, and says what is withheld.
	var buf bytes.Buffer
	if _, err := e.svc.ExportReport(ctx, approver, big.ID, &buf, nil); err != nil {
		t.Fatal(err)
	}
	out := strings.ReplaceAll(buf.String(), "\r\n", "\n")
	for _, want := range []string{"\n配信,,,1000,,\n", "\n開封,,,300,,\n", "\nクリック,,,100,,\n", "\nクリック,2," + newsURL + ",100,,\n",
		"\n動画・音声の再生,,,人数が少ないため表示されません,,\n"} {
		if !strings.Contains(out, want) {
			t.Fatalf("export lacks %q:\n%s", want, out[strings.Index(out, "LINE の集計"):])
		}
	}

	// After LINE's 14-day window (and its delay) a last fetch freezes
	// each delivery; it is not asked again.
	offset.Store(int64(insights.Window + delay + 3*time.Hour))
	for range 2 {
		offset.Add(int64(time.Hour + time.Minute))
		if res, err := f.Fetch(ctx); err != nil || res.Asked != 1 || res.Frozen != 1 {
			t.Fatalf("freeze: %+v, %v", res, err)
		}
	}
	offset.Add(int64(insights.DefaultRefetch + time.Hour))
	if res, err := f.Fetch(ctx); err != nil || res.Asked != 0 {
		t.Fatalf("frozen deliveries asked again: %+v, %v", res, err)
	}
	if r := wait(big.ID); !r.Final || r.Stats.Opened.Value != opened {
		t.Fatalf("frozen: %+v", r)
	}
}
