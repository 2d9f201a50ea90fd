package line

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"

	"tsunagu/internal/linesim"
)

var testRetry = RetryPolicy{MaxAttempts: 10, MinBackoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond}

// newSimClient returns a client for the env's simulator with short
// timeouts and backoffs.
func (e *env) newSimClient(t *testing.T, cfg Config) *Client {
	t.Helper()
	cfg.Endpoint, cfg.AccessToken = e.sim.URL(), simToken
	if cfg.Retry == (RetryPolicy{}) {
		cfg.Retry = testRetry
	}
	if cfg.AttemptTimeout == 0 {
		cfg.AttemptTimeout = 300 * time.Millisecond
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustText(t *testing.T, s string) []Message {
	t.Helper()
	m, err := Text(s)
	if err != nil {
		t.Fatal(err)
	}
	return []Message{m}
}

func simRequests(s *linesim.Server, endpoint string) []linesim.Request {
	var out []linesim.Request
	for _, r := range s.Requests() {
		if r.Endpoint == endpoint {
			out = append(out, r)
		}
	}
	return out
}

func TestPushRetriesAreByteIdenticalAndDeliverOnce(t *testing.T) {
	tests := []struct {
		name         string
		faults       []linesim.Fault
		wantAttempts int
		wantAccepted bool // the final answer is 409 for an earlier attempt
	}{
		{"no fault", nil, 1, false},
		{"timeout after accept", []linesim.Fault{{TimeoutAfterAccept: true}}, 2, true},
		{"dropped after accept", []linesim.Fault{{DropAfter: true}}, 2, true},
		{"dropped before", []linesim.Fault{{DropBefore: true}}, 2, false},
		{"5xx burst", []linesim.Fault{{Status: 500}, {Status: 502}, {Status: 503}}, 4, false},
		{"429 then timeout after accept", []linesim.Fault{{Status: 429}, {TimeoutAfterAccept: true}}, 3, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			u := e.follower("hanako")
			c := e.newSimClient(t, Config{})
			e.sim.InjectFaults(linesim.EndpointPush, tt.faults...)
			key := uuid.NewString()
			res, err := c.Push(context.Background(), u, mustText(t, "残高証明書を発行しました"), key)
			if err != nil {
				t.Fatalf("Push: %v", err)
			}
			if res.Attempts != tt.wantAttempts || (res.AcceptedRequestID != "") != tt.wantAccepted {
				t.Fatalf("result = %+v; want %d attempts, accepted %v", res, tt.wantAttempts, tt.wantAccepted)
			}
			if d := e.sim.Deliveries(u); len(d) != 1 || d[0].RetryKey != key {
				t.Fatalf("deliveries = %d, want exactly one", len(d))
			}
			reqs := simRequests(e.sim, linesim.EndpointPush)
			if len(reqs) != tt.wantAttempts {
				t.Fatalf("simulator saw %d requests, want %d", len(reqs), tt.wantAttempts)
			}
			for _, r := range reqs[1:] {
				if r.RetryKey != key || r.BodySHA256 != reqs[0].BodySHA256 {
					t.Fatalf("retry %+v differs from first %+v", r, reqs[0])
				}
			}
		})
	}
}

func TestRetriesGiveUp(t *testing.T) {
	e := newEnv(t)
	u := e.follower("hanako")
	c := e.newSimClient(t, Config{Retry: RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}})
	e.sim.InjectFaults(linesim.EndpointPush, linesim.Fault{Status: 500}, linesim.Fault{Status: 500}, linesim.Fault{Status: 500})
	res, err := c.Push(context.Background(), u, mustText(t, "hi"), uuid.NewString())
	apiErr, ok := errors.AsType[*APIError](err)
	if !ok || apiErr.Status != 500 || res.Attempts != 3 {
		t.Fatalf("Push = %+v, %v; want 500 after 3 attempts", res, err)
	}
	if len(e.sim.Deliveries(u)) != 0 {
		t.Fatal("delivered although every attempt failed before processing")
	}
}

