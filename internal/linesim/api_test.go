package linesim

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"
)

func TestPushRawHTTP(t *testing.T) {
	s := startSim(t, Config{})
	follower := addFollower(s, "hanako")
	unknown := NewUserID()
	key := uuid.NewString()

	tests := []struct {
		name       string
		token      string
		header     map[string]string
		body       string
		wantStatus int
		wantMsg    string
		wantDetail []errorDetail
	}{
		{
			name: "no authorization", body: pushBody(follower, "hi"),
			wantStatus: 401, wantMsg: msgAuthRequired,
		},
		{
			name: "wrong token", token: "nope", body: pushBody(follower, "hi"),
			wantStatus: 401, wantMsg: msgAuthFailed,
		},
		{
			name: "retry key not a UUID", token: testToken, header: map[string]string{"X-Line-Retry-Key": "not-a-uuid"},
			body: pushBody(follower, "hi"), wantStatus: 400, wantMsg: msgRetryInvalid,
		},
		{
			name: "retry key UUID without hyphens", token: testToken,
			header: map[string]string{"X-Line-Retry-Key": strings.ReplaceAll(key, "-", "")},
			body:   pushBody(follower, "hi"), wantStatus: 400, wantMsg: msgRetryInvalid,
		},
		{
			name: "malformed to", token: testToken, body: pushBody("hanako", "hi"),
			wantStatus: 400, wantMsg: "The property, 'to', in the request body is invalid (line: -, column: -)",
		},
		{
			name: "unknown user", token: testToken, body: pushBody(unknown, "hi"),
			wantStatus: 400, wantMsg: msgFailedToSend,
		},
		{
			name: "missing to", token: testToken, body: `{"messages":[{"type":"text","text":"hi"}]}`,
			wantStatus: 400, wantMsg: "The request body has 1 error(s)",
			wantDetail: []errorDetail{{Message: "May not be empty", Property: "to"}},
		},
		{
			name: "no messages", token: testToken, body: pushBody(follower),
			wantStatus: 400, wantMsg: "The request body has 1 error(s)",
			wantDetail: []errorDetail{{Message: "Size must be between 1 and 5", Property: "messages"}},
		},
		{
			name: "six messages", token: testToken, body: pushBody(follower, "1", "2", "3", "4", "5", "6"),
			wantStatus: 400, wantMsg: "The request body has 1 error(s)",
			wantDetail: []errorDetail{{Message: "Size must be between 1 and 5", Property: "messages"}},
		},
		{
			name: "empty and too long text", token: testToken,
			body:       pushBody(follower, "ok", "", strings.Repeat("a", 5001)),
			wantStatus: 400, wantMsg: "The request body has 2 error(s)",
			wantDetail: []errorDetail{
				{Message: "May not be empty", Property: "messages[1].text"},
				{Message: "Length must be between 0 and 5000", Property: "messages[2].text"},
			},
		},
		{
			name: "emoji counted as two units", token: testToken,
			body:       pushBody(follower, strings.Repeat("😀", 2500)+"a"),
			wantStatus: 400, wantMsg: "The request body has 1 error(s)",
			wantDetail: []errorDetail{{Message: "Length must be between 0 and 5000", Property: "messages[0].text"}},
		},
		{
			name: "unknown message type", token: testToken,
			body:       `{"to":"` + follower + `","messages":[{"type":"hologram","text":"hi"}]}`,
			wantStatus: 400, wantMsg: "A message (messages[0]) in the request body is invalid",
		},
		{
			name: "sticker without stickerId", token: testToken,
			body:       `{"to":"` + follower + `","messages":[{"type":"sticker","packageId":"446"}]}`,
			wantStatus: 400, wantMsg: "The request body has 1 error(s)",
			wantDetail: []errorDetail{{Message: "May not be empty", Property: "messages[0].stickerId"}},
		},
		{
			name: "broken JSON", token: testToken, body: "{\n  \"to\": ,\n}",
			wantStatus: 400, wantMsg: "The request body could not be parsed as JSON (line: 2, column: 9)",
		},
		{
			name: "mistyped to", token: testToken, body: `{"to":5,"messages":[]}`,
			wantStatus: 400, wantMsg: "The property, 'to', in the request body is invalid (line: 1, column: 7)",
		},
		{
			name: "wrong content type", token: testToken, header: map[string]string{"Content-Type": "text/plain"},
			body: pushBody(follower, "hi"), wantStatus: 415, wantMsg: "The content type, 'text/plain', is not supported",
		},
		{
			name: "exactly 5000 units", token: testToken, header: map[string]string{"X-Line-Retry-Key": key},
			body: pushBody(follower, strings.Repeat("😀", 2500)), wantStatus: 200,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := call(t, s, "POST", "/v2/bot/message/push", tt.token, tt.header, tt.body)
			if res.status != tt.wantStatus {
				t.Fatalf("status = %d, want %d (body %s)", res.status, tt.wantStatus, res.raw)
			}
			if _, err := uuid.Parse(res.header.Get("X-Line-Request-Id")); err != nil {
				t.Errorf("x-line-request-id = %q, not a UUID", res.header.Get("X-Line-Request-Id"))
			}
			if ct := res.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			if res.body.Message != tt.wantMsg {
				t.Errorf("message = %q, want %q", res.body.Message, tt.wantMsg)
			}
			if !reflect.DeepEqual(res.body.Details, tt.wantDetail) {
				t.Errorf("details = %+v, want %+v", res.body.Details, tt.wantDetail)
			}
		})
	}
	// Only the one valid push reached the customer.
	if d := s.Deliveries(follower); len(d) != 1 || d[0].RetryKey != key || d[0].Via != ViaPush {
		t.Fatalf("Deliveries = %+v, want the one accepted push", d)
	}
}

