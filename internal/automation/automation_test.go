package automation

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"tsunagu/internal/campaign"
	"tsunagu/internal/inbox"
	"tsunagu/internal/linesim"
)

func TestMonthDaysLeapYears(t *testing.T) {
	for _, tc := range []struct {
		d    day
		want []string
	}{
		{day{2027, time.February, 28}, []string{"02-28", "02-29"}}, // not a leap year: the 29th is kept on the 28th
		{day{2028, time.February, 28}, []string{"02-28"}},
		{day{2028, time.February, 29}, []string{"02-29"}},
		{day{2100, time.February, 28}, []string{"02-28", "02-29"}}, // century, not a leap year
		{day{2000, time.February, 28}, []string{"02-28"}},
		{day{2027, time.March, 1}, []string{"03-01"}},
	} {
		got := monthDays(tc.d)
		if len(got) != len(tc.want) || got[0] != tc.want[0] || len(got) == 2 && got[1] != tc.want[1] {
			t.Errorf("monthDays(%s) = %v, want %v", tc.d, got, tc.want)
		}
	}
}

// 1,000 customers with maturity dates across 60 days; the clock runs hour
// by hour through the 60 days and each reminder goes out exactly once, on
// the right local day. The send time 08:30 in Tokyo is 23:30 UTC of the day
// before, so a UTC calendar would put every send on the wrong day.
func TestSixtyDaysOfRemindersExactlyOnce(t *testing.T) {
	start := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC) // 21:00 in Tokyo
	e := newEnv(t, start, true)
	ps := make([]person, 1000)
	for i := range ps {
		p := person{no: custNo(i), consent: i%10 != 3, maturesOn: dateIn(start, 8+i%60)}
		switch {
		case i%3 != 0:
			p.lineUser = linesim.NewUserID()
		case i%9 == 0:
			// Neither LINE nor email: skipped, no_contact.
		default:
			p.email = "c" + custNo(i)[1:] + "@example.jp"
		}
		ps[i] = p
	}
	e.load(t, ps)
	r := e.active(t, reminderDraft("満期7日前", -7, "08:30"))

	// The preview before running agrees with what is then sent.
	pv, err := e.svc.PreviewRule(context.Background(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	for e.clock.now().Before(start.Add(62 * 24 * time.Hour)) {
		e.clock.add(time.Hour)
		e.tick(t)
	}
	occ := e.occurrences(t, r.ID)
	if len(occ) != len(ps) {
		t.Fatalf("%d occurrences, want %d", len(occ), len(ps))
	}
	emails := map[string]int{}
	for _, m := range e.smtp.Messages() {
		for _, to := range m.To {
			emails[to]++
		}
	}
	var nLine, nEmail, inFirst30 int
	for _, p := range ps {
		o := occ[p.id]
		if o.occurs != p.maturesOn {
			t.Fatalf("%s: occurrence of %s, want %s", p.no, o.occurs, p.maturesOn)
		}
		want := "sent"
		switch {
		case !p.consent && (p.lineUser != "" || p.email != ""):
			want = "skipped"
			if o.reason != SkipNoConsent {
				t.Fatalf("%s: reason %q, want no_consent", p.no, o.reason)
			}
		case p.lineUser == "" && p.email == "":
			want = "skipped"
		}
		if o.status != want {
			t.Fatalf("%s: status %s (%s), want %s", p.no, o.status, o.reason, want)
		}
		deliveries := len(e.sim.Deliveries(p.lineUser))
		if p.lineUser == "" {
			deliveries = 0
		}
		got := deliveries + emails[p.email]
		if want == "sent" {
			if got != 1 {
				t.Fatalf("%s: %d messages, want exactly 1", p.no, got)
			}
			sendDay := time.UnixMilli(o.sentAt).In(tokyo).Format("2006-01-02")
			mat, _ := time.ParseInLocation("2006-01-02", p.maturesOn, tokyo)
			if wantDay := mat.AddDate(0, 0, -7).Format("2006-01-02"); sendDay != wantDay {
				t.Fatalf("%s: sent on %s (Tokyo), want %s", p.no, sendDay, wantDay)
			}
			if o.channel == "line" {
				nLine++
			} else {
				nEmail++
			}
			if sendDay < dateIn(start, PreviewDays) { // the preview's days are today and the 29 after
				inFirst30++
			}
		} else if got != 0 {
			t.Fatalf("%s: %d messages, want none", p.no, got)
		}
	}
	if pv.Line+pv.Email != inFirst30 {
		t.Errorf("preview said %d LINE + %d email in 30 days, %d were sent", pv.Line, pv.Email, inFirst30)
	}
	// Nothing more is due: another pass sends nothing.
	if res := e.tick(t); res.Sent != 0 {
		t.Fatalf("a further pass sent %d", res.Sent)
	}
	// LINE's statistics: every LINE message went out under the reminder's
	// one unit for the JST month it was sent in (December and January).
	unitOf := map[string]string{}
	for _, p := range ps {
		o := occ[p.id]
		if p.lineUser == "" || o.status != "sent" || o.channel != "line" {
			continue
		}
		m := time.UnixMilli(o.sentAt).In(tokyo).Format("200601")
		ds := e.sim.Deliveries(p.lineUser)
		if len(ds) != 1 || !strings.HasPrefix(ds[0].Unit, "a"+strconv.FormatInt(r.ID, 10)+"_"+m+"_") {
			t.Fatalf("%s: sent in %s under unit %+v", p.no, m, ds)
		}
		if u, ok := unitOf[m]; ok && u != ds[0].Unit {
			t.Fatalf("two units in %s: %s and %s", m, u, ds[0].Unit)
		}
		unitOf[m] = ds[0].Unit
	}
	if len(unitOf) != 2 {
		t.Fatalf("units by month %v, want one for each of 2 months", unitOf)
	}
	t.Logf("sent %d by LINE and %d by email over 60 days", nLine, nEmail)
}

// The app closed across a send time catches up within the lateness and
// skips (recording why) what is later than that or whose date has passed.
func TestCatchUpAndStale(t *testing.T) {
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) // 09:00 Tokyo, Dec 1
	e := newEnv(t, start, false)
	ps := []person{
		{no: "A", lineUser: linesim.NewUserID(), consent: true, maturesOn: "2026-12-09"}, // reminder Dec 2 10:00
		{no: "B", lineUser: linesim.NewUserID(), consent: true, maturesOn: "2026-12-10"}, // reminder Dec 3 10:00
		{no: "C", lineUser: linesim.NewUserID(), consent: true, maturesOn: "2026-12-05"}, // day-before rule: Dec 4 10:00
		{no: "D", lineUser: linesim.NewUserID(), consent: true, maturesOn: "2026-12-06"}, // day-before rule: Dec 5 10:00
	}
	e.load(t, ps)
	week := e.active(t, reminderDraft("満期7日前", -7, "10:00"))
	dayBefore := reminderDraft("満期前日", -1, "10:00")
	dayBefore.Spec.LatenessMinutes = 72 * 60
	eve := e.active(t, dayBefore)

	at := func(s string) time.Time { tm, _ := time.ParseInLocation("2006-01-02 15:04", s, tokyo); return tm }
	// Closed over Dec 2 10:00, opened at 15:00: 5 h late, within 6 h.
	e.clock.set(at("2026-12-02 15:00"))
	e.tick(t)
	// Closed over Dec 3 10:00, opened at 17:00: 7 h late, skipped.
	e.clock.set(at("2026-12-03 17:00"))
	e.tick(t)
	// Closed from Dec 3 until Dec 6 09:00: C's maturity (Dec 5) has passed,
	// skipped though within the 72 h lateness; D's reminder (Dec 5 10:00,
	// 23 h late) still comes before its date.
	e.clock.set(at("2026-12-06 09:00"))
	e.tick(t)

	o1, o2 := e.occurrences(t, week.ID), e.occurrences(t, eve.ID)
	check := func(o occRow, status, reason string, p person) {
		t.Helper()
		if o.status != status || o.reason != reason {
			t.Errorf("%s: %s/%q, want %s/%q", p.no, o.status, o.reason, status, reason)
		}
		want := map[string]int{"sent": 1}[status]
		if n := len(e.sim.Deliveries(p.lineUser)); n != want {
			t.Errorf("%s: %d deliveries, want %d", p.no, n, want)
		}
	}
	check(o1[ps[0].id], "sent", "", ps[0])
	check(o1[ps[1].id], "skipped", SkipLate, ps[1])
	check(o2[ps[2].id], "skipped", SkipDatePassed, ps[2])
	check(o2[ps[3].id], "sent", "", ps[3])
	if _, ok := o2[ps[0].id]; ok {
		t.Error("the day-before rule sent A, whose date is not before Dec 6")
	}
}

