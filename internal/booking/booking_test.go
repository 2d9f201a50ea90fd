package booking_test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"tsunagu/internal/booking"
	"tsunagu/internal/erasure"
	"tsunagu/internal/fielderr"
	"tsunagu/internal/store"
	"tsunagu/internal/store/storetest"
)

type fixture struct {
	db    *store.DB
	svc   *booking.Service
	now   time.Time
	staff []int64 // 佐藤, 鈴木, 高橋 (高橋 inactive)
}

func jst(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, booking.JST)
	if err != nil {
		panic(err)
	}
	return t
}

func exec(t *testing.T, db *store.DB, q string, args ...any) {
	t.Helper()
	if err := db.Write(context.Background(), func(tx *sql.Tx) error {
		_, err := tx.Exec(q, args...)
		return err
	}); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func count(t *testing.T, db *store.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.Reader().QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// newFixture: a branch open Mon–Fri 9:00–12:00 and 13:00–15:00, three staff
// (one inactive), the clock at Monday 2026-12-28 09:00 JST.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{db: storetest.New(t), now: jst("2026-12-28 09:00")}
	for i, name := range []string{"佐藤", "鈴木", "高橋"} {
		exec(t, f.db, `INSERT INTO staff (id, login, display_name, role, password_hash, active, created_at, updated_at) VALUES (?, ?, ?, 'operator', 'x', ?, 0, 0)`,
			i+1, fmt.Sprintf("s%d", i+1), name, i < 2)
		f.staff = append(f.staff, int64(i+1))
	}
	var err error
	f.svc, err = booking.New(booking.Config{DB: f.db, Clock: func() time.Time { return f.now }})
	if err != nil {
		t.Fatal(err)
	}
	var spans []booking.Span
	for wd := 1; wd <= 5; wd++ {
		spans = append(spans, booking.Span{Weekday: wd, Open: "09:00", Close: "12:00"}, booking.Span{Weekday: wd, Open: "13:00", Close: "15:00"})
	}
	if err := f.svc.SetHours(context.Background(), "staff:admin", spans); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) asset(t *testing.T) booking.Type {
	t.Helper()
	ty, err := f.svc.CreateType(context.Background(), "staff:admin", booking.TypeDraft{Name: "資産運用相談", DurationMin: 60, Capacity: 2,
		LeadMin: 120, HorizonDays: 14, CancelCutoffMin: 24 * 60, Staff: f.staff[:2], Active: true})
	if err != nil {
		t.Fatal(err)
	}
	return ty
}

func (f *fixture) friend(t *testing.T, name string) string {
	t.Helper()
	u := fmt.Sprintf("U%032x", count(t, f.db, `SELECT count(*) FROM line_users`)+1)
	exec(t, f.db, `INSERT INTO line_users (user_id, display_name, created_at) VALUES (?, ?, 0)`, u, name)
	return u
}

func fields(err error) map[string]string {
	out := map[string]string{}
	for _, fe := range fielderr.Fields(err) {
		out[fe.Field] = fe.Code
	}
	return out
}

func TestTypeAndHoursRules(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.svc.CreateType(ctx, "staff:admin", booking.TypeDraft{Name: "", DurationMin: 7, Capacity: 0, HorizonDays: 0, Staff: []int64{1, 3, 99}})
	if !errors.Is(err, booking.ErrInvalid) {
		t.Fatalf("invalid type: %v", err)
	}
	want := map[string]string{"name": fielderr.Required, "durationMin": fielderr.Between, "capacity": fielderr.Between,
		"horizonDays": fielderr.Between, "staff.1": fielderr.Choose, "staff.2": fielderr.Choose}
	if got := fields(err); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("fields %v, want %v", got, want)
	}
	ty := f.asset(t)
	if ty.Name != "資産運用相談" || fmt.Sprint(ty.Staff) != "[1 2]" || !ty.Active {
		t.Errorf("type %+v", ty)
	}
	_, err = f.svc.CreateType(ctx, "staff:admin", booking.TypeDraft{Name: "資産運用相談", DurationMin: 30, Capacity: 1, HorizonDays: 7, Staff: []int64{1}})
	if got := fields(err); got["name"] != fielderr.Taken {
		t.Errorf("duplicate name: %v", err)
	}
	d := ty.TypeDraft
	d.DurationMin = 45
	if ty, err = f.svc.UpdateType(ctx, "staff:admin", ty.ID, d); err != nil || ty.DurationMin != 45 {
		t.Fatalf("update: %+v %v", ty, err)
	}
	err = f.svc.SetHours(ctx, "staff:admin", []booking.Span{{Weekday: 1, Open: "09:00", Close: "12:00"}, {Weekday: 1, Open: "11:00", Close: "13:00"},
		{Weekday: 2, Open: "15:00", Close: "14:00"}, {Weekday: 3, Open: "9時", Close: "10:00"}, {Weekday: 7, Open: "09:00", Close: "10:00"}})
	want = map[string]string{"hours.1.open": fielderr.SpanOverlap, "hours.2.close": fielderr.Range, "hours.3.open": fielderr.Format, "hours.4.weekday": fielderr.Between}
	if got := fields(err); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("hours fields %v, want %v", got, want)
	}
	if hours, _ := f.svc.Hours(ctx); len(hours) != 10 || hours[0] != (booking.Span{Weekday: 1, Open: "09:00", Close: "12:00"}) {
		t.Errorf("refused hours changed the stored ones: %v", hours)
	}
	if err := f.svc.SetClosedDay(ctx, "staff:admin", booking.ClosedDay{Day: "2027/01/05"}, true); !errors.Is(err, booking.ErrInvalid) || fields(err)["day"] != fielderr.Format {
		t.Errorf("bad day: %v", err)
	}
	for action, n := range map[string]int{booking.ActionTypeCreate: 1, booking.ActionTypeUpdate: 1, booking.ActionHours: 1} {
		if got := count(t, f.db, `SELECT count(*) FROM audit_log WHERE action = ?`, action); got != n {
			t.Errorf("%s audited %d times, want %d", action, got, n)
		}
	}
}

