package survey_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"
	"tsunagu/internal/store/storetest"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"

	"tsunagu/internal/customer"
	"tsunagu/internal/inbox"
	"tsunagu/internal/line"
	"tsunagu/internal/linesim"
	"tsunagu/internal/linesim/linesimtest"
	"tsunagu/internal/outbox"
	"tsunagu/internal/segment"
	"tsunagu/internal/store"
	"tsunagu/internal/survey"
)

const (
	simSecret = "survey-sim-secret"
	simToken  = "survey-sim-token"
	staff     = "staff:sato"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is the inbox with the survey hook behind the real webhook verifier,
// fed by the simulator through the real SDK client, on a real encrypted DB.
type env struct {
	t    *testing.T
	ctx  context.Context
	db   *store.DB
	sim  *linesim.Server
	ib   *inbox.Inbox
	ob   *outbox.Outbox
	svc  *survey.Service
	cust *customer.Service
	segs *segment.Service
	clk  *clock
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	db := storetest.New(t)
	var err error
	e := &env{t: t, ctx: ctx, db: db, clk: &clock{t: time.Date(2026, 4, 1, 10, 0, 0, 0, time.UTC)}}
	sim := linesimtest.Start(t, linesim.Config{ChannelSecret: simSecret, AccessToken: simToken, Clock: e.clk.Now},
		line.Config{Retry: line.RetryPolicy{MaxAttempts: 2, MinBackoff: time.Millisecond}})
	e.sim = sim.Server
	cl := sim.Client
	if e.svc, err = survey.New(survey.Config{DB: db, Clock: e.clk.Now}); err != nil {
		t.Fatal(err)
	}
	if e.ob, err = outbox.New(outbox.Config{DB: db, Sender: cl, Clock: e.clk.Now}); err != nil {
		t.Fatal(err)
	}
	e.ib, err = inbox.New(inbox.Config{DB: db, Sender: cl, Clock: e.clk.Now, Hooks: []inbox.Hook{e.svc.Hook()}})
	if err != nil {
		t.Fatal(err)
	}
	e.cust = customer.New(db, e.clk.Now)
	e.segs = segment.New(db, e.clk.Now, survey.SegmentExtensions())
	// The webhook is stored, then what the inbox's background workers do
	// (deliver hook replies, fetch profiles) is done at once: these tests
	// are about the replies, not the timing.
	sim.ServeWebhook(t, func(ctx context.Context, wh *line.Webhook) error {
		if err := e.ib.HandleWebhook(ctx, wh); err != nil {
			return err
		}
		return e.ib.Settle(ctx)
	})
	return e
}

func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) customer(no, name string) int64 {
	e.t.Helper()
	var id int64
	e.must(e.db.Write(e.ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(e.ctx, `INSERT INTO customers (customer_no, name, name_kana, birth_date, branch, created_at, updated_at) VALUES (?, ?, 'テスト', '1980-01-01', '本店', 0, 0)`, no, name)
		if err != nil {
			return err
		}
		id, err = res.LastInsertId()
		return err
	}))
	return id
}

// friend adds a simulated LINE user who follows the account (the follow
// event makes the inbox know them).
func (e *env) friend(name string) string {
	e.t.Helper()
	id := linesim.NewUserID()
	e.sim.AddCustomer(linesim.Customer{UserID: id, DisplayName: name, Language: "ja"})
	e.must(e.sim.Follow(e.ctx, id))
	return id
}

// last returns the latest message the user received.
func (e *env) last(user string) linesim.Delivery {
	e.t.Helper()
	ds := e.sim.Deliveries(user)
	if len(ds) == 0 {
		e.t.Fatal("no message delivered")
	}
	return ds[len(ds)-1]
}

// expectAsked checks the latest message asks the question whose text
// contains want.
func (e *env) expectAsked(user, want string) {
	e.t.Helper()
	if got := e.last(user); !strings.Contains(string(got.Message), want) {
		e.t.Fatalf("latest message = %s, want the question %q", got.Message, want)
	}
}

// tap taps the phone's button labelled label (a ✓ mark ignored).
func (e *env) tap(user, label, value string) string {
	e.t.Helper()
	acts := e.sim.Actions(user)
	for i := len(acts) - 1; i >= 0; i-- {
		a := acts[i]
		if strings.TrimPrefix(a.Label, "✓") == label {
			id, err := e.sim.Tap(e.ctx, user, a.Delivery, a.Index, value)
			e.must(err)
			return id
		}
	}
	e.t.Fatalf("no button %q among %+v", label, acts)
	return ""
}