func TestApprovalRules(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), false)
	r, err := e.svc.Create(ctx, author, reminderDraft("誕生日", 0, "09:00"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Activate(ctx, approver, r.ID); !errors.Is(err, ErrNotApproved) {
		t.Fatalf("activate unapproved: %v", err)
	}
	if _, err := e.svc.Approve(ctx, author, r.ID, r.Version); !errors.Is(err, ErrOwnApproval) {
		t.Fatalf("author approval: %v", err)
	}
	if _, err := e.svc.Approve(ctx, approver, r.ID, r.Version+1); !errors.Is(err, ErrStale) {
		t.Fatalf("approval of another version: %v", err)
	}
	if r, err = e.svc.Approve(ctx, approver, r.ID, r.Version); err != nil || !r.Approved() {
		t.Fatalf("approve: %v %+v", err, r)
	}
	if r, err = e.svc.Activate(ctx, approver, r.ID); err != nil || r.Status != StatusActive {
		t.Fatalf("activate: %v", err)
	}
	// Any edit withdraws the approval and pauses the rule.
	d := reminderDraft("誕生日", 0, "10:00")
	if r, err = e.svc.Update(ctx, approver, r.ID, r.Version, d); err != nil {
		t.Fatal(err)
	}
	if r.Approved() || r.Status != StatusPaused {
		t.Fatalf("after edit: approved %v status %s", r.Approved(), r.Status)
	}
	if _, err := e.svc.Activate(ctx, approver, r.ID); !errors.Is(err, ErrNotApproved) {
		t.Fatalf("activate after edit: %v", err)
	}
	// The editor is not the author, but the author still cannot approve.
	if _, err := e.svc.Approve(ctx, author, r.ID, r.Version); !errors.Is(err, ErrOwnApproval) {
		t.Fatalf("author approval after edit: %v", err)
	}
	if r, err = e.svc.Approve(ctx, approver, r.ID, r.Version); err != nil {
		t.Fatal(err)
	}
	if r, err = e.svc.Activate(ctx, approver, r.ID); err != nil {
		t.Fatal(err)
	}
	if r, err = e.svc.Pause(ctx, approver, r.ID); err != nil || r.Status != StatusPaused {
		t.Fatalf("pause: %v", err)
	}
	if err := e.svc.Delete(ctx, approver, r.ID); err != nil {
		t.Fatal(err)
	}
	// Every step was audited.
	var n int
	e.db.Reader().QueryRow(`SELECT count(*) FROM audit_log WHERE action LIKE 'automation.%'`).Scan(&n)
	if n != 8 {
		t.Errorf("%d audit entries, want 8", n)
	}
	// Invalid drafts.
	for name, d := range map[string]Draft{
		"no name":   {Kind: KindDate, Spec: reminderDraft("x", 0, "09:00").Spec},
		"bad time":  reminderDraft("x", 0, "9:00"),
		"bad field": {Name: "x", Kind: KindDate, Spec: Spec{Field: "x", At: "09:00", Channels: []string{"line"}}},
		"no steps":  {Name: "x", Kind: KindWelcome},
		"lateness":  {Name: "x", Kind: KindDate, Spec: Spec{Field: FieldBirthday, At: "09:00", LatenessMinutes: 10000}},
	} {
		if _, err := e.svc.Create(ctx, author, d); err == nil {
			t.Errorf("%s: created", name)
		}
	}
}

// Birthdays (29 February kept on the 28th) and contract anniversaries.
func TestYearlyFields(t *testing.T) {
	start := time.Date(2027, 2, 27, 12, 0, 0, 0, time.UTC) // 21:00 Tokyo, Feb 27 2027 (not a leap year)
	e := newEnv(t, start, false)
	ps := []person{
		{no: "leap", lineUser: linesim.NewUserID(), consent: true, birthDate: "1988-02-29"},
		{no: "28th", lineUser: linesim.NewUserID(), consent: true, birthDate: "1990-02-28"},
		{no: "mar", lineUser: linesim.NewUserID(), consent: true, birthDate: "1990-03-01"},
		{no: "anniv", lineUser: linesim.NewUserID(), consent: true, openedOn: "2020-03-30", productType: "自動車保険"},
		{no: "new", lineUser: linesim.NewUserID(), consent: true, openedOn: "2027-01-30", productType: "自動車保険"},
	}
	e.load(t, ps)
	bd := reminderDraft("誕生日", 0, "09:00")
	bd.Spec.Field = FieldBirthday
	birthday := e.active(t, bd)
	an := reminderDraft("更新30日前", -30, "09:00")
	an.Spec.Field, an.Spec.ProductType = FieldAnniversary, "自動車保険"
	anniv := e.active(t, an)
	e.clock.set(time.Date(2027, 2, 28, 1, 0, 0, 0, time.UTC)) // Feb 28, 10:00 Tokyo
	e.tick(t)
	ob := e.occurrences(t, birthday.ID)
	if len(ob) != 2 || ob[ps[0].id].status != "sent" || ob[ps[1].id].status != "sent" {
		t.Fatalf("birthdays on Feb 28: %+v", ob)
	}
	oa := e.occurrences(t, anniv.ID)
	if len(oa) != 1 || oa[ps[3].id].occurs != "2027-03-30" {
		t.Fatalf("anniversaries: %+v", oa)
	}
	e.clock.set(time.Date(2027, 3, 1, 1, 0, 0, 0, time.UTC))
	e.tick(t)
	if ob = e.occurrences(t, birthday.ID); len(ob) != 3 {
		t.Fatalf("after Mar 1: %d birthday occurrences", len(ob))
	}
	if n := len(e.sim.Deliveries(ps[0].lineUser)); n != 1 {
		t.Fatalf("the 29 February birthday got %d messages", n)
	}
}

// Welcome steps stop when the friend links, replies or blocks.
func TestWelcomeSteps(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC) // 10:00 Tokyo
	e := newEnv(t, start, false)
	msg := func(s string) []campaign.LineMessage { return []campaign.LineMessage{{Kind: "text", Text: s}} }
	r := e.active(t, Draft{Name: "ようこそ", Kind: KindWelcome, Spec: Spec{Steps: []Step{
		{Messages: msg("友だち追加ありがとうございます。")},
		{DelayDays: 3, At: "12:00", Messages: msg("連携のご案内")},
		{DelayDays: 7, At: "12:00", Messages: msg("キャンペーンのご案内")},
	}}})
	users := map[string]string{}
	for _, n := range []string{"stays", "links", "replies", "blocks", "late"} {
		users[n] = linesim.NewUserID()
		e.sim.AddCustomer(linesim.Customer{UserID: users[n], DisplayName: n, Following: true})
	}
	event := func(typ, user string) {
		t.Helper()
		err := e.db.Write(ctx, func(tx *sql.Tx) error {
			state := "following"
			if typ == "unfollow" {
				state = "unfollowed"
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO line_users (user_id, follow_state, created_at) VALUES (?, ?, 0)
				ON CONFLICT (user_id) DO UPDATE SET follow_state = excluded.follow_state`, user, state); err != nil {
				return err
			}
			_, err := NewHook().HandleEvent(ctx, tx, inbox.HookEvent{Type: typ, UserID: user, At: e.clock.now()})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"stays", "links", "replies", "blocks"} {
		event("follow", users[n])
	}
	e.tick(t) // day 0
	for n, u := range users {
		if want := map[bool]int{true: 0, false: 1}[n == "late"]; len(e.sim.Deliveries(u)) != want {
			t.Fatalf("%s: %d day-0 messages", n, len(e.sim.Deliveries(u)))
		}
	}
	// A re-follow does not restart the series.
	event("follow", users["stays"])
	// Link, reply, block.
	now := e.clock.now().UnixMilli()
	e.db.Write(ctx, func(tx *sql.Tx) error {
		tx.Exec(`INSERT INTO customers (customer_no, name, created_at, updated_at) VALUES ('L1', '連携 太郎', ?, ?)`, now, now)
		_, err := tx.Exec(`INSERT INTO customer_line_links (customer_id, line_user_id, linked_at, method) SELECT id, ?, ?, 'code' FROM customers WHERE customer_no = 'L1'`, users["links"], now)
		return err
	})
	event("message", users["replies"])
	event("unfollow", users["blocks"])
	// A friend who follows a day later, and whose day-3 step (Dec 5 12:00)
	// comes while the app is closed for longer than the lateness.
	closedFrom, closedTo := start.Add(4*24*time.Hour+time.Hour), start.Add(4*24*time.Hour+10*time.Hour)
	for range 10 * 24 {
		e.clock.add(time.Hour)
		if e.clock.now().Equal(start.Add(24 * time.Hour)) {
			event("follow", users["late"])
		}
		if now := e.clock.now(); now.Before(closedFrom) || now.After(closedTo) {
			e.tick(t)
		}
	}
	want := map[string]int{"stays": 3, "links": 1, "replies": 1, "blocks": 1, "late": 2}
	for n, u := range users {
		if got := len(e.sim.Deliveries(u)); got != want[n] {
			t.Errorf("%s: %d messages, want %d", n, got, want[n])
		}
	}
	// LINE's statistics: each step's sends of the month share one unit of
	// their own (all in December).
	stepUnits := map[string]bool{}
	for i, d := range e.sim.Deliveries(users["stays"]) {
		prefix := "a" + strconv.FormatInt(r.ID, 10) + "s" + strconv.Itoa(i+1) + "_202612_"
		if !strings.HasPrefix(d.Unit, prefix) {
			t.Errorf("step %d went out under unit %q, want %s…", i+1, d.Unit, prefix)
		}
		stepUnits[d.Unit] = true
	}
	if first := e.sim.Deliveries(users["links"]); len(first) != 1 || !stepUnits[first[0].Unit] {
		t.Errorf("another friend's step 1 under a unit of its own: %+v", first)
	}
	var reasons = map[string]string{}
	rows, _ := e.db.Reader().Query(`SELECT line_user_id, stop_reason FROM automation_welcome WHERE automation_id = ?`, r.ID)
	for rows.Next() {
		var u, why string
		rows.Scan(&u, &why)
		reasons[u] = why
	}
	rows.Close()
	for n, why := range map[string]string{"stays": StopDone, "links": StopLinked, "replies": StopReplied, "blocks": StopBlocked, "late": StopDone} {
		if reasons[users[n]] != why {
			t.Errorf("%s: stop reason %q, want %q", n, reasons[users[n]], why)
		}
	}
	var late string
	e.db.Reader().QueryRow(`SELECT reason FROM automation_occurrences WHERE line_user_id = ? AND occurs_on = 'step-2'`, users["late"]).Scan(&late)
	if late != SkipLate {
		t.Errorf("late step: reason %q", late)
	}
	// Erasing a LINE user leaves no trace of them in the series.
	if _, err := e.db.Writer().Exec(`DELETE FROM line_users WHERE user_id = ?`, users["stays"]); err != nil {
		t.Fatal(err)
	}
	var traces int
	e.db.Reader().QueryRow(`SELECT (SELECT count(*) FROM automation_welcome WHERE line_user_id = ?) +
		(SELECT count(*) FROM automation_occurrences WHERE line_user_id = ? OR idem_key LIKE '%' || ? || '%')`,
		users["stays"], users["stays"], users["stays"]).Scan(&traces)
	if traces != 0 {
		t.Errorf("%d rows still name an erased LINE user", traces)
	}
}

// TestWelcomeGreetsByName: a welcome step with {氏名} goes to each new friend
// as a push with their LINE name (お客様 without one); one without goes as a
// multicast; {支店} and {担当者} are refused, as new friends have neither.
func TestWelcomeGreetsByName(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC) // 10:00 Tokyo
	e := newEnv(t, start, false)
	msg := func(s string) []campaign.LineMessage { return []campaign.LineMessage{{Kind: "text", Text: s}} }
	for _, bad := range []string{"{支店}からのお知らせ", "担当の{担当者}です"} {
		_, err := e.svc.Create(ctx, author, Draft{Name: "x", Kind: KindWelcome, Spec: Spec{Steps: []Step{{Messages: msg(bad)}}}})
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("welcome step %q: %v, want ErrInvalid", bad, err)
		}
	}
	e.active(t, Draft{Name: "ようこそ", Kind: KindWelcome, Spec: Spec{Steps: []Step{
		{Messages: msg("{氏名}様、友だち追加ありがとうございます。")},
		{DelayDays: 1, At: "12:00", Messages: msg("口座連携のご案内")},
	}}})
	names := map[string]string{"ハナコ": linesim.NewUserID(), "": linesim.NewUserID()}
	for name, u := range names {
		e.sim.AddCustomer(linesim.Customer{UserID: u, DisplayName: name, Following: true})
		err := e.db.Write(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO line_users (user_id, display_name, follow_state, created_at) VALUES (?, ?, 'following', 0)`, u, name); err != nil {
				return err
			}
			_, err := NewHook().HandleEvent(ctx, tx, inbox.HookEvent{Type: "follow", UserID: u, At: e.clock.now()})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	e.tick(t)
	for name, want := range map[string]string{"ハナコ": "ハナコ様、友だち追加ありがとうございます。", "": "お客様、友だち追加ありがとうございます。"} {
		d := e.sim.Deliveries(names[name])
		if len(d) != 1 || d[0].Text != want || d[0].Via != linesim.ViaPush {
			t.Errorf("%q: deliveries %+v, want one push %q", name, d, want)
		}
	}
	e.clock.add(27 * time.Hour) // the next day, past 12:00
	e.tick(t)
	for name, u := range names {
		d := e.sim.Deliveries(u)
		if len(d) != 2 || d[1].Text != "口座連携のご案内" || d[1].Via != linesim.ViaMulticast {
			t.Errorf("%q: second step %+v, want the multicast", name, d)
		}
	}
}

// The day's decision must come from an index (customers_by_birthday,
// products_by_anniversary, products_by_maturity), never a scan of every
// customer: Benchmark_reminders_1m measures it at a million.
func TestDecideUsesIndexes(t *testing.T) {
	e := newEnv(t, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), false)
	for field, index := range map[string]string{
		FieldBirthday:    "customers_by_birthday",
		FieldAnniversary: "products_by_anniversary",
		FieldMaturity:    "products_by_",
	} {
		r := Rule{ID: 1, Kind: KindDate, Spec: Spec{Field: field, At: "09:00"}}
		cand, args := r.candidates(day{2027, time.February, 28})
		rows, err := e.db.Reader().Query(`EXPLAIN QUERY PLAN SELECT c.id FROM customers c WHERE `+cand, args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			rows.Scan(&id, &parent, &unused, &detail)
			plan = append(plan, detail)
		}
		rows.Close()
		joined := strings.Join(plan, "; ")
		if !strings.Contains(joined, index) || strings.Contains(joined, "SCAN c") {
			t.Errorf("%s: plan %q does not use %s", field, joined, index)
		}
	}
}

// choose takes the first channel in the rule's order that reaches the
// customer with consent for that very channel.
func TestChooseEnforcesConsentPerChannel(t *testing.T) {
	const all = flagActive | flagLinked | flagReachable | flagConsentLine | flagConsentEmail | flagConsentSMS
	les := []string{"line", "email", "sms"}
	for _, tc := range []struct {
		name     string
		bits     int64
		lineUser string
		email    string
		mobile   string
		channels []string
		want     string
		reason   string
	}{
		{"line first", all, "U1", "a@b.jp", "09012345678", les, "line", ""},
		{"order is the rule's", all, "U1", "a@b.jp", "09012345678", []string{"sms", "line"}, "sms", ""},
		{"no LINE consent: email", all &^ flagConsentLine, "U1", "a@b.jp", "", les, "email", ""},
		{"blocked: email", all &^ flagReachable, "U1", "a@b.jp", "", les, "email", ""},
		{"no email consent: sms", all &^ flagConsentLine &^ flagConsentEmail, "U1", "a@b.jp", "09012345678", les, "sms", ""},
		{"no consent anywhere", flagActive | flagLinked | flagReachable, "U1", "a@b.jp", "09012345678", les, "none", SkipNoConsent},
		{"blocked, nothing else", all &^ flagReachable, "U1", "", "", les, "none", SkipBlocked},
		{"bad mobile", all, "", "", "12345", les, "none", SkipNoContact},
		{"not linked", all &^ flagLinked, "", "", "", []string{"line"}, "none", SkipNoContact},
		{"inactive", all &^ flagActive, "U1", "a@b.jp", "", les, "none", SkipInactive},
		{"email channel not chosen", all &^ flagConsentLine, "U1", "a@b.jp", "", []string{"line"}, "none", SkipNoConsent},
	} {
		d := choose(7, tc.bits, tc.lineUser, tc.email, tc.mobile, tc.channels)
		if d.channel != tc.want || d.reason != tc.reason {
			t.Errorf("%s: %s/%q, want %s/%q", tc.name, d.channel, d.reason, tc.want, tc.reason)
		}
		if d.channel == "sms" && d.address != "+819012345678" {
			t.Errorf("%s: SMS address %q", tc.name, d.address)
		}
	}
}

// A paused rule sends nothing, and switching it back on does not send what
// fell due while it was paused.
func TestPauseAndResume(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) // 09:00 Tokyo
	e := newEnv(t, start, false)
	ps := []person{
		{no: "P1", lineUser: linesim.NewUserID(), consent: true, maturesOn: "2026-12-09"}, // due Dec 2 10:00, while paused
		{no: "P2", lineUser: linesim.NewUserID(), consent: true, maturesOn: "2026-12-11"}, // due Dec 4 10:00, after resuming
	}
	e.load(t, ps)
	r := e.active(t, reminderDraft("満期7日前", -7, "10:00"))
	if _, err := e.svc.Pause(ctx, approver, r.ID); err != nil {
		t.Fatal(err)
	}
	e.clock.set(start.Add(26 * time.Hour)) // Dec 2 11:00 Tokyo
	e.tick(t)
	if _, err := e.svc.Activate(ctx, approver, r.ID); err != nil { // resume, same approval
		t.Fatal(err)
	}
	for range 3 * 24 {
		e.clock.add(time.Hour)
		e.tick(t)
	}
	if n := len(e.sim.Deliveries(ps[0].lineUser)); n != 0 {
		t.Errorf("P1 (due while paused) got %d messages", n)
	}
	if n := len(e.sim.Deliveries(ps[1].lineUser)); n != 1 {
		t.Errorf("P2 got %d messages, want 1", n)
	}
}
