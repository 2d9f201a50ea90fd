package campaign

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"tsunagu/internal/audit"
	"tsunagu/internal/line"
	"tsunagu/internal/linesim"
	"tsunagu/internal/sms"
)

func TestApprovalRules(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.load(t, mixed(30))
	ctx := context.Background()
	c, err := e.svc.Create(ctx, author, testDraft())
	if err != nil {
		t.Fatal(err)
	}
	// Not approved: cannot be sent or scheduled.
	if _, err := e.svc.SendNow(ctx, approver, c.ID); !errors.Is(err, ErrNotApproved) {
		t.Fatalf("send a draft: %v", err)
	}
	if _, err := e.svc.Schedule(ctx, approver, c.ID, "2026-12-01T09:00", ""); !errors.Is(err, ErrNotApproved) {
		t.Fatalf("schedule a draft: %v", err)
	}
	// The author cannot approve.
	if _, err := e.svc.Approve(ctx, author, c.ID, c.Version); !errors.Is(err, ErrOwnApproval) {
		t.Fatalf("author approves: %v", err)
	}
	// An approver who saw an older version cannot approve the new one.
	d := testDraft()
	d.Content.SMS.Text = "変更しました"
	c2, err := e.svc.Update(ctx, author, c.ID, c.Version, d)
	if err != nil || c2.Version != c.Version+1 {
		t.Fatalf("edit: %+v %v", c2, err)
	}
	if _, err := e.svc.Approve(ctx, approver, c.ID, c.Version); !errors.Is(err, ErrStale) {
		t.Fatalf("approve a stale version: %v", err)
	}
	c3, err := e.svc.Approve(ctx, approver, c.ID, c2.Version)
	if err != nil || c3.Status != StatusApproved || !c3.Approved() {
		t.Fatalf("approve: %+v %v", c3, err)
	}
	// Scheduling with a time zone stores the instant.
	c4, err := e.svc.Schedule(ctx, approver, c.ID, "2026-12-01T09:00", "Asia/Tokyo")
	if err != nil || c4.Status != StatusScheduled || time.UnixMilli(c4.ScheduledAt).UTC() != time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) {
		t.Fatalf("schedule: %+v %v", c4, err)
	}
	if _, err := e.svc.Schedule(ctx, approver, c.ID, "2026-11-01T09:00", ""); !errors.Is(err, ErrPast) {
		t.Fatalf("schedule in the past: %v", err)
	}
	// Any edit after approval resets it, and the schedule with it.
	c5, err := e.svc.Update(ctx, approver, c.ID, c4.Version, d)
	if err != nil || c5.Status != StatusDraft || c5.Approved() || c5.ApprovedBy != "" || c5.ScheduledAt != 0 {
		t.Fatalf("edit after approval: %+v %v", c5, err)
	}
	if _, err := e.svc.SendNow(ctx, approver, c.ID); !errors.Is(err, ErrNotApproved) {
		t.Fatalf("send after an edit: %v", err)
	}
	// The editor (approver) is not the author: they may approve now; the
	// author rule is about who wrote the campaign, not who edited last.
	if _, err := e.svc.Approve(ctx, author, c.ID, c5.Version); !errors.Is(err, ErrOwnApproval) {
		t.Fatalf("author approves after someone else's edit: %v", err)
	}
	// Cancel before start; nothing may happen to a cancelled campaign.
	if _, err := e.svc.Cancel(ctx, author, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Approve(ctx, approver, c.ID, c5.Version); !errors.Is(err, ErrState) {
		t.Fatalf("approve a cancelled campaign: %v", err)
	}
	if _, err := e.svc.Update(ctx, author, c.ID, c5.Version, d); !errors.Is(err, ErrState) {
		t.Fatalf("edit a cancelled campaign: %v", err)
	}
	// Everything was audited.
	entries, err := audit.List(ctx, e.db.Reader(), audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, en := range entries {
		seen[en.Action]++
	}
	for _, a := range []string{ActionCreate, ActionEdit, ActionApprove, ActionSchedule, ActionCancel} {
		if seen[a] == 0 {
			t.Errorf("no %s audit entry (have %v)", a, seen)
		}
	}
}

func TestContentValidation(t *testing.T) {
	six := make([]LineMessage, 6)
	for i := range six {
		six[i] = LineMessage{Kind: "text", Text: "x"}
	}
	for _, tt := range []struct {
		name string
		c    Content
		ch   []string
		ok   bool
	}{
		{"text", Content{Line: []LineMessage{{Kind: "text", Text: "こんにちは {氏名} 様"}}}, []string{ChannelLine}, true},
		{"six messages", Content{Line: six}, []string{ChannelLine}, false},
		{"no messages", Content{}, []string{ChannelLine}, false},
		{"image", Content{Line: []LineMessage{{Kind: "image", ImageURL: "https://example.jp/a.jpg"}}}, []string{ChannelLine}, true},
		{"image over http", Content{Line: []LineMessage{{Kind: "image", ImageURL: "http://example.jp/a.jpg"}}}, []string{ChannelLine}, false},
		{"maturity flex", Content{Line: []LineMessage{{Kind: "flex", Template: "maturity", Fields: map[string]string{"product": "定期預金", "date": "2027年1月10日", "body": "{氏名} 様、お手続きのご案内です。"}}}}, []string{ChannelLine}, true},
		{"seminar flex", Content{Line: []LineMessage{{Kind: "flex", Template: "seminar", Fields: map[string]string{"title": "相続セミナー", "date": "12/5 14:00", "place": "本店2階"}}}}, []string{ChannelLine}, true},
		{"flex missing field", Content{Line: []LineMessage{{Kind: "flex", Template: "maturity", Fields: map[string]string{"product": "定期預金"}}}}, []string{ChannelLine}, false},
		{"unknown template", Content{Line: []LineMessage{{Kind: "flex", Template: "coupon"}}}, []string{ChannelLine}, false},
		{"email", Content{Email: Email{Subject: "件名", Text: "本文"}}, []string{ChannelEmail}, true},
		{"email subject with newline", Content{Email: Email{Subject: "a\nBcc: x", Text: "本文"}}, []string{ChannelEmail}, false},
		{"sms", Content{SMS: SMS{Text: "短いお知らせ"}}, []string{ChannelSMS}, true},
		{"sms too long", Content{SMS: SMS{Text: strings.Repeat("長", SMSMultiPart*SMSMaxParts+1)}}, []string{ChannelSMS}, false},
		{"click tag", Content{SMS: SMS{Text: "x"}, ClickTag: "関心あり"}, []string{ChannelSMS}, true},
		{"click tag on two lines", Content{SMS: SMS{Text: "x"}, ClickTag: "関心\nあり"}, []string{ChannelSMS}, false},
		{"click tag too long", Content{SMS: SMS{Text: "x"}, ClickTag: strings.Repeat("長", MaxClickTag+1)}, []string{ChannelSMS}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.c.Validate(tt.ch)
			if (err == nil) != tt.ok {
				t.Fatalf("Validate = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

func TestMeasureSMS(t *testing.T) {
	for _, tt := range []struct {
		text  string
		parts int
		ucs2  bool
	}{
		{strings.Repeat("a", 160), 1, false},
		{strings.Repeat("a", 161), 2, false},
		{strings.Repeat("あ", 70), 1, true},
		{strings.Repeat("あ", 71), 2, true},
		{strings.Repeat("あ", 134), 2, true},
		{strings.Repeat("あ", 135), 3, true},
		{"😀" + strings.Repeat("あ", 69), 2, true}, // the emoji takes two UCS-2 units
	} {
		l := MeasureSMS(tt.text)
		if l.Parts != tt.parts || l.UCS2 != tt.ucs2 {
			t.Errorf("MeasureSMS(%d chars) = %+v, want %d parts, ucs2 %v", len([]rune(tt.text)), l, tt.parts, tt.ucs2)
		}
	}
}

// The headline test: 10,000 customers in mixed states go out on LINE
// (simulator, real SDK client), email (go-smtp on loopback, STARTTLS, AUTH)
// and SMS (webhook); every consenting reachable customer is served exactly
// once and nobody else is contacted.
func TestTenThousandMixedCustomersExactlyOnce(t *testing.T) {
	n := 10_000
	if testing.Short() {
		n = 2_000
	}
	e := newEnv(t, envOptions{latency: 2 * time.Millisecond})
	ps := mixed(n)
	e.load(t, ps)
	ctx := context.Background()
	c := e.approved(t, e.svc, testDraft())

	plan, err := e.svc.Plan(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantLine, wantEmail, wantSMS, wantSkipped := expect(ps)
	if plan.Line != len(wantLine) || plan.Email != len(wantEmail) || plan.SMS != len(wantSMS) {
		t.Fatalf("plan %+v; want line %d email %d sms %d", plan, len(wantLine), len(wantEmail), len(wantSMS))
	}
	// A few distinct names: LINE recipients form one group per name, sent as multicasts.
	names := map[string]bool{}
	for _, p := range ps {
		if wantLine[p.lineUser] {
			names[p.name] = true
		}
	}
	if plan.LineGroups != len(names) || plan.QuotaNeed != int64(2*len(wantLine)) {
		t.Fatalf("plan groups %d quota %d", plan.LineGroups, plan.QuotaNeed)
	}
	if err := e.svc.Run(ctx, approver, c.ID); err != nil {
		t.Fatal(err)
	}
	got, _ := e.svc.Get(ctx, c.ID)
	if got.Status != StatusDone {
		t.Fatalf("status %s (%s)", got.Status, got.Error)
	}
	e.assertExactlyOnce(t, ps, false)

	rep, err := e.svc.Report(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	skipped := 0
	for _, v := range rep.Skipped {
		skipped += v
	}
	if skipped != wantSkipped || rep.Skipped[SkipInactive] == 0 || rep.Skipped[SkipNoConsent] == 0 || rep.Skipped[SkipDuplicate] == 0 ||
		rep.Skipped[SkipBlocked]+rep.Skipped[SkipNoContact] == 0 {
		t.Fatalf("skipped %v (total %d, want %d)", rep.Skipped, skipped, wantSkipped)
	}
	for _, ch := range rep.Channels {
		if ch.Sent != ch.Planned || ch.Failed+ch.Pending+ch.Uncertain != 0 {
			t.Fatalf("channel report %+v", ch)
		}
	}
	if rep.LineRequests != rep.LineSent || len(rep.Timeline) == 0 {
		t.Fatalf("report %+v", rep)
	}
	// Multicasts of at most 500, each with a stored retry key.
	for _, r := range e.sim.Requests() {
		if r.Endpoint == linesim.EndpointMulticast && r.RetryKey == "" {
			t.Fatal("a multicast without a retry key")
		}
	}
	var over int
	e.db.Reader().QueryRow(`SELECT count(*) FROM campaign_line_requests WHERE recipient_count > 500`).Scan(&over)
	if over != 0 {
		t.Fatalf("%d requests over 500 recipients", over)
	}

	// Running again sends nothing more.
	if err := e.svc.Run(ctx, approver, c.ID); err != nil {
		t.Fatal(err)
	}
	e.assertExactlyOnce(t, ps, false)

	// The CSV export is complete and defused.
	var buf bytes.Buffer
	rows, err := e.svc.ExportReport(ctx, approver, c.ID, &buf, nil)
	if err != nil || rows != rep.Matched {
		t.Fatalf("export: %d rows, %v (want %d)", rows, err, rep.Matched)
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(buf.String(), "\uFEFF"))).ReadAll()
	// The recipients, then the LINE block: nothing fetched from LINE yet.
	if err != nil || len(recs) != rows+1+5 || recs[0][0] != "顧客番号" {
		t.Fatalf("CSV: %d records, %v", len(recs), err)
	}
	if got := recs[rows+1:]; got[1][0] != csvLineTitle || got[3][0] != "配信" || got[3][3] != strconv.Itoa(len(wantLine)) || got[4][0] != csvLineWaiting {
		t.Fatalf("CSV LINE block: %q", got)
	}
}

// assertExactlyOnce checks the servers: every expected LINE user got each
// message once, every expected address/number one email/SMS, nobody else
// anything. With uncertainOK, an email whose row is 'uncertain' may be
// missing (it was never sent) but never doubled.
func (e *env) assertExactlyOnce(t *testing.T, ps []person, uncertainOK bool) {
	t.Helper()
	wantLine, wantEmail, wantSMS, _ := expect(ps)
	for _, p := range ps {
		if p.lineUser == "" {
			continue
		}
		n := len(e.sim.Deliveries(p.lineUser))
		if want := map[bool]int{true: 2, false: 0}[wantLine[p.lineUser]]; n != want {
			t.Fatalf("LINE user of %s got %d messages, want %d", p.no, n, want)
		}
	}
	perAddr := map[string]int{}
	for _, m := range e.smtp.Messages() {
		for _, to := range m.To {
			perAddr[to]++
		}
	}
	uncertain := map[string]bool{}
	rows, err := e.db.Reader().Query(`SELECT address FROM campaign_recipients WHERE channel = 'email' AND status = 'uncertain'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var a string
		rows.Scan(&a)
		uncertain[a] = true
	}
	rows.Close()
	for addr, n := range perAddr {
		if n != 1 || !wantEmail[addr] {
			t.Fatalf("%s got %d emails (expected recipient: %v)", addr, n, wantEmail[addr])
		}
	}
	for addr := range wantEmail {
		if perAddr[addr] == 0 && !(uncertainOK && uncertain[addr]) {
			t.Fatalf("%s got no email", addr)
		}
	}
	got := e.sms.counts()
	for num, n := range got {
		if n != 1 || !wantSMS[num] {
			t.Fatalf("%s got %d SMS (expected: %v)", num, n, wantSMS[num])
		}
	}
	if len(got) != len(wantSMS) {
		t.Fatalf("%d numbers got an SMS, want %d", len(got), len(wantSMS))
	}
}

func TestQuotaRefusedWithNumbers(t *testing.T) {
	e := newEnv(t, envOptions{sim: linesim.Config{MonthlyQuota: 10}})
	ps := mixed(60)
	e.load(t, ps)
	ctx := context.Background()
	c := e.approved(t, e.svc, testDraft())
	_, err := e.svc.SendNow(ctx, approver, c.ID)
	var qe *QuotaError
	if !errors.As(err, &qe) || !errors.Is(err, ErrQuota) || qe.Left != 10 || qe.Limit != 10 || qe.Need <= 10 {
		t.Fatalf("SendNow = %v, want a QuotaError with the numbers", err)
	}
	plan, err := e.svc.Plan(ctx, c.ID)
	if err != nil || !plan.QuotaChecked || plan.QuotaLeft != 10 || plan.QuotaNeed != qe.Need {
		t.Fatalf("plan %+v %v", plan, err)
	}
	got, _ := e.svc.Get(ctx, c.ID)
	if got.Status != StatusApproved || len(e.sim.Requests()) > 4 {
		t.Fatalf("refused campaign: status %s, %d LINE requests", got.Status, len(e.sim.Requests()))
	}
	if n := len(e.smtp.Messages()); n != 0 {
		t.Fatalf("%d emails sent by a refused campaign", n)
	}
}

func TestPauseAndResume(t *testing.T) {
	e := newEnv(t, envOptions{latency: 20 * time.Millisecond})
	ps := mixed(600)
	e.load(t, ps)
	ctx := context.Background()
	d := testDraft()
	d.Content.Line[0].Text = "{氏名} 様 {支店}からのお知らせです"
	// One name per customer: every LINE recipient is their own push.
	e.db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE customers SET name = 'お客様' || id`)
		return err
	})
	c := e.approved(t, e.svc, d)
	if _, err := e.svc.SendNow(ctx, approver, c.ID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(60 * time.Millisecond)
	if _, err := e.svc.Pause(ctx, author, c.ID); err != nil {
		t.Fatal(err)
	}
	e.svc.Close() // waits for the run to stop
	paused, _ := e.svc.Get(ctx, c.ID)
	rep, _ := e.svc.Report(ctx, c.ID)
	if paused.Status != StatusPaused || rep.LinePending == 0 {
		t.Fatalf("after pause: status %s, report %+v", paused.Status, rep)
	}
	// A paused campaign is not picked up by the scheduler's resume.
	svc := e.service(t, e.db, nil)
	svc.Tick(ctx, true)
	svc.Close()
	if again, _ := e.svc.Report(ctx, c.ID); again.LinePending != rep.LinePending {
		t.Fatalf("paused campaign continued: %+v", again)
	}
	svc = e.service(t, e.db, nil)
	if _, err := svc.Resume(ctx, approver, c.ID); err != nil {
		t.Fatal(err)
	}
	waitDone(t, svc, c.ID)
	e.assertExactlyOnce(t, ps, false)
}

func TestScheduledCampaignStartsWhenDue(t *testing.T) {
	e := newEnv(t, envOptions{})
	ps := mixed(40)
	e.load(t, ps)
	ctx := context.Background()
	c := e.approved(t, e.svc, testDraft())
	if _, err := e.svc.Schedule(ctx, approver, c.ID, "2026-11-25T19:30", "Asia/Tokyo"); err != nil { // 10:30 UTC
		t.Fatal(err)
	}
	e.svc.Tick(ctx, false)
	if got, _ := e.svc.Get(ctx, c.ID); got.Status != StatusScheduled {
		t.Fatalf("started early: %s", got.Status)
	}
	e.now = e.now.Add(31 * time.Minute)
	e.svc.Tick(ctx, false)
	waitDone(t, e.svc, c.ID)
	e.assertExactlyOnce(t, ps, false)
}

func TestConsentIsEnforcedWhateverTheRules(t *testing.T) {
	e := newEnv(t, envOptions{})
	ps := mixed(200)
	e.load(t, ps)
	ctx := context.Background()
	d := testDraft()
	// Rules that explicitly select customers WITHOUT consent.
	d.Rules.Children = append(d.Rules.Children, segmentNoConsent())
	c := e.approved(t, e.svc, d)
	if err := e.svc.Run(ctx, approver, c.ID); err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if p.lineUser != "" && !p.consentLine && len(e.sim.Deliveries(p.lineUser)) > 0 {
			t.Fatalf("%s got LINE without consent", p.no)
		}
	}
	consenting := map[string]bool{}
	for _, p := range ps {
		if p.consentEmail && p.email != "" {
			consenting[p.email] = true
		}
	}
	for _, m := range e.smtp.Messages() {
		for _, to := range m.To {
			if !consenting[to] {
				t.Fatalf("%s got email, but nobody with that address consented", to)
			}
		}
	}
	var bad int
	e.db.Reader().QueryRow(`SELECT count(*) FROM campaign_recipients r WHERE r.channel <> 'none' AND NOT EXISTS (
		SELECT 1 FROM consents k WHERE k.customer_id = r.customer_id AND k.channel = r.channel AND k.granted = 1)`).Scan(&bad)
	if bad != 0 {
		t.Fatalf("%d recipients on a channel without consent", bad)
	}
}

func TestNotifierSendsOncePerKey(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	n := NewNotifier(e.db, e.mailer, e.smsSender, e.clock)
	for range 3 {
		if err := n.SendEmail(ctx, "hanako@example.jp", "連携コード", "コード: 123456", "link-1"); err != nil {
			t.Fatal(err)
		}
		if err := n.SendSMS(ctx, "090-1111-2222", "コード: 123456", "link-1-sms"); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(e.smtp.Messages()); got != 1 {
		t.Fatalf("%d emails for one key", got)
	}
	if got := e.sms.counts()["+819011112222"]; got != 1 {
		t.Fatalf("%d SMS for one key", got)
	}
	// An interrupted send (left 'sending') is reported, not resent.
	e.db.Writer().Exec(`INSERT INTO notifications (idem_key, channel, status, created_at) VALUES ('link-2', 'email', 'sending', 0)`)
	if err := n.SendEmail(ctx, "hanako@example.jp", "s", "t", "link-2"); !errors.Is(err, ErrNotifyUncertain) {
		t.Fatalf("uncertain key: %v", err)
	}
	if _, err := sms.E164("090-1111-2222"); err != nil {
		t.Fatal(err)
	}
}

var _ = line.MaxMessages

func waitDone(t *testing.T, svc *Service, id int64) {
	t.Helper()
	// A hang detector, not a speed target (that is Benchmark_campaign_100k):
	// 3,000 recipients under -race on a loaded 2-core machine took over 30 s.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		got, _ := svc.Get(context.Background(), id)
		if got.Status == StatusDone {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not done: %+v", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestErasingACustomerRemovesTheirDeliveryRows(t *testing.T) {
	e := newEnv(t, envOptions{})
	ps := mixed(40)
	e.load(t, ps)
	ctx := context.Background()
	c := e.approved(t, e.svc, testDraft())
	if err := e.svc.Run(ctx, approver, c.ID); err != nil {
		t.Fatal(err)
	}
	count := func(id int64) (n int) {
		e.db.Reader().QueryRow(`SELECT count(*) FROM campaign_recipients WHERE customer_id = ?`, id).Scan(&n)
		return n
	}
	if count(ps[2].id) != 1 {
		t.Fatal("no delivery row to erase")
	}
	if _, err := e.db.Writer().Exec(`DELETE FROM customers WHERE id = ?`, ps[2].id); err != nil {
		t.Fatal(err)
	}
	if n := count(ps[2].id); n != 0 {
		t.Fatalf("%d delivery rows left after erasure", n)
	}
	if n := count(ps[3].id); n != 1 {
		t.Fatalf("another customer's row went too: %d", n)
	}
}