func TestPushSuccessResponse(t *testing.T) {
	s := startSim(t, Config{})
	u := addFollower(s, "taro")
	res := call(t, s, "POST", "/v2/bot/message/push", testToken, nil, pushBody(u, "one", "two"))
	if res.status != 200 {
		t.Fatalf("status %d: %s", res.status, res.raw)
	}
	var body sendResponse
	if err := json.Unmarshal(res.raw, &body); err != nil {
		t.Fatal(err)
	}
	if len(body.SentMessages) != 2 {
		t.Fatalf("sentMessages = %+v, want 2", body.SentMessages)
	}
	for _, m := range body.SentMessages {
		if len(m.ID) != 18 || strings.Trim(m.ID, "0123456789") != "" || m.QuoteToken == "" {
			t.Errorf("sent message %+v: want an 18-digit ID and a quote token", m)
		}
	}
	if body.SentMessages[0].ID == body.SentMessages[1].ID {
		t.Error("two messages share an ID")
	}
	d := s.Deliveries(u)
	if len(d) != 2 || d[0].Text != "one" || d[1].Text != "two" || d[0].RequestID != res.header.Get("X-Line-Request-Id") {
		t.Fatalf("Deliveries = %+v", d)
	}
}

func TestPushRetryKey(t *testing.T) {
	clock := newFakeClock()
	s := startSim(t, Config{Clock: clock.Now})
	u := addFollower(s, "jiro")
	key := uuid.NewString()
	hdr := map[string]string{"X-Line-Retry-Key": key}

	first := call(t, s, "POST", "/v2/bot/message/push", testToken, hdr, pushBody(u, "振込が完了しました"))
	if first.status != 200 {
		t.Fatalf("first push: %d %s", first.status, first.raw)
	}
	var sent sendResponse
	if err := json.Unmarshal(first.raw, &sent); err != nil {
		t.Fatal(err)
	}
	firstID := first.header.Get("X-Line-Request-Id")

	// A retry is refused whatever its body, pointing at the first request.
	again := call(t, s, "POST", "/v2/bot/message/push", testToken, hdr, pushBody(u, "something else"))
	if again.status != http.StatusConflict {
		t.Fatalf("retry: %d %s, want 409", again.status, again.raw)
	}
	if got := again.header.Get("X-Line-Accepted-Request-Id"); got != firstID {
		t.Errorf("x-line-accepted-request-id = %q, want first request's %q", got, firstID)
	}
	if again.header.Get("X-Line-Request-Id") == firstID {
		t.Error("the retry reused the first request ID")
	}
	if again.body.Message != msgRetryAccepted {
		t.Errorf("message = %q", again.body.Message)
	}
	if !reflect.DeepEqual(again.body.SentMessages, sent.SentMessages) {
		t.Errorf("409 sentMessages = %+v, want the first request's %+v", again.body.SentMessages, sent.SentMessages)
	}
	if d := s.Deliveries(u); len(d) != 1 {
		t.Fatalf("after retry, %d deliveries, want 1", len(d))
	}

	// LINE forgets retry keys after 24 hours.
	clock.Advance(RetryKeyTTL)
	if late := call(t, s, "POST", "/v2/bot/message/push", testToken, hdr, pushBody(u, "later")); late.status != 200 {
		t.Fatalf("push with a key older than 24h: %d %s", late.status, late.raw)
	}
}