func TestReplyIsRetriedOnlyAfter429(t *testing.T) {
	e := newEnv(t)
	u := e.follower("hanako")
	c := e.newSimClient(t, Config{})
	ctx := context.Background()

	tok := e.customerSays(t, u, "こんにちは")
	e.sim.InjectFaults(linesim.EndpointReply, linesim.Fault{Status: 429})
	res, err := c.Reply(ctx, tok, mustText(t, "いらっしゃいませ"))
	if err != nil || res.Attempts != 2 {
		t.Fatalf("Reply after 429 = %+v, %v; want success on the second attempt", res, err)
	}

	// A 5xx may come after LINE delivered: a reply is not resent.
	tok = e.customerSays(t, u, "もう一つ")
	e.sim.InjectFaults(linesim.EndpointReply, linesim.Fault{Status: 500})
	res, err = c.Reply(ctx, tok, mustText(t, "はい"))
	if err == nil || res.Attempts != 1 {
		t.Fatalf("Reply after 500 = %+v, %v; want one attempt and an error", res, err)
	}
	tok = e.customerSays(t, u, "三つ目")
	e.sim.InjectFaults(linesim.EndpointReply, linesim.Fault{DropAfter: true})
	if res, err = c.Reply(ctx, tok, mustText(t, "はい")); err == nil || res.Attempts != 1 {
		t.Fatalf("Reply with a dropped answer = %+v, %v; want one attempt and an error", res, err)
	}
	if n := len(e.sim.Deliveries(u)); n != 2 {
		t.Fatalf("%d deliveries, want 2 (the first reply and the one whose answer was lost)", n)
	}
}

func TestMonthlyLimitIsNotRetried(t *testing.T) {
	e := newEnv(t)
	u := e.follower("hanako")
	c := e.newSimClient(t, Config{})
	e.sim.SetMonthlyQuota(1, 1)
	_, err := c.Push(context.Background(), u, mustText(t, "hi"), uuid.NewString())
	if !errors.Is(err, ErrMonthlyLimit) {
		t.Fatalf("Push = %v, want ErrMonthlyLimit", err)
	}
	if n := len(simRequests(e.sim, linesim.EndpointPush)); n != 1 {
		t.Fatalf("%d requests; the monthly limit must not be retried", n)
	}
}

func TestMulticastLimits(t *testing.T) {
	e := newEnv(t)
	c := e.newSimClient(t, Config{})
	ctx := context.Background()
	ids := make([]string, 501)
	for i := range ids {
		ids[i] = e.follower("c")
	}
	if _, err := c.Multicast(ctx, ids, mustText(t, "hi"), uuid.NewString()); err == nil {
		t.Fatal("multicast to 501 recipients was sent")
	}
	six := make([]Message, 6)
	for i := range six {
		six[i] = mustText(t, fmt.Sprint(i))[0]
	}
	if _, err := c.Multicast(ctx, ids[:2], six, uuid.NewString()); !errors.Is(err, ErrInvalidMessage) {
		t.Fatalf("multicast of 6 messages = %v, want ErrInvalidMessage", err)
	}
	if _, err := c.Multicast(ctx, ids[:500], six[:5], uuid.NewString()); err != nil {
		t.Fatal(err)
	}
	if got := len(e.sim.Deliveries(ids[499])); got != 5 {
		t.Fatalf("recipient 500 got %d messages, want 5", got)
	}
	if got := len(Chunks(ids)); got != 2 {
		t.Fatalf("Chunks(501) = %d chunks, want 2", got)
	}
}

func TestRateLimitSpacesRequests(t *testing.T) {
	e := newEnv(t)
	u := e.follower("hanako")
	// 50 req/s: 11 profile calls cannot take less than 200 ms. Only the
	// lower bound is checked; how fast it goes is a benchmark's business.
	c := e.newSimClient(t, Config{Limits: map[Endpoint]float64{EndpointProfile: 50}})
	start := time.Now()
	for range 11 {
		if _, err := c.Profile(context.Background(), u); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Fatalf("11 calls at 50 req/s took %v, want at least 200ms", d)
	}
	for _, r := range simRequests(e.sim, linesim.EndpointProfile) {
		if r.Status != 200 {
			t.Fatalf("request answered %d", r.Status)
		}
	}
}

func TestRequestLogHoldsNoSecrets(t *testing.T) {
	e := newEnv(t)
	u := e.follower("hanako")
	var hooked []RequestRecord
	c := e.newSimClient(t, Config{OnRequest: func(r RequestRecord) { hooked = append(hooked, r) }})
	ctx := context.Background()
	e.sim.InjectFaults(linesim.EndpointPush, linesim.Fault{Status: 503})
	key := uuid.NewString()
	if _, err := c.Push(ctx, u, mustText(t, "口座番号 1234567"), key); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Profile(ctx, u); err != nil {
		t.Fatal(err)
	}
	log := c.Requests()
	if len(log) != 3 || len(hooked) != 3 {
		t.Fatalf("log has %d records, hook saw %d; want 3", len(log), len(hooked))
	}
	want := []struct {
		ep     Endpoint
		status int
	}{{EndpointPush, 503}, {EndpointPush, 200}, {EndpointProfile, 200}}
	for i, r := range log {
		if r.Endpoint != want[i].ep || r.Status != want[i].status || r.RequestID == "" || r.At.IsZero() {
			t.Fatalf("record %d = %+v", i, r)
		}
		s := fmt.Sprintf("%+v", r)
		for _, secret := range []string{simToken, u, "1234567"} {
			if strings.Contains(s, secret) {
				t.Fatalf("record %d holds %q: %s", i, secret, s)
			}
		}
	}
	if log[0].RetryKey != key || log[2].RetryKey != "" {
		t.Fatalf("retry keys = %q, %q", log[0].RetryKey, log[2].RetryKey)
	}
}

