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
	// Besides the reminder, only the staff's cancellation told to v.
	var reminders []string
	for _, q := range ob.queued {
		if strings.Contains(q, "明日はご相談") {
			reminders = append(reminders, q)
		} else if !strings.HasPrefix(q, v+": ご予約をキャンセルしました。") {
			t.Errorf("queued besides the reminder: %q", q)
		}
	}
	if len(reminders) != 1 || !strings.HasPrefix(reminders[0], u+": 明日はご相談のご予約日です") || !strings.Contains(reminders[0], booking.When(jst("2026-12-30 13:00").UnixMilli(), jst("2026-12-30 14:00").UnixMilli())) {
		t.Fatalf("queued %q", ob.queued)
	}
}
