package linking_test

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"tsunagu/internal/store/storetest"

	"tsunagu/internal/audit"
	"tsunagu/internal/customer"
	"tsunagu/internal/erasure"
	"tsunagu/internal/inbox"
	"tsunagu/internal/line"
	"tsunagu/internal/linesim"
	"tsunagu/internal/linesim/linesimtest"
	"tsunagu/internal/linking"
	"tsunagu/internal/store"
)

const (
	simSecret = "linking-sim-secret"
	simToken  = "linking-sim-token"
	staff     = "staff:tanaka"
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

// env is the inbox with the linking hook behind the real webhook verifier,
// fed by the simulator, on a real encrypted DB, all on one injected clock.
type env struct {
	t     *testing.T
	ctx   context.Context
	db    *store.DB
	sim   *linesim.Server
	ib    *inbox.Inbox
	svc   *linking.Service
	clk   *clock
	codes []string // next codes NewCode hands out (then random)
}

func newEnv(t *testing.T, notifier linking.CodeNotifier) *env {
	t.Helper()
	ctx := context.Background()
	db := storetest.New(t)
	var err error
	e := &env{t: t, ctx: ctx, db: db, clk: &clock{t: time.Date(2026, 4, 1, 10, 0, 0, 0, time.UTC)}}
	sim := linesimtest.Start(t, linesim.Config{ChannelSecret: simSecret, AccessToken: simToken, Clock: e.clk.Now},
		line.Config{Retry: line.RetryPolicy{MaxAttempts: 2, MinBackoff: time.Millisecond}})
	e.sim = sim.Server
	cl := sim.Client
	e.svc, err = linking.New(linking.Config{DB: db, Clock: e.clk.Now, Account: cl, Notifier: notifier, NewCode: func() string {
		if len(e.codes) > 0 {
			c := e.codes[0]
			e.codes = e.codes[1:]
			return c
		}
		return linking.NewCode()
	}})
	if err != nil {
		t.Fatal(err)
	}
	e.ib, err = inbox.New(inbox.Config{DB: db, Sender: cl, Clock: e.clk.Now, Hooks: []inbox.Hook{e.svc.Hook()}})
	if err != nil {
		t.Fatal(err)
	}
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

// customer stores a customer and returns its ID.
func (e *env) customer(no, name, birth string) int64 {
	e.t.Helper()
	var id int64
	err := e.db.Write(e.ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(e.ctx, `INSERT INTO customers (customer_no, name, name_kana, birth_date, branch, created_at, updated_at) VALUES (?, ?, 'ヤマダ ハナコ', ?, '本店', 0, 0)`, no, name, birth)
		if err != nil {
			return err
		}
		id, err = res.LastInsertId()
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

// friend adds a simulated LINE user.
func (e *env) friend(name string) string {
	id := linesim.NewUserID()
	e.sim.AddCustomer(linesim.Customer{UserID: id, DisplayName: name, Language: "ja", Following: true})
	return id
}

// issue makes a letter code for a customer and returns it.
func (e *env) issue(customerID int64) string {
	e.t.Helper()
	out, err := e.svc.Issue(e.ctx, staff, linking.IssueRequest{CustomerID: customerID, Delivery: linking.DeliveryLetter})
	if err != nil {
		e.t.Fatal(err)
	}
	if out.Letter == nil || out.Letter.Code == "" {
		e.t.Fatalf("issue: no letter: %+v", out)
	}
	return out.Letter.Code
}

// send makes the user send text and returns the event ID.
func (e *env) send(user, text string) string {
	e.t.Helper()
	id, err := e.sim.SendText(e.ctx, user, text)
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

// replies waits briefly for the official account's messages to user and
// returns their texts.
func (e *env) replies(user string, want int) []string {
	e.t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		var out []string
		for _, d := range e.sim.Deliveries(user) {
			out = append(out, d.Text)
		}
		if len(out) >= want || time.Now().After(deadline) {
			return out
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// expectReplies checks the user received exactly these replies so far
// (after a short grace period for late sends).
func (e *env) expectReplies(user string, want ...string) {
	e.t.Helper()
	got := e.replies(user, len(want))
	time.Sleep(30 * time.Millisecond)
	got = e.replies(user, len(want))
	if len(got) != len(want) {
		e.t.Fatalf("replies to user = %d %q, want %d %q", len(got), got, len(want), want)
	}
	for i := range want {
		if got[i] != want[i] {
			e.t.Fatalf("reply %d = %q, want %q", i, got[i], want[i])
		}
	}
}

func (e *env) conversation(user string) int64 {
	e.t.Helper()
	list, err := e.ib.Conversations(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, c := range list {
		if c.LineUserID == user {
			return c.ID
		}
	}
	e.t.Fatalf("no conversation for user")
	return 0
}

// linkedTo returns the customer the user is linked to (0: none).
func (e *env) linkedTo(user string) int64 {
	e.t.Helper()
	_, l, err := e.svc.ByConversation(e.ctx, e.conversation(user))
	if err != nil {
		e.t.Fatal(err)
	}
	if l == nil {
		return 0
	}
	return l.CustomerID
}

// audits returns the audit entries with action.
func (e *env) audits(action string) []audit.Entry {
	e.t.Helper()
	rows, err := e.db.Reader().QueryContext(e.ctx, `SELECT actor, target, detail FROM audit_log WHERE action = ? ORDER BY seq`, action)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []audit.Entry
	for rows.Next() {
		var en audit.Entry
		var detail string
		if err := rows.Scan(&en.Actor, &en.Target, &detail); err != nil {
			e.t.Fatal(err)
		}
		en.Action = action
		en.Detail = map[string]string{"raw": detail}
		out = append(out, en)
	}
	return out
}

func TestLinkByCode(t *testing.T) {
	e := newEnv(t, nil)
	cust := e.customer("1001", "山田 花子", "1980-04-01")
	user := e.friend("はなこ")
	code := e.issue(cust)

	// The DB holds no trace of the code's text.
	var n int
	if err := e.db.Reader().QueryRow(`SELECT count(*) FROM link_codes WHERE code_hash LIKE ? OR code_hash LIKE ?`,
		"%"+code+"%", "%"+strings.ReplaceAll(code, "-", "")+"%").Scan(&n); err != nil || n != 0 {
		t.Fatalf("code stored in clear: %d %v", n, err)
	}

	ev := e.send(user, linking.PrefillText(code))
	e.expectReplies(user, linking.ReplyLinked)
	if got := e.linkedTo(user); got != cust {
		t.Fatalf("linked to %d, want %d", got, cust)
	}
	_, l, _ := e.svc.ByConversation(e.ctx, e.conversation(user))
	if l.Method != "code" || l.LinkedBy != linking.Actor {
		t.Fatalf("link = %+v", l)
	}
	// The code message is an exchange with the app: not unread for staff.
	msgs, err := e.ib.Messages(e.ctx, e.conversation(user))
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) == 0 || msgs[0].Direction != "in" || !msgs[0].Internal {
		t.Fatalf("code message = %+v", msgs)
	}
	if len(msgs) < 2 || msgs[1].Direction != "out" || msgs[1].Body != linking.ReplyLinked || msgs[1].SentBy != linking.SentBy {
		t.Fatalf("reply in the thread = %+v", msgs)
	}

	// LINE redelivers the event: nothing is redeemed or answered twice.
	if err := e.sim.Redeliver(e.ctx, ev); err != nil {
		t.Fatal(err)
	}
	e.expectReplies(user, linking.ReplyLinked)
	if got := len(e.audits("customer.link_line")); got != 1 {
		t.Fatalf("link audited %d times", got)
	}

	// The same user sends the code again: already linked.
	e.send(user, code)
	e.expectReplies(user, linking.ReplyLinked, linking.ReplyAlreadyLinked)

	// Someone else sends the spent code: used.
	other := e.friend("べつじん")
	e.send(other, strings.ToLower(code))
	e.expectReplies(other, linking.ReplyUsed)
	if e.linkedTo(other) != 0 {
		t.Fatal("a used code linked a second user")
	}

	issue := e.audits(linking.ActionCodeIssue)
	if len(issue) != 1 || issue[0].Actor != staff || issue[0].Target != "customer:"+itoa(cust) ||
		!strings.Contains(issue[0].Detail["raw"], `"delivery":"letter"`) || !strings.Contains(issue[0].Detail["raw"], `"customerNo":"1001"`) {
		t.Fatalf("issue audit = %+v", issue)
	}
	link := e.audits("customer.link_line")
	if link[0].Actor != linking.Actor || !strings.Contains(link[0].Detail["raw"], `"method":"code"`) {
		t.Fatalf("link audit = %+v", link)
	}
	rej := e.audits(linking.ActionCodeRejected)
	if len(rej) != 1 || !strings.Contains(rej[0].Detail["raw"], `"reason":"used"`) {
		t.Fatalf("rejection audit = %+v", rej)
	}
	for _, a := range append(append(issue, link...), rej...) {
		if strings.Contains(a.Detail["raw"], code) || strings.Contains(a.Detail["raw"], user) || strings.Contains(a.Detail["raw"], "山田") {
			t.Fatalf("audit holds a code, LINE ID or name: %+v", a)
		}
	}
	if rep, err := audit.Verify(e.ctx, e.db.Reader()); err != nil || !rep.OK {
		t.Fatalf("audit chain: %+v %v", rep, err)
	}
}

func TestExpiredAndReissuedCodes(t *testing.T) {
	e := newEnv(t, nil)
	cust := e.customer("1002", "佐藤 健一", "")
	user := e.friend("けんいち")
	old := e.issue(cust)
	// A second code revokes the first.
	e.clk.Add(24 * time.Hour)
	code := e.issue(cust)
	if old == code {
		t.Fatal("same code twice")
	}
	if got := len(e.audits(linking.ActionCodeRevoke)); got != 1 {
		t.Fatalf("revocations audited: %d", got)
	}
	e.send(user, old)
	e.expectReplies(user, linking.ReplyExpired)

	// Past the default 14 days: expired.
	e.clk.Add(14*24*time.Hour + time.Minute)
	e.send(user, code)
	e.expectReplies(user, linking.ReplyExpired, linking.ReplyExpired)
	if e.linkedTo(user) != 0 {
		t.Fatal("an expired code linked")
	}
	rej := e.audits(linking.ActionCodeRejected)
	if len(rej) != 2 || !strings.Contains(rej[1].Detail["raw"], `"reason":"expired"`) {
		t.Fatalf("rejections = %+v", rej)
	}

	// The validity is a setting (audited): a fresh code valid for 1 day.
	if err := e.svc.SetSettings(e.ctx, "staff:admin", linking.Settings{CodeValidityDays: 1, IdentityCheck: linking.IdentityOff}); err != nil {
		t.Fatal(err)
	}
	if got := e.audits(audit.ActionSettings); len(got) != 1 || got[0].Target != linking.SettingCodeDays {
		t.Fatalf("settings audit = %+v", got)
	}
	out, err := e.svc.Issue(e.ctx, staff, linking.IssueRequest{CustomerID: cust, Delivery: linking.DeliveryLetter})
	if err != nil {
		t.Fatal(err)
	}
	if want := e.clk.Now().Add(24 * time.Hour).UnixMilli(); out.ExpiresAt != want {
		t.Fatalf("expires %d, want %d", out.ExpiresAt, want)
	}
	e.send(user, out.Letter.Code)
	e.expectReplies(user, linking.ReplyExpired, linking.ReplyExpired, linking.ReplyLinked)
	if e.linkedTo(user) != cust {
		t.Fatal("not linked")
	}
}

func TestWrongCodesAreRateLimited(t *testing.T) {
	e := newEnv(t, nil)
	cust := e.customer("1003", "鈴木 美咲", "")
	user := e.friend("みさき")
	code := e.issue(cust)

	var want []string
	for i, wrong := range []string{"AAAA-AAAA", "abcd efgh", "WXYZ2345", "ABCD-EFG1", "連携コード：ＺＺＺＺ－ＺＺＺＺ"} {
		e.send(user, wrong)
		want = append(want, linking.ReplyWrong)
		e.expectReplies(user, want...)
		if i == 0 && e.linkedTo(user) != 0 {
			t.Fatal("a wrong code linked")
		}
	}
	// The sixth attempt is throttled with one "try later"; then silence,
	// and not even the right code is checked.
	e.send(user, "QQQQ-QQQQ")
	want = append(want, linking.ReplyThrottled)
	e.expectReplies(user, want...)
	e.send(user, code)
	e.send(user, "RRRR-RRRR")
	e.expectReplies(user, want...)
	if e.linkedTo(user) != 0 {
		t.Fatal("linked while throttled")
	}
	// Ordinary messages are not code attempts: they reach staff.
	e.send(user, "口座の住所変更をしたいです")
	e.expectReplies(user, want...)

	// An hour later the right code works.
	e.clk.Add(linking.AttemptWindow + time.Minute)
	e.send(user, code)
	want = append(want, linking.ReplyLinked)
	e.expectReplies(user, want...)
	if e.linkedTo(user) != cust {
		t.Fatal("not linked after the window")
	}
	// One audit entry per answered attempt: 5 wrong + 1 throttled.
	if got := len(e.audits(linking.ActionCodeRejected)); got != 6 {
		t.Fatalf("rejections audited: %d", got)
	}
}

func TestIdentityCheck(t *testing.T) {
	e := newEnv(t, nil)
	if err := e.svc.SetSettings(e.ctx, "staff:admin", linking.Settings{CodeValidityDays: 14, IdentityCheck: linking.IdentityBirthDate}); err != nil {
		t.Fatal(err)
	}
	// No birth date on file: no code can be issued.
	if _, err := e.svc.Issue(e.ctx, staff, linking.IssueRequest{CustomerID: e.customer("1000", "生年 不明", ""), Delivery: linking.DeliveryLetter}); !errors.Is(err, linking.ErrNoBirthDate) {
		t.Fatalf("issue without birth date: %v", err)
	}

	t.Run("pass", func(t *testing.T) {
		cust := e.customer("1004", "高橋 誠", "1980-04-01")
		user := e.friend("まこと")
		e.send(user, e.issue(cust))
		e.expectReplies(user, linking.ReplyAskBirthDate)
		if e.linkedTo(user) != 0 {
			t.Fatal("linked before the identity check")
		}
		// A message without digits is not an answer: it goes to staff.
		e.send(user, "よろしくお願いします")
		e.expectReplies(user, linking.ReplyAskBirthDate)
		e.send(user, "1980/4/2")
		got := e.replies(user, 2)
		if len(got) != 2 || !strings.Contains(got[1], "あと2回") {
			t.Fatalf("replies = %q", got)
		}
		e.send(user, "S55.4.1")
		got = e.replies(user, 3)
		if len(got) != 3 || got[2] != linking.ReplyLinked || e.linkedTo(user) != cust {
			t.Fatalf("replies = %q, linked to %d", got, e.linkedTo(user))
		}
		if len(e.audits(linking.ActionCodeAccepted)) == 0 || len(e.audits(linking.ActionIdentityFailed)) != 1 {
			t.Fatal("identity steps not audited")
		}
	})
	t.Run("era and compact forms", func(t *testing.T) {
		for i, answer := range []string{"昭和55年4月1日", "19800401", "１９８０年４月１日"} {
			cust := e.customer("20"+itoa(int64(i)), "確認 太郎", "1980-04-01")
			user := e.friend("たろう")
			e.send(user, e.issue(cust))
			e.send(user, answer)
			e.expectReplies(user, linking.ReplyAskBirthDate, linking.ReplyLinked)
		}
	})
	t.Run("fail", func(t *testing.T) {
		cust := e.customer("1005", "伊藤 直子", "1975-12-24")
		user := e.friend("なおこ")
		code := e.issue(cust)
		e.send(user, code)
		for _, d := range []string{"19751225", "1975/12/23", "昭和50年1月1日"} {
			e.send(user, d)
		}
		got := e.replies(user, 4)
		if len(got) != 4 || got[3] != linking.ReplyIdentityLocked || e.linkedTo(user) != 0 {
			t.Fatalf("replies = %q", got)
		}
		// The code is spent: sending it again does nothing good.
		e.send(user, code)
		e.send(user, "1975/12/24")
		got = e.replies(user, 5)
		if len(got) != 5 || got[4] != linking.ReplyExpired || e.linkedTo(user) != 0 {
			t.Fatalf("replies after invalidation = %q", got)
		}
		if len(e.audits(linking.ActionCodeInvalidated)) != 1 {
			t.Fatal("invalidation not audited")
		}
	})
}

func TestManualLinkUnlinkRelink(t *testing.T) {
	e := newEnv(t, nil)
	c1 := e.customer("3001", "一 太郎", "")
	c2 := e.customer("3002", "二 次郎", "")
	a, b := e.friend("A"), e.friend("B")
	e.send(a, "こんにちは")
	e.send(b, "はじめまして")
	convA, convB := e.conversation(a), e.conversation(b)

	if err := e.svc.LinkConversation(e.ctx, staff, convA, c1); err != nil {
		t.Fatal(err)
	}
	if e.linkedTo(a) != c1 {
		t.Fatal("not linked")
	}
	// One LINE user per customer and one customer per LINE user.
	if err := e.svc.LinkConversation(e.ctx, staff, convA, c2); !errors.Is(err, linking.ErrUserLinked) {
		t.Fatalf("second customer for a user: %v", err)
	}
	if err := e.svc.LinkConversation(e.ctx, staff, convB, c1); !errors.Is(err, linking.ErrCustomerLinked) {
		t.Fatalf("second user for a customer: %v", err)
	}
	if err := e.svc.LinkConversation(e.ctx, staff, 9999, c2); !errors.Is(err, linking.ErrNotFound) {
		t.Fatalf("missing conversation: %v", err)
	}
	if err := e.svc.LinkConversation(e.ctx, staff, convB, 9999); !errors.Is(err, linking.ErrNotFound) {
		t.Fatalf("missing customer: %v", err)
	}
	// A linked customer gets no code.
	if _, err := e.svc.Issue(e.ctx, staff, linking.IssueRequest{CustomerID: c1, Delivery: linking.DeliveryLetter}); !errors.Is(err, linking.ErrCustomerLinked) {
		t.Fatalf("code for a linked customer: %v", err)
	}
	// Linking by hand closes the customer's open code.
	code := e.issue(c2)
	if err := e.svc.LinkConversation(e.ctx, staff, convB, c2); err != nil {
		t.Fatal(err)
	}
	if oc, _ := e.svc.OpenCode(e.ctx, c2); oc != nil {
		t.Fatalf("open code after a manual link: %+v", oc)
	}
	stranger := e.friend("C")
	e.send(stranger, code)
	e.expectReplies(stranger, linking.ReplyExpired)

	// Relink: B moves to c1; A loses c1, c2 loses B.
	if err := e.svc.Relink(e.ctx, staff, convB, c1, " "); !errors.Is(err, linking.ErrReasonRequired) {
		t.Fatalf("relink without reason: %v", err)
	}
	if err := e.svc.Relink(e.ctx, staff, convB, c1, "別のお客さまと取り違え"); err != nil {
		t.Fatal(err)
	}
	if e.linkedTo(b) != c1 || e.linkedTo(a) != 0 {
		t.Fatalf("after relink: a=%d b=%d", e.linkedTo(a), e.linkedTo(b))
	}
	if l, _ := e.svc.ByCustomer(e.ctx, c2); l != nil {
		t.Fatalf("c2 still linked: %+v", l)
	}

	if err := e.svc.Unlink(e.ctx, staff, c1, ""); !errors.Is(err, linking.ErrReasonRequired) {
		t.Fatalf("unlink without reason: %v", err)
	}
	if err := e.svc.Unlink(e.ctx, staff, c1, "お客さまのご依頼"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Unlink(e.ctx, staff, c1, "again"); !errors.Is(err, linking.ErrNotLinked) {
		t.Fatalf("unlink twice: %v", err)
	}
	if e.linkedTo(b) != 0 {
		t.Fatal("still linked")
	}

	links := e.audits("customer.link_line")
	unlinks := e.audits("customer.unlink_line")
	relinks := e.audits(linking.ActionRelink)
	if len(links) != 3 || len(unlinks) != 3 || len(relinks) != 1 {
		t.Fatalf("audit: %d links, %d unlinks, %d relinks", len(links), len(unlinks), len(relinks))
	}
	for _, u := range unlinks {
		if u.Actor != staff || !strings.Contains(u.Detail["raw"], `"reason":`) {
			t.Fatalf("unlink audit = %+v", u)
		}
	}
	if !strings.Contains(relinks[0].Detail["raw"], "取り違え") || !strings.Contains(relinks[0].Detail["raw"], `"previousCustomer":"`+itoa(c2)) {
		t.Fatalf("relink audit = %+v", relinks[0])
	}
}

// notifier records sends, as internal/mail and internal/sms would deliver.
type notifier struct {
	mu   sync.Mutex
	sent []string // channel|to|key|text
	fail error
}

func (n *notifier) SendEmail(_ context.Context, to, subject, text, key string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.sent = append(n.sent, "email|"+to+"|"+key+"|"+subject+"\n"+text)
	return n.fail
}

func (n *notifier) SendSMS(_ context.Context, to, text, key string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.sent = append(n.sent, "sms|"+to+"|"+key+"|"+text)
	return n.fail
}

func TestCodeByEmailAndSMS(t *testing.T) {
	n := &notifier{}
	e := newEnv(t, n)
	cust := e.customer("4001", "中村 優", "")
	if err := e.db.Write(e.ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(e.ctx, `INSERT INTO contact_points (customer_id, kind, value, source, created_at) VALUES (?, 'email', 'yu@example.jp', 'manual', 0), (?, 'mobile', '09012345678', 'manual', 0)`, cust, cust)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	e.codes = []string{"ABCD-EFGH", "JKLM-NPQR"}
	// Only the customer's own contact points.
	if _, err := e.svc.Issue(e.ctx, staff, linking.IssueRequest{CustomerID: cust, Delivery: linking.DeliveryEmail, Destination: "attacker@example.com"}); !errors.Is(err, linking.ErrDestination) {
		t.Fatalf("foreign destination: %v", err)
	}
	e.codes = []string{"ABCD-EFGH", "JKLM-NPQR"}
	out, err := e.svc.Issue(e.ctx, staff, linking.IssueRequest{CustomerID: cust, Delivery: linking.DeliveryEmail, Destination: "yu@example.jp"})
	if err != nil || out.SendStatus != "sent" || out.Letter != nil {
		t.Fatalf("email: %+v %v", out, err)
	}
	n.fail = errors.New("smtp down")
	out, err = e.svc.Issue(e.ctx, staff, linking.IssueRequest{CustomerID: cust, Delivery: linking.DeliverySMS, Destination: "09012345678"})
	if err != nil || out.SendStatus != "failed" {
		t.Fatalf("sms: %+v %v", out, err)
	}
	if len(n.sent) != 2 || !strings.HasPrefix(n.sent[0], "email|yu@example.jp|") || !strings.Contains(n.sent[0], "ABCD-EFGH") ||
		!strings.Contains(n.sent[0], "中村 優 様") || !strings.Contains(n.sent[0], "https://line.me/R/oaMessage/"+e.sim.BasicID()+"/?") ||
		!strings.HasPrefix(n.sent[1], "sms|09012345678|") || !strings.Contains(n.sent[1], "JKLM-NPQR") {
		t.Fatalf("sent = %q", n.sent)
	}
	// The key each send carried was stored (before the send) with its outcome.
	rows, err := e.db.Reader().Query(`SELECT channel, destination, idempotency_key, status FROM link_code_deliveries ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var ch, to, key, st string
		if err := rows.Scan(&ch, &to, &key, &st); err != nil {
			t.Fatal(err)
		}
		got = append(got, ch+"|"+to+"|"+key+"|"+st)
	}
	if len(got) != 2 || !strings.HasPrefix(n.sent[0], strings.TrimSuffix(got[0], "|sent")+"|") || !strings.HasSuffix(got[0], "|sent") ||
		!strings.HasPrefix(n.sent[1], strings.TrimSuffix(got[1], "|failed")+"|") || !strings.HasSuffix(got[1], "|failed") {
		t.Fatalf("deliveries = %q", got)
	}
	issues := e.audits(linking.ActionCodeIssue)
	if len(issues) != 2 || !strings.Contains(issues[0].Detail["raw"], `"delivery":"email"`) || !strings.Contains(issues[1].Detail["raw"], `"delivery":"sms"`) {
		t.Fatalf("issue audits = %+v", issues)
	}
	// The SMS code is the open one; the email one was revoked by it.
	user := e.friend("ゆう")
	e.send(user, "ABCD-EFGH")
	e.send(user, "JKLM-NPQR")
	e.expectReplies(user, linking.ReplyExpired, linking.ReplyLinked)
}

func TestLetterCarriesChatLinkAndQR(t *testing.T) {
	e := newEnv(t, nil)
	cust := e.customer("5001", "小林 さくら", "")
	e.codes = []string{"WXYZ-2345"}
	out, err := e.svc.Issue(e.ctx, staff, linking.IssueRequest{CustomerID: cust, Delivery: linking.DeliveryLetter})
	if err != nil {
		t.Fatal(err)
	}
	l := out.Letter
	want := "https://line.me/R/oaMessage/" + e.sim.BasicID() + "/?%E9%80%A3%E6%90%BA%E3%82%B3%E3%83%BC%E3%83%89:%20WXYZ-2345"
	if l.Code != "WXYZ-2345" || l.Name != "小林 さくら" || l.CustomerNo != "5001" || l.BasicID != e.sim.BasicID() || l.ChatURL != want {
		t.Fatalf("letter = %+v\nwant URL %s", l, want)
	}
	if !strings.HasPrefix(l.QRDataURL, "data:image/png;base64,iVBORw0KGgo") {
		t.Fatalf("QR = %.40s", l.QRDataURL)
	}
	// The prefilled message, sent as is, links.
	user := e.friend("さくら")
	e.send(user, l.Prefill)
	e.expectReplies(user, linking.ReplyLinked)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestErasureLeavesNoTraceOfTheUser: erasing a conversation (APPI) removes
// the LINE user's code attempts and their ID from the codes they sent.
func TestErasureLeavesNoTraceOfTheUser(t *testing.T) {
	e := newEnv(t, nil)
	cust := e.customer("9001", "消去 太郎", "")
	user := e.friend("たろう")
	e.send(user, "WXYZ-WXYZ")
	e.send(user, e.issue(cust))
	e.expectReplies(user, linking.ReplyWrong, linking.ReplyLinked)
	if _, err := erasure.New(e.db, customer.ErasureHooks(), e.clk.Now).EraseConversation(e.ctx, staff, e.conversation(user)); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := e.db.Reader().QueryRow(`SELECT (SELECT count(*) FROM link_attempts) + (SELECT count(*) FROM link_codes WHERE line_user_id IS NOT NULL)
		+ (SELECT count(*) FROM customer_line_links)`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("rows naming the erased user: %d %v", n, err)
	}
}

type downAccount struct{}

func (downAccount) BotInfo(context.Context) (line.BotInfo, error) {
	return line.BotInfo{}, errors.New("LINE unreachable")
}

// TestLetterWithoutLINE: when LINE cannot be asked for the basic ID the
// letter still carries the code (typed in the chat), without a QR code.
func TestLetterWithoutLINE(t *testing.T) {
	e := newEnv(t, nil)
	svc, err := linking.New(linking.Config{DB: e.db, Clock: e.clk.Now, Account: downAccount{}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := svc.Issue(e.ctx, staff, linking.IssueRequest{CustomerID: e.customer("5002", "山本 樹", ""), Delivery: linking.DeliveryLetter})
	if err != nil {
		t.Fatal(err)
	}
	if l := out.Letter; l == nil || l.Code == "" || l.QRDataURL != "" || l.ChatURL != "" || l.BasicID != "" {
		t.Fatalf("letter = %+v", out.Letter)
	}
	if _, err := svc.Issue(e.ctx, staff, linking.IssueRequest{CustomerID: 1, Delivery: linking.DeliveryEmail, Destination: "x@example.jp"}); !errors.Is(err, linking.ErrNoNotifier) {
		t.Fatalf("email without a notifier: %v", err)
	}
	if _, err := svc.Issue(e.ctx, staff, linking.IssueRequest{CustomerID: 1, Delivery: "fax"}); !errors.Is(err, linking.ErrInvalidDelivery) {
		t.Fatalf("unknown delivery: %v", err)
	}
	if _, err := svc.Issue(e.ctx, staff, linking.IssueRequest{CustomerID: 424242, Delivery: linking.DeliveryLetter}); !errors.Is(err, linking.ErrNotFound) {
		t.Fatalf("missing customer: %v", err)
	}
	if err := svc.SetSettings(e.ctx, staff, linking.Settings{CodeValidityDays: 0, IdentityCheck: linking.IdentityOff}); !errors.Is(err, linking.ErrInvalidSetting) {
		t.Fatalf("0 days: %v", err)
	}
}

// Linking by hand records how the customer consented to LINE messages in the
// same change, audited; a link without a choice is refused before anything
// changes. Candidates compare the LINE name with the customer's.
func TestLinkWithConsentAndCandidates(t *testing.T) {
	e := newEnv(t, nil)
	c1 := e.customer("4001", "山﨑 花子", "1980-05-06")
	c2 := e.customer("4002", "鈴木 一郎", "")
	if _, err := e.db.Writer().Exec(`UPDATE customers SET phone = '0312345678' WHERE id = ?`, c1); err != nil {
		t.Fatal(err)
	}
	a := e.friend("山崎花子")
	e.send(a, "こんにちは")
	conv := e.conversation(a)

	cands, err := e.svc.Candidates(e.ctx, conv, "4")
	if err != nil || len(cands) != 2 {
		t.Fatalf("candidates: %+v %v", cands, err)
	}
	if c := cands[0]; c.ID != c1 || c.NameDiffers || c.PhoneTail != "5678" || c.BirthDate != "1980-05-06" {
		t.Errorf("山﨑 for LINE name 山崎花子: %+v", c)
	}
	if c := cands[1]; c.ID != c2 || !c.NameDiffers || c.PhoneTail != "" {
		t.Errorf("鈴木 for LINE name 山崎花子: %+v", c)
	}

	if err := e.svc.LinkWithConsent(e.ctx, staff, conv, c1, ""); !errors.Is(err, linking.ErrConsentChoice) {
		t.Fatalf("no consent choice: %v", err)
	}
	if e.linkedTo(a) != 0 {
		t.Fatal("linked although refused")
	}
	if err := e.svc.LinkWithConsent(e.ctx, staff, conv, c1, linking.ConsentWritten); err != nil {
		t.Fatal(err)
	}
	if e.linkedTo(a) != c1 {
		t.Fatal("not linked")
	}
	var granted bool
	var source string
	if err := e.db.Reader().QueryRow(`SELECT consent_line, consent_line_source FROM customers WHERE id = ?`, c1).Scan(&granted, &source); err != nil {
		t.Fatal(err)
	}
	if !granted || source != linking.ConsentWritten {
		t.Fatalf("consent %v from %q", granted, source)
	}
	var n int
	if err := e.db.Reader().QueryRow(`SELECT count(*) FROM audit_log WHERE action = ? AND target = ? AND actor = ?`,
		customer.ActionConsent, customer.Target(c1), staff).Scan(&n); err != nil || n != 1 {
		t.Fatalf("consent audited %d times: %v", n, err)
	}
}