func TestQuota(t *testing.T) {
	e := newEnv(t)
	c := e.newSimClient(t, Config{})
	ctx := context.Background()
	q, err := c.Quota(ctx)
	if err != nil || q.Limited {
		t.Fatalf("Quota = %+v, %v; want unlimited", q, err)
	}
	if err := c.CheckQuota(ctx, 1_000_000); err != nil {
		t.Fatalf("CheckQuota without a limit = %v", err)
	}
	e.sim.SetMonthlyQuota(5000, 4990)
	if q, err = c.Quota(ctx); err != nil || !q.Limited || q.Limit != 5000 {
		t.Fatalf("Quota = %+v, %v", q, err)
	}
	if used, err := c.QuotaConsumption(ctx); err != nil || used != 4990 {
		t.Fatalf("QuotaConsumption = %d, %v", used, err)
	}
	if err := c.CheckQuota(ctx, 10); err != nil {
		t.Fatalf("CheckQuota(10) = %v", err)
	}
	if err := c.CheckQuota(ctx, 11); !errors.Is(err, ErrQuotaExceeded) {
		t.Fatalf("CheckQuota(11) = %v, want ErrQuotaExceeded", err)
	}
	u := e.follower("hanako")
	if _, err := c.Push(ctx, u, append(mustText(t, "a"), mustText(t, "b")[0]), uuid.NewString()); err != nil {
		t.Fatal(err)
	}
	if used, _ := c.QuotaConsumption(ctx); used != 4992 {
		t.Fatalf("after pushing 2 messages, consumption = %d, want 4992", used)
	}
}

func TestValidate(t *testing.T) {
	e := newEnv(t)
	c := e.newSimClient(t, Config{})
	ctx := context.Background()
	sticker, err := Sticker("446", "1988")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(ctx, ValidatePush, []Message{sticker}); err != nil {
		t.Fatalf("valid sticker: %v", err)
	}
	// Passes the local checks; LINE (the simulator) finds the problem.
	bad, err := ParseMessage([]byte(`{"type":"sticker","packageId":"446"}`))
	if err != nil {
		t.Fatal(err)
	}
	err = c.Validate(ctx, ValidateMulticast, []Message{bad})
	apiErr, ok := errors.AsType[*APIError](err)
	if !ok || apiErr.Status != 400 || len(apiErr.Details) != 1 || !strings.Contains(apiErr.Details[0], "messages[0].stickerId") {
		t.Fatalf("Validate = %v, want a 400 naming messages[0].stickerId", err)
	}
	if err := c.Validate(ctx, "broadcast", []Message{sticker}); err == nil {
		t.Fatal("unknown validation kind accepted")
	}
}

