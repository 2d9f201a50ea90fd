package booking_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"tsunagu/internal/booking"
	"tsunagu/internal/fielderr"
	"tsunagu/internal/outbox"
)

// fakeSender records what would go through the outbox.
type fakeSender struct {
	mu     sync.Mutex
	queued []string // "USER: text"
	sent   int
}

func (f *fakeSender) EnqueueTx(_ context.Context, _ *sql.Tx, r outbox.Request) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var b strings.Builder
	for _, m := range r.Messages {
		var body struct{ Text string }
		json.Unmarshal(m.Bytes(), &body)
		b.WriteString(body.Text)
	}
	f.queued = append(f.queued, r.To[0]+": "+b.String())
	return int64(len(f.queued)), nil
}

func (f *fakeSender) Send(context.Context, int64) (outbox.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent++
	return outbox.Result{}, nil
}

// The reminder goes the day before at 10:00 (not earlier), once: a second
// pass and a restarted service (a new one on the same DB) send nothing
// more; a cancelled booking (told of the cancellation) and one made after
// the reminder time get none.
func TestReminderTheDayBeforeOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ty := f.asset(t)
	var ob fakeSender
	svc := func() *booking.Service {
		s, err := booking.New(booking.Config{DB: f.db, Send: &ob, Clock: func() time.Time { return f.now }})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s1 := svc()
	u, v, w := f.friend(t, "明日の人"), f.friend(t, "取消の人"), f.friend(t, "後から")
	if _, _, err := s1.Book(ctx, "staff:s1", booking.Request{TypeID: ty.ID, Start: jst("2026-12-30 13:00").UnixMilli(), LineUserID: u}); err != nil {
		t.Fatal(err)
	}
	c, _, err := s1.Book(ctx, "staff:s1", booking.Request{TypeID: ty.ID, Start: jst("2026-12-30 14:00").UnixMilli(), LineUserID: v})
	if err != nil {
		t.Fatal(err)
	}
	if err := s1.Cancel(ctx, "staff:s1", c.ID, false); err != nil {
		t.Fatal(err)
	}
	f.now = jst("2026-12-29 09:59")
	if n, err := s1.RunDue(ctx); err != nil || n != 0 {
		t.Fatalf("before 10:00: %d %v", n, err)
	}
	f.now = jst("2026-12-29 10:30")
	if _, _, err := s1.Book(ctx, "staff:s1", booking.Request{TypeID: ty.ID, Start: jst("2026-12-30 09:00").UnixMilli(), LineUserID: w}); err != nil {
		t.Fatal(err)
	}
	if n, err := s1.RunDue(ctx); err != nil || n != 1 {
		t.Fatalf("at 10:30: %d %v", n, err)
	}
	if n, _ := s1.RunDue(ctx); n != 0 {
		t.Fatalf("second pass sent %d", n)
	}
	f.now = jst("2026-12-29 18:00")
	if n, _ := svc().RunDue(ctx); n != 0 {
		t.Fatalf("after a restart sent %d", n)
	}
	// Besides the reminder, only the three confirmations and the staff's
	// cancellation told to v.
	var reminders []string
	for _, q := range ob.queued {
		if strings.Contains(q, "明日はご相談") {
			reminders = append(reminders, q)
		} else if !strings.HasPrefix(q, v+": ご予約をキャンセルしました。") && !strings.Contains(q, ": ご予約を承りました。") {
			t.Errorf("queued besides the reminder: %q", q)
		}
	}
	if len(reminders) != 1 || !strings.HasPrefix(reminders[0], u+": 明日はご相談のご予約日です") || !strings.Contains(reminders[0], booking.When(jst("2026-12-30 13:00").UnixMilli(), jst("2026-12-30 14:00").UnixMilli())) {
		t.Fatalf("queued %q", ob.queued)
	}
}

