package inbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"tsunagu/internal/store/storetest"

	"github.com/line/line-bot-sdk-go/v8/linebot/webhook"

	"tsunagu/internal/line"
	"tsunagu/internal/store"
)

const userA = "U0123456789abcdef0123456789abcdef"

// fakeSender records calls; errors are injected per call kind.
type fakeSender struct {
	mu        sync.Mutex
	pushes    []sent
	replies   []sent
	pushErr   []error // consumed in order; nil entries succeed
	replyErr  error
	profile   line.Profile
	profileEr error
}

type sent struct{ to, text, key string }

func (f *fakeSender) PushText(_ context.Context, to, text, key string) (line.SendResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pushes = append(f.pushes, sent{to, text, key})
	if len(f.pushErr) > 0 {
		err := f.pushErr[0]
		f.pushErr = f.pushErr[1:]
		if err != nil {
			return line.SendResult{Status: 500}, err
		}
	}
	return line.SendResult{Status: 200, RequestID: fmt.Sprintf("req-%d", len(f.pushes))}, nil
}

func (f *fakeSender) ReplyText(_ context.Context, token, text string) (line.SendResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.replies = append(f.replies, sent{token, text, ""})
	if f.replyErr != nil {
		return line.SendResult{Status: 400}, f.replyErr
	}
	return line.SendResult{Status: 200, RequestID: "reply-req"}, nil
}

// Push and Reply record other message objects by their type (an image).
func (f *fakeSender) Push(ctx context.Context, to string, msgs []line.Message, key string) (line.SendResult, error) {
	return f.PushText(ctx, to, "<"+msgs[0].Type()+">", key)
}

func (f *fakeSender) Reply(ctx context.Context, token string, msgs []line.Message) (line.SendResult, error) {
	return f.ReplyText(ctx, token, "<"+msgs[0].Type()+">")
}

func (f *fakeSender) Profile(_ context.Context, userID string) (line.Profile, error) {
	if f.profileEr != nil {
		return line.Profile{}, f.profileEr
	}
	p := f.profile
	p.UserID = userID
	return p, nil
}

type recorder struct {
	mu     sync.Mutex
	events []ChangedEvent
}

func (r *recorder) Emit(name string, data any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if name == EventChanged {
		r.events = append(r.events, data.(ChangedEvent))
	}
}