func TestLocalMessageChecks(t *testing.T) {
	bubble := func(n int) string {
		return `{"type":"bubble","body":{"type":"box","layout":"vertical","contents":[{"type":"text","text":"` + strings.Repeat("a", n) + `"}]}}`
	}
	carousel := func(bubbles, size int) string {
		b := make([]string, bubbles)
		for i := range b {
			b[i] = bubble(size)
		}
		return `{"type":"carousel","contents":[` + strings.Join(b, ",") + `]}`
	}
	flex := func(alt, contents string) string {
		a, _ := json.Marshal(alt)
		return `{"type":"flex","altText":` + string(a) + `,"contents":` + contents + `}`
	}
	tests := []struct {
		name string
		json string
		ok   bool
	}{
		{"text", `{"type":"text","text":"hi"}`, true},
		{"text 5000 units", `{"type":"text","text":"` + strings.Repeat("あ", 5000) + `"}`, true},
		{"text 5001 units", `{"type":"text","text":"` + strings.Repeat("😀", 2500) + `a"}`, false},
		{"empty text", `{"type":"text","text":""}`, false},
		{"no type", `{"text":"hi"}`, false},
		{"not JSON", `{"type":`, false},
		{"flex bubble", flex("お知らせ", bubble(100)), true},
		{"flex bubble over 30 KB", flex("お知らせ", bubble(30000)), false},
		{"flex altText 1500", flex(strings.Repeat("あ", 1500), bubble(10)), true},
		{"flex altText 1501", flex(strings.Repeat("あ", 1501), bubble(10)), false},
		{"flex without altText", `{"type":"flex","contents":` + bubble(10) + `}`, false},
		{"carousel of 12", flex("x", carousel(12, 10)), true},
		{"carousel of 13", flex("x", carousel(13, 10)), false},
		{"carousel over 50 KB", flex("x", carousel(6, 9000)), false},
		{"template altText 401", `{"type":"template","altText":"` + strings.Repeat("a", 401) + `","template":{}}`, false},
		{"sticker", `{"type":"sticker","packageId":"1","stickerId":"2"}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseMessage([]byte(tt.json))
			if (err == nil) != tt.ok {
				t.Fatalf("ParseMessage = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

func TestMessagesRoundTripByteIdentical(t *testing.T) {
	m1, err := NewMessage(&messaging_api.TextMessage{Text: "満期のご案内 🎍"})
	if err != nil {
		t.Fatal(err)
	}
	m2, _ := Sticker("446", "1988")
	blob, err := MarshalMessages([]Message{m1, m2})
	if err != nil {
		t.Fatal(err)
	}
	back, err := UnmarshalMessages(blob)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := MarshalMessages(back)
	if string(again) != string(blob) {
		t.Fatalf("round trip changed the bytes:\n%s\n%s", blob, again)
	}
	if back[0].Type() != "text" || back[1].Type() != "sticker" {
		t.Fatalf("types = %s, %s", back[0].Type(), back[1].Type())
	}
}

func TestAccountCalls(t *testing.T) {
	e := newEnv(t)
	u := e.follower("hanako")
	c := e.newSimClient(t, Config{})
	ctx := context.Background()

	tok, err := c.IssueLinkToken(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if owner, ok := e.sim.LinkTokenUser(tok); !ok || owner != u {
		t.Fatalf("link token issued for %q, want %q", owner, u)
	}
	menu := newTestRichMenu(t, c) // richmenu_test.go: LINE links only menus it holds
	if err := c.LinkRichMenu(ctx, u, menu); err != nil {
		t.Fatal(err)
	}
	if got := e.sim.RichMenu(u); got != menu {
		t.Fatalf("rich menu = %q", got)
	}
	if err := c.LinkRichMenu(ctx, u, "richmenu-../../x"); err == nil {
		t.Fatal("a rich menu ID with path characters was sent")
	}
	if err := c.UnlinkRichMenu(ctx, u); err != nil || e.sim.RichMenu(u) != "" {
		t.Fatalf("unlink: %v, menu %q", err, e.sim.RichMenu(u))
	}
	if err := c.MarkAsRead(ctx, u); err != nil || e.sim.ReadAt(u).IsZero() {
		t.Fatalf("mark as read: %v", err)
	}
	if err := c.ShowLoading(ctx, u, 20); err != nil || e.sim.LoadingUntil(u).IsZero() {
		t.Fatalf("loading: %v", err)
	}
	if err := c.ShowLoading(ctx, u, 7); err == nil {
		t.Fatal("7 seconds of loading accepted")
	}
	if err := e.sim.Unfollow(ctx, u); err != nil {
		t.Fatal(err)
	}
	if _, err := c.IssueLinkToken(ctx, u); err == nil {
		t.Fatal("link token issued for a user who blocked the account")
	}
}

func TestContent(t *testing.T) {
	e := newEnv(t)
	u := e.follower("hanako")
	c := e.newSimClient(t, Config{})
	ctx := context.Background()
	img := []byte("\x89PNG\r\n\x1a\nnot really a picture")
	_, msgID, err := e.sim.SendImage(ctx, u, img, "image/png")
	if err != nil {
		t.Fatal(err)
	}
	data, typ, err := c.Content(ctx, msgID)
	if err != nil || string(data) != string(img) || typ != "image/png" {
		t.Fatalf("Content = %q, %q, %v", data, typ, err)
	}
	if _, _, err := c.Content(ctx, "999"); !isStatus(err, 404) {
		t.Fatalf("unknown content = %v, want 404", err)
	}
	if _, _, err := c.Content(ctx, "../profile"); err == nil {
		t.Fatal("a message ID with path characters was sent")
	}
}

// isStatus reports whether err is an *APIError with the given status.
func isStatus(err error, status int) bool {
	apiErr, ok := errors.AsType[*APIError](err)
	return ok && apiErr.Status == status
}
