package inbox

import (
	"context"
	"slices"
	"testing"
	"time"

	"tsunagu/internal/line"
)

// A staff send waits for LINE at most Config.SendTimeout (SendTimeout when
// not set): a hung push leaves the reply queued with its key (送信待ち),
// and the clerk gets the screen back.
func TestStaffSendTimeout(t *testing.T) {
	f := newFixture(t)
	if f.ib.sendTO != SendTimeout {
		t.Fatalf("default staff send timeout %v, want %v", f.ib.sendTO, SendTimeout)
	}
	f.receive(t, textEvent(userA, "質問です", f.clock.Now()))
	f.clock.Add(time.Hour) // the reply token is stale: a push
	c := f.onlyConversation(t)
	hung := &noLine{t: t, calls: make(chan string, 1)}
	const timeout = 300 * time.Millisecond
	ib, err := New(Config{DB: f.db, Sender: hung, Clock: f.clock.Now, SendTimeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	m, err := ib.Reply(context.Background(), c.ID, by("佐藤"), "回答です")
	took := time.Since(start)
	if err != nil || m.Status != "pending" || m.Error != SendErrWaiting || storedKey(t, f, m.ID) == "" {
		t.Fatalf("hung send: %+v %v; want it queued with its key", m, err)
	}
	if took < timeout || took >= SendTimeout/2 {
		t.Fatalf("the send gave up after %v; want %v", took, timeout)
	}
	if what := <-hung.calls; what != "push" {
		t.Fatalf("called %s, want push", what)
	}
}

// A reply queued behind a message that waits (LINE failed it for now)
// waits too, and says so: 送信待ち, not a spinner for the whole outage.
// Both go out in order once LINE answers.
func TestReplyBehindAWaitingMessageIsWaiting(t *testing.T) {
	f := newFixture(t)
	f.receive(t, textEvent(userA, "質問です", f.clock.Now()))
	f.clock.Add(time.Hour) // pushes, not replies
	c := f.onlyConversation(t)
	busy := &line.APIError{Status: 500, Message: "Internal error"}
	f.send.pushErr = []error{busy, busy}
	ctx := context.Background()
	first, err := f.ib.Reply(ctx, c.ID, by("佐藤"), "一つ目")
	if err != nil || first.Status != "pending" || first.Error != SendErrWaiting {
		t.Fatalf("first: %+v %v", first, err)
	}
	// The first is tried again before the second, fails again, and the
	// second stays behind it.
	second, err := f.ib.Reply(ctx, c.ID, by("佐藤"), "二つ目")
	if err != nil || second.Status != "pending" || second.Error != SendErrWaiting {
		t.Fatalf("second: %+v %v; want waiting behind the first", second, err)
	}
	if len(f.send.pushes) != 2 || f.send.pushes[1].text != "一つ目" {
		t.Fatalf("pushes %+v; want the first twice", f.send.pushes)
	}
	if err := f.ib.DeliverPending(ctx); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range f.send.pushes[2:] {
		got = append(got, p.text)
	}
	if !slices.Equal(got, []string{"一つ目", "二つ目"}) {
		t.Fatalf("delivered %q, want both in order", got)
	}
}
