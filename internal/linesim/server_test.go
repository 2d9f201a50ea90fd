package linesim

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"
	"github.com/line/line-bot-sdk-go/v8/linebot/webhook"
)

func TestLifecycle(t *testing.T) {
	s := New(Config{AccessToken: testToken})
	if s.URL() != "" {
		t.Fatalf("URL before Start = %q", s.URL())
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close before Start: %v", err)
	}

	s = New(Config{AccessToken: testToken})
	ctx := context.Background()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") {
		t.Fatalf("URL = %q, want loopback", s.URL())
	}
	if err := s.Start(ctx); err == nil {
		t.Fatal("second Start succeeded")
	}
	url := s.URL()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := s.Start(ctx); err == nil {
		t.Fatal("Start after Close succeeded")
	}
	if _, err := http.Get(url + "/v2/bot/profile/" + NewUserID()); err == nil {
		t.Fatal("server still answers after Close")
	}
}

func TestCustomers(t *testing.T) {
	s := New(Config{})
	a, b, c := NewUserID(), NewUserID(), NewUserID()
	s.AddCustomer(Customer{UserID: a, DisplayName: "A"})
	s.AddCustomer(Customer{UserID: b, DisplayName: "B"})
	s.AddCustomer(Customer{UserID: c, DisplayName: "C"})
	s.AddCustomer(Customer{UserID: a, DisplayName: "A2", Following: true})
	s.AddCustomer(Customer{DisplayName: "generated"})

	got := s.Customers()
	if len(got) != 4 {
		t.Fatalf("Customers = %+v, want 4", got)
	}
	want := []Customer{{UserID: a, DisplayName: "A2", Following: true}, {UserID: b, DisplayName: "B"}, {UserID: c, DisplayName: "C"}}
	if !reflect.DeepEqual(got[:3], want) {
		t.Errorf("Customers = %+v, want %+v first", got, want)
	}
	if !isUserID(got[3].UserID) || got[3].DisplayName != "generated" {
		t.Errorf("customer added without an ID = %+v", got[3])
	}
	for range 5 {
		if !reflect.DeepEqual(s.Customers(), got) {
			t.Fatal("Customers order is not stable")
		}
	}
	if s.Deliveries(NewUserID()) != nil || s.Chat(NewUserID()) != nil {
		t.Error("unknown customer has deliveries or chat")
	}

	defer func() {
		if recover() == nil {
			t.Error("AddCustomer with a malformed ID did not panic")
		}
	}()
	s.AddCustomer(Customer{UserID: "hanako"})
}

// TestChatAndOnDelivery follows one conversation from the customer's phone
// and checks OnDelivery has run by the time each send is answered.
func TestChatAndOnDelivery(t *testing.T) {
	var mu sync.Mutex
	var notified []Delivery
	s := startSim(t, Config{OnDelivery: func(d Delivery) {
		mu.Lock()
		notified = append(notified, d)
		mu.Unlock()
	}})
	rc := newReceiver(t, testSecret)
	s.SetWebhookURL(rc.srv.URL)
	u := addFollower(s, "hanako")
	api := sdkClient(t, s, testToken)
	ctx := context.Background()
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(notified)
	}

	if _, err := s.SendText(ctx, u, "質問があります"); err != nil {
		t.Fatal(err)
	}
	_, ev := rc.last(t)
	if _, err := api.ReplyMessage(&messaging_api.ReplyMessageRequest{
		ReplyToken: replyTokenOf(t, ev),
		Messages:   []messaging_api.MessageInterface{&messaging_api.TextMessage{Text: "どうぞ"}},
	}); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 1 {
		t.Fatalf("OnDelivery called %d times when the reply returned, want 1", n)
	}
	if _, err := api.PushMessage(&messaging_api.PushMessageRequest{
		To:       u,
		Messages: []messaging_api.MessageInterface{&messaging_api.TextMessage{Text: "追伸"}},
	}, uuid.NewString()); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 2 {
		t.Fatalf("OnDelivery called %d times when the push returned, want 2", n)
	}

	var chat []string
	for _, m := range s.Chat(u) {
		chat = append(chat, m.From+":"+m.Text)
	}
	want := []string{"customer:質問があります", "official:どうぞ", "official:追伸"}
	if !reflect.DeepEqual(chat, want) {
		t.Fatalf("Chat = %q, want %q", chat, want)
	}
	mu.Lock()
	defer mu.Unlock()
	if !reflect.DeepEqual(notified, s.Deliveries(u)) {
		t.Fatalf("OnDelivery saw %+v, Deliveries %+v", notified, s.Deliveries(u))
	}
}

// TestConcurrent runs customers and staff at once: each customer's webhook
// is answered from inside the webhook handler with a reply, while pushes,
// profile reads and snapshot reads go on. Run with -race.
func TestConcurrent(t *testing.T) {
	s := startSim(t, Config{})
	api := sdkClient(t, s, testToken)
	var replyErrs sync.Map
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cb, err := webhook.ParseRequest(testSecret, r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		for _, ev := range cb.Events {
			if me, ok := ev.(webhook.MessageEvent); ok {
				_, err := api.ReplyMessage(&messaging_api.ReplyMessageRequest{
					ReplyToken: me.ReplyToken,
					Messages:   []messaging_api.MessageInterface{&messaging_api.TextMessage{Text: "ack"}},
				})
				if err != nil {
					replyErrs.Store(me.WebhookEventId, err)
				}
			}
		}
	})
	srv := httptest.NewServer(app)
	t.Cleanup(srv.Close)
	s.SetWebhookURL(srv.URL)

	const customers, rounds = 8, 5
	ids := make([]string, customers)
	for i := range ids {
		ids[i] = addFollower(s, fmt.Sprintf("c%d", i))
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, customers*rounds*3)
	for _, id := range ids {
		wg.Go(func() {
			for r := range rounds {
				if _, err := s.SendText(ctx, id, fmt.Sprintf("msg %d", r)); err != nil {
					errs <- err
				}
			}
		})
		wg.Go(func() {
			for r := range rounds {
				_, err := api.PushMessage(&messaging_api.PushMessageRequest{
					To:       id,
					Messages: []messaging_api.MessageInterface{&messaging_api.TextMessage{Text: fmt.Sprintf("push %d", r)}},
				}, uuid.NewString())
				if err != nil {
					errs <- err
				}
				if _, err := api.GetProfile(id); err != nil {
					errs <- err
				}
				_ = s.Deliveries(id)
				_ = s.Chat(id)
				_ = s.Customers()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	replyErrs.Range(func(k, v any) bool {
		t.Errorf("reply to %v: %v", k, v)
		return true
	})
	for _, id := range ids {
		var push, reply int
		for _, d := range s.Deliveries(id) {
			switch d.Via {
			case ViaPush:
				push++
			case ViaReply:
				reply++
			}
		}
		if push != rounds || reply != rounds {
			t.Errorf("%s: %d pushes and %d replies delivered, want %d each", id, push, reply, rounds)
		}
		if n := len(s.Chat(id)); n != 3*rounds {
			t.Errorf("%s: chat has %d messages, want %d", id, n, 3*rounds)
		}
	}
}