type fixture struct {
	ib    *Inbox
	db    *store.DB
	send  *fakeSender
	emit  *recorder
	clock *fakeClock
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := storetest.New(t)
	var err error
	f := &fixture{db: db, send: &fakeSender{profile: line.Profile{DisplayName: "山田 花子"}}, emit: &recorder{},
		clock: &fakeClock{t: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}}
	f.ib, err = New(Config{DB: db, Sender: f.send, Emitter: f.emit, Clock: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

var eventSeq int

func textEvent(user, text string, ts time.Time) webhook.MessageEvent {
	eventSeq++
	return webhook.MessageEvent{
		Source:          webhook.UserSource{UserId: user},
		Timestamp:       ts.UnixMilli(),
		Mode:            webhook.EventMode_ACTIVE,
		WebhookEventId:  fmt.Sprintf("01TESTEVENT%015d", eventSeq),
		DeliveryContext: &webhook.DeliveryContext{},
		ReplyToken:      fmt.Sprintf("token-%d", eventSeq),
		Message:         webhook.TextMessageContent{Id: fmt.Sprint(eventSeq), Text: text},
	}
}

func (f *fixture) receive(t *testing.T, evs ...webhook.EventInterface) {
	t.Helper()
	if err := f.ib.HandleWebhook(context.Background(), &line.Webhook{CallbackRequest: &webhook.CallbackRequest{Destination: "Ubot", Events: evs}}); err != nil {
		t.Fatal(err)
	}
	if err := settle(context.Background(), f.ib); err != nil {
		t.Fatal(err)
	}
}

// settle does at once what the background workers (Run) do after a
// webhook: deliver the queued sends, then work the fetch jobs.
func settle(ctx context.Context, ib *Inbox) error { return ib.Settle(ctx) }

// settled is a webhook sink that settles after each webhook, for tests of
// what happens after the ingest rather than of its timing.
func settled(ib *Inbox) func(context.Context, *line.Webhook) error {
	return func(ctx context.Context, wh *line.Webhook) error {
		if err := ib.HandleWebhook(ctx, wh); err != nil {
			return err
		}
		return settle(ctx, ib)
	}
}

func (f *fixture) onlyConversation(t *testing.T) Conversation {
	t.Helper()
	list, err := f.ib.Conversations(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 {
		t.Fatalf("want 1 conversation, got %d", len(list))
	}
	return list[0]
}

func TestIncomingMessageCreatesConversation(t *testing.T) {
	f := newFixture(t)
	f.receive(t, textEvent(userA, "住宅ローンの金利について", f.clock.Now()))

	c := f.onlyConversation(t)
	if c.LineUserID != userA || c.Unread != 1 || c.DisplayName != "山田 花子" || c.LastPreview != "住宅ローンの金利について" {
		t.Fatalf("conversation = %+v", c)
	}
	msgs, err := f.ib.Messages(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].Direction != "in" || msgs[0].Body != "住宅ローンの金利について" || msgs[0].Status != "received" {
		t.Fatalf("messages = %+v", msgs)
	}
	if len(f.emit.events) == 0 || f.emit.events[0].ConversationID != c.ID {
		t.Fatalf("no change event for conversation %d: %+v", c.ID, f.emit.events)
	}
}

func TestSameEventTwiceStoredOnce(t *testing.T) {
	f := newFixture(t)
	ev := textEvent(userA, "こんにちは", f.clock.Now())
	f.receive(t, ev)
	ev.DeliveryContext = &webhook.DeliveryContext{IsRedelivery: true}
	f.receive(t, ev)
	f.receive(t, ev, ev) // duplicates inside one body too

	c := f.onlyConversation(t)
	msgs, _ := f.ib.Messages(context.Background(), c.ID)
	if len(msgs) != 1 || c.Unread != 1 {
		t.Fatalf("redelivered event stored %d times, unread %d", len(msgs), c.Unread)
	}
}

func TestFollowUnfollow(t *testing.T) {
	f := newFixture(t)
	now := f.clock.Now()
	f.receive(t, webhook.FollowEvent{Source: webhook.UserSource{UserId: userA}, Timestamp: now.UnixMilli(),
		WebhookEventId: "01FOLLOW000000000000000000", ReplyToken: "rt", DeliveryContext: &webhook.DeliveryContext{}})
	if c := f.onlyConversation(t); c.FollowState != "following" {
		t.Fatalf("after follow: %+v", c)
	}
	f.receive(t, webhook.UnfollowEvent{Source: webhook.UserSource{UserId: userA}, Timestamp: now.UnixMilli() + 1,
		WebhookEventId: "01UNFOLLOW0000000000000000", DeliveryContext: &webhook.DeliveryContext{}})
	c := f.onlyConversation(t)
	if c.FollowState != "unfollowed" {
		t.Fatalf("after unfollow: %+v", c)
	}
	// A blocked customer is never sent to.
	_, err := f.ib.Reply(context.Background(), c.ID, by("staff"), "hello")
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("reply to blocked user: err = %v, want ErrUnreachable", err)
	}
	if len(f.send.pushes)+len(f.send.replies) != 0 {
		t.Fatalf("a send was attempted to a blocked user")
	}
}

func TestReplyUsesFreshTokenOnceThenPush(t *testing.T) {
	f := newFixture(t)
	f.receive(t, textEvent(userA, "質問です", f.clock.Now()))
	c := f.onlyConversation(t)

	m1, err := f.ib.Reply(context.Background(), c.ID, by("佐藤"), "ご連絡ありがとうございます")
	if err != nil {
		t.Fatal(err)
	}
	if m1.Via != "reply" || m1.Status != "sent" || m1.SentBy != "佐藤" || len(f.send.replies) != 1 {
		t.Fatalf("first reply = %+v, replies %d", m1, len(f.send.replies))
	}
	// The token is single-use: the second answer is a push with a stored key.
	m2, err := f.ib.Reply(context.Background(), c.ID, by("佐藤"), "追加のご案内です")
	if err != nil {
		t.Fatal(err)
	}
	if m2.Via != "push" || m2.Status != "sent" || len(f.send.pushes) != 1 {
		t.Fatalf("second reply = %+v", m2)
	}
	if p := f.send.pushes[0]; p.to != userA || p.text != "追加のご案内です" || p.key == "" || p.key != storedKey(t, f, m2.ID) {
		t.Fatalf("push = %+v, stored key %q", p, storedKey(t, f, m2.ID))
	}
	if got := f.onlyConversation(t); got.LastPreview != "追加のご案内です" {
		t.Fatalf("preview = %q", got.LastPreview)
	}
}

func TestReplyAfterTokenExpiryPushes(t *testing.T) {
	f := newFixture(t)
	f.receive(t, textEvent(userA, "質問です", f.clock.Now()))
	f.clock.Add(DefaultReplyTokenTTL + time.Second)
	c := f.onlyConversation(t)
	m, err := f.ib.Reply(context.Background(), c.ID, by("staff"), "遅くなりました")
	if err != nil {
		t.Fatal(err)
	}
	if m.Via != "push" || len(f.send.replies) != 0 || len(f.send.pushes) != 1 {
		t.Fatalf("reply after expiry = %+v (replies %d pushes %d)", m, len(f.send.replies), len(f.send.pushes))
	}
}

func TestInvalidReplyTokenFallsBackToPush(t *testing.T) {
	f := newFixture(t)
	f.send.replyErr = &line.APIError{Status: 400, Message: "Invalid reply token"}
	f.receive(t, textEvent(userA, "質問です", f.clock.Now()))
	c := f.onlyConversation(t)
	m, err := f.ib.Reply(context.Background(), c.ID, by("staff"), "回答です")
	if err != nil {
		t.Fatal(err)
	}
	if m.Via != "push" || m.Status != "sent" || len(f.send.pushes) != 1 || f.send.pushes[0].key != storedKey(t, f, m.ID) {
		t.Fatalf("fallback = %+v pushes %+v", m, f.send.pushes)
	}
}

func TestFailedPushRetriesWithSameKey(t *testing.T) {
	f := newFixture(t)
	f.receive(t, textEvent(userA, "質問です", f.clock.Now()))
	f.clock.Add(time.Hour)
	f.send.pushErr = []error{&line.APIError{Status: 500, Message: "Internal error"}}
	c := f.onlyConversation(t)

	// A 5xx is LINE's passing trouble: the push waits in the queue with
	// its key (it goes out by itself later, or now by a retry).
	m, err := f.ib.Reply(context.Background(), c.ID, by("staff"), "回答です")
	if err != nil || m.Status != "pending" || m.Error != SendErrWaiting {
		t.Fatalf("failed push: m=%+v err=%v", m, err)
	}
	key := storedKey(t, f, m.ID)
	m, err = f.ib.RetryMessage(context.Background(), m.ID, by("staff"))
	if err != nil || m.Status != "sent" {
		t.Fatalf("retry: m=%+v err=%v", m, err)
	}
	if len(f.send.pushes) != 2 || f.send.pushes[0].key != key || f.send.pushes[1].key != key {
		t.Fatalf("retry must reuse the stored key %q: %+v", key, f.send.pushes)
	}
	if _, err := f.ib.RetryMessage(context.Background(), m.ID, by("staff")); !errors.Is(err, ErrNotRetrying) {
		t.Fatalf("retrying a sent message: err = %v", err)
	}
}

func TestResumePending(t *testing.T) {
	f := newFixture(t)
	f.receive(t, textEvent(userA, "質問です", f.clock.Now()))
	c := f.onlyConversation(t)
	ctx := context.Background()
	// Simulate a crash after the rows were written but before sending.
	if err := f.db.Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO messages (conversation_id, direction, kind, body, via, retry_key, status, created_at)
			VALUES (?, 'out', 'text', 'push pending', 'push', 'a6e1d1a0-5f3c-4c62-9d4e-111111111111', 'pending', 1)`, c.ID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO messages (conversation_id, direction, kind, body, via, status, created_at)
			VALUES (?, 'out', 'text', 'reply pending', 'reply', 'pending', 2)`, c.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := f.ib.ResumePending(ctx); err != nil {
		t.Fatal(err)
	}
	if len(f.send.pushes) != 1 || f.send.pushes[0].key != "a6e1d1a0-5f3c-4c62-9d4e-111111111111" {
		t.Fatalf("pending push not resent with its key: %+v", f.send.pushes)
	}
	msgs, _ := f.ib.Messages(ctx, c.ID)
	got := map[string]Message{}
	for _, m := range msgs {
		got[m.Body] = m
	}
	if got["push pending"].Status != "sent" {
		t.Fatalf("push: %+v", got["push pending"])
	}
	if r := got["reply pending"]; r.Status != "failed" || r.Error != SendErrUncertain || len(f.send.replies) != 0 {
		t.Fatalf("a pending reply must be flagged, not resent: %+v", r)
	}
}

func TestReplyValidation(t *testing.T) {
	f := newFixture(t)
	f.receive(t, textEvent(userA, "質問です", f.clock.Now()))
	c := f.onlyConversation(t)
	tests := []struct {
		name string
		conv int64
		text string
		want error
	}{
		{"empty", c.ID, "", ErrEmpty},
		{"blank", c.ID, "  \n ", ErrEmpty},
		{"too long", c.ID, strings.Repeat("あ", 5001), ErrTooLong},
		{"unknown conversation", 9999, "hi", ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := f.ib.Reply(context.Background(), tt.conv, by("staff"), tt.text); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	if len(f.send.pushes)+len(f.send.replies) != 0 {
		t.Fatal("invalid replies must not be sent")
	}
}

func TestMarkReadAndOrdering(t *testing.T) {
	f := newFixture(t)
	const userB = "Ufedcba9876543210fedcba9876543210"
	f.receive(t, textEvent(userA, "first", f.clock.Now()))
	f.clock.Add(time.Minute)
	f.receive(t, textEvent(userB, "second", f.clock.Now()))
	list, _ := f.ib.Conversations(context.Background())
	if len(list) != 2 || list[0].LineUserID != userB {
		t.Fatalf("newest first: %+v", list)
	}
	if err := f.ib.MarkRead(context.Background(), list[0].ID); err != nil {
		t.Fatal(err)
	}
	list, _ = f.ib.Conversations(context.Background())
	if list[0].LineUserID != userA || list[0].Unread != 1 || list[1].Unread != 0 {
		t.Fatalf("unread first: %+v", list)
	}
	if err := f.ib.MarkRead(context.Background(), 4242); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown conversation: %v", err)
	}
}

func TestReadOnlyInbox(t *testing.T) {
	f := newFixture(t)
	ro, err := New(Config{DB: f.db})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ro.Reply(context.Background(), 1, by("s"), "x"); !errors.Is(err, ErrOffline) {
		t.Fatalf("err = %v", err)
	}
}

func storedKey(t *testing.T, f *fixture, msgID int64) string {
	t.Helper()
	var key string
	if err := f.db.Reader().QueryRow(`SELECT COALESCE(retry_key,'') FROM messages WHERE id = ?`, msgID).Scan(&key); err != nil {
		t.Fatal(err)
	}
	return key
}
