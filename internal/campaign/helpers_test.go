package campaign

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"
	"tsunagu/internal/store/storetest"

	"tsunagu/internal/line"
	"tsunagu/internal/linesim"
	"tsunagu/internal/mail"
	"tsunagu/internal/mail/mailtest"
	"tsunagu/internal/segment"
	"tsunagu/internal/sms"
	"tsunagu/internal/store"
)

const (
	simToken      = "campaign-test-token"
	webhookSecret = "sms-webhook-secret-for-tests"
	author        = "staff:author"
	approver      = "staff:approver"
)

var fastRetry = line.RetryPolicy{MaxAttempts: 50, MinBackoff: 5 * time.Millisecond, MaxBackoff: 100 * time.Millisecond}

// smsServer is an SMS webhook receiver that delivers each idempotency key
// once (as the webhook contract asks) and records what it delivered.
type smsServer struct {
	*httptest.Server
	mu        sync.Mutex
	delivered map[string]string // key -> number
	requests  int
	perNumber map[string]int
}

func newSMSServer(tb testing.TB) *smsServer {
	s := &smsServer{delivered: map[string]string{}, perNumber: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get("X-Tsunagu-Signature") != sms.Signature([]byte(webhookSecret), r.Header.Get("X-Tsunagu-Timestamp"), body) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var m struct{ To, Text string }
		json.Unmarshal(body, &m)
		key := r.Header.Get("Idempotency-Key")
		s.mu.Lock()
		defer s.mu.Unlock()
		s.requests++
		if _, ok := s.delivered[key]; ok {
			w.WriteHeader(http.StatusConflict)
			return
		}
		s.delivered[key] = m.To
		s.perNumber[m.To]++
		fmt.Fprintf(w, `{"id": "sms-%d"}`, len(s.delivered))
	}))
	tb.Cleanup(s.Close)
	return s
}

func (s *smsServer) counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for k, v := range s.perNumber {
		out[k] = v
	}
	return out
}

type env struct {
	db   *store.DB
	path string
	key  []byte
	sim  *linesim.Server
	cl   *line.Client
	smtp *mailtest.Server
	sms  *smsServer
	segs *segment.Service
	svc  *Service
	now  time.Time
}

type envOptions struct {
	latency time.Duration
	sim     linesim.Config
	line    line.Config
	noSMTP  bool
}

func newEnv(tb testing.TB, o envOptions) *env {
	tb.Helper()
	ctx := context.Background()
	e := &env{now: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	d := storetest.NewAt(tb, filepath.Join(tb.TempDir(), "campaign.db"))
	e.db, e.path, e.key = d.DB, d.Path, d.Key
	db := d.DB
	var err error
	o.sim.AccessToken, o.sim.ChannelSecret, o.sim.Latency = simToken, "secret", o.latency
	e.sim = linesim.New(o.sim)
	if err := e.sim.Start(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { e.sim.Close() })
	o.line.Endpoint, o.line.AccessToken = e.sim.URL(), simToken
	if o.line.Retry == (line.RetryPolicy{}) {
		o.line.Retry = fastRetry
	}
	if e.cl, err = line.New(o.line); err != nil {
		tb.Fatal(err)
	}
	if !o.noSMTP {
		if e.smtp, err = mailtest.Start(mailtest.Options{}); err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { e.smtp.Close() })
	}
	e.sms = newSMSServer(tb)
	e.segs = segment.New(db, e.clock, nil)
	e.svc = e.service(tb, db, nil)
	return e
}

func (e *env) clock() time.Time { return e.now }

func (e *env) mailer(ctx context.Context) (Mailer, error) {
	if e.smtp == nil {
		return nil, ErrNoMailer
	}
	host, port := e.smtp.Addr()
	return mail.New(mail.Settings{Host: host, Port: port, TLS: mail.TLSStartTLS, User: e.smtp.User, From: "info@example-shinkin.jp"},
		e.smtp.Pass, mail.Options{TLSConfig: e.smtp.TLSConfig(), Timeout: 5 * time.Second})
}

