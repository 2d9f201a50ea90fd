package inbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"tsunagu/internal/line"
)

// rawText is a text message event as LINE's JSON.
func rawText(id, user, text string, ts time.Time) string {
	return fmt.Sprintf(`{"type":"message","mode":"active","timestamp":%d,"webhookEventId":%q,
		"deliveryContext":{"isRedelivery":false},"replyToken":"rt-%s",
		"source":{"type":"user","userId":%q},"message":{"type":"text","id":"m-%s","quoteToken":"q","text":%q}}`,
		ts.UnixMilli(), id, id, user, id, text)
}

func body(events ...string) []byte {
	return []byte(`{"destination":"Ubot","events":[` + strings.Join(events, ",") + `]}`)
}

func (f *fixture) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := f.db.Reader().QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// panicHook stands for a feature with a bug: it panics on one text.
type panicHook struct{ on string }

func (h panicHook) HandleEvent(_ context.Context, _ *sql.Tx, ev HookEvent) (HookResult, error) {
	if ev.Text == h.on {
		panic("feature bug on " + ev.Text)
	}
	return HookResult{}, nil
}

// A malformed event between good ones: the good ones are stored in order,
// the bad one is a dead letter that never reaches the log with its text,
// and a redelivery of the same body changes nothing.
func TestMalformedEventBetweenGoodOnes(t *testing.T) {
	f := newFixture(t)
	ts := f.clock.Now()
	bad := `{"type":"message","mode":"active","timestamp":"not a number","webhookEventId":"01BAD",
		"source":{"type":"user","userId":"` + userA + `"},"message":{"type":"text","id":"m-bad","text":"秘密の本文"}}`
	raw := body(rawText("01GOOD1", userA, "一通目", ts), bad, rawText("01GOOD2", userA, "二通目", ts.Add(time.Second)))
	if _, err := line.NewVerifier("s").Parse(raw, "sig"); err == nil {
		t.Fatal("the strict parse accepted a malformed event")
	}
	wh, err := line.ParseVerified(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(wh.Events) != 2 || len(wh.Malformed) != 1 || len(wh.RawEvents) != 2 {
		t.Fatalf("split: %d events, %d raw, %d malformed; want 2, 2, 1", len(wh.Events), len(wh.RawEvents), len(wh.Malformed))
	}
	if strings.Contains(wh.Malformed[0].Reason, "秘密") {
		t.Fatalf("reason quotes the event: %q", wh.Malformed[0].Reason)
	}
	for range 2 { // the second time is a redelivery
		res, err := f.ib.HandleWebhooks(context.Background(), []*line.Webhook{wh})
		if err != nil {
			t.Fatal(err)
		}
		if res.DeadLetters != 1 {
			t.Fatalf("dead letters = %d, want 1", res.DeadLetters)
		}
	}
	convs, _ := f.ib.Conversations(context.Background())
	msgs, err := f.ib.Messages(context.Background(), convs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 || msgs[0].Body != "一通目" || msgs[1].Body != "二通目" {
		t.Fatalf("messages = %+v, want the two good ones in order", msgs)
	}
	list, err := f.ib.DeadLetters(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Kind != "message" || list[0].Attempts != 2 {
		t.Fatalf("dead letters = %+v, want one message with 2 attempts", list)
	}
	if n, _ := f.ib.OpenDeadLetters(context.Background()); n != 1 {
		t.Fatalf("open = %d, want 1", n)
	}
	// Reprocessing does not help a malformed event: it stays open and
	// the attempt is audited.
	ok, err := f.ib.ReprocessDeadLetter(context.Background(), list[0].ID, "staff:admin")
	if err != nil || ok {
		t.Fatalf("reprocess = %v, %v; want false, nil", ok, err)
	}
	if err := f.ib.DiscardDeadLetter(context.Background(), list[0].ID, "staff:admin"); err != nil {
		t.Fatal(err)
	}
	if err := f.ib.DiscardDeadLetter(context.Background(), list[0].ID, "staff:admin"); !errors.Is(err, ErrDeadLetterClosed) {
		t.Fatalf("second discard = %v, want ErrDeadLetterClosed", err)
	}
	if n := f.count(t, `SELECT count(*) FROM audit_log WHERE action LIKE 'deadletter.%'`); n != 2 {
		t.Fatalf("audit entries = %d, want 2 (failed retry, discard)", n)
	}
	if n, _ := f.ib.OpenDeadLetters(context.Background()); n != 0 {
		t.Fatalf("open after discard = %d", n)
	}
}

// A feature that panics on one event: that event alone is rolled back (its
// message, conversation change and webhook record) and kept; the events
// around it in the same group commit are stored; once the bug is fixed the
// dead letter is processed again and stored exactly once.
func TestPoisonEventIsolatedInGroupCommit(t *testing.T) {
	f := newFixture(t)
	hook := &switchHook{}
	ib, err := New(Config{DB: f.db, Sender: f.send, Clock: f.clock.Now, Hooks: []Hook{hook}})
	if err != nil {
		t.Fatal(err)
	}
	ts := f.clock.Now()
	var whs []*line.Webhook
	for i, text := range []string{"a", "b", "boom", "c"} {
		wh, err := line.ParseVerified(body(rawText(fmt.Sprintf("01EV%d", i), userA, text, ts.Add(time.Duration(i)*time.Second))))
		if err != nil {
			t.Fatal(err)
		}
		whs = append(whs, wh)
	}
	hook.panicOn = "boom"
	res, err := ib.HandleWebhooks(context.Background(), whs)
	if err != nil {
		t.Fatal(err)
	}
	if res.Stored != 3 || res.DeadLetters != 1 {
		t.Fatalf("result = %+v, want 3 stored, 1 dead letter", res)
	}
	if n := f.count(t, `SELECT count(*) FROM messages WHERE body = 'boom'`); n != 0 {
		t.Fatal("the poison event's message was kept")
	}
	if n := f.count(t, `SELECT count(*) FROM webhook_events WHERE webhook_event_id = '01EV2'`); n != 0 {
		t.Fatal("the poison event was recorded as stored")
	}
	list, _ := ib.DeadLetters(context.Background(), false)
	if len(list) != 1 || !strings.Contains(list[0].Reason, "panic") {
		t.Fatalf("dead letters = %+v", list)
	}
	hook.panicOn = "" // the update that fixes the bug
	if ok, err := ib.ReprocessDeadLetter(context.Background(), list[0].ID, "staff:admin"); err != nil || !ok {
		t.Fatalf("reprocess = %v, %v; want stored", ok, err)
	}
	if ok, err := ib.ReprocessDeadLetter(context.Background(), list[0].ID, "staff:admin"); ok || !errors.Is(err, ErrDeadLetterClosed) {
		t.Fatalf("second reprocess = %v, %v; want ErrDeadLetterClosed", ok, err)
	}
	if n := f.count(t, `SELECT count(*) FROM messages WHERE body IN ('a','b','boom','c')`); n != 4 {
		t.Fatalf("messages = %d, want 4 (boom once)", n)
	}
	// The erasure of the user's conversation removes their dead letters.
	if n := f.count(t, `SELECT count(*) FROM dead_letters WHERE line_user_id = ?`, userA); n != 1 {
		t.Fatalf("dead letter not attributed to its user: %d", n)
	}
}

// switchHook panics on one text while panicOn is set.
type switchHook struct{ panicOn string }

func (h *switchHook) HandleEvent(ctx context.Context, tx *sql.Tx, ev HookEvent) (HookResult, error) {
	if h.panicOn != "" {
		return panicHook{h.panicOn}.HandleEvent(ctx, tx, ev)
	}
	return HookResult{}, nil
}

// A cancelled context is not the event's fault: nothing is committed and
// nothing is set aside, so the caller does not ack and the body comes again.
func TestTransientFailureIsNotADeadLetter(t *testing.T) {
	f := newFixture(t)
	wh, err := line.ParseVerified(body(rawText("01T1", userA, "x", f.clock.Now())))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.ib.HandleWebhooks(ctx, []*line.Webhook{wh}); err == nil {
		t.Fatal("a cancelled context stored the batch")
	}
	if n := f.count(t, `SELECT count(*) FROM dead_letters`); n != 0 {
		t.Fatalf("dead letters = %d, want 0", n)
	}
	if n := f.count(t, `SELECT count(*) FROM webhook_events`); n != 0 {
		t.Fatalf("events = %d, want 0", n)
	}
}

// A signed body that is no webhook at all is kept whole, once.
func TestBadBodyKept(t *testing.T) {
	f := newFixture(t)
	b := []byte(`{"destination":"Ubot","events":"nope"}`)
	if _, err := line.ParseVerified(b); !errors.Is(err, line.ErrMalformedWebhook) {
		t.Fatalf("ParseVerified = %v, want ErrMalformedWebhook", err)
	}
	for range 2 {
		if err := f.ib.RecordBadBody(context.Background(), b, "malformed"); err != nil {
			t.Fatal(err)
		}
	}
	list, _ := f.ib.DeadLetters(context.Background(), false)
	if len(list) != 1 || list[0].Kind != "body" || list[0].Attempts != 2 {
		t.Fatalf("dead letters = %+v", list)
	}
}
