package inbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/line/line-bot-sdk-go/v8/linebot/webhook"

	"tsunagu/internal/line"
	"tsunagu/internal/outbox"
)

const (
	userB = "U0123456789abcdef0123456789abcdeb" // a friend who never wrote
	userC = "U0123456789abcdef0123456789abcdec" // never seen by the inbox
)

// obSender answers pushes and multicasts with a chosen error.
type obSender struct {
	mu  sync.Mutex
	err error
}

func (s *obSender) Push(context.Context, string, []line.Message, string) (line.SendResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return line.SendResult{Status: 400}, s.err
	}
	return line.SendResult{Status: 200}, nil
}

func (s *obSender) Multicast(ctx context.Context, _ []string, m []line.Message, k string) (line.SendResult, error) {
	return s.Push(ctx, "", m, k)
}

func postbackEvent(user, data string) webhook.PostbackEvent {
	eventSeq++
	return webhook.PostbackEvent{
		Source:          webhook.UserSource{UserId: user},
		Timestamp:       1764064800000,
		Mode:            webhook.EventMode_ACTIVE,
		WebhookEventId:  fmt.Sprintf("01TESTEVENT%015d", eventSeq),
		DeliveryContext: &webhook.DeliveryContext{},
		ReplyToken:      fmt.Sprintf("token-%d", eventSeq),
		Postback:        &webhook.PostbackContent{Data: data},
	}
}

