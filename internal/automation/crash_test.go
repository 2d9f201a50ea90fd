package automation

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
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
)

// The crash test re-executes this test binary as a child that runs the
// scheduler through 20 days of an injected clock and kills itself
// (SIGKILL) at a failpoint. The simulator runs in the parent, so it counts
// every delivery of every child; the parent restarts the child until it
// finishes and then checks that each reminder arrived exactly once.
const childEnv = "TSUNAGU_AUTOMATION_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(child())
	}
	os.Exit(m.Run())
}

var crashStart = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

const crashDays = 20

func child() int {
	ctx := context.Background()
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 2
	}
	key, err := hex.DecodeString(os.Getenv("CHILD_DB_KEY"))
	if err != nil {
		return fail(err)
	}
	db, err := store.Open(ctx, os.Getenv("CHILD_DB"), key)
	if err != nil {
		return fail(err)
	}
	defer db.Close()
	cl, err := line.New(line.Config{Endpoint: os.Getenv("CHILD_SIM"), AccessToken: simToken, Retry: fastRetry})
	if err != nil {
		return fail(err)
	}
	point := os.Getenv("CHILD_FAILPOINT")
	at, _ := strconv.Atoi(os.Getenv("CHILD_FAIL_AT"))
	var hits atomic.Int64
	failpoint := func(name string) {
		if name == point && hits.Add(1) == int64(at) {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
	}
	certPEM, err := os.ReadFile(os.Getenv("CHILD_SMTP_CERT"))
	if err != nil {
		return fail(err)
	}
	port, _ := strconv.Atoi(os.Getenv("CHILD_SMTP_PORT"))
	mailer := func(context.Context) (campaign.Mailer, error) {
		return mail.New(mail.Settings{Host: "127.0.0.1", Port: port, TLS: mail.TLSStartTLS, User: "tsunagu", From: "info@example-shinkin.jp"},
			"smtp-test-password", mail.Options{TLSConfig: mailtest.ClientTLS(certPEM), Timeout: 5 * time.Second})
	}
	clock := &testClock{t: crashStart}
	ob, err := outbox.New(outbox.Config{DB: db, Sender: cl, Clock: clock.now, Workers: 4})
	if err != nil {
		return fail(err)
	}
	ntf := campaign.NewNotifier(db, mailer, nil, clock.now)
	svc, err := New(Config{DB: db, Segments: segment.New(db, clock.now, nil), Outbox: ob, Notifier: ntf, Clock: clock.now, Failpoint: failpoint})
	if err != nil {
		return fail(err)
	}
	for clock.now().Before(crashStart.Add(crashDays * 24 * time.Hour)) {
		clock.add(time.Hour)
		if _, err := svc.Tick(ctx); err != nil {
			return fail(err)
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
	chain := []struct {
		point string
		at    int
	}{
		{FailClaimed, 1}, {FailLineSent, 1}, {FailEmailSent, 2}, {FailClaimed, 3}, {FailLineSent, 4}, {FailEmailSent, 7}, {FailClaimed, 2}, {FailLineSent, 2},
	}
	certFile := filepath.Join(t.TempDir(), "smtp.pem")
	if err := os.WriteFile(certFile, e.smtp.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	_, port := e.smtp.Addr()
	base := append(os.Environ(), childEnv+"=1", "CHILD_DB="+e.path, "CHILD_DB_KEY="+hex.EncodeToString(e.key), "CHILD_SIM="+e.sim.URL(),
		"CHILD_SMTP_CERT="+certFile, "CHILD_SMTP_PORT="+strconv.Itoa(port))
	killed := 0
	for i := 0; ; i++ {
		if i > len(chain)+3 {
			t.Fatal("the children did not finish")
		}
		env := base
		if i < len(chain) {
			env = append(env, "CHILD_FAILPOINT="+chain[i].point, "CHILD_FAIL_AT="+strconv.Itoa(chain[i].at))
		}
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err == nil {
			if i < len(chain) {
				t.Fatalf("child %d finished without reaching %s #%d", i, chain[i].point, chain[i].at)
			}
			break
		}
		if ee, ok := err.(*exec.ExitError); ok && strings.Contains(ee.String(), "killed") {
			killed++
			continue
		}
		t.Fatalf("child %d: %v\n%s", i, err, out)
	}
	if killed != len(chain) {
		t.Fatalf("%d children killed, want %d", killed, len(chain))
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
