package linesim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func sendBody(t *testing.T, to any, unit any, msgs ...map[string]any) string {
	t.Helper()
	body := map[string]any{"to": to, "messages": msgs}
	if unit != nil {
		body["customAggregationUnits"] = unit
	}
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func textMsg(s string) map[string]any { return map[string]any{"type": "text", "text": s} }

func TestUnitNameRules(t *testing.T) {
	s := startSim(t, Config{})
	u := addFollower(s, "a")
	long := strings.Repeat("a", 31)
	tests := []struct {
		name     string
		path     string
		to       any
		unit     any
		wantProp string // "" means accepted
		wantMsg  string
	}{
		{"push, valid", "/v2/bot/message/push", u, []string{"Promo_2026_a"}, "", ""},
		{"multicast, valid, 30 chars", "/v2/bot/message/multicast", []string{u}, []string{strings.Repeat("Z", 30)}, "", ""},
		{"empty list", "/v2/bot/message/push", u, []string{}, "", ""},
		{"two names", "/v2/bot/message/multicast", []string{u}, []string{"a", "b"}, "customAggregationUnits", "Size must be between 0 and 1"},
		{"31 chars", "/v2/bot/message/push", u, []string{long}, "customAggregationUnits[0]", `must match "^[a-zA-Z0-9_]{1,30}$"`},
		{"hyphen", "/v2/bot/message/multicast", []string{u}, []string{"spring-sale"}, "customAggregationUnits[0]", `must match "^[a-zA-Z0-9_]{1,30}$"`},
		{"kanji", "/v2/bot/message/push", u, []string{"満期"}, "customAggregationUnits[0]", `must match "^[a-zA-Z0-9_]{1,30}$"`},
		{"empty name", "/v2/bot/message/push", u, []string{""}, "customAggregationUnits[0]", `must match "^[a-zA-Z0-9_]{1,30}$"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := call(t, s, http.MethodPost, tc.path, testToken, nil, sendBody(t, tc.to, tc.unit, textMsg("hi")))
			if tc.wantProp == "" {
				if res.status != http.StatusOK {
					t.Fatalf("status %d (%s), want 200", res.status, res.raw)
				}
				return
			}
			if res.status != http.StatusBadRequest || len(res.body.Details) != 1 ||
				res.body.Details[0].Property != tc.wantProp || res.body.Details[0].Message != tc.wantMsg ||
				res.body.Message != "The request body has 1 error(s)" {
				t.Fatalf("got %d %s, want 400 with %s: %s", res.status, res.raw, tc.wantProp, tc.wantMsg)
			}
		})
	}
	res := call(t, s, http.MethodPost, "/v2/bot/message/push", testToken, nil, `{"to":"`+u+`","messages":[{"type":"text","text":"x"}],"customAggregationUnits":"Promo"}`)
	if res.status != http.StatusBadRequest || !strings.Contains(res.body.Message, "'customAggregationUnits'") {
		t.Errorf("a string instead of an array: %d %s", res.status, res.raw)
	}
	// Only the accepted names count, once each; case matters.
	if got := s.UnitsUsed(s.now()); strings.Join(got, ",") != "Promo_2026_a,"+strings.Repeat("Z", 30) {
		t.Errorf("units used = %v", got)
	}
	ds := s.Deliveries(u)
	if len(ds) != 3 || ds[0].Unit != "Promo_2026_a" || ds[2].Unit != "" {
		t.Errorf("deliveries' units: %+v", ds)
	}
}

func TestUnitMonthlyLimitJST(t *testing.T) {
	clk := newFakeClock()
	// 2026-04-30 14:00 UTC is 23:00 JST on the 30th: the month ends in an hour.
	clk.t = time.Date(2026, 4, 30, 14, 0, 0, 0, time.UTC)
	s := startSim(t, Config{Clock: clk.Now})
	u := addFollower(s, "a")
	push := func(unit string) {
		t.Helper()
		res := call(t, s, http.MethodPost, "/v2/bot/message/push", testToken, nil, sendBody(t, u, []string{unit}, textMsg("hi")))
		if res.status != http.StatusOK {
			t.Fatalf("push with %s: %d %s", unit, res.status, res.raw)
		}
	}
	count := func() int64 {
		t.Helper()
		res := call(t, s, http.MethodGet, "/v2/bot/message/aggregation/info", testToken, nil, "")
		var body struct {
			N *int64 `json:"numOfCustomAggregationUnits"`
		}
		if res.status != http.StatusOK || json.Unmarshal(res.raw, &body) != nil || body.N == nil {
			t.Fatalf("aggregation/info: %d %s", res.status, res.raw)
		}
		return *body.N
	}
	for i := range DefaultUnitsPerMonth {
		push(fmt.Sprintf("u%d", i))
	}
	push("u0") // a name already used costs nothing
	if n := count(); n != DefaultUnitsPerMonth {
		t.Fatalf("units used = %d, want %d", n, DefaultUnitsPerMonth)
	}
	// Past LINE's limit the message is still sent, but not aggregated.
	push("u_over")
	ds := s.Deliveries(u)
	if last := ds[len(ds)-1]; last.Unit != "" || last.Text != "hi" {
		t.Errorf("over the limit: delivery %+v, want delivered without a unit", last)
	}
	if n := count(); n != DefaultUnitsPerMonth || s.UnitsOverLimit() != 1 {
		t.Errorf("after the 1,001st name: used %d, over %d", n, s.UnitsOverLimit())
	}
	push("u999")
	if ds := s.Deliveries(u); ds[len(ds)-1].Unit != "u999" {
		t.Errorf("a name of this month is still counted at the limit")
	}
	// The JST month turns at 15:00 UTC: the count starts again.
	clk.Advance(time.Hour)
	if n := count(); n != 0 {
		t.Errorf("new JST month: used %d, want 0", n)
	}
	push("u_over")
	if n := count(); n != 1 || s.Deliveries(u)[len(s.Deliveries(u))-1].Unit != "u_over" {
		t.Errorf("new month: used %d", n)
	}
}

func TestUnitListPaging(t *testing.T) {
	s := startSim(t, Config{})
	u := addFollower(s, "a")
	var want []string
	for i := range 250 {
		name := fmt.Sprintf("unit_%03d", i)
		want = append(want, name)
		res := call(t, s, http.MethodPost, "/v2/bot/message/push", testToken, nil, sendBody(t, u, []string{name}, textMsg("x")))
		if res.status != http.StatusOK {
			t.Fatal(res.status, string(res.raw))
		}
	}
	var got []string
	start, pages := "", 0
	for {
		path := "/v2/bot/message/aggregation/list"
		if start != "" {
			path += "?start=" + start
		}
		res := call(t, s, http.MethodGet, path, testToken, nil, "")
		var body struct {
			Units []string `json:"customAggregationUnits"`
			Next  string   `json:"next"`
		}
		if res.status != http.StatusOK || json.Unmarshal(res.raw, &body) != nil {
			t.Fatalf("list: %d %s", res.status, res.raw)
		}
		pages++
		got = append(got, body.Units...)
		if body.Next == "" {
			break
		}
		start = body.Next
	}
	if pages != 3 || strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("%d pages, %d names; want 3 pages of the 250 names in order", pages, len(got))
	}
	res := call(t, s, http.MethodGet, "/v2/bot/message/aggregation/list?limit=7", testToken, nil, "")
	if !strings.Contains(string(res.raw), `"unit_006"]`) || !strings.Contains(string(res.raw), `"next"`) {
		t.Errorf("limit=7: %s", res.raw)
	}
	for _, q := range []string{"limit=0", "limit=101", "limit=x", "start=%21%21"} {
		if res := call(t, s, http.MethodGet, "/v2/bot/message/aggregation/list?"+q, testToken, nil, ""); res.status != http.StatusBadRequest || len(res.body.Details) != 1 {
			t.Errorf("%s: %d %s, want 400 naming the parameter", q, res.status, res.raw)
		}
	}
}

// statsJSON is the per-unit statistics with null kept apart from zero.
type statsJSON struct {
	Overview map[string]*int64   `json:"overview"`
	Messages []map[string]*int64 `json:"messages"`
	Clicks   []struct {
		Seq                  int    `json:"seq"`
		URL                  string `json:"url"`
		Click                *int64 `json:"click"`
		UniqueClick          *int64 `json:"uniqueClick"`
		UniqueClickOfRequest *int64 `json:"uniqueClickOfRequest"`
	} `json:"clicks"`
}

func getStats(t *testing.T, s *Server, query string) (statsJSON, apiResponse) {
	t.Helper()
	res := call(t, s, http.MethodGet, "/v2/bot/insight/message/event/aggregation?"+query, testToken, nil, "")
	var st statsJSON
	if res.status == http.StatusOK {
		if err := json.Unmarshal(res.raw, &st); err != nil {
			t.Fatalf("stats: %v: %s", err, res.raw)
		}
	}
	return st, res
}

func val(p *int64) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprint(*p)
}

func TestStatisticsPerUnit(t *testing.T) {
	clk := newFakeClock() // 2026-04-01 18:00 JST
	s := startSim(t, Config{Clock: clk.Now})
	var users []string
	for i := range 1000 {
		users = append(users, addFollower(s, fmt.Sprintf("c%d", i)))
	}
	const urlA, urlB = "https://example.com/rates", "https://example.com/branch"
	flex := map[string]any{"type": "flex", "altText": "branch", "contents": map[string]any{
		"type": "bubble", "body": map[string]any{"type": "box", "layout": "vertical", "contents": []any{
			map[string]any{"type": "button", "action": map[string]any{"type": "uri", "label": "Go", "uri": urlB}},
		}},
	}}
	var reqIDs []string
	for _, chunk := range [][]string{users[:500], users[500:]} {
		res := call(t, s, http.MethodPost, "/v2/bot/message/multicast", testToken, nil,
			sendBody(t, chunk, []string{"maturity_2026_04"}, textMsg("New rates: "+urlA), flex))
		if res.status != http.StatusOK {
			t.Fatal(res.status, string(res.raw))
		}
		reqIDs = append(reqIDs, res.header.Get("X-Line-Request-Id"))
	}
	// A second unit goes to 30 people; 19 open it.
	res := call(t, s, http.MethodPost, "/v2/bot/message/multicast", testToken, nil,
		sendBody(t, users[:30], []string{"small"}, textMsg("hello")))
	smallReq := res.header.Get("X-Line-Request-Id")

	clk.Advance(time.Hour)
	for i, u := range users[:300] {
		if err := s.OpenMessage(u, reqIDs[i/500]); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range users[:120] {
		if err := s.ClickURL(u, reqIDs[0], urlA); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.ClickURL(users[0], reqIDs[0], urlA); err != nil { // a second tap
		t.Fatal(err)
	}
	for _, u := range users[100:125] {
		if err := s.ClickURL(u, reqIDs[0], urlB); err != nil {
			t.Fatal(err)
		}
	}
	// Someone who never opened it taps the link: that shows the message.
	if err := s.ClickURL(users[700], reqIDs[1], urlA); err != nil {
		t.Fatal(err)
	}
	for _, u := range users[:19] {
		if err := s.OpenMessage(u, smallReq); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.ClickURL(users[0], reqIDs[0], "https://elsewhere.example/"); !errors.Is(err, ErrNoSuchURL) {
		t.Errorf("click on a URL the message lacks: %v", err)
	}
	if err := s.OpenMessage(users[0], "no-such-request"); !errors.Is(err, ErrUnknownDelivery) {
		t.Errorf("open an unknown request: %v", err)
	}
	if err := s.PlayMedia(users[0], reqIDs[0], 100); !errors.Is(err, ErrNotMedia) {
		t.Errorf("play a text: %v", err)
	}

	q := "customAggregationUnit=maturity_2026_04&from=20260401&to=20260430"
	// Before LINE's aggregation delay: nothing yet, and never a zero.
	st, res := getStats(t, s, q)
	if res.status != http.StatusOK || len(st.Messages) != 0 || st.Overview["uniqueImpression"] != nil {
		t.Fatalf("before the delay: %s", res.raw)
	}
	clk.Advance(DefaultInsightDelay)
	st, res = getStats(t, s, q)
	if got := fmt.Sprintf("%s %s %s %s", val(st.Overview["uniqueImpression"]), val(st.Overview["uniqueClick"]),
		val(st.Overview["uniqueMediaPlayed"]), val(st.Overview["uniqueMediaPlayed100Percent"])); got != "301 126 null null" {
		t.Errorf("overview = %s, want 301 126 null null (%s)", got, res.raw)
	}
	if len(st.Messages) != 2 {
		t.Fatalf("messages: %s", res.raw)
	}
	// The late clicker's tap showed the first bubble only.
	for i, want := range []string{"301", "300"} {
		m := st.Messages[i]
		if *m["seq"] != int64(i+1) || val(m["impression"]) != want || val(m["uniqueImpression"]) != want || m["mediaPlayed"] != nil {
			t.Errorf("bubble %d: %s", i+1, res.raw)
		}
	}
	if len(st.Clicks) != 2 ||
		sp(st.Clicks[0].Seq, st.Clicks[0].URL, val(st.Clicks[0].Click), val(st.Clicks[0].UniqueClick), val(st.Clicks[0].UniqueClickOfRequest)) != "1 "+urlA+" 122 121 121" ||
		sp(st.Clicks[1].Seq, st.Clicks[1].URL, val(st.Clicks[1].Click), val(st.Clicks[1].UniqueClick)) != "2 "+urlB+" 25 25" {
		t.Errorf("clicks: %s", res.raw)
	}
	// Under 20 people: withheld (null), bubbles still listed.
	st, res = getStats(t, s, "customAggregationUnit=small&from=20260401&to=20260401")
	if len(st.Messages) != 1 || st.Messages[0]["impression"] != nil || st.Overview["uniqueImpression"] != nil {
		t.Errorf("19 openers: %s", res.raw)
	}
	// A period after the events: aggregated, but nobody did anything then.
	st, _ = getStats(t, s, "customAggregationUnit=maturity_2026_04&from=20260410&to=20260411")
	if len(st.Messages) != 2 || st.Messages[0]["impression"] != nil {
		t.Errorf("a later period shows %+v", st)
	}
	// LINE's parameter rules.
	for _, bad := range []string{
		"customAggregationUnit=maturity_2026_04&from=20260401&to=20260502", // 31 days after from
		"customAggregationUnit=maturity_2026_04&from=20260402&to=20260401", // to before from
		"customAggregationUnit=maturity_2026_04&from=2026-04-01&to=20260401",
		"customAggregationUnit=maturity_2026_04&from=20260431&to=20260501",
		"customAggregationUnit=bad-name&from=20260401&to=20260401",
		"from=20260401&to=20260401",
	} {
		if _, res := getStats(t, s, bad); res.status != http.StatusBadRequest || len(res.body.Details) != 1 {
			t.Errorf("%s: %d %s, want 400 naming the parameter", bad, res.status, res.raw)
		}
	}
	if _, res := getStats(t, s, "customAggregationUnit=maturity_2026_04&from=20260401&to=20260501"); res.status != http.StatusOK {
		t.Errorf("30 days after from is allowed: %d", res.status)
	}
}

func TestPlayMediaStatistics(t *testing.T) {
	clk := newFakeClock()
	s := startSim(t, Config{Clock: clk.Now, InsightDelay: time.Hour})
	var users []string
	for i := range 40 {
		users = append(users, addFollower(s, fmt.Sprintf("c%d", i)))
	}
	video := map[string]any{"type": "video", "originalContentUrl": "https://example.com/v.mp4", "previewImageUrl": "https://example.com/v.jpg"}
	res := call(t, s, http.MethodPost, "/v2/bot/message/multicast", testToken, nil, sendBody(t, users, []string{"video"}, video))
	req := res.header.Get("X-Line-Request-Id")
	for i, u := range users[:30] {
		pct := 100
		if i >= 22 {
			pct = 50 // 22 watched to the end, 8 to half
		}
		if err := s.PlayMedia(u, req, pct); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(time.Hour) // the configured delay
	st, raw := getStats(t, s, "customAggregationUnit=video&from=20260401&to=20260401")
	m := st.Messages[0]
	got := sp(val(st.Overview["uniqueMediaPlayed"]), val(st.Overview["uniqueMediaPlayed100Percent"]),
		val(m["impression"]), val(m["mediaPlayed"]), val(m["mediaPlayed50Percent"]), val(m["mediaPlayed100Percent"]), val(m["uniqueMediaPlayed75Percent"]))
	if got != "30 22 30 30 30 22 22" {
		t.Errorf("video figures %s (%s)", got, raw.raw)
	}
}

func TestFollowersByDate(t *testing.T) {
	clk := newFakeClock() // 2026-04-01 18:00 JST
	s := startSim(t, Config{Clock: clk.Now})
	var ids []string
	for i := range 30 {
		c := Customer{UserID: NewUserID(), DisplayName: "c", Following: true}
		if i < 25 {
			c.Gender, c.Age, c.Area = "female", "from30to34", "東京"
		}
		s.AddCustomer(c)
		ids = append(ids, c.UserID)
	}
	s.AddCustomer(Customer{UserID: NewUserID(), DisplayName: "not a friend"})
	followers := func(date string) map[string]any {
		t.Helper()
		res := call(t, s, http.MethodGet, "/v2/bot/insight/followers?date="+date, testToken, nil, "")
		var m map[string]any
		if res.status != http.StatusOK || json.Unmarshal(res.raw, &m) != nil {
			t.Fatalf("followers %s: %d %s", date, res.status, res.raw)
		}
		return m
	}
	if m := followers("20260401"); m["status"] != "unready" || len(m) != 1 {
		t.Errorf("today: %v, want only status unready", m)
	}
	clk.Advance(24 * time.Hour) // 04-02 18:00 JST
	for _, id := range ids[:3] {
		if err := s.Unfollow(t.Context(), id); err != nil && !errors.Is(err, ErrNoWebhookURL) {
			t.Fatal(err)
		}
	}
	s.AddCustomer(Customer{UserID: NewUserID(), DisplayName: "new", Following: true})
	if m := followers("20260401"); m["status"] != "unready" {
		t.Errorf("a day later LINE is still counting 04-01 (until 04-03 00:00 JST + delay): %v", m)
	}
	clk.Advance(7 * time.Hour) // 04-03 01:00 JST
	if m := followers("20260401"); sp(m["status"], m["followers"], m["blocks"], m["targetedReaches"]) != "ready 30 0 25" {
		t.Errorf("20260401: %v", m)
	}
	if m := followers("20260402"); m["status"] != "unready" {
		t.Errorf("20260402 before its delay: %v", m)
	}
	clk.Advance(24 * time.Hour)
	if m := followers("20260402"); sp(m["status"], m["followers"], m["blocks"], m["targetedReaches"]) != "ready 31 3 22" {
		t.Errorf("20260402: %v", m)
	}
	if m := followers("20161031"); m["status"] != "out_of_service" {
		t.Errorf("before LINE counted: %v", m)
	}
	for _, bad := range []string{"", "2026-04-01", "20260230"} {
		if res := call(t, s, http.MethodGet, "/v2/bot/insight/followers?date="+bad, testToken, nil, ""); res.status != http.StatusBadRequest {
			t.Errorf("date %q: %d", bad, res.status)
		}
	}
}

func TestDemographicsAndDeliveries(t *testing.T) {
	clk := newFakeClock()
	s := startSim(t, Config{Clock: clk.Now})
	var ids []string
	for i := range 19 {
		c := Customer{UserID: NewUserID(), DisplayName: "c", Following: true, Gender: "male", Age: "from50", Area: "福岡", AppType: "ios"}
		if i%2 == 0 {
			c.Gender = "female"
		}
		s.AddCustomer(c)
		ids = append(ids, c.UserID)
	}
	demo := func() map[string]any {
		t.Helper()
		res := call(t, s, http.MethodGet, "/v2/bot/insight/demographic", testToken, nil, "")
		var m map[string]any
		if res.status != http.StatusOK || json.Unmarshal(res.raw, &m) != nil {
			t.Fatal(res.status, string(res.raw))
		}
		return m
	}
	clk.Advance(DefaultInsightDelay)
	if m := demo(); m["available"] != false || len(m) != 1 {
		t.Errorf("19 friends: %v", m)
	}
	// A friend LINE knows nothing about is not in the targeted reach.
	s.AddCustomer(Customer{UserID: NewUserID(), DisplayName: "unknown", Following: true})
	clk.Advance(DefaultInsightDelay)
	if m := demo(); m["available"] != false {
		t.Errorf("targeted reach 19: %v", m)
	}
	s.AddCustomer(Customer{UserID: NewUserID(), DisplayName: "20th", Following: true, Gender: "male", Age: "from70", Area: "福岡"})
	if m := demo(); m["available"] != false {
		t.Errorf("the 20th targetable friend before the delay: %v", m)
	}
	clk.Advance(DefaultInsightDelay)
	m := demo()
	if m["available"] != true || fmt.Sprint(m["genders"]) != "[map[gender:female percentage:47.6] map[gender:male percentage:47.6] map[gender:unknown percentage:4.8]]" ||
		fmt.Sprint(m["subscriptionPeriods"]) != "[map[percentage:100 subscriptionPeriod:within7days]]" ||
		fmt.Sprint(m["ages"]) != "[map[age:from50 percentage:90.5] map[age:from70 percentage:4.8] map[age:unknown percentage:4.8]]" {
		t.Errorf("demographics: %v", m)
	}

	// Deliveries on a JST date, by API.
	res := call(t, s, http.MethodPost, "/v2/bot/message/push", testToken, nil, sendBody(t, ids[0], nil, textMsg("a"), textMsg("b")))
	if res.status != http.StatusOK {
		t.Fatal(string(res.raw))
	}
	call(t, s, http.MethodPost, "/v2/bot/message/multicast", testToken, nil, sendBody(t, ids[:5], nil, textMsg("m")))
	day := clk.Now().In(jst).Format("20060102")
	clk.Advance(2 * DefaultInsightDelay)
	res = call(t, s, http.MethodGet, "/v2/bot/insight/message/delivery?date="+day, testToken, nil, "")
	if string(res.raw) != `{"status":"ready","apiPush":2,"apiMulticast":5,"apiReply":0}` {
		t.Errorf("delivery %s: %s", day, res.raw)
	}
	res = call(t, s, http.MethodGet, "/v2/bot/insight/message/delivery?date=20170228", testToken, nil, "")
	if string(res.raw) != `{"status":"out_of_service"}` {
		t.Errorf("before LINE counted: %s", res.raw)
	}
}

// sp joins values with spaces.
func sp(vals ...any) string { return strings.TrimSuffix(fmt.Sprintln(vals...), "\n") }

// LINE allows 60 requests an hour to each statistics endpoint.
func TestInsightRateLimitPerHour(t *testing.T) {
	s := startSim(t, Config{})
	for i := range 60 {
		if res := call(t, s, http.MethodGet, "/v2/bot/insight/followers?date=20260101", testToken, nil, ""); res.status != http.StatusOK {
			t.Fatalf("request %d: %d", i+1, res.status)
		}
	}
	res := call(t, s, http.MethodGet, "/v2/bot/insight/followers?date=20260101", testToken, nil, "")
	if res.status != http.StatusTooManyRequests || res.body.Message != msgRateLimited {
		t.Errorf("61st in the hour: %d %s", res.status, res.raw)
	}
	// Each endpoint has its own count.
	if res := call(t, s, http.MethodGet, "/v2/bot/insight/demographic", testToken, nil, ""); res.status != http.StatusOK {
		t.Errorf("demographics after 60 follower reads: %d", res.status)
	}
	if res := call(t, s, http.MethodGet, "/v2/bot/message/aggregation/info", testToken, nil, ""); res.status != http.StatusOK {
		t.Errorf("unit count: %d", res.status)
	}
}

// Interactions count for 14 days after the send, then the figures freeze.
func TestInteractionWindow(t *testing.T) {
	clk := newFakeClock()
	s := startSim(t, Config{Clock: clk.Now})
	var users []string
	for i := range 40 {
		users = append(users, addFollower(s, fmt.Sprintf("c%d", i)))
	}
	res := call(t, s, http.MethodPost, "/v2/bot/message/multicast", testToken, nil, sendBody(t, users, []string{"late"}, textMsg("https://example.com/x")))
	req := res.header.Get("X-Line-Request-Id")
	clk.Advance(13 * 24 * time.Hour)
	for _, u := range users[:20] {
		if err := s.ClickURL(u, req, "https://example.com/x"); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(2 * 24 * time.Hour) // day 15
	for _, u := range users[20:] {
		if err := s.ClickURL(u, req, "https://example.com/x"); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(DefaultInsightDelay)
	st, raw := getStats(t, s, "customAggregationUnit=late&from=20260401&to=20260501")
	if val(st.Overview["uniqueClick"]) != "20" || val(st.Clicks[0].Click) != "20" {
		t.Errorf("clicks after day 14 counted: %s", raw.raw)
	}
}

// The sandbox drives interactions and the delay through the control API.
func TestInsightControl(t *testing.T) {
	s := startSim(t, Config{})
	var users []string
	for i := range 20 {
		users = append(users, addFollower(s, fmt.Sprintf("c%d", i)))
	}
	res := call(t, s, http.MethodPost, "/v2/bot/message/multicast", testToken, nil, sendBody(t, users, []string{"sandbox"}, textMsg("https://example.com/a")))
	req := res.header.Get("X-Line-Request-Id")
	ctl := httptest.NewServer(s.ControlHandler())
	defer ctl.Close()
	post := func(path, body string) int {
		t.Helper()
		r, err := http.Post(ctl.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r.StatusCode
	}
	for _, u := range users {
		if code := post("/interact", `{"userId":"`+u+`","ref":"`+req+`","kind":"click","url":"https://example.com/a"}`); code != http.StatusNoContent {
			t.Fatalf("click: %d", code)
		}
	}
	if code := post("/interact", `{"userId":"`+users[0]+`","ref":"`+req+`","kind":"click","url":"https://example.com/b"}`); code != http.StatusBadRequest {
		t.Errorf("a URL the message lacks: %d", code)
	}
	day := s.Deliveries(users[0])[0].At.In(jst).Format("20060102") // the clicks are later the same day, or the next: to covers it
	next := s.Deliveries(users[0])[0].At.In(jst).AddDate(0, 0, 1).Format("20060102")
	if st, _ := getStats(t, s, "customAggregationUnit=sandbox&from="+day+"&to="+next); len(st.Messages) != 0 {
		t.Errorf("before the delay: %+v", st)
	}
	if code := post("/insight/delay", `{"ms":0}`); code != http.StatusNoContent {
		t.Fatalf("delay: %d", code)
	}
	if st, raw := getStats(t, s, "customAggregationUnit=sandbox&from="+day+"&to="+next); val(st.Overview["uniqueClick"]) != "20" {
		t.Errorf("with no delay: %s", raw.raw)
	}
}