// The reminder's settings: a wrong time and an unknown placeholder are
// named field errors; a time moved to 15:00 applies to the reminder not
// yet sent (none at 10:30, one at 15:00, with the text filled from the
// booking), still once across a restart; switched off, none goes.
func TestReminderSettings(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ty := f.asset(t)
	var ob fakeSender
	svc := func() *booking.Service {
		s, err := booking.New(booking.Config{DB: f.db, Send: &ob, Clock: func() time.Time { return f.now }})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s1 := svc()
	r, err := s1.Reminder(ctx)
	if err != nil || !r.On || r.At != "10:00" || r.Text != booking.DefaultReminderText {
		t.Fatalf("default %+v %v", r, err)
	}
	_, err = s1.SetReminder(ctx, "staff:s1", booking.Reminder{On: true, At: "25:00", Text: "明日 {日時} {名前} です"})
	if got := fields(err); got["at"] != fielderr.Format || got["text"] != fielderr.Placeholder {
		t.Fatalf("wrong settings: %v (%v)", got, err)
	}
	if _, err := s1.SetReminder(ctx, "staff:s1", booking.Reminder{On: true, At: "10:00", Text: ""}); fields(err)["text"] != fielderr.Required {
		t.Fatalf("empty text: %v", err)
	}
	u, v := f.friend(t, "明日の人"), f.friend(t, "あさっての人")
	start := jst("2026-12-30 13:00")
	if _, _, err := s1.Book(ctx, "staff:s1", booking.Request{TypeID: ty.ID, Start: start.UnixMilli(), LineUserID: u}); err != nil {
		t.Fatal(err)
	}
	// 12/31–1/3 are bank holidays: v's booking is on Monday 1/4.
	if _, _, err := s1.Book(ctx, "staff:s1", booking.Request{TypeID: ty.ID, Start: jst("2027-01-04 09:00").UnixMilli(), LineUserID: v}); err != nil {
		t.Fatal(err)
	}
	if _, err := s1.SetReminder(ctx, "staff:s1", booking.Reminder{On: true, At: "15:00", Text: "{支店}より: 明日 {日時} は{種類}のご予約日です。"}); err != nil {
		t.Fatal(err)
	}
	f.now = jst("2026-12-29 10:30")
	if n, err := s1.RunDue(ctx); err != nil || n != 0 {
		t.Fatalf("at 10:30 with the time moved to 15:00: %d %v", n, err)
	}
	f.now = jst("2026-12-29 15:00")
	if n, err := s1.RunDue(ctx); err != nil || n != 1 {
		t.Fatalf("at 15:00: %d %v", n, err)
	}
	f.now = jst("2026-12-29 16:00")
	if n, _ := svc().RunDue(ctx); n != 0 {
		t.Fatalf("after a restart sent %d", n)
	}
	var reminders []string
	for _, q := range ob.queued {
		if strings.Contains(q, "のご予約日です。") {
			reminders = append(reminders, q)
		}
	}
	want := u + ": 支店より: 明日 " + booking.When(start.UnixMilli(), start.Add(time.Hour).UnixMilli()) + " は資産運用相談のご予約日です。\n\n【資産運用相談】"
	if len(reminders) != 1 || !strings.HasPrefix(reminders[0], want) {
		t.Fatalf("reminders %q, want prefix %q", reminders, want)
	}

	// Off: v's reminder, due on 1/3 at 15:00, does not go.
	if _, err := s1.SetReminder(ctx, "staff:s1", booking.Reminder{On: false, At: "15:00", Text: booking.DefaultReminderText}); err != nil {
		t.Fatal(err)
	}
	f.now = jst("2027-01-03 15:30")
	if n, err := s1.RunDue(ctx); err != nil || n != 0 {
		t.Fatalf("switched off: %d %v", n, err)
	}
	if _, err := s1.SetReminder(ctx, "staff:s1", booking.Reminder{On: true, At: "15:00", Text: booking.DefaultReminderText}); err != nil {
		t.Fatal(err)
	}
	if n, err := s1.RunDue(ctx); err != nil || n != 1 {
		t.Fatalf("on again: %d %v", n, err)
	}
}
