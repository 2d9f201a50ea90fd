package linesim

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/line/line-bot-sdk-go/v8/linebot/webhook"
)

func replyTokenOf(t *testing.T, ev webhook.EventInterface) string {
	t.Helper()
	switch e := ev.(type) {
	case webhook.MessageEvent:
		return e.ReplyToken
	case webhook.FollowEvent:
		return e.ReplyToken
	}
	t.Fatalf("event %T has no reply token", ev)
	return ""
}

func userSource(t *testing.T, src webhook.SourceInterface) string {
	t.Helper()
	us, ok := src.(webhook.UserSource)
	if !ok {
		t.Fatalf("source is %T, want webhook.UserSource", src)
	}
	if us.Type != "user" {
		t.Fatalf("source type = %q", us.Type)
	}
	return us.UserId
}

func TestSendTextWebhook(t *testing.T) {
	clock := newFakeClock()
	s := startSim(t, Config{Clock: clock.Now})
	rc := newReceiver(t, testSecret)
	s.SetWebhookURL(rc.srv.URL)
	u := addFollower(s, "hanako")

	eventID, err := s.SendText(context.Background(), u, "口座の住所変更をしたいです 🏠")
	if err != nil {
		t.Fatalf("SendText: %v", err)
	}
	r, ev := rc.last(t)
	if got := r.header.Get("Content-Type"); got != "application/json; charset=utf-8" {
		t.Errorf("Content-Type = %q", got)
	}
	if r.signature != Sign(testSecret, r.raw) {
		t.Errorf("x-line-signature %q does not sign the body", r.signature)
	}
	if r.callback.Destination != s.Destination() || !isUserID(s.Destination()) {
		t.Errorf("destination = %q, want the bot's user ID %q", r.callback.Destination, s.Destination())
	}
	me, ok := ev.(webhook.MessageEvent)
	if !ok {
		t.Fatalf("event is %T, want webhook.MessageEvent", ev)
	}
	if me.Type != "message" || me.Mode != webhook.EventMode_ACTIVE {
		t.Errorf("type %q mode %q", me.Type, me.Mode)
	}
	if me.Timestamp != clock.Now().UnixMilli() {
		t.Errorf("timestamp = %d, want %d", me.Timestamp, clock.Now().UnixMilli())
	}
	if me.WebhookEventId != eventID || len(eventID) != 26 {
		t.Errorf("webhookEventId = %q, SendText returned %q", me.WebhookEventId, eventID)
	}
	if me.DeliveryContext == nil || me.DeliveryContext.IsRedelivery {
		t.Errorf("deliveryContext = %+v, want isRedelivery false", me.DeliveryContext)
	}
	if me.ReplyToken == "" {
		t.Error("no reply token")
	}
	if got := userSource(t, me.Source); got != u {
		t.Errorf("source userId = %q, want %q", got, u)
	}
	tm, ok := me.Message.(webhook.TextMessageContent)
	if !ok {
		t.Fatalf("message is %T, want webhook.TextMessageContent", me.Message)
	}
	if tm.Text != "口座の住所変更をしたいです 🏠" || tm.Id == "" || tm.QuoteToken == "" {
		t.Errorf("message = %+v", tm)
	}
	chat := s.Chat(u)
	if len(chat) != 1 || chat[0].From != FromCustomer || chat[0].Text != tm.Text || !chat[0].At.Equal(clock.Now()) {
		t.Errorf("Chat = %+v", chat)
	}
}

func TestFollowUnfollowWebhooks(t *testing.T) {
	s := startSim(t, Config{})
	rc := newReceiver(t, testSecret)
	s.SetWebhookURL(rc.srv.URL)
	u := NewUserID()
	s.AddCustomer(Customer{UserID: u, DisplayName: "new"})
	ctx := context.Background()

	if err := s.Unfollow(ctx, u); err == nil {
		t.Fatal("Unfollow by a non-friend succeeded")
	}
	if err := s.Follow(ctx, u); err != nil {
		t.Fatalf("Follow: %v", err)
	}
	_, ev := rc.last(t)
	fe, ok := ev.(webhook.FollowEvent)
	if !ok {
		t.Fatalf("event is %T, want webhook.FollowEvent", ev)
	}
	if fe.ReplyToken == "" || fe.Follow == nil || fe.Follow.IsUnblocked || fe.Mode != "active" ||
		len(fe.WebhookEventId) != 26 || fe.DeliveryContext == nil || fe.DeliveryContext.IsRedelivery || fe.Timestamp == 0 {
		t.Errorf("follow event = %+v (follow %+v)", fe, fe.Follow)
	}
	if got := userSource(t, fe.Source); got != u {
		t.Errorf("source = %q", got)
	}
	if err := s.Follow(ctx, u); err == nil {
		t.Error("second Follow succeeded")
	}
	if c := s.Customers(); !c[0].Following {
		t.Error("not Following after Follow")
	}

	if err := s.Unfollow(ctx, u); err != nil {
		t.Fatalf("Unfollow: %v", err)
	}
	r, ev := rc.last(t)
	ue, ok := ev.(webhook.UnfollowEvent)
	if !ok {
		t.Fatalf("event is %T, want webhook.UnfollowEvent", ev)
	}
	if bytes.Contains(r.raw, []byte("replyToken")) {
		t.Errorf("unfollow event carries a reply token: %s", r.raw)
	}
	if got := userSource(t, ue.Source); got != u || ue.Mode != "active" || len(ue.WebhookEventId) != 26 {
		t.Errorf("unfollow event = %+v", ue)
	}
	if c := s.Customers(); c[0].Following {
		t.Error("still Following after Unfollow")
	}
	if _, err := s.SendText(ctx, u, "hello?"); err == nil {
		t.Error("a customer who blocked the account could send")
	}

	if err := s.Follow(ctx, u); err != nil {
		t.Fatalf("re-Follow: %v", err)
	}
	_, ev = rc.last(t)
	if fe := ev.(webhook.FollowEvent); fe.Follow == nil || !fe.Follow.IsUnblocked {
		t.Errorf("follow after block: isUnblocked = false, want true")
	}
}

