package engine

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"tsunagu/internal/inbox"
	"tsunagu/internal/linesim"
	"tsunagu/internal/relay"
	"tsunagu/internal/secrets/secretstest"
)

// The whole path of a live office through a LINE outage: LINE's API
// refuses every connection while 1,000 customer messages (every other
// round a photo) go LINE → relay (sealed, queued) → the engine's pull loop
// → the inbox, and staff answer each customer twice. All 1,000 are in the
// inbox within 15 s; once the API is back every profile and photo is
// fetched exactly once within 30 s, and every staff reply is delivered
// exactly once, in order per customer.
func TestRelayOutageThousandWebhooks(t *testing.T) {
	ctx := context.Background()
	rcfg := relay.Config{DataDir: t.TempDir(), TenantRate: 5000, TenantBurst: 10000}
	l := newRelayEnv(t, secretstest.Keyring(t), rcfg, nil, "")
	users := make([]string, 100)
	for i := range users {
		users[i] = linesim.NewUserID()
		l.sim.AddCustomer(linesim.Customer{UserID: users[i], DisplayName: fmt.Sprintf("顧客%03d", i), Following: true})
	}
	if err := l.sim.SetOutage(linesim.OutageRefuse); err != nil {
		t.Fatal(err)
	}

	// 1,000 messages from 8 phones at once.
	var (
		mu     sync.Mutex
		photos = map[string][]byte{}
		errs   []error
		wg     sync.WaitGroup
	)
	work := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range work {
				u := users[i%len(users)]
				var err error
				if (i/len(users))%2 == 1 {
					photo := fmt.Appendf(nil, "\x89PNG photo %d", i)
					var id string
					_, id, err = l.sim.SendImage(ctx, u, photo, "image/png")
					mu.Lock()
					photos[id] = photo
					mu.Unlock()
				} else {
					_, err = l.sim.SendText(ctx, u, fmt.Sprintf("メッセージ %d", i))
				}
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	for i := range 1000 {
		work <- i
	}
	close(work)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d webhooks not accepted by the relay, first: %v", len(errs), errs[0])
	}
	posted := time.Now()
	count := func(q string) int {
		var n int
		if err := l.eng.DB().Reader().QueryRow(q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	waitFor := func(d time.Duration, what string, cond func() bool) time.Duration {
		t.Helper()
		start := time.Now()
		for !cond() {
			if time.Since(start) > d {
				st, _ := l.eng.Inbox().LineStatus(ctx)
				t.Fatalf("%s: not within %v (relay %+v, LINE %+v)", what, d, l.eng.RelayStatus(), st)
			}
			time.Sleep(50 * time.Millisecond)
		}
		return time.Since(start)
	}
	took := waitFor(15*time.Second, "1,000 messages in the inbox", func() bool {
		return count(`SELECT COUNT(*) FROM messages WHERE direction = 'in'`) == 1000
	})
	t.Logf("1,000 webhooks through the relay with LINE unreachable: in the inbox %v after the last post", took)

	// Staff answer every customer twice while LINE is still down.
	convs, err := l.eng.Inbox().Conversations(ctx)
	if err != nil || len(convs) != len(users) {
		t.Fatalf("%d conversations, want %d: %v", len(convs), len(users), err)
	}
	// Several clerks at once, each conversation's two replies in order.
	staff := inbox.Actor{Audit: "staff:tanaka", Name: "田中"}
	jobs := make(chan inbox.Conversation)
	for range 8 {
		wg.Go(func() {
			for c := range jobs {
				for k := range 2 {
					if _, err := l.eng.Inbox().Reply(ctx, c.ID, staff, fmt.Sprintf("%s 様 回答 %d", c.LineUserID[len(c.LineUserID)-4:], k)); err != nil {
						mu.Lock()
						errs = append(errs, err)
						mu.Unlock()
					}
				}
			}
		})
	}
	for _, c := range convs {
		jobs <- c
	}
	close(jobs)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d replies refused during the outage, first: %v", len(errs), errs[0])
	}
	if st, err := l.eng.Inbox().LineStatus(ctx); err != nil || st.WaitingSends == 0 {
		t.Fatalf("no sends waiting during the outage: %+v %v", st, err)
	}

	if err := l.sim.SetOutage(linesim.OutageNone); err != nil {
		t.Fatal(err)
	}
	back := waitFor(30*time.Second, "profiles and photos filled in and replies sent", func() bool {
		return count(`SELECT COUNT(*) FROM fetch_jobs`) == 0 &&
			count(`SELECT COUNT(*) FROM messages WHERE direction = 'out' AND status <> 'sent'`) == 0
	})
	t.Logf("filled in and sent %v after LINE came back (%v after the last post)", back, time.Since(posted))

	served := map[string]int{}
	for _, r := range l.sim.Requests() {
		if r.Status == http.StatusOK {
			served[r.Endpoint]++
		}
	}
	if served[linesim.EndpointProfile] != len(users) || served[linesim.EndpointContent] != len(photos) {
		t.Fatalf("LINE served %d profiles and %d photos, want each once: %d and %d",
			served[linesim.EndpointProfile], served[linesim.EndpointContent], len(users), len(photos))
	}
	if n := count(`SELECT COUNT(*) FROM message_content`); n != len(photos) {
		t.Fatalf("%d photos stored, want %d", n, len(photos))
	}
	convs, _ = l.eng.Inbox().Conversations(ctx)
	for _, c := range convs {
		if c.DisplayName == "" {
			t.Fatalf("no profile after the outage: %+v", c)
		}
		var got []string
		for _, d := range l.sim.Deliveries(c.LineUserID) {
			got = append(got, d.Text)
		}
		tail := c.LineUserID[len(c.LineUserID)-4:]
		if want := []string{tail + " 様 回答 0", tail + " 様 回答 1"}; !slices.Equal(got, want) {
			t.Fatalf("%s received %q, want %q once each, in order", c.DisplayName, got, want)
		}
	}
}