func TestPushToBlockedUserIsAcceptedButNotDelivered(t *testing.T) {
	var mu sync.Mutex
	var notified []Delivery
	s := startSim(t, Config{OnDelivery: func(d Delivery) {
		mu.Lock()
		notified = append(notified, d)
		mu.Unlock()
	}})
	u := NewUserID()
	s.AddCustomer(Customer{UserID: u, DisplayName: "blocked", Following: false})
	res := call(t, s, "POST", "/v2/bot/message/push", testToken, nil, pushBody(u, "hello"))
	if res.status != 200 {
		t.Fatalf("status %d, want 200 (LINE accepts pushes to users who blocked)", res.status)
	}
	if d := s.Deliveries(u); len(d) != 0 {
		t.Fatalf("Deliveries = %+v, want none", d)
	}
	if c := s.Chat(u); len(c) != 0 {
		t.Fatalf("Chat = %+v, want none", c)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(notified) != 0 {
		t.Fatalf("OnDelivery called for an undelivered push: %+v", notified)
	}
}

func TestReplyRawHTTP(t *testing.T) {
	clock := newFakeClock()
	s := startSim(t, Config{Clock: clock.Now, ReplyTokenTTL: 30 * time.Second})
	rc := newReceiver(t, testSecret)
	s.SetWebhookURL(rc.srv.URL)
	u := addFollower(s, "hanako")
	ctx := context.Background()

	token := func() string {
		t.Helper()
		if _, err := s.SendText(ctx, u, "残高を教えてください"); err != nil {
			t.Fatalf("SendText: %v", err)
		}
		raw := rc.all()
		var cb wireCallback
		if err := json.Unmarshal(raw[len(raw)-1].raw, &cb); err != nil {
			t.Fatal(err)
		}
		return cb.Events[0].ReplyToken
	}
	reply := func(tok string, header map[string]string) apiResponse {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"replyToken": tok, "messages": []map[string]string{{"type": "text", "text": "お調べします"}}})
		return call(t, s, "POST", "/v2/bot/message/reply", testToken, header, string(body))
	}

	tok := token()
	if res := reply(tok, map[string]string{"X-Line-Retry-Key": uuid.NewString()}); res.status != 400 || res.body.Message != msgRetryForbidden {
		t.Fatalf("reply with a retry key: %d %q, want 400", res.status, res.body.Message)
	}
	if res := reply(tok, nil); res.status != 200 {
		t.Fatalf("first use of a fresh token: %d %s", res.status, res.raw)
	}
	if res := reply(tok, nil); res.status != 400 || res.body.Message != msgInvalidReply {
		t.Fatalf("second use: %d %q, want 400 %q", res.status, res.body.Message, msgInvalidReply)
	}
	if res := reply("0123456789abcdef0123456789abcdef", nil); res.status != 400 || res.body.Message != msgInvalidReply {
		t.Fatalf("unknown token: %d %q", res.status, res.body.Message)
	}
	if res := reply("", nil); res.status != 400 || len(res.body.Details) != 1 || res.body.Details[0].Property != "replyToken" {
		t.Fatalf("empty token: %d %+v", res.status, res.body)
	}

	tok = token()
	clock.Advance(29 * time.Second)
	if res := reply(tok, nil); res.status != 200 {
		t.Fatalf("token within TTL: %d %s", res.status, res.raw)
	}
	tok = token()
	clock.Advance(30 * time.Second)
	if res := reply(tok, nil); res.status != 400 || res.body.Message != msgInvalidReply {
		t.Fatalf("expired token: %d %q", res.status, res.body.Message)
	}

	d := s.Deliveries(u)
	if len(d) != 2 || d[0].Via != ViaReply || d[0].RetryKey != "" {
		t.Fatalf("Deliveries = %+v, want two replies", d)
	}
}

