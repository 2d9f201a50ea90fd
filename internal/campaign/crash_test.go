package campaign

import (
	"context"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"tsunagu/internal/line"
	"tsunagu/internal/mail"
	"tsunagu/internal/mail/mailtest"
	"tsunagu/internal/segment"
	"tsunagu/internal/sms"
	"tsunagu/internal/store"
	"tsunagu/internal/testsupport/crashtest"
)

// The crash test re-executes this test binary as a child that sends the
// campaign and kills itself (SIGKILL) at a failpoint. The simulator, the
// SMTP server and the SMS webhook run in the parent, so they see every
// request of every child. The parent restarts the child until the campaign
// is done and then checks exactly-once delivery.
func TestMain(m *testing.M) { crashtest.Main(m, child) }

// child runs one campaign send with the settings from its parent.
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
	mailer := func(context.Context) (Mailer, error) {
		return mail.New(mail.Settings{Host: "127.0.0.1", Port: port, TLS: mail.TLSStartTLS, User: "tsunagu", From: "info@example-shinkin.jp"},
			"smtp-test-password", mail.Options{TLSConfig: mailtest.ClientTLS(certPEM), Timeout: 5 * time.Second})
	}
	smsSender := func(context.Context) (sms.Sender, error) {
		return sms.NewWebhook(crashtest.Var("SMS"), webhookSecret, nil, nil)
	}
	now := func() time.Time { return time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC) }
	svc, err := New(Config{DB: db, Segments: segment.New(db, now, nil), Line: cl, Quota: cl, Mailer: mailer, SMS: smsSender,
		Clock: now, Failpoint: crashtest.Failpoint(), Workers: 4})
	if err != nil {
		return crashtest.Fail(err)
	}
	// Small chunks and multicasts: the snapshot is expanded in many steps,
	// each a place to die, and requests leave while it is.
	svc.firstChunk, svc.maxChunk, svc.perRequest = crashChunk, crashChunk, crashPerRequest
	id, _ := strconv.ParseInt(crashtest.Var("CAMPAIGN"), 10, 64)
	if err := svc.Run(ctx, approver, id); err != nil {
		return crashtest.Fail(err)
	}
	return 0
}

// crashChunk is the children's expansion chunk: the 1,500 customers of the
// crash test are frozen and then expanded in about 15 transactions.
const crashChunk = 100

// crashPerRequest is the children's multicast size: the ~120 LINE
// recipients of each of the five names fill requests while the snapshot is
// still being expanded, so a kill mid-expansion finds some in flight.
const crashPerRequest = 40

func TestCrashAndResumeIsExactlyOnce(t *testing.T) {
	chains := map[string][]crashtest.Kill{
		// Every failpoint, one after another in one campaign.
		"every point": {
			{Point: FailMaterialised, At: 1},
			{Point: FailExpanding, At: 6},
			{Point: FailLineSent, At: 2},
			{Point: FailBetweenChannel, At: 1},
			{Point: FailEmailAccepted, At: 3},
			{Point: FailBetweenChannel, At: 2},
			{Point: FailSMSAccepted, At: 2},
		},
	}
	// And a random chain (seed in the name, to reproduce a failure).
	seed := time.Now().UnixNano()
	r := rand.New(rand.NewPCG(uint64(seed), 7))
	// The largest hit count each point surely reaches in one run.
	reach := map[string]int{FailMaterialised: 1, FailExpanding: 6, FailLineSent: 3, FailBetweenChannel: 2, FailEmailAccepted: directBatch, FailSMSAccepted: directBatch}
	points := []string{FailMaterialised, FailExpanding, FailLineSent, FailBetweenChannel, FailEmailAccepted, FailSMSAccepted}
	var random []crashtest.Kill
	for range 4 {
		p := points[r.IntN(len(points))]
		random = append(random, crashtest.Kill{Point: p, At: 1 + r.IntN(reach[p])})
	}
	chains[fmt.Sprintf("random seed %d", seed)] = random

	for name, chain := range chains {
		t.Run(name, func(t *testing.T) {
			n := 1500
			e := newEnv(t, envOptions{latency: time.Millisecond})
			ps := mixed(n)
			e.load(t, ps)
			c := e.approved(t, e.svc, testDraft())
			e.db.Close() // the children own the DB from here on
			certFile := filepath.Join(t.TempDir(), "smtp.pem")
			os.WriteFile(certFile, e.smtp.CertPEM, 0o600)
			_, port := e.smtp.Addr()
			sentBy := map[int]int{}
			killedAt := crashtest.Chain{
				Vars: crashtest.Vars{"DB": e.path, "DB_KEY": keyHex(e.key), "SIM": e.sim.URL(),
					"SMTP_CERT": certFile, "SMTP_PORT": strconv.Itoa(port), "SMS": e.sms.URL,
					"CAMPAIGN": strconv.FormatInt(c.ID, 10)},
				// A failpoint a child does not reach (e.g. the channel had
				// nothing left) lets it finish the campaign.
				Kills:    chain,
				Restarts: 6,
				OnKill:   func(i int) { sentBy[i] = len(e.sim.Requests()) },
			}.Run(t)
			killed := len(killedAt)
			if killed == 0 {
				t.Fatal("no child was killed: the test does not test a crash")
			}
			if name == "every point" && killed != len(chain) {
				// Each point comes later in a send than the one before (the
				// second child resumes a frozen snapshot with ~1,300
				// customers to expand in chunks of 100, and dies mid-way):
				// every child must die.
				t.Fatalf("kills at chain steps %v, want all %d", killedAt, len(chain))
			}
			if name == "every point" && sentBy[1] == 0 {
				t.Fatal("no LINE request had left when the expansion was killed")
			}
			db, err := store.Open(context.Background(), e.path, e.key)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			e.db = db
			svc := e.service(t, db, nil)
			got, _ := svc.Get(context.Background(), c.ID)
			if got.Status != StatusDone {
				t.Fatalf("status %s (%s)", got.Status, got.Error)
			}
			e.assertExactlyOnce(t, ps, true)
			rep, _ := svc.Report(context.Background(), c.ID)
			t.Logf("%d kills (chain steps %v); report %+v", killed, killedAt, rep.Channels)
			// Every customer of the frozen segment has exactly one row.
			untagged := 0
			for _, p := range ps {
				if !p.tagged {
					untagged++
				}
			}
			var rows int
			db.Reader().QueryRow(`SELECT count(*) FROM campaign_recipients WHERE campaign_id = ?`, c.ID).Scan(&rows)
			if rep.Matched != untagged || rows != untagged {
				t.Fatalf("matched %d, %d rows; want %d", rep.Matched, rows, untagged)
			}
			// LINE resends reused their keys: every resend was answered 409.
			// (Accepted, not the status: a child killed while its request
			// waited out the latency leaves a record with no answer, which
			// the simulator never served.)
			keys := map[string]int{}
			for _, rq := range e.sim.Requests() {
				if rq.RetryKey != "" && rq.Accepted {
					keys[rq.RetryKey]++
				}
			}
			for k, n := range keys {
				if n > 1 {
					t.Fatalf("retry key %s accepted %d times", k, n)
				}
			}
		})
	}
}