func (e *env) say(user, text string) string {
	e.t.Helper()
	id, err := e.sim.SendText(e.ctx, user, text)
	e.must(err)
	return id
}

// dataOf returns the postback data of the button labelled label on the
// latest message.
func (e *env) dataOf(user, label string) string {
	e.t.Helper()
	for _, a := range e.sim.Actions(user) {
		if strings.TrimPrefix(a.Label, "✓") == label && a.Delivery == len(e.sim.Deliveries(user))-1 {
			return a.Data
		}
	}
	e.t.Fatalf("no button %q", label)
	return ""
}

func (e *env) count(q string, args ...any) int {
	e.t.Helper()
	var n int
	e.must(e.db.Reader().QueryRowContext(e.ctx, q, args...).Scan(&n))
	return n
}

func (e *env) attr(customerID int64, key string) string {
	e.t.Helper()
	var v string
	err := e.db.Reader().QueryRowContext(e.ctx, `SELECT a.value FROM customer_attributes a JOIN attribute_defs d ON d.id = a.attr_id
		WHERE a.customer_id = ? AND d.key = ?`, customerID, key).Scan(&v)
	if err != nil && err != sql.ErrNoRows {
		e.t.Fatal(err)
	}
	return v
}

// fiveQuestions is the survey of the tests: q1 jumps to q4 on 「ない」.
func fiveQuestions() survey.Survey {
	return survey.Survey{
		Name:       "資産運用アンケート",
		Intro:      "いつもご利用ありがとうございます。5問のアンケートにご協力ください。",
		AnswerRule: survey.RuleLatest,
		Questions: []survey.Question{
			{ID: "q1", Type: survey.TypeSingle, Text: "資産運用に関心はありますか？", Attribute: "invest",
				Choices: []survey.Choice{{ID: "yes", Label: "ある", AttrValue: "あり"}, {ID: "no", Label: "ない", AttrValue: "なし", Next: "q4"}}},
			{ID: "q2", Type: survey.TypeMulti, Text: "関心のある商品をお選びください", Attribute: "products",
				Choices: []survey.Choice{{ID: "fund", Label: "投資信託"}, {ID: "nisa", Label: "NISA"}, {ID: "ins", Label: "保険"}, {ID: "fx", Label: "外貨預金"}}},
			{ID: "q3", Type: survey.TypeNumber, Text: "ご家族は何人ですか？", Attribute: "household"},
			{ID: "q4", Type: survey.TypeDate, Text: "ご来店のご希望日は？", Attribute: "visit"},
			{ID: "q5", Type: survey.TypeText, Text: "ご意見をお聞かせください"},
		},
	}
}

func (e *env) defineAttributes() {
	e.t.Helper()
	for _, d := range []customer.AttributeDef{
		{Key: "invest", Label: "資産運用に関心", Type: "choice", Choices: []string{"あり", "なし"}},
		{Key: "products", Label: "関心商品", Type: "text"},
		{Key: "household", Label: "世帯人数", Type: "number"},
		{Key: "visit", Label: "来店希望日", Type: "date"},
	} {
		e.must(e.cust.DefineAttribute(e.ctx, staff, d))
	}
}

func (e *env) openSurvey() survey.Survey {
	e.t.Helper()
	sv, err := e.svc.Save(e.ctx, staff, fiveQuestions())
	e.must(err)
	e.must(e.svc.SetStatus(e.ctx, staff, sv.ID, survey.StatusOpen))
	return sv
}

