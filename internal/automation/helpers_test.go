package automation

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
	"tsunagu/internal/store/storetest"

	"tsunagu/internal/campaign"
	"tsunagu/internal/line"
	"tsunagu/internal/linesim"
	"tsunagu/internal/mail"
	"tsunagu/internal/mail/mailtest"
	"tsunagu/internal/outbox"
	"tsunagu/internal/segment"
	"tsunagu/internal/sms"
	"tsunagu/internal/store"
)

const (
	simToken = "automation-test-token"
	author   = "staff:author"
	approver = "staff:approver"
)

var fastRetry = line.RetryPolicy{MaxAttempts: 50, MinBackoff: 5 * time.Millisecond, MaxBackoff: 100 * time.Millisecond}

// testClock is the injected clock the tests move.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) set(t time.Time)     { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *testClock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type env struct {
	db    *store.DB
	path  string
	key   []byte
	sim   *linesim.Server
	cl    *line.Client
	smtp  *mailtest.Server
	clock *testClock
	svc   *Service
}

func newEnv(tb testing.TB, start time.Time, withSMTP bool) *env {
	tb.Helper()
	ctx := context.Background()
	e := &env{clock: &testClock{t: start}}
	d := storetest.NewAt(tb, filepath.Join(tb.TempDir(), "automation.db"))
	e.db, e.path, e.key = d.DB, d.Path, d.Key
	db := d.DB
	var err error
	e.sim = linesim.New(linesim.Config{AccessToken: simToken, ChannelSecret: "secret"})
	if err := e.sim.Start(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { e.sim.Close() })
	if e.cl, err = line.New(line.Config{Endpoint: e.sim.URL(), AccessToken: simToken, Retry: fastRetry}); err != nil {
		tb.Fatal(err)
	}
	if withSMTP {
		if e.smtp, err = mailtest.Start(mailtest.Options{}); err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { e.smtp.Close() })
	}
	e.svc = e.service(tb, db, e.cl, nil)
	return e
}

func (e *env) mailer(ctx context.Context) (campaign.Mailer, error) {
	if e.smtp == nil {
		return nil, campaign.ErrNoMailer
	}
	host, port := e.smtp.Addr()
	return mail.New(mail.Settings{Host: host, Port: port, TLS: mail.TLSStartTLS, User: e.smtp.User, From: "info@example-shinkin.jp"},
		e.smtp.Pass, mail.Options{TLSConfig: e.smtp.TLSConfig(), Timeout: 5 * time.Second})
}

func (e *env) service(tb testing.TB, db *store.DB, sender outbox.Sender, failpoint func(string)) *Service {
	tb.Helper()
	ob, err := outbox.New(outbox.Config{DB: db, Sender: sender, Clock: e.clock.now, Workers: 4})
	if err != nil {
		tb.Fatal(err)
	}
	var ntf *campaign.Notifier
	if e.smtp != nil {
		ntf = campaign.NewNotifier(db, e.mailer, func(context.Context) (sms.Sender, error) { return nil, campaign.ErrNoSMS }, e.clock.now)
	}
	svc, err := New(Config{DB: db, Segments: segment.New(db, e.clock.now, nil), Outbox: ob, Notifier: ntf, Clock: e.clock.now, Failpoint: failpoint})
	if err != nil {
		tb.Fatal(err)
	}
	return svc
}

// person is a generated customer.
type person struct {
	id          int64
	no          string
	lineUser    string // linked and following when set
	email       string
	consent     bool // consent for LINE and email
	maturesOn   string
	birthDate   string
	openedOn    string
	productType string
}

