package campaign

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"tsunagu/internal/segment"
)

func TestPackIDs(t *testing.T) {
	for _, ids := range [][]int64{
		nil,
		{1},
		{1, 2, 3, 4},
		{7, 300, 301, 1 << 20, 1<<40 + 5},
	} {
		got, err := unpackIDs(packIDs(ids))
		if err != nil || !slices.Equal(got, ids) {
			t.Errorf("round trip of %v = %v, %v", ids, got, err)
		}
	}
	if _, err := unpackIDs([]byte{0x80}); err == nil {
		t.Error("a truncated varint was accepted")
	}
}

// Expanded in chunks of 50 to 120 customers, a campaign stores what its
// plan said: the same channels and skips, and LINE requests as full as one
// transaction would have made them (recipients of a group carried across
// chunks until 500 are together).
func TestExpansionInChunksMatchesThePlan(t *testing.T) {
	e := newEnv(t, envOptions{})
	ps := mixed(3000)
	e.load(t, ps)
	ctx := context.Background()
	// Two names: two LINE groups of ~600 recipients each.
	if _, err := e.db.Writer().Exec(`UPDATE customers SET name = CASE id % 2 WHEN 0 THEN '山田 花子' ELSE '佐藤 太郎' END`); err != nil {
		t.Fatal(err)
	}
	svc := e.service(t, e.db, nil)
	svc.firstChunk, svc.maxChunk = 50, 120
	c := e.approved(t, svc, testDraft())
	want, err := svc.Plan(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want.LineGroups != 2 || want.LineRequests != 4 {
		t.Fatalf("plan %+v: want 2 groups in 4 requests", want)
	}
	if err := svc.Run(ctx, approver, c.ID); err != nil {
		t.Fatal(err)
	}
	got, err := svc.Plan(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	want.QuotaChecked, want.QuotaLimited, want.QuotaLeft, want.QuotaLimit, want.QuotaError = false, false, 0, 0, ""
	if got.Matched != want.Matched || got.Line != want.Line || got.Email != want.Email || got.SMS != want.SMS ||
		!maps(got.Skipped, want.Skipped) || got.LineGroups != want.LineGroups || got.LineRequests != want.LineRequests || got.QuotaNeed != want.QuotaNeed {
		t.Fatalf("stored plan %+v\nwant %+v", got, want)
	}
	e.assertExactlyOnce(t, ps, false)
	var blob []byte
	var expanded bool
	if err := e.db.Reader().QueryRow(`SELECT customer_ids, expanded_at IS NOT NULL FROM campaign_targets WHERE campaign_id = ?`, c.ID).Scan(&blob, &expanded); err != nil || !expanded || len(blob) != 0 {
		t.Fatalf("snapshot after the expansion: %d bytes, expanded %v, %v", len(blob), expanded, err)
	}
}

func maps(a, b map[string]int) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}

// A channel that is not set up refuses a campaign only if a recipient
// needs it, and then before anything is written.
func TestMissingChannelRefusesOnlyWhenNeeded(t *testing.T) {
	e := newEnv(t, envOptions{noSMTP: true})
	ps := mixed(300)
	e.load(t, ps)
	ctx := context.Background()
	d := testDraft()
	d.Channels = []string{ChannelLine, ChannelEmail}
	c := e.approved(t, e.svc, d)
	if _, err := e.svc.SendNow(ctx, approver, c.ID); !errors.Is(err, ErrNoMailer) {
		t.Fatalf("SendNow without a mailer = %v", err)
	}
	var targets, rows int
	e.db.Reader().QueryRow(`SELECT (SELECT count(*) FROM campaign_targets), (SELECT count(*) FROM campaign_recipients)`).Scan(&targets, &rows)
	if got, _ := e.svc.Get(ctx, c.ID); got.Status != StatusApproved || targets != 0 || rows != 0 {
		t.Fatalf("refused campaign: status %s, %d snapshots, %d rows", got.Status, targets, rows)
	}
	// Only LINE-reachable customers: nobody needs email, so it goes.
	d.Rules = segment.Node{Op: "and", Children: []segment.Node{
		{Cond: &segment.Condition{Kind: segment.KindLine, Value: "following"}},
		{Cond: &segment.Condition{Kind: segment.KindConsent, Value: "line"}},
		{Cond: &segment.Condition{Kind: segment.KindField, Field: "status", Cmp: "eq", Value: "active"}},
	}}
	c2 := e.approved(t, e.svc, d)
	if err := e.svc.Run(ctx, approver, c2.ID); err != nil {
		t.Fatal(err)
	}
	rep, err := e.svc.Report(ctx, c2.ID)
	if err != nil || rep.Status != StatusDone || rep.Channels[0].Sent == 0 || rep.Channels[1].Planned != 0 {
		t.Fatalf("LINE-only audience: %+v, %v", rep, err)
	}
}

// A campaign paused while its snapshot is still being expanded stops
// expanding too; resumed, it expands the rest and serves everyone once.
func TestPauseDuringExpansion(t *testing.T) {
	e := newEnv(t, envOptions{latency: 5 * time.Millisecond})
	ps := mixed(3000)
	e.load(t, ps)
	ctx := context.Background()
	svc := e.service(t, e.db, nil)
	svc.firstChunk, svc.maxChunk = 20, 20
	c := e.approved(t, svc, testDraft())
	if _, err := svc.SendNow(ctx, approver, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Pause(ctx, author, c.ID); err != nil {
		t.Fatal(err)
	}
	svc.Close()
	count := func() (rows int, expanded bool) {
		e.db.Reader().QueryRow(`SELECT (SELECT count(*) FROM campaign_recipients WHERE campaign_id = ?),
			(SELECT expanded_at IS NOT NULL FROM campaign_targets WHERE campaign_id = ?)`, c.ID, c.ID).Scan(&rows, &expanded)
		return
	}
	rows, expanded := count()
	if expanded || rows == 0 {
		t.Fatalf("after the pause: %d rows, expanded %v; want a part", rows, expanded)
	}
	rep, err := svc.Report(ctx, c.ID)
	if err != nil || rep.Status != StatusPaused || rep.Matched <= rows {
		t.Fatalf("report while paused: %+v, %v (%d rows)", rep, err, rows)
	}
	// Nothing more is written while it is paused.
	svc2 := e.service(t, e.db, nil)
	svc2.Tick(ctx, true)
	svc2.Close()
	if again, _ := count(); again != rows {
		t.Fatalf("paused campaign kept expanding: %d rows, then %d", rows, again)
	}
	svc3 := e.service(t, e.db, nil)
	svc3.firstChunk, svc3.maxChunk = 20, 200
	if _, err := svc3.Resume(ctx, approver, c.ID); err != nil {
		t.Fatal(err)
	}
	waitDone(t, svc3, c.ID)
	e.assertExactlyOnce(t, ps, false)
	if rows, expanded := count(); !expanded || rows != rep.Matched {
		t.Fatalf("after resuming: %d rows, expanded %v; want %d", rows, expanded, rep.Matched)
	}
}