func mustMessage(t *testing.T, raw string) line.Message {
	t.Helper()
	m, err := line.ParseMessage([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// What the outbox sends (a survey's first question, a reminder) is in each
// recipient's conversation, marked by its source, with the request's
// delivery status; the buttons it carried name a later tap.
func TestOutboxSendIsInTheConversation(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.receive(t, textEvent(userA, "こんにちは", f.clock.Now()))
	if _, err := f.db.Writer().ExecContext(ctx, `INSERT INTO line_users (user_id, created_at) VALUES (?, 1)`, userB); err != nil {
		t.Fatal(err)
	}
	snd := &obSender{}
	ob, err := outbox.New(outbox.Config{DB: f.db, Sender: snd, Clock: f.clock.Now,
		Record: func(ctx context.Context, tx *sql.Tx, r outbox.Recorded) error {
			return RecordSent(ctx, tx, Sent{Source: r.Source, To: r.To, Messages: r.Messages, OutboxRequest: r.RequestID, At: r.At})
		}})
	if err != nil {
		t.Fatal(err)
	}
	question := mustMessage(t, `{"type":"text","text":"ご満足いただけましたか？","quickReply":{"items":[
		{"type":"action","action":{"type":"postback","label":"満足","data":"q=1&a=1","displayText":"満足"}},
		{"type":"action","action":{"type":"postback","label":"不満","data":"q=1&a=2"}}]}}`)
	card := mustMessage(t, `{"type":"flex","altText":"来店予約のご案内","contents":{"type":"bubble","body":{"type":"box","layout":"vertical","contents":[
		{"type":"button","action":{"type":"postback","label":"予約する","data":"action=reserve"}}]}}}`)
	id, err := ob.Enqueue(ctx, outbox.Request{Source: "automation:7", To: []string{userA, userB, userC}, Messages: []line.Message{question, card}})
	if err != nil {
		t.Fatal(err)
	}

	outgoing := func(user string) []Message {
		t.Helper()
		var conv int64
		if err := f.db.Reader().QueryRow(`SELECT id FROM conversations WHERE line_user_id = ?`, user).Scan(&conv); err != nil {
			t.Fatalf("conversation of %s: %v", user, err)
		}
		msgs, err := f.ib.Messages(ctx, conv)
		if err != nil {
			t.Fatal(err)
		}
		var out []Message
		for _, m := range msgs {
			if m.Direction == "out" {
				out = append(out, m)
			}
		}
		return out
	}
	for _, user := range []string{userA, userB} {
		out := outgoing(user)
		if len(out) != 2 {
			t.Fatalf("%s: want the 2 sent messages in the thread, got %+v", user, out)
		}
		if out[0].Body != "ご満足いただけましたか？" || out[0].Kind != "text" || out[1].Body != "来店予約のご案内" {
			t.Errorf("%s: bodies %q %q", user, out[0].Body, out[1].Body)
		}
		for _, m := range out {
			// The automation does not exist: a reminder, without a name.
			if m.Origin != OriginReminder || m.OriginName != "" || !m.Tracked || m.Status != "pending" {
				t.Errorf("%s: recorded message %+v", user, m)
			}
		}
	}
	var n int
	f.db.Reader().QueryRow(`SELECT count(*) FROM conversations WHERE line_user_id = ?`, userC).Scan(&n)
	if n != 0 {
		t.Errorf("a user the inbox never saw got a conversation")
	}

	// Sent: the thread says so (the request's status), and the inbox's own
	// send queue never takes the rows.
	if _, err := ob.Send(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := f.ib.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	if out := outgoing(userA); out[0].Status != "sent" || out[1].Status != "sent" {
		t.Errorf("after the send: %+v", out)
	}
	if len(f.send.pushes) != 0 {
		t.Errorf("the inbox sent the recorded messages again: %+v", f.send.pushes)
	}

	// The customer taps the buttons: the thread shows what they said.
	f.receive(t, postbackEvent(userA, "q=1&a=2"), postbackEvent(userA, "action=reserve"), postbackEvent(userA, "action=unknown"))
	var conv int64
	f.db.Reader().QueryRow(`SELECT id FROM conversations WHERE line_user_id = ?`, userA).Scan(&conv)
	msgs, err := f.ib.Messages(ctx, conv)
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, m := range msgs {
		if m.Kind == "postback" {
			labels = append(labels, m.Label)
		}
	}
	if fmt.Sprint(labels) != fmt.Sprint([]string{"不満", "予約する", ""}) {
		t.Errorf("postback labels %q", labels)
	}
}

// A failed request shows as failed in the thread; a send that fails to
// enqueue records nothing (one transaction).
func TestRecordedSendFailsAndRollsBack(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.receive(t, textEvent(userA, "こんにちは", f.clock.Now()))
	snd := &obSender{err: &line.APIError{Status: 400, Message: "bad"}}
	broken := errors.New("recorder broke")
	fail := false
	ob, err := outbox.New(outbox.Config{DB: f.db, Sender: snd, Clock: f.clock.Now,
		Record: func(ctx context.Context, tx *sql.Tx, r outbox.Recorded) error {
			if err := RecordSent(ctx, tx, Sent{Source: r.Source, To: r.To, Messages: r.Messages, OutboxRequest: r.RequestID, At: r.At}); err != nil {
				return err
			}
			if fail {
				return broken
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	text := mustMessage(t, `{"type":"text","text":"お誕生日おめでとうございます"}`)
	if _, err := ob.Submit(ctx, outbox.Request{Source: "survey:3", To: []string{userA}, Messages: []line.Message{text}}); err == nil {
		t.Fatal("want the 400 reported")
	}
	conv := f.onlyConversation(t)
	msgs, _ := f.ib.Messages(ctx, conv.ID)
	last := msgs[len(msgs)-1]
	if last.Body != "お誕生日おめでとうございます" || last.Status != "failed" || last.Origin != OriginSurvey {
		t.Errorf("failed send in the thread: %+v", last)
	}

	fail = true
	if _, err := ob.Enqueue(ctx, outbox.Request{Source: "survey:3", To: []string{userA}, Messages: []line.Message{text}}); !errors.Is(err, broken) {
		t.Fatalf("enqueue with a failing recorder: %v", err)
	}
	var sends, rows int
	f.db.Reader().QueryRow(`SELECT count(*) FROM outbox_sends`).Scan(&sends)
	f.db.Reader().QueryRow(`SELECT count(*) FROM messages WHERE source = 'survey:3'`).Scan(&rows)
	if sends != 1 || rows != 1 {
		t.Errorf("after a failed enqueue: %d sends, %d recorded rows; want 1 and 1", sends, rows)
	}
}

func TestSummarise(t *testing.T) {
	for _, c := range []struct{ raw, kind, body string }{
		{`{"type":"text","text":"こんにちは"}`, "text", "こんにちは"},
		{`{"type":"flex","altText":"ご案内","contents":{"type":"bubble"}}`, "text", "ご案内"},
		{`{"type":"template","altText":"アンケート","template":{"type":"buttons","text":"q","actions":[]}}`, "text", "アンケート"},
		{`{"type":"image","originalContentUrl":"https://x/a.jpg","previewImageUrl":"https://x/b.jpg"}`, "image", ""},
		{`{"type":"sticker","packageId":"1","stickerId":"2"}`, "sticker", ""},
	} {
		m := mustMessage(t, c.raw)
		if k, b := Summarise(m); k != c.kind || b != c.body {
			t.Errorf("%s: got %q %q", c.raw, k, b)
		}
	}
}
