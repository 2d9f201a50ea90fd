package autoreply

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
	"tsunagu/internal/store/storetest"

	"tsunagu/internal/audit"
	"tsunagu/internal/inbox"
	"tsunagu/internal/line"
	"tsunagu/internal/linesim"
	"tsunagu/internal/linesim/linesimtest"
	"tsunagu/internal/store"
)

var tokyo = time.FixedZone("JST", 9*3600)

func TestRuleMatches(t *testing.T) {
	for _, tt := range []struct {
		rule Rule
		text string
		want bool
	}{
		{Rule{Keyword: "営業時間", Match: MatchExact}, "営業時間", true},
		{Rule{Keyword: "営業時間", Match: MatchExact}, " 営業時間 ", true},
		{Rule{Keyword: "営業時間", Match: MatchExact}, "営業時間は？", false},
		{Rule{Keyword: "営業時間", Match: MatchContains}, "土曜の営業時間を教えて", true},
		{Rule{Keyword: "ATM", Match: MatchContains}, "ＡＴＭは使えますか", true},
		{Rule{Keyword: "ｱﾌﾟﾘ", Match: MatchContains}, "アプリが開きません", true},
		{Rule{Keyword: "atm", Match: MatchExact}, "ATM", true},
		{Rule{Keyword: "  ", Match: MatchContains}, "何でも", false},
		{Rule{Keyword: "ローン", Match: MatchContains}, "預金", false},
		// The one search key: kana, spaces and 異体字 fold as in every search.
		{Rule{Keyword: "よやく", Match: MatchContains}, "ヨヤクしたいです", true},
		{Rule{Keyword: "口座開設", Match: MatchContains}, "口座　開設の方法", true},
		{Rule{Keyword: "髙橋", Match: MatchExact}, "高橋", true},
	} {
		if got := tt.rule.Matches(tt.text); got != tt.want {
			t.Errorf("%+v matches %q = %v, want %v", tt.rule, tt.text, got, tt.want)
		}
	}
}

func TestBusinessHours(t *testing.T) {
	st := DefaultSettings()
	st.Holidays = []string{"2026-12-31"}
	// 2026-11-25 is a Wednesday.
	at := func(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, tokyo) }
	for _, tt := range []struct {
		t    time.Time
		open bool
		next string
	}{
		{at(25, 8, 59), false, "11月25日(水) 9:00"},
		{at(25, 9, 0), true, "11月26日(木) 9:00"},
		{at(25, 14, 59), true, "11月26日(木) 9:00"},
		{at(25, 15, 0), false, "11月26日(木) 9:00"},
		{at(27, 18, 0), false, "11月30日(月) 9:00"}, // Friday evening: Monday
		{at(28, 11, 0), false, "11月30日(月) 9:00"}, // Saturday
		{time.Date(2026, 12, 30, 16, 0, 0, 0, tokyo), false, "1月1日(金) 9:00"},
		{time.Date(2026, 12, 31, 10, 0, 0, 0, tokyo), false, "1月1日(金) 9:00"}, // holiday
		// The same instant in UTC is judged in Tokyo time.
		{time.Date(2026, 11, 25, 1, 0, 0, 0, time.UTC), true, "11月26日(木) 9:00"},
	} {
		if got := st.IsOpen(tt.t); got != tt.open {
			t.Errorf("IsOpen(%v) = %v", tt.t, got)
		}
		next, ok := st.NextOpening(tt.t)
		if !ok || formatOpening(next) != tt.next {
			t.Errorf("NextOpening(%v) = %s %v, want %s", tt.t, formatOpening(next), ok, tt.next)
		}
	}
	closed := DefaultSettings()
	for d := range closed.Week {
		closed.Week[d].Closed = true
	}
	if _, ok := closed.NextOpening(at(25, 10, 0)); ok {
		t.Error("never open, yet a next opening")
	}
}