// Slots: the hours stepped by the duration, from the lead time on, up to
// the horizon, none on public holidays, 12/31–1/3 or a closed day; the
// places left are the capacity less the bookings and never more than the
// eligible staff who are free (a booking of another type takes its staff
// member).
func TestAvailability(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ty := f.asset(t)
	if err := f.svc.SetClosedDay(ctx, "staff:admin", booking.ClosedDay{Day: "2027-01-05", Reason: "店舗改装"}, true); err != nil {
		t.Fatal(err)
	}
	slots, err := f.svc.Availability(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	perDay := map[string][]string{}
	for _, s := range slots {
		st := time.UnixMilli(s.Start).In(booking.JST)
		if s.End-s.Start != int64(time.Hour/time.Millisecond) || s.Remaining != 2 || s.TypeID != ty.ID {
			t.Errorf("slot %+v", s)
		}
		perDay[st.Format("01-02")] = append(perDay[st.Format("01-02")], st.Format("15:04"))
	}
	full := "[09:00 10:00 11:00 13:00 14:00]"
	want := map[string]string{
		"12-28": "[11:00 13:00 14:00]", // lead time: two hours from 09:00
		"12-29": full, "12-30": full,   // 12/31–1/3 closed, 1/2–1/3 a weekend anyway
		"01-04": full, "01-06": full, "01-07": full, "01-08": full, // 1/5 closed by the branch
		// 1/11 is 成人の日; the horizon (14 days) ends with 1/11
	}
	if fmt.Sprint(perDay) != fmt.Sprint(want) {
		t.Errorf("slots by day\n got %v\nwant %v", perDay, want)
	}

	u := f.friend(t, "山田")
	b, created, err := f.svc.Book(ctx, booking.Actor, booking.Request{TypeID: ty.ID, Start: jst("2026-12-29 10:00").UnixMilli(), LineUserID: u, Source: booking.SourceLINE, SubmitID: "s1"})
	if err != nil || !created || b.StaffID != 1 || b.Status != booking.StatusConfirmed || b.FriendName != "山田" {
		t.Fatalf("book: %+v %v %v", b, created, err)
	}
	// Another type taken by 鈴木 at 10:30 leaves no free staff for 10:00.
	loan, err := f.svc.CreateType(ctx, "staff:admin", booking.TypeDraft{Name: "住宅ローン相談", DurationMin: 30, Capacity: 1, HorizonDays: 30, Staff: []int64{2}, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.Book(ctx, "staff:s2", booking.Request{TypeID: loan.ID, Start: jst("2026-12-29 09:30").UnixMilli(), LineUserID: f.friend(t, "田中")}); err != nil {
		t.Fatal(err)
	}
	slots, _ = f.svc.Availability(ctx, ty.ID)
	rem := map[string]int{}
	for _, s := range slots {
		rem[time.UnixMilli(s.Start).In(booking.JST).Format("01-02 15:04")] = s.Remaining
	}
	if rem["12-29 09:00"] != 1 || rem["12-29 10:00"] != 1 || rem["12-29 11:00"] != 2 {
		t.Errorf("remaining after bookings: 09:00 %d (鈴木 busy), 10:00 %d (one booked), 11:00 %d", rem["12-29 09:00"], rem["12-29 10:00"], rem["12-29 11:00"])
	}
}

func TestBookCancelRescheduleNoShow(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ty := f.asset(t)
	slot := jst("2026-12-30 13:00").UnixMilli()
	a, b, c := f.friend(t, "一"), f.friend(t, "二"), f.friend(t, "三")
	line := func(u, submit string, start int64) (booking.Booking, bool, error) {
		return f.svc.Book(ctx, booking.Actor, booking.Request{TypeID: ty.ID, Start: start, LineUserID: u, Source: booking.SourceLINE, SubmitID: submit, Note: "NISAについて"})
	}
	if _, _, err := line(a, "x", jst("2026-12-28 10:00").UnixMilli()); !errors.Is(err, booking.ErrNoSlot) {
		t.Errorf("inside the lead time: %v", err)
	}
	if _, _, err := line(a, "x", jst("2026-12-30 13:30").UnixMilli()); !errors.Is(err, booking.ErrNoSlot) {
		t.Errorf("off the grid: %v", err)
	}
	if _, _, err := line(a, "x", jst("2026-12-31 10:00").UnixMilli()); !errors.Is(err, booking.ErrNoSlot) {
		t.Errorf("12/31: %v", err)
	}
	// Staff may book inside the lead time, on the grid.
	if _, _, err := f.svc.Book(ctx, "staff:s1", booking.Request{TypeID: ty.ID, Start: jst("2026-12-28 10:00").UnixMilli(), LineUserID: c, StaffID: 2}); err != nil {
		t.Errorf("staff inside the lead time: %v", err)
	}
	first, created, err := line(a, "sub-a", slot)
	if err != nil || !created {
		t.Fatal(err)
	}
	again, created, err := line(a, "sub-a", slot)
	if err != nil || created || again.ID != first.ID {
		t.Errorf("double submit: %+v %v %v", again, created, err)
	}
	second, _, err := line(b, "sub-b", slot)
	if err != nil || second.StaffID == first.StaffID {
		t.Fatalf("second place: %+v %v", second, err)
	}
	if _, _, err := line(c, "sub-c", slot); !errors.Is(err, booking.ErrFull) {
		t.Fatalf("third in a two-place slot: %v", err)
	}
	if n := count(t, f.db, `SELECT count(*) FROM bookings WHERE starts_at = ?`, slot); n != 2 {
		t.Errorf("%d bookings in the slot", n)
	}
	// A cancellation frees the place.
	if err := f.svc.Cancel(ctx, booking.Actor, first.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Cancel(ctx, booking.Actor, first.ID, true); !errors.Is(err, booking.ErrNotConfirmed) {
		t.Errorf("cancel twice: %v", err)
	}
	third, _, err := line(c, "sub-c", slot)
	if err != nil || third.StaffID != first.StaffID {
		t.Fatalf("after a cancellation: %+v %v", third, err)
	}
	// Reschedule to a full slot keeps the booking; to a free one moves it.
	if _, err := f.svc.Reschedule(ctx, booking.Actor, second.ID, slot, true); err != nil {
		t.Errorf("reschedule to its own slot: %v", err)
	}
	bs, _ := f.svc.List(ctx, slot, slot+1, 0)
	var current booking.Booking
	for _, x := range bs {
		if x.Status == booking.StatusConfirmed && x.FriendName == "二" {
			current = x
		}
	}
	moved, err := f.svc.Reschedule(ctx, booking.Actor, current.ID, jst("2027-01-04 09:00").UnixMilli(), true)
	if err != nil || moved.Start != jst("2027-01-04 09:00").UnixMilli() || moved.Note != "NISAについて" || moved.StaffID != current.StaffID {
		t.Fatalf("reschedule: %+v %v", moved, err)
	}
	if old, _ := f.svc.Get(ctx, current.ID); old.Status != booking.StatusRescheduled || old.MovedTo != moved.ID {
		t.Errorf("old booking %+v", old)
	}
	// The customer's cut-off (a day before) and no-shows.
	f.now = jst("2027-01-03 10:00")
	if err := f.svc.Cancel(ctx, booking.Actor, moved.ID, true); !errors.Is(err, booking.ErrCutoff) {
		t.Errorf("customer cancel after the cut-off: %v", err)
	}
	if err := f.svc.NoShow(ctx, "staff:s1", moved.ID); !errors.Is(err, booking.ErrNotStarted) {
		t.Errorf("no-show before the start: %v", err)
	}
	f.now = jst("2027-01-04 09:20")
	if err := f.svc.NoShow(ctx, "staff:s1", moved.ID); err != nil {
		t.Fatal(err)
	}
	for action, n := range map[string]int{booking.ActionCreate: 4, booking.ActionCancel: 1, booking.ActionReschedule: 2, booking.ActionNoShow: 1} {
		if got := count(t, f.db, `SELECT count(*) FROM audit_log WHERE action = ?`, action); got != n {
			t.Errorf("%s audited %d times, want %d", action, got, n)
		}
	}
	if n := count(t, f.db, `SELECT count(*) FROM audit_log WHERE action LIKE 'booking.%' AND detail LIKE '%NISA%'`); n != 0 {
		t.Errorf("the audit trail holds a note")
	}
}

// Erasing a LINE user or a customer removes their bookings, and a booking
// moved from one of theirs does not hold the erased row.
func TestErasureRemovesBookings(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ty := f.asset(t)
	u := f.friend(t, "消える人")
	exec(t, f.db, `INSERT INTO customers (id, customer_no, name, created_at, updated_at) VALUES (7, 'C7', '顧客七', 0, 0)`)
	b1, _, err := f.svc.Book(ctx, "staff:s1", booking.Request{TypeID: ty.ID, Start: jst("2026-12-29 09:00").UnixMilli(), LineUserID: u})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Reschedule(ctx, "staff:s1", b1.ID, jst("2026-12-29 10:00").UnixMilli(), false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.Book(ctx, "staff:s1", booking.Request{TypeID: ty.ID, Start: jst("2026-12-29 11:00").UnixMilli(), CustomerID: 7}); err != nil {
		t.Fatal(err)
	}
	keep, _, err := f.svc.Book(ctx, "staff:s1", booking.Request{TypeID: ty.ID, Start: jst("2026-12-29 11:00").UnixMilli(), LineUserID: f.friend(t, "残る人")})
	if err != nil {
		t.Fatal(err)
	}
	exec(t, f.db, `DELETE FROM line_users WHERE user_id = ?`, u)
	exec(t, f.db, `DELETE FROM customers WHERE id = 7`)
	if n := count(t, f.db, `SELECT count(*) FROM bookings`); n != 1 {
		t.Errorf("%d bookings left, want 1", n)
	}
	if _, err := f.svc.Get(ctx, keep.ID); err != nil {
		t.Error(err)
	}
}

// The ICS export parses as RFC 5545: CRLF lines of at most 75 octets,
// folded lines joined back, escaped text, UTC times, matched BEGIN/END,
// and no customer name or note.
func TestExportICS(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ty, err := f.svc.CreateType(ctx, "staff:admin", booking.TypeDraft{Name: "保険の見直し、ライフプラン; 老後資金と相続のご相談（ゆっくりと）", DurationMin: 90, Capacity: 1,
		HorizonDays: 30, Staff: []int64{1}, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.Book(ctx, "staff:s1", booking.Request{TypeID: ty.ID, Start: jst("2026-12-29 13:00").UnixMilli(), LineUserID: f.friend(t, "秘密の名前"), Note: "秘密のメモ"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.SetSettings(ctx, "staff:admin", booking.Settings{Branch: "つなぐ銀行 本店", Phone: "03-1234-5678"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.SetSettings(ctx, "staff:admin", booking.Settings{Branch: "", Phone: "abc"}); fmt.Sprint(fields(err)) != fmt.Sprint(map[string]string{"branch": fielderr.Required, "phone": fielderr.Format}) {
		t.Errorf("bad settings: %v", err)
	}
	out, err := f.svc.ExportICS(ctx, "staff:s1", jst("2026-12-28 00:00").UnixMilli(), jst("2027-01-31 00:00").UnixMilli(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out, []byte("秘密")) {
		t.Error("the ICS holds the customer's name or note")
	}
	props, err := parseICS(out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(props) != 1 {
		t.Fatalf("%d events", len(props))
	}
	ev := props[0]
	start, err := time.Parse("20060102T150405Z", ev["DTSTART"])
	if err != nil || !start.Equal(jst("2026-12-29 13:00")) {
		t.Errorf("DTSTART %q", ev["DTSTART"])
	}
	if end, _ := time.Parse("20060102T150405Z", ev["DTEND"]); end.Sub(start) != 90*time.Minute {
		t.Errorf("DTEND %q", ev["DTEND"])
	}
	if ev["SUMMARY"] != ty.Name || ev["LOCATION"] != "つなぐ銀行 本店" || ev["DESCRIPTION"] != "担当: 佐藤" || ev["UID"] == "" || ev["DTSTAMP"] == "" {
		t.Errorf("event %q", ev)
	}
	if n := count(t, f.db, `SELECT count(*) FROM audit_log WHERE action = ?`, booking.ActionExport); n != 1 {
		t.Errorf("export audited %d times", n)
	}
}

// parseICS is a strict reader of what RFC 5545 requires of the file: the
// VEVENTs' properties with folding undone and TEXT unescaped.
func parseICS(b []byte) ([]map[string]string, error) {
	if !bytes.HasSuffix(b, []byte("\r\n")) {
		return nil, errors.New("no CRLF at the end")
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
		if i := bytes.Index(data, []byte("\r\n")); i >= 0 {
			return i + 2, data[:i], nil
		}
		if atEOF && len(data) > 0 {
			return 0, nil, errors.New("a line without CRLF")
		}
		return 0, nil, nil
	})
	for sc.Scan() {
		l := sc.Text()
		if len(l) > 75 {
			return nil, fmt.Errorf("a line of %d octets", len(l))
		}
		if strings.ContainsAny(l, "\r\n") {
			return nil, errors.New("a bare CR or LF")
		}
		if strings.HasPrefix(l, " ") {
			if len(lines) == 0 {
				return nil, errors.New("continuation first")
			}
			lines[len(lines)-1] += l[1:]
			continue
		}
		lines = append(lines, l)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	var (
		stack  []string
		events []map[string]string
		cur    map[string]string
	)
	unescape := strings.NewReplacer(`\\`, `\`, `\;`, ";", `\,`, ",", `\n`, "\n", `\N`, "\n")
	for _, l := range lines {
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			return nil, fmt.Errorf("no colon: %q", l)
		}
		switch name {
		case "BEGIN":
			stack = append(stack, value)
			if value == "VEVENT" {
				cur = map[string]string{}
			}
		case "END":
			if len(stack) == 0 || stack[len(stack)-1] != value {
				return nil, fmt.Errorf("END:%s unmatched", value)
			}
			stack = stack[:len(stack)-1]
			if value == "VEVENT" {
				events = append(events, cur)
				cur = nil
			}
		default:
			if cur != nil {
				if strings.ContainsAny(strings.NewReplacer(`\\`, "", `\;`, "", `\,`, "").Replace(value), ";,") && name != "DTSTART" {
					return nil, fmt.Errorf("%s: unescaped separator", name)
				}
				cur[name] = unescape.Replace(value)
			}
		}
	}
	if len(stack) != 0 || len(lines) == 0 || lines[0] != "BEGIN:VCALENDAR" {
		return nil, errors.New("not one VCALENDAR")
	}
	for _, e := range events {
		for _, req := range []string{"UID", "DTSTAMP", "DTSTART"} {
			if e[req] == "" {
				return nil, fmt.Errorf("VEVENT without %s", req)
			}
		}
	}
	return events, nil
}

// The retention job removes bookings that ended before its period, and
// keeps the rest.
func TestRetentionRemovesOldBookings(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ty := f.asset(t)
	old, _, err := f.svc.Book(ctx, "staff:s1", booking.Request{TypeID: ty.ID, Start: jst("2026-12-29 09:00").UnixMilli(), LineUserID: f.friend(t, "昔")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Reschedule(ctx, "staff:s1", old.ID, jst("2026-12-29 10:00").UnixMilli(), false); err != nil {
		t.Fatal(err)
	}
	recent, _, err := f.svc.Book(ctx, "staff:s1", booking.Request{TypeID: ty.ID, Start: jst("2027-01-06 09:00").UnixMilli(), LineUserID: f.friend(t, "最近")})
	if err != nil {
		t.Fatal(err)
	}
	f.now = jst("2027-01-05 09:00").AddDate(0, 0, 30)
	res, err := erasure.New(f.db, erasure.Hooks{}, func() time.Time { return f.now }).ApplyRetention(ctx, "system", 30)
	if err != nil || res.Bookings != 2 {
		t.Fatalf("retention: %+v %v", res, err)
	}
	if bs, _ := f.svc.List(ctx, 0, 1<<62, 0); len(bs) != 1 || bs[0].ID != recent.ID {
		t.Errorf("left: %+v", bs)
	}
}