func (e *env) smsSender(ctx context.Context) (sms.Sender, error) {
	return sms.NewWebhook(e.sms.URL, webhookSecret, nil, nil)
}

func (e *env) service(tb testing.TB, db *store.DB, failpoint func(string)) *Service {
	tb.Helper()
	svc, err := New(Config{DB: db, Segments: segment.New(db, e.clock, nil), Line: e.cl, Quota: e.cl,
		Mailer: e.mailer, SMS: e.smsSender, Clock: e.clock, Failpoint: failpoint})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(svc.Close)
	return svc
}

// person is a generated customer and what the campaign must do with them.
type person struct {
	id                        int64
	no, name                  string
	active                    bool
	lineUser                  string
	following                 bool
	consentLine, consentEmail bool
	consentSMS                bool
	email, mobile             string
	tagged                    bool
	branch                    string
	staff                     string // staff in charge ({担当者}); "" for none
	product                   string
	maturesInDays             int
}

// mixed generates n customers in every combination of states.
func mixed(n int) []person {
	names := []string{"山田 花子", "佐藤 太郎", "鈴木 一郎", "高橋 恵子", "田中 実"}
	branches := []string{"本店", "駅前支店", "北支店", "南支店"}
	ps := make([]person, n)
	for i := range ps {
		p := person{no: fmt.Sprintf("C%06d", i), name: names[i%len(names)], active: i%50 != 7, branch: branches[i%len(branches)]}
		if i%3 != 0 {
			p.lineUser = linesim.NewUserID()
			p.following = i%7 != 0
		}
		p.consentLine = i%5 != 1
		p.consentEmail = i%4 != 2
		p.consentSMS = i%6 != 3
		if i%2 == 0 {
			p.email = fmt.Sprintf("c%d@example.jp", i)
			if i%14 == 0 && i%3 != 0 {
				// A family sharing an address with an earlier customer who has no LINE.
				partner := i - 2
				if i%3 == 1 {
					partner = i - 4
				}
				p.email = fmt.Sprintf("c%d@example.jp", partner)
			}
		}
		if i%3 == 0 && i%9 != 0 || i%10 == 1 {
			p.mobile = fmt.Sprintf("090%08d", i)
		}
		p.tagged = i%11 == 0
		if i%4 == 1 {
			p.product, p.maturesInDays = "定期預金", i%200
		}
		ps[i] = p
	}
	return ps
}

