package automation

import (
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"tsunagu/internal/campaign"
	"tsunagu/internal/line"
	"tsunagu/internal/linesim"
	"tsunagu/internal/mail"
	"tsunagu/internal/mail/mailtest"
	"tsunagu/internal/outbox"
	"tsunagu/internal/segment"
	"tsunagu/internal/store"
	"tsunagu/internal/testsupport/crashtest"
)

// The crash test re-executes this test binary as a child that runs the
// scheduler through 20 days of an injected clock and kills itself
// (SIGKILL) at a failpoint. The simulator runs in the parent, so it counts
// every delivery of every child; the parent restarts the child until it
// finishes and then checks that each reminder arrived exactly once.
func TestMain(m *testing.M) { crashtest.Main(m, child) }

var crashStart = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

const crashDays = 20

func child() int {
	ctx := context.Background()
	key, err := hex.DecodeString(crashtest.Var("DB_KEY"))
	if err != nil {
		return crashtest.Fail(err)
	}
	db, err := store.Open(ctx, crashtest.Var("DB"), key)
	if err != nil {
		return crashtest.Fail(err)
	}
	defer db.Close()
	cl, err := line.New(line.Config{Endpoint: crashtest.Var("SIM"), AccessToken: simToken, Retry: fastRetry})
	if err != nil {
		return crashtest.Fail(err)
	}
	certPEM, err := os.ReadFile(crashtest.Var("SMTP_CERT"))
	if err != nil {
		return crashtest.Fail(err)
	}
	port, _ := strconv.Atoi(crashtest.Var("SMTP_PORT"))
	mailer := func(context.Context) (campaign.Mailer, error) {
		return mail.New(mail.Settings{Host: "127.0.0.1", Port: port, TLS: mail.TLSStartTLS, User: "tsunagu", From: "info@example-shinkin.jp"},
			"smtp-test-password", mail.Options{TLSConfig: mailtest.ClientTLS(certPEM), Timeout: 5 * time.Second})
	}
	clock := &testClock{t: crashStart}
	ob, err := outbox.New(outbox.Config{DB: db, Sender: cl, Clock: clock.now, Workers: 4})
	if err != nil {
		return crashtest.Fail(err)
	}
	ntf := campaign.NewNotifier(db, mailer, nil, clock.now)
	svc, err := New(Config{DB: db, Segments: segment.New(db, clock.now, nil), Outbox: ob, Notifier: ntf, Clock: clock.now, Failpoint: crashtest.Failpoint()})
	if err != nil {
		return crashtest.Fail(err)
	}
	for clock.now().Before(crashStart.Add(crashDays * 24 * time.Hour)) {
		clock.add(time.Hour)
		if _, err := svc.Tick(ctx); err != nil {
			return crashtest.Fail(err)
		}
	}
	return 0
}

func TestCrashAndRestartSendsNoDuplicates(t *testing.T) {
	e := newEnv(t, crashStart, true)
	ps := make([]person, 300)
	for i := range ps {
		ps[i] = person{no: custNo(i), consent: true, maturesOn: dateIn(crashStart, 8+i%(crashDays-2))}
		if i%3 == 0 {
			ps[i].email = "c" + custNo(i)[1:] + "@example.jp"
		} else {
			ps[i].lineUser = linesim.NewUserID()
		}
	}
	e.load(t, ps)
	r := e.active(t, reminderDraft("満期7日前", -7, "08:30"))
	e.db.Close() // the children own the DB from here on
	chain := []crashtest.Kill{
		{Point: FailClaimed, At: 1}, {Point: FailLineSent, At: 1}, {Point: FailEmailSent, At: 2}, {Point: FailClaimed, At: 3},
		{Point: FailLineSent, At: 4}, {Point: FailEmailSent, At: 7}, {Point: FailClaimed, At: 2}, {Point: FailLineSent, At: 2},
	}
	certFile := filepath.Join(t.TempDir(), "smtp.pem")
	if err := os.WriteFile(certFile, e.smtp.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	_, port := e.smtp.Addr()
	killedAt := crashtest.Chain{
		Vars: crashtest.Vars{"DB": e.path, "DB_KEY": hex.EncodeToString(e.key), "SIM": e.sim.URL(),
			"SMTP_CERT": certFile, "SMTP_PORT": strconv.Itoa(port)},
		Kills:    chain,
		Restarts: 4,
	}.Run(t)
	// Every child of the chain must reach its failpoint and die.
	killed := len(killedAt)
	if killed != len(chain) {
		t.Fatalf("children killed at chain steps %v, want all %d", killedAt, len(chain))
	}
	db, err := store.Open(context.Background(), e.path, e.key)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	e.db = db
	occ := e.occurrences(t, r.ID)
	emails := map[string]int{}
	for _, m := range e.smtp.Messages() {
		for _, to := range m.To {
			emails[to]++
		}
	}
	for _, p := range ps {
		if p.email != "" {
			if n := emails[p.email]; n != 1 {
				t.Fatalf("%s got %d reminder emails, want exactly 1", p.no, n)
			}
			if o := occ[p.id]; o.status != "sent" || o.channel != "email" {
				t.Fatalf("%s: occurrence %+v", p.no, o)
			}
			continue
		}
		if n := len(e.sim.Deliveries(p.lineUser)); n != 1 {
			t.Fatalf("%s got %d reminders, want exactly 1", p.no, n)
		}
		if o := occ[p.id]; o.status != "sent" || o.occurs != p.maturesOn {
			t.Fatalf("%s: occurrence %+v", p.no, o)
		}
	}
	t.Logf("%d kills; %d customers each reminded once", killed, len(ps))
}