func TestSettingsValidate(t *testing.T) {
	ok := DefaultSettings()
	bad := func(f func(*Settings)) Settings { s := DefaultSettings(); f(&s); return s }
	for _, tt := range []struct {
		name string
		s    Settings
		ok   bool
	}{
		{"default", ok, true},
		{"bad zone", bad(func(s *Settings) { s.TimeZone = "Mars/Base" }), false},
		{"close before open", bad(func(s *Settings) { s.Week[1] = Day{Open: "15:00", Close: "09:00"} }), false},
		{"bad clock", bad(func(s *Settings) { s.Week[1] = Day{Open: "9時", Close: "15:00"} }), false},
		{"closed day ignores hours", bad(func(s *Settings) { s.Week[0] = Day{Closed: true, Open: "x"} }), true},
		{"bad holiday", bad(func(s *Settings) { s.Holidays = []string{"2026/12/31"} }), false},
		{"away without text", bad(func(s *Settings) { s.AwayEnabled, s.AwayText = true, " " }), false},
		{"interval 0", bad(func(s *Settings) { s.AwayIntervalHours = 0 }), false},
	} {
		if err := tt.s.Validate(); (err == nil) != tt.ok || err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

type env struct {
	svc *Service
	ib  *inbox.Inbox
	db  *store.DB
	sim *linesim.Server
	clk *testClock
}

// newEnv wires the auto-replies into a real inbox on a real encrypted DB,
// fed by the simulator through the real verifier and SDK client. The
// inbox's clock is the real one (reply tokens), the auto-replies' is the
// test's (business hours).
func newEnv(t *testing.T) *env {
	t.Helper()
	db := storetest.New(t)
	s := linesimtest.Start(t, linesim.Config{ChannelSecret: "s", AccessToken: "tok"}, line.Config{})
	sim, cl := s.Server, s.Client
	clk := &testClock{t: time.Date(2026, 11, 25, 10, 0, 0, 0, tokyo)}
	svc, err := New(Config{DB: db, Clock: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	ib, err := inbox.New(inbox.Config{DB: db, Sender: cl, Content: cl, Hooks: []inbox.Hook{svc}})
	if err != nil {
		t.Fatal(err)
	}
	// The webhook is stored, then what the inbox's background workers do
	// (deliver hook replies, fetch profiles) is done at once: these tests
	// are about the replies, not the timing.
	s.ServeWebhook(t, func(ctx context.Context, wh *line.Webhook) error {
		if err := ib.HandleWebhook(ctx, wh); err != nil {
			return err
		}
		return ib.Settle(ctx)
	})
	return &env{svc: svc, ib: ib, db: db, sim: sim, clk: clk}
}

func (e *env) friend(t *testing.T, name string) string {
	id := linesim.NewUserID()
	e.sim.AddCustomer(linesim.Customer{UserID: id, DisplayName: name, Following: true})
	return id
}

func (e *env) say(t *testing.T, u, text string) string {
	t.Helper()
	id, err := e.sim.SendText(context.Background(), u, text)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func texts(ds []linesim.Delivery) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Via+":"+d.Text)
	}
	return out
}

func TestKeywordReplyOnceThroughTheInbox(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	admin := audit.StaffActor("admin")
	if _, err := e.svc.SaveRule(ctx, admin, Rule{Keyword: "営業時間", Match: MatchContains, Reply: "{氏名}様、窓口は平日9時〜15時です。", Priority: 1, Enabled: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SaveRule(ctx, admin, Rule{Keyword: "時間", Match: MatchContains, Reply: "低い優先度", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SaveRule(ctx, admin, Rule{Keyword: "ATM", Match: MatchContains, Reply: "無効なルール", Enabled: false, Priority: 9}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SaveRule(ctx, admin, Rule{Keyword: "x", Match: "regex", Reply: "y"}); !errors.Is(err, ErrInvalid) {
		t.Fatal(err)
	}
	u := e.friend(t, "山田 花子")
	ev := e.say(t, u, "土曜の営業時間は？ATMも")
	if err := e.sim.Redeliver(ctx, ev); err != nil {
		t.Fatal(err)
	}
	e.say(t, u, "ありがとう") // no keyword, open hours: nothing
	// {氏名} is filled in inside the webhook's transaction, before a new
	// friend's profile is fetched: their first message gets お客様.
	got := texts(e.sim.Deliveries(u))
	if len(got) != 1 || got[0] != "reply:お客様、窓口は平日9時〜15時です。" {
		t.Fatalf("deliveries %q", got)
	}
	e.say(t, u, "営業時間")
	got = texts(e.sim.Deliveries(u))
	if len(got) != 2 || got[1] != "reply:山田 花子様、窓口は平日9時〜15時です。" {
		t.Fatalf("deliveries %q", got)
	}
	entries, _ := audit.List(ctx, e.db.Reader(), audit.Filter{Actor: Actor})
	if len(entries) != 2 {
		t.Fatalf("audited sends %+v", entries)
	}
	entries, _ = audit.List(ctx, e.db.Reader(), audit.Filter{Action: ActionRuleSave})
	if len(entries) != 3 || entries[0].Actor != admin {
		t.Fatalf("audited rule changes %+v", entries)
	}
}

func TestAwayReplyOutsideHoursOncePerInterval(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	st := DefaultSettings()
	st.AwayEnabled = true
	st.AwayIntervalHours = 12
	st.AwayText = "営業時間外です。{次の営業開始}以降にご返信します。"
	if _, err := e.svc.SaveSettings(ctx, audit.StaffActor("admin"), st); err != nil {
		t.Fatal(err)
	}
	u := e.friend(t, "佐藤 健一")
	e.say(t, u, "開いていますか") // Wednesday 10:00: open
	if n := len(e.sim.Deliveries(u)); n != 0 {
		t.Fatalf("away reply during hours: %d", n)
	}
	e.clk.Set(time.Date(2026, 11, 27, 18, 0, 0, 0, tokyo)) // Friday evening
	ev := e.say(t, u, "口座のことで相談です")
	if err := e.sim.Redeliver(ctx, ev); err != nil {
		t.Fatal(err)
	}
	e.clk.Set(time.Date(2026, 11, 28, 1, 0, 0, 0, tokyo)) // 7 hours later
	e.say(t, u, "よろしくお願いします")
	want := []string{"reply:営業時間外です。11月30日(月) 9:00以降にご返信します。"}
	if got := texts(e.sim.Deliveries(u)); len(got) != 1 || got[0] != want[0] {
		t.Fatalf("deliveries %q, want %q", got, want)
	}
	e.clk.Set(time.Date(2026, 11, 28, 7, 0, 0, 0, tokyo)) // 13 hours after the first
	e.say(t, u, "まだですか")
	if got := texts(e.sim.Deliveries(u)); len(got) != 2 {
		t.Fatalf("after the interval: %q", got)
	}
	// The thread shows who answered.
	convs, _ := e.ib.Conversations(ctx)
	page, _ := e.ib.RecentMessages(ctx, convs[0].ID, 0, 0)
	var by []string
	for _, m := range page.Messages {
		if m.Direction == "out" {
			by = append(by, m.SentBy)
		}
	}
	if len(by) != 2 || by[0] != SentBy {
		t.Fatalf("sent by %v", by)
	}
	got, err := e.svc.Settings(ctx)
	if err != nil || !got.AwayEnabled || got.TimeZone != DefaultTimeZone {
		t.Fatalf("settings %+v %v", got, err)
	}
}