func TestRedeliver(t *testing.T) {
	clock := newFakeClock()
	s := startSim(t, Config{Clock: clock.Now})
	rc := newReceiver(t, testSecret)
	s.SetWebhookURL(rc.srv.URL)
	u := addFollower(s, "hanako")
	ctx := context.Background()

	// The app is down: the webhook fails, but the customer's message
	// is sent and the event can be redelivered.
	rc.setStatus(http.StatusInternalServerError)
	id, err := s.SendText(ctx, u, "hello")
	if se, ok := errors.AsType[*WebhookStatusError](err); !ok || se.StatusCode != 500 {
		t.Fatalf("SendText to a failing webhook: %v, want WebhookStatusError 500", err)
	}
	if id == "" {
		t.Fatal("no event ID for a failed delivery")
	}
	if len(s.Chat(u)) != 1 {
		t.Fatal("message missing from the chat after a failed webhook")
	}
	_, first := rc.last(t)

	rc.setStatus(0)
	clock.Advance(time.Minute)
	if err := s.Redeliver(ctx, id); err != nil {
		t.Fatalf("Redeliver: %v", err)
	}
	_, again := rc.last(t)
	a, b := first.(webhook.MessageEvent), again.(webhook.MessageEvent)
	if b.WebhookEventId != id || b.WebhookEventId != a.WebhookEventId {
		t.Errorf("redelivered webhookEventId %q, want %q", b.WebhookEventId, id)
	}
	if b.DeliveryContext == nil || !b.DeliveryContext.IsRedelivery {
		t.Error("redelivery not marked isRedelivery")
	}
	if b.Timestamp != a.Timestamp || b.ReplyToken != a.ReplyToken {
		t.Errorf("redelivery changed timestamp or reply token: %+v vs %+v", b, a)
	}
	if b.Message.(webhook.TextMessageContent).Id != a.Message.(webhook.TextMessageContent).Id {
		t.Error("redelivery changed the message ID")
	}
	if len(s.Chat(u)) != 1 {
		t.Error("redelivery added a chat message")
	}

	if err := s.Redeliver(ctx, "01ARZ3NDEKTSV4RRFFQ69G5FAV"); !errors.Is(err, ErrUnknownEvent) {
		t.Errorf("Redeliver(unknown) = %v, want ErrUnknownEvent", err)
	}
}

func TestWebhookErrors(t *testing.T) {
	s := startSim(t, Config{})
	u := addFollower(s, "hanako")
	ctx := context.Background()

	if _, err := s.SendText(ctx, u, "hi"); !errors.Is(err, ErrNoWebhookURL) {
		t.Errorf("SendText without a webhook URL = %v, want ErrNoWebhookURL", err)
	}
	if _, err := s.SendText(ctx, NewUserID(), "hi"); !errors.Is(err, ErrUnknownCustomer) {
		t.Errorf("SendText(unknown) = %v, want ErrUnknownCustomer", err)
	}
	if err := s.Follow(ctx, NewUserID()); !errors.Is(err, ErrUnknownCustomer) {
		t.Errorf("Follow(unknown) = %v, want ErrUnknownCustomer", err)
	}
	if err := s.Unfollow(ctx, NewUserID()); !errors.Is(err, ErrUnknownCustomer) {
		t.Errorf("Unfollow(unknown) = %v, want ErrUnknownCustomer", err)
	}
	if _, err := s.SendText(ctx, u, ""); err == nil {
		t.Error("SendText accepted empty text")
	}

	// A webhook that ignores the signature is the app's bug, but the
	// simulator must sign with the configured secret, not another.
	rc := newReceiver(t, "another-secret")
	s.SetWebhookURL(rc.srv.URL)
	if _, err := s.SendText(ctx, u, "hi"); err != nil {
		t.Fatal(err)
	}
	if r := rc.all()[0]; !errors.Is(r.parseErr, webhook.ErrInvalidSignature) {
		t.Errorf("receiver with the wrong secret: %v, want ErrInvalidSignature", r.parseErr)
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.SendText(cctx, u, "hi"); !errors.Is(err, context.Canceled) {
		t.Errorf("SendText with a cancelled context = %v", err)
	}
}
