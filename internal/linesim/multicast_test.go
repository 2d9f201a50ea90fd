package linesim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

func multicastBody(to []string, texts ...string) string {
	msgs := make([]map[string]string, len(texts))
	for i, t := range texts {
		msgs[i] = map[string]string{"type": "text", "text": t}
	}
	b, _ := json.Marshal(map[string]any{"to": to, "messages": msgs})
	return string(b)
}

func TestMulticastRawHTTP(t *testing.T) {
	s := startSim(t, Config{})
	a, b := addFollower(s, "a"), addFollower(s, "b")
	blocked := NewUserID()
	s.AddCustomer(Customer{UserID: blocked, DisplayName: "blocked"})
	many := make([]string, 501)
	for i := range many {
		many[i] = NewUserID()
	}
	key := uuid.NewString()

	tests := []struct {
		name       string
		header     map[string]string
		body       string
		wantStatus int
		wantMsg    string
		wantDetail []errorDetail
	}{
		{"501 recipients", nil, multicastBody(many, "hi"), 400, "The request body has 1 error(s)",
			[]errorDetail{{Message: "Size must be between 1 and 500", Property: "to"}}},
		{"no recipients", nil, multicastBody([]string{}, "hi"), 400, "The request body has 1 error(s)",
			[]errorDetail{{Message: "Size must be between 1 and 500", Property: "to"}}},
		{"malformed recipient", nil, multicastBody([]string{a, "hanako"}, "hi"), 400,
			"The property, 'to[1]', in the request body is invalid (line: -, column: -)", nil},
		{"to is a string", nil, `{"to":"` + a + `","messages":[{"type":"text","text":"hi"}]}`, 400,
			"The property, 'to', in the request body is invalid (line: 1, column: 41)", nil},
		{"six messages", nil, multicastBody([]string{a}, "1", "2", "3", "4", "5", "6"), 400, "The request body has 1 error(s)",
			[]errorDetail{{Message: "Size must be between 1 and 5", Property: "messages"}}},
		{"accepted, blocked and unknown skipped", map[string]string{"X-Line-Retry-Key": key},
			multicastBody([]string{a, b, blocked, NewUserID(), a}, "1", "2"), 200, "", nil},
		{"same retry key again", map[string]string{"X-Line-Retry-Key": key},
			multicastBody([]string{a, b}, "1", "2"), 409, msgRetryAccepted, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := call(t, s, "POST", "/v2/bot/message/multicast", testToken, tt.header, tt.body)
			if res.status != tt.wantStatus || res.body.Message != tt.wantMsg || !reflect.DeepEqual(res.body.Details, tt.wantDetail) {
				t.Fatalf("answer %d %+v (%s), want %d %q %+v", res.status, res.body, res.raw, tt.wantStatus, tt.wantMsg, tt.wantDetail)
			}
			if tt.wantStatus == 200 && string(res.raw) != "{}" {
				t.Fatalf("body = %s, want {}", res.raw)
			}
			if tt.wantStatus == 409 && res.header.Get("X-Line-Accepted-Request-Id") == "" {
				t.Fatal("409 without x-line-accepted-request-id")
			}
		})
	}
	// Duplicates are delivered once; blocked users get nothing.
	for _, u := range []string{a, b} {
		if d := s.Deliveries(u); len(d) != 2 || d[0].Via != ViaMulticast || d[0].Text != "1" || d[1].Text != "2" {
			t.Fatalf("deliveries to %s = %+v", u, d)
		}
	}
	if d := s.Deliveries(blocked); len(d) != 0 {
		t.Fatalf("blocked user got %+v", d)
	}
	if used := s.Used(); used != 4 {
		t.Fatalf("quota used = %d, want 4 (2 users x 2 messages)", used)
	}
}

func TestRateLimitAndMonthlyQuotaRawHTTP(t *testing.T) {
	s := startSim(t, Config{RateLimits: map[string]float64{EndpointPush: 2}, MonthlyQuota: 3})
	u := addFollower(s, "a")
	statuses := func(n int) []string {
		var out []string
		for range n {
			res := call(t, s, "POST", "/v2/bot/message/push", testToken, nil, pushBody(u, "hi"))
			out = append(out, fmt.Sprint(res.status, " ", res.body.Message))
		}
		return out
	}
	// A burst of 2 fits; the third meets the rate limit.
	got := statuses(3)
	want := []string{"200 ", "200 ", "429 " + msgRateLimited}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("burst = %q, want %q", got, want)
	}
	time.Sleep(600 * time.Millisecond) // one token back at 2/s
	// One message of the quota of 3 is left: a push of 2 does not fit.
	res := call(t, s, "POST", "/v2/bot/message/push", testToken, nil, pushBody(u, "a", "b"))
	if res.status != http.StatusTooManyRequests || res.body.Message != msgMonthlyLimit {
		t.Fatalf("over quota: %d %q", res.status, res.body.Message)
	}
	quota := call(t, s, "GET", "/v2/bot/message/quota", testToken, nil, "")
	usage := call(t, s, "GET", "/v2/bot/message/quota/consumption", testToken, nil, "")
	if strings.TrimSpace(string(quota.raw)) != `{"type":"limited","value":3}` || strings.TrimSpace(string(usage.raw)) != `{"totalUsage":2}` {
		t.Fatalf("quota %s, consumption %s", quota.raw, usage.raw)
	}
	for _, r := range s.Requests() {
		if r.Endpoint != EndpointPush && r.Endpoint != EndpointQuota {
			t.Fatalf("request recorded as %q", r.Endpoint)
		}
	}
}

func TestValidateRawHTTP(t *testing.T) {
	s := startSim(t, Config{})
	bubble := `{"type":"bubble","body":{"type":"box","layout":"vertical","contents":[]}}`
	carousel := `{"type":"carousel","contents":[` + strings.TrimSuffix(strings.Repeat(bubble+",", 13), ",") + `]}`
	tests := []struct {
		name, path, body string
		wantStatus       int
		wantDetail       []errorDetail
	}{
		{"flex bubble", "/v2/bot/message/validate/push", `{"messages":[{"type":"flex","altText":"x","contents":` + bubble + `}]}`, 200, nil},
		{"carousel of 13", "/v2/bot/message/validate/multicast", `{"messages":[{"type":"flex","altText":"x","contents":` + carousel + `}]}`, 400,
			[]errorDetail{{Message: "Size must be between 1 and 12", Property: "messages[0].contents.contents"}}},
		{"image over http", "/v2/bot/message/validate/reply",
			`{"messages":[{"type":"image","originalContentUrl":"http://x/a.jpg","previewImageUrl":"https://x/p.jpg"}]}`, 400,
			[]errorDetail{{Message: "Must be a valid HTTPS URL", Property: "messages[0].originalContentUrl"}}},
		{"template altText 401", "/v2/bot/message/validate/push",
			`{"messages":[{"type":"template","altText":"` + strings.Repeat("a", 401) + `","template":{}}]}`, 400,
			[]errorDetail{{Message: "Length must be between 0 and 400", Property: "messages[0].altText"}}},
		{"unknown target", "/v2/bot/message/validate/somewhere", `{"messages":[]}`, 404, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := call(t, s, "POST", tt.path, testToken, nil, tt.body)
			if res.status != tt.wantStatus || !reflect.DeepEqual(res.body.Details, tt.wantDetail) {
				t.Fatalf("answer %d %s, want %d %+v", res.status, res.raw, tt.wantStatus, tt.wantDetail)
			}
		})
	}
}