func TestSurveyEndToEnd(t *testing.T) {
	e := newEnv(t)
	e.defineAttributes()
	sv := e.openSurvey()

	// A linked customer, started by staff from the inbox.
	hanako := e.customer("C001", "山田花子")
	uA := e.friend("花子")
	e.must(e.cust.LinkLine(e.ctx, staff, hanako, uA, "manual", staff))
	res, err := e.svc.SendTo(e.ctx, e.ob, staff, uA, sv.ID)
	e.must(err)
	if res.Status != "done" {
		t.Fatalf("send = %+v", res)
	}
	ds := e.sim.Deliveries(uA)
	if len(ds) != 2 || ds[0].Via != linesim.ViaPush || ds[0].RetryKey == "" || !strings.Contains(ds[0].Text, "5問のアンケート") {
		t.Fatalf("deliveries = %+v", ds)
	}
	e.expectAsked(uA, "資産運用に関心はありますか")
	q1Yes := e.dataOf(uA, "ある")
	if len(q1Yes) > survey.MaxPostbackData {
		t.Fatalf("postback data %d characters", len(q1Yes))
	}
	e.tap(uA, "ある", "")
	e.expectAsked(uA, "関心のある商品")
	e.tap(uA, "投資信託", "")
	e.expectAsked(uA, "選択中：投資信託")
	e.tap(uA, "NISA", "")
	e.expectAsked(uA, "選択中：投資信託、NISA")
	e.tap(uA, "回答する", "")
	e.expectAsked(uA, "ご家族は何人")
	e.say(uA, "たくさん")
	e.expectAsked(uA, "数字でお答えください（例：3）")
	answerEvent := e.say(uA, "３")
	e.expectAsked(uA, "ご来店のご希望日")
	e.tap(uA, "日付を選ぶ", "2026-05-10")
	e.expectAsked(uA, "ご意見をお聞かせください")
	e.say(uA, "とても丁寧でした")
	if got := e.last(uA).Text; got != "ご回答ありがとうございました。" {
		t.Fatalf("thanks = %q", got)
	}
	want := map[string]string{"invest": "あり", "products": "投資信託、NISA", "household": "3", "visit": "2026-05-10"}
	for k, v := range want {
		if got := e.attr(hanako, k); got != v {
			t.Errorf("attribute %s = %q, want %q", k, got, v)
		}
	}

	// Staff see the taps by their labels, and the exchange is not unread.
	convs, err := e.ib.Conversations(e.ctx)
	e.must(err)
	msgs, err := e.ib.Messages(e.ctx, convs[0].ID)
	e.must(err)
	var taps []string
	for _, m := range msgs {
		if m.Kind == "postback" {
			taps = append(taps, m.Label)
			if !m.Internal {
				t.Fatalf("a survey tap counts as unread: %+v", m)
			}
		}
	}
	if strings.Join(taps, ",") != "ある,投資信託,NISA,回答する,日付を選ぶ" {
		t.Fatalf("taps in the thread = %q", taps)
	}
	// Every question and the thanks say which survey asked (issue 19 item 8).
	var asked int
	for _, m := range msgs {
		if m.Direction != "out" {
			continue
		}
		asked++
		if m.Origin != inbox.OriginSurvey || m.OriginName != sv.Name {
			t.Fatalf("a survey message in the thread names %q/%q, want the survey %q: %+v", m.Origin, m.OriginName, sv.Name, m)
		}
	}
	if asked < 6 {
		t.Fatalf("survey messages in the thread = %d", asked)
	}

	// Redelivery of an answered event stores nothing twice and sends
	// nothing more.
	before := len(e.sim.Deliveries(uA))
	e.must(e.sim.Redeliver(e.ctx, answerEvent))
	if n := e.count(`SELECT count(*) FROM survey_answers WHERE survey_id = ? AND question_id = 'q3'`, sv.ID); n != 1 {
		t.Fatalf("q3 answers after redelivery = %d", n)
	}
	if got := len(e.sim.Deliveries(uA)); got != before {
		t.Fatalf("redelivery sent %d more messages", got-before)
	}

	// Replayed: the first question's button tapped again.
	_, err = e.sim.Postback(e.ctx, uA, "ある", q1Yes)
	e.must(err)
	// Forged: data in the right shape with a token never issued, and
	// another user's token.
	_, err = e.sim.Postback(e.ctx, uA, "ない", "sv:"+itoa(sv.ID)+":AAAAAAAAAAAAAAAAAAAAAA:c:no")
	e.must(err)

	// An unlinked friend starts from a campaign card, skips q2 and q3 by
	// answering 「ない」, types the date.
	taro := e.customer("C002", "鈴木太郎")
	uB := e.friend("太郎")
	card, err := e.svc.StartMessage(e.ctx, sv.ID)
	e.must(err)
	_, err = e.ob.Submit(e.ctx, outbox.Request{Source: "campaign:1", To: []string{uB}, Messages: []line.Message{card}})
	e.must(err)
	e.tap(uB, "回答する", "")
	e.expectAsked(uB, "資産運用に関心はありますか")
	staleCandidate := e.dataOf(uB, "ある")
	// Another user's token is forged for this user.
	_, err = e.sim.Postback(e.ctx, uA, "ある", staleCandidate)
	e.must(err)
	e.tap(uB, "ない", "")
	e.expectAsked(uB, "【質問4/5】")
	// Stale: a token never used, of a question already answered (the
	// date was typed instead of picked). Its own user sends it, so it is
	// not forged.
	picker := e.dataOf(uB, "日付を選ぶ")
	e.say(uB, "令和8年6月1日")
	_, err = e.sim.PostbackParams(e.ctx, uB, "2026-07-01", picker, map[string]string{"date": "2026-07-01"})
	e.must(err)
	e.expectAsked(uB, "ご意見")
	// Stop and resume.
	e.say(uB, "やめる")
	if got := e.last(uB).Text; !strings.Contains(got, "中断") {
		t.Fatalf("stop answer = %q", got)
	}
	if n := e.count(`SELECT count(*) FROM messages WHERE body = 'やめる' AND internal = 1`); n != 1 {
		t.Fatalf("the stop word was not consumed: %d", n)
	}
	e.say(uB, "ありがとう") // not an answer now: goes to staff
	if n := e.count(`SELECT count(*) FROM survey_answers WHERE line_user_id = ? AND question_id = 'q5'`, uB); n != 0 {
		t.Fatal("a message after stopping was taken as an answer")
	}
	e.must(e.db.Write(e.ctx, func(tx *sql.Tx) error {
		replies, err := e.svc.Start(e.ctx, tx, uB, sv.ID, "automation:1")
		if err != nil || len(replies) != 1 || replies[0].Message == nil || !strings.Contains(replies[0].Text, "続きから") {
			t.Fatalf("start again = %+v, %v", replies, err)
		}
		_, err = e.ob.EnqueueTx(e.ctx, tx, outbox.Request{Source: "automation:1", To: []string{uB}, Messages: []line.Message{*replies[0].Message}})
		return err
	}))
	e.must(e.ob.Resume(e.ctx))
	e.tap(uB, "続きから回答", "")
	e.expectAsked(uB, "ご意見")
	e.say(uB, "特になし")
	if got := e.last(uB).Text; got != "ご回答ありがとうございました。" {
		t.Fatalf("thanks = %q", got)
	}
	if got := e.attr(taro, "visit"); got != "" {
		t.Fatalf("unlinked friend's attribute reached a customer: %q", got)
	}

	// Linking attaches the friend's answers.
	e.must(e.cust.LinkLine(e.ctx, staff, taro, uB, "manual", staff))
	if got, got2 := e.attr(taro, "invest"), e.attr(taro, "visit"); got != "なし" || got2 != "2026-06-01" {
		t.Fatalf("after linking: invest %q visit %q", got, got2)
	}

	// Saved segments select on answers and on mapped attributes.
	bySurvey, err := e.segs.Save(e.ctx, staff, segment.Segment{Name: "関心あり（回答）", Rules: segment.Node{Op: "and", Children: []segment.Node{
		{Cond: &segment.Condition{Kind: segment.KindSurvey, Survey: itoa(sv.ID), Question: "q2", Cmp: survey.CmpHas, Value: "NISA"}},
		{Cond: &segment.Condition{Kind: segment.KindSurvey, Survey: itoa(sv.ID), Question: "q3", Cmp: survey.CmpBetween, Values: []string{"2", "4"}}},
	}}})
	e.must(err)
	byAttr, err := e.segs.Save(e.ctx, staff, segment.Segment{Name: "関心なし（属性）", Rules: segment.Node{Op: "and", Children: []segment.Node{
		{Cond: &segment.Condition{Kind: segment.KindAttribute, Key: "invest", Cmp: "eq", Value: "なし"}},
	}}})
	e.must(err)
	completed := segment.Node{Cond: &segment.Condition{Kind: segment.KindSurvey, Survey: itoa(sv.ID), Cmp: survey.CmpCompleted}}
	for _, c := range []struct {
		rules segment.Node
		want  string
	}{
		{mustGet(t, e, bySurvey.ID), "C001"},
		{mustGet(t, e, byAttr.ID), "C002"},
		{segment.Node{Cond: &segment.Condition{Kind: segment.KindSurvey, Survey: itoa(sv.ID), Question: "q4", Cmp: survey.CmpBetween, Values: []string{"2026-06-01", "2026-06-30"}}}, "C002"},
		{segment.Node{Cond: &segment.Condition{Kind: segment.KindSurvey, Survey: itoa(sv.ID), Question: "q5", Cmp: survey.CmpContains, Value: "丁寧"}}, "C001"},
		{segment.Node{Cond: &segment.Condition{Kind: segment.KindSurvey, Survey: itoa(sv.ID), Question: "q1", Cmp: survey.CmpIn, Values: []string{"ない", "わからない"}}}, "C002"},
		{completed, "C001,C002"},
	} {
		p, err := e.segs.Preview(e.ctx, c.rules, 0, 10)
		e.must(err)
		var got []string
		for _, r := range p.Rows {
			got = append(got, r.CustomerNo)
		}
		if strings.Join(got, ",") != c.want {
			t.Errorf("segment %s = %v, want %s", c.rules.JSON(), got, c.want)
		}
	}

	// Results: runs, drop-off, counts and the ignored postbacks.
	r, err := e.svc.Results(e.ctx, staff, sv.ID)
	e.must(err)
	if r.Started != 2 || r.Completed != 2 || r.Rate != 1 || r.Respondents != 2 {
		t.Fatalf("results = %+v", r)
	}
	if r.Rejected["forged"] != 2 || r.Rejected["replayed"] != 1 || r.Rejected["stale"] != 1 {
		t.Fatalf("rejected = %v", r.Rejected)
	}
	if q1 := r.Questions[0]; q1.Answered != 2 || q1.Counts[0].Count != 1 || q1.Counts[1].Count != 1 {
		t.Fatalf("q1 = %+v", q1)
	}
	if q2 := r.Questions[1]; q2.Answered != 1 || q2.Counts[0].Value != "投資信託" || q2.Counts[0].Count != 1 || q2.Counts[2].Count != 0 {
		t.Fatalf("q2 = %+v", q2)
	}
	// The replayed and forged postbacks stored nothing.
	if n := e.count(`SELECT count(*) FROM survey_answers WHERE survey_id = ?`, sv.ID); n != 8 {
		t.Fatalf("answers = %d, want 8 (5 + 3)", n)
	}
	if v := e.attr(hanako, "invest"); v != "あり" {
		t.Fatalf("a rejected postback changed an answer: %q", v)
	}

	// The questions of a survey with answers are frozen; a copy is a new
	// version.
	edit := sv
	edit.Questions[4].Text = "変更"
	if _, err := e.svc.Save(e.ctx, staff, edit); err == nil {
		t.Fatal("questions of an answered survey changed")
	}
	cp, err := e.svc.Copy(e.ctx, staff, sv.ID)
	e.must(err)
	if cp.Status != survey.StatusDraft || len(cp.Questions) != 5 || cp.CopiedFrom != sv.ID {
		t.Fatalf("copy = %+v", cp)
	}

	// Closing the survey makes its buttons stale.
	uC := e.friend("次郎")
	_, err = e.svc.SendTo(e.ctx, e.ob, staff, uC, sv.ID)
	e.must(err)
	e.must(e.svc.SetStatus(e.ctx, staff, sv.ID, survey.StatusClosed))
	e.tap(uC, "ある", "")
	if n := e.count(`SELECT count(*) FROM survey_answers WHERE line_user_id = ?`, uC); n != 0 {
		t.Fatal("a closed survey took an answer")
	}
	if n := e.count(`SELECT count(*) FROM survey_rejects WHERE survey_id = ? AND reason = 'stale'`, sv.ID); n != 2 {
		t.Fatalf("stale = %d", n)
	}

	// Export: masked for the agency role, defused cells.
	var buf bytes.Buffer
	n, err := e.svc.Export(e.ctx, staff, sv.ID, &buf, survey.ExportOptions{Masked: true})
	e.must(err)
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(buf.String(), "\uFEFF"))).ReadAll()
	e.must(err)
	if n != 2 || len(recs) != 3 || recs[1][1] != "＊＊＊" || recs[1][len(recs[1])-1] != "＊＊＊" || recs[1][6] != "投資信託、NISA" {
		t.Fatalf("export = %q", recs)
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE action IN ('survey.export','survey.results','survey.send','survey.complete')`); n != 6 {
		t.Fatalf("audit entries = %d", n)
	}
}

func mustGet(t *testing.T, e *env, id int64) segment.Node {
	s, err := e.segs.Get(e.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return s.Rules
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func toSJIS(s string) (string, error) {
	b, _, err := transform.String(japanese.ShiftJIS.NewEncoder(), s)
	return b, err
}