// load inserts people into the DB and the simulator.
func (e *env) load(tb testing.TB, ps []person) {
	tb.Helper()
	ctx := context.Background()
	now := e.now.UnixMilli()
	err := e.db.Write(ctx, func(sqlTx *sql.Tx) error {
		// Each statement prepared once, not once per customer: SQLite
		// compiles the tables' triggers into every INSERT it prepares.
		tx := store.NewTxCache(sqlTx)
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO tags (id, name) VALUES (1, '配信停止')`); err != nil {
			return err
		}
		for i := range ps {
			p := &ps[i]
			status := "active"
			if !p.active {
				status = "inactive"
			}
			err := tx.QueryRowContext(ctx, `INSERT INTO customers (customer_no, name, branch, staff_in_charge, status, email, mobile, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, p.no, p.name, p.branch, p.staff, status, p.email, p.mobile, now, now).Scan(&p.id)
			if err != nil {
				return err
			}
			if p.lineUser != "" {
				state := "following"
				if !p.following {
					state = "unfollowed"
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO line_users (user_id, follow_state, created_at) VALUES (?, ?, ?)`, p.lineUser, state, now); err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO customer_line_links (customer_id, line_user_id, linked_at, method) VALUES (?, ?, ?, 'manual')`, p.id, p.lineUser, now); err != nil {
					return err
				}
			}
			for ch, ok := range map[string]bool{"line": p.consentLine, "email": p.consentEmail, "sms": p.consentSMS} {
				g := 0
				if ok {
					g = 1
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO consents (customer_id, channel, granted, source, recorded_at) VALUES (?, ?, ?, 'test', ?)`, p.id, ch, g, now); err != nil {
					return err
				}
			}
			if p.tagged {
				if _, err := tx.ExecContext(ctx, `INSERT INTO customer_tags (customer_id, tag_id) VALUES (?, 1)`, p.id); err != nil {
					return err
				}
			}
			if p.product != "" {
				if _, err := tx.ExecContext(ctx, `INSERT INTO products (customer_id, type, matures_on, created_at) VALUES (?, ?, ?, ?)`,
					p.id, p.product, e.now.AddDate(0, 0, p.maturesInDays).Format("2006-01-02"), now); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	for _, p := range ps {
		if p.lineUser != "" {
			e.sim.AddCustomer(linesim.Customer{UserID: p.lineUser, DisplayName: "c", Following: p.following})
		}
	}
}

// expect is an independent statement of the channel plan for the
// "everyone but the 配信停止 tag" segment with channels line, email, sms.
func expect(ps []person) (lineUsers map[string]bool, emails map[string]bool, mobiles map[string]bool, skipped int) {
	lineUsers, emails, mobiles = map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, p := range ps {
		if p.tagged {
			continue
		}
		if !p.active {
			skipped++
			continue
		}
		if p.lineUser != "" && p.following && p.consentLine {
			lineUsers[p.lineUser] = true
			continue
		}
		if p.email != "" && p.consentEmail && !emails[p.email] {
			emails[p.email] = true
			continue
		}
		if m, err := sms.E164(p.mobile); err == nil && p.consentSMS && !mobiles[m] {
			mobiles[m] = true
			continue
		}
		skipped++
	}
	return
}

func notTagged() segment.Node {
	return segment.Node{Op: "and", Children: []segment.Node{{Not: true, Cond: &segment.Condition{Kind: segment.KindTag, Value: "配信停止"}}}}
}

func testDraft() Draft {
	return Draft{
		Name:     "年末のお知らせ",
		Rules:    notTagged(),
		Channels: []string{ChannelLine, ChannelEmail, ChannelSMS},
		Content: Content{
			Line: []LineMessage{
				{Kind: "text", Text: "{氏名} 様\n年末年始の窓口営業についてお知らせします。"},
				{Kind: "flex", Template: "notice", Fields: map[string]string{"title": "年末年始の営業", "body": "12/31〜1/3 は休業します。", "url": "https://example-shinkin.jp/news"}},
			},
			Email: Email{Subject: "年末年始の窓口営業について", Text: "{氏名} 様\n\n12/31〜1/3 は休業します。"},
			SMS:   SMS{Text: "{氏名}様 年末年始(12/31-1/3)は休業します。○○信金"},
		},
	}
}

// approved creates and approves the test draft.
func (e *env) approved(tb testing.TB, svc *Service, d Draft) Campaign {
	tb.Helper()
	ctx := context.Background()
	c, err := svc.Create(ctx, author, d)
	if err != nil {
		tb.Fatal(err)
	}
	if c, err = svc.Approve(ctx, approver, c.ID, c.Version); err != nil {
		tb.Fatal(err)
	}
	return c
}

func keyHex(k []byte) string { return hex.EncodeToString(k) }

// segmentNoConsent selects customers lacking some consent: the engine must
// still only use channels they consented to.
func segmentNoConsent() segment.Node {
	return segment.Node{Op: "or", Children: []segment.Node{
		{Not: true, Cond: &segment.Condition{Kind: segment.KindConsent, Value: "line"}},
		{Not: true, Cond: &segment.Condition{Kind: segment.KindConsent, Value: "email"}},
		{Not: true, Cond: &segment.Condition{Kind: segment.KindConsent, Value: "sms"}},
	}}
}