func TestProfileRawHTTP(t *testing.T) {
	s := startSim(t, Config{})
	friend := addFollower(s, "hanako")
	blocked := NewUserID()
	s.AddCustomer(Customer{UserID: blocked, DisplayName: "blocked"})

	res := call(t, s, "GET", "/v2/bot/profile/"+friend, testToken, nil, "")
	if res.status != 200 {
		t.Fatalf("friend: %d %s", res.status, res.raw)
	}
	var p map[string]string
	if err := json.Unmarshal(res.raw, &p); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"userId": friend, "displayName": "hanako", "pictureUrl": "https://example.com/hanako.png", "language": "ja"}
	if !reflect.DeepEqual(p, want) {
		t.Fatalf("profile = %v, want %v", p, want)
	}

	for name, path := range map[string]string{
		"blocked":      "/v2/bot/profile/" + blocked,
		"unknown":      "/v2/bot/profile/" + NewUserID(),
		"unknown path": "/v2/bot/nothing",
	} {
		res := call(t, s, "GET", path, testToken, nil, "")
		if res.status != 404 || res.body.Message != msgNotFound || res.header.Get("X-Line-Request-Id") == "" {
			t.Errorf("%s: %d %q, want 404 %q with a request ID", name, res.status, res.body.Message, msgNotFound)
		}
	}
	if res := call(t, s, "GET", "/v2/bot/profile/"+friend, "", nil, ""); res.status != 401 {
		t.Errorf("profile without token: %d, want 401", res.status)
	}
}

// TestThroughSDK drives every endpoint with LINE's own Go SDK, as the app
// does.
func TestThroughSDK(t *testing.T) {
	s := startSim(t, Config{})
	rc := newReceiver(t, testSecret)
	s.SetWebhookURL(rc.srv.URL)
	u := addFollower(s, "hanako")
	api := sdkClient(t, s, testToken)
	key := uuid.NewString()

	res, body, err := api.PushMessageWithHttpInfo(&messaging_api.PushMessageRequest{
		To:       u,
		Messages: []messaging_api.MessageInterface{&messaging_api.TextMessage{Text: "ご来店ありがとうございました 🙇"}},
	}, key)
	if err != nil {
		t.Fatalf("push: %v", err)
	}
	if res.StatusCode != 200 || len(body.SentMessages) != 1 || body.SentMessages[0].Id == "" {
		t.Fatalf("push: %d %+v", res.StatusCode, body)
	}
	res, _, err = api.PushMessageWithHttpInfo(&messaging_api.PushMessageRequest{
		To:       u,
		Messages: []messaging_api.MessageInterface{&messaging_api.TextMessage{Text: "again"}},
	}, key)
	if err == nil || res == nil || res.StatusCode != 409 || res.Header.Get("X-Line-Accepted-Request-Id") == "" {
		t.Fatalf("push with used key: %v, %v", res, err)
	}

	if _, err := s.SendText(context.Background(), u, "hello"); err != nil {
		t.Fatal(err)
	}
	_, ev := rc.last(t)
	res, _, err = api.ReplyMessageWithHttpInfo(&messaging_api.ReplyMessageRequest{
		ReplyToken: replyTokenOf(t, ev),
		Messages:   []messaging_api.MessageInterface{&messaging_api.TextMessage{Text: "hi"}},
	})
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("reply: %v, %v", res, err)
	}

	prof, err := api.GetProfile(u)
	if err != nil {
		t.Fatalf("profile: %v", err)
	}
	if prof.UserId != u || prof.DisplayName != "hanako" || prof.Language != "ja" || prof.PictureUrl == "" {
		t.Fatalf("profile = %+v", prof)
	}
	res, _, err = api.GetProfileWithHttpInfo(NewUserID())
	if err == nil || res.StatusCode != 404 {
		t.Fatalf("unknown profile: %v, %v", res, err)
	}

	res, _, err = sdkClient(t, s, "wrong").GetProfileWithHttpInfo(u)
	if err == nil || res.StatusCode != 401 {
		t.Fatalf("bad token: %v, %v", res, err)
	}

	want := []string{"ご来店ありがとうございました 🙇", "hi"}
	var got []string
	for _, d := range s.Deliveries(u) {
		got = append(got, d.Text)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("delivered %q, want %q", got, want)
	}
}