// load inserts people (and their LINE users into the simulator).
func (e *env) load(tb testing.TB, ps []person) {
	tb.Helper()
	ctx := context.Background()
	now := e.clock.now().UnixMilli()
	err := e.db.Write(ctx, func(tx *sql.Tx) error {
		for i := range ps {
			p := &ps[i]
			if err := tx.QueryRowContext(ctx, `INSERT INTO customers (customer_no, name, branch, staff_in_charge, birth_date, email, created_at, updated_at)
				VALUES (?, ?, '本店', '担当 花子', ?, ?, ?, ?) RETURNING id`, p.no, "顧客 "+p.no, p.birthDate, p.email, now, now).Scan(&p.id); err != nil {
				return err
			}
			if p.lineUser != "" {
				if _, err := tx.ExecContext(ctx, `INSERT INTO line_users (user_id, follow_state, created_at) VALUES (?, 'following', ?)`, p.lineUser, now); err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO customer_line_links (customer_id, line_user_id, linked_at, method) VALUES (?, ?, ?, 'manual')`, p.id, p.lineUser, now); err != nil {
					return err
				}
			}
			g := 0
			if p.consent {
				g = 1
			}
			for _, ch := range []string{"line", "email"} {
				if _, err := tx.ExecContext(ctx, `INSERT INTO consents (customer_id, channel, granted, source, recorded_at) VALUES (?, ?, ?, 'test', ?)`, p.id, ch, g, now); err != nil {
					return err
				}
			}
			if p.maturesOn != "" || p.openedOn != "" {
				typ := p.productType
				if typ == "" {
					typ = "定期預金"
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO products (customer_id, type, opened_on, matures_on, created_at) VALUES (?, ?, ?, ?, ?)`,
					p.id, typ, p.openedOn, p.maturesOn, now); err != nil {
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
			e.sim.AddCustomer(linesim.Customer{UserID: p.lineUser, DisplayName: "c", Following: true})
		}
	}
}

func reminderDraft(name string, offset int, at string) Draft {
	return Draft{Name: name, Kind: KindDate, Spec: Spec{
		Field: FieldMaturity, OffsetDays: offset, At: at,
		Channels: []string{campaign.ChannelLine, campaign.ChannelEmail},
		Content: campaign.Content{
			Line:  []campaign.LineMessage{{Kind: "text", Text: "{氏名} 様\n定期預金の満期が近づいています。"}},
			Email: campaign.Email{Subject: "満期のお知らせ", Text: "{氏名} 様\n\n定期預金の満期が近づいています。"},
		},
	}}
}

// active creates, approves and switches on d.
func (e *env) active(tb testing.TB, d Draft) Rule {
	tb.Helper()
	ctx := context.Background()
	r, err := e.svc.Create(ctx, author, d)
	if err != nil {
		tb.Fatal(err)
	}
	if r, err = e.svc.Approve(ctx, approver, r.ID, r.Version); err != nil {
		tb.Fatal(err)
	}
	if r, err = e.svc.Activate(ctx, approver, r.ID); err != nil {
		tb.Fatal(err)
	}
	return r
}

func (e *env) tick(tb testing.TB) TickResult {
	tb.Helper()
	res, err := e.svc.Tick(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

type occRow struct {
	customer int64
	occurs   string
	status   string
	reason   string
	channel  string
	sentAt   int64
}

func (e *env) occurrences(tb testing.TB, rule int64) map[int64]occRow {
	tb.Helper()
	rows, err := e.db.Reader().Query(`SELECT coalesce(customer_id, 0), occurs_on, status, reason, channel, coalesce(sent_at, 0) FROM automation_occurrences WHERE automation_id = ?`, rule)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	out := map[int64]occRow{}
	for rows.Next() {
		var o occRow
		rows.Scan(&o.customer, &o.occurs, &o.status, &o.reason, &o.channel, &o.sentAt)
		if _, dup := out[o.customer]; dup {
			tb.Fatalf("customer %d has two occurrences", o.customer)
		}
		out[o.customer] = o
	}
	return out
}

var tokyo = func() *time.Location { l, _ := loadLocation(DefaultTimeZone); return l }()

func dateIn(t time.Time, days int) string {
	return t.In(tokyo).AddDate(0, 0, days).Format("2006-01-02")
}

func custNo(i int) string { return fmt.Sprintf("C%06d", i) }
