package engine

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"tsunagu/internal/inbox"
	"tsunagu/internal/relay"
	"tsunagu/internal/secrets/secretstest"
)

// Benchmark_intake measures the webhook path of a live office end to end,
// with LINE's API unreachable (the engine's API endpoint is a loopback port
// nobody listens on): nothing on the path may wait for it.
//
//   - e2e: each webhook's POST to the relay (fsync on) until the commit of
//     the desktop's transaction (the inbox's change event, which follows
//     the commit), at a steady 1,000 webhooks/s for 30 s, every webhook
//     from a new friend (the worst case: a new conversation and a profile
//     to fetch each time);
//   - outage_drain_s: 10,000 webhooks queued at the relay while the desktop
//     is off, then the time from the desktop's start until all are stored.
//
// Prints: BENCH intake e2e_p50_ms=… e2e_p99_ms=… rate=1000 sent=… outage_drain_s=…
// with ratios to the targets (e2e p99 1 s, drain 20 s).
func Benchmark_intake(b *testing.B) {
	const (
		rate     = 1000
		duration = 30 * time.Second
		queued   = 10_000
	)
	ctx := context.Background()
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	deadURL := "http://" + dead.Addr().String()
	dead.Close() // connections to it are refused: LINE's API is unreachable

	em := &commitTimes{at: map[int64]time.Time{}}
	// The relay lets one tenant post at this rate (its default is 200/s).
	rcfg := relay.Config{DataDir: b.TempDir(), TenantRate: 4 * rate, TenantBurst: 8 * rate, MaxQueuedPerTenant: 1_000_000}
	l := newRelayEnv(b, secretstest.MemKeyring(), rcfg, em, deadURL)

	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}}
	var (
		mu   sync.Mutex
		sent = map[string]time.Time{}
		fail int
	)
	post := func(i int) {
		user := fmt.Sprintf("U%032x", i)
		body := []byte(`{"destination":"Ubot","events":[` + textEventJSON(fmt.Sprintf("01INTAKE%018d", i), user, "残高照会の方法を教えてください") + `]}`)
		mac := hmac.New(sha256.New, []byte(dlSecret))
		mac.Write(body)
		req, _ := http.NewRequest(http.MethodPost, l.hookURL, bytes.NewReader(body))
		req.Header.Set("X-Line-Signature", base64.StdEncoding.EncodeToString(mac.Sum(nil)))
		t0 := time.Now()
		res, err := hc.Do(req)
		mu.Lock()
		defer mu.Unlock()
		if err != nil || res.StatusCode != http.StatusOK {
			fail++
			return
		}
		res.Body.Close()
		sent[user] = t0
	}
	// sendPaced posts n webhooks, starting one every 1/r s (workers keep
	// slow answers from delaying the schedule).
	sendPaced := func(from, n int, every time.Duration) {
		jobs := make(chan int, 1024)
		var wg sync.WaitGroup
		for range 128 {
			wg.Go(func() {
				for i := range jobs {
					post(i)
				}
			})
		}
		start := time.Now()
		for i := range n {
			if every > 0 {
				if d := time.Until(start.Add(time.Duration(i) * every)); d > 0 {
					time.Sleep(d)
				}
			}
			jobs <- from + i
		}
		close(jobs)
		wg.Wait()
	}
	stored := func() int {
		var n int
		l.eng.DB().Reader().QueryRowContext(ctx, `SELECT count(*) FROM webhook_events`).Scan(&n)
		return n
	}
	waitStored := func(n int, limit time.Duration) time.Duration {
		start := time.Now()
		for stored() < n {
			if time.Since(start) > limit {
				b.Fatalf("%d of %d webhooks stored after %s (relay %+v)", stored(), n, limit, l.eng.RelayStatus())
			}
			time.Sleep(5 * time.Millisecond)
		}
		return time.Since(start)
	}

	// Steady load.
	n := int(duration / time.Second * rate)
	b.ResetTimer()
	sendPaced(0, n, time.Second/rate)
	waitStored(n-fail, 2*time.Minute)
	// The change events follow the commit: let the last batch's arrive.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		em.mu.Lock()
		seen := len(em.at)
		em.mu.Unlock()
		if seen >= n-fail {
			break
		}
	}
	var e2e []time.Duration
	rows, err := l.eng.DB().Reader().QueryContext(ctx, `SELECT id, line_user_id FROM conversations`)
	if err != nil {
		b.Fatal(err)
	}
	em.mu.Lock()
	for rows.Next() {
		var (
			id   int64
			user string
		)
		rows.Scan(&id, &user)
		if t0, ok := sent[user]; ok {
			if t1, ok := em.at[id]; ok {
				e2e = append(e2e, t1.Sub(t0))
			}
		}
	}
	em.mu.Unlock()
	rows.Close()
	if len(e2e) < n*99/100 {
		b.Fatalf("only %d of %d webhooks measured (%d posts failed)", len(e2e), n, fail)
	}
	slices.Sort(e2e)
	pct := func(p float64) time.Duration { return e2e[int(float64(len(e2e)-1)*p)] }

	// Outage: the desktop is off while webhooks queue at the relay.
	if err := l.eng.Close(); err != nil {
		b.Fatal(err)
	}
	sendPaced(n, queued, 0)
	base := n - fail
	failBefore := fail
	start := time.Now()
	eng, err := Start(ctx, l.opts)
	if err != nil {
		b.Fatal(err)
	}
	l.eng = eng
	waitStored(base+queued-(fail-failBefore), 5*time.Minute)
	drain := time.Since(start)
	b.StopTimer()

	fmt.Printf("BENCH intake e2e_p50_ms=%.1f e2e_p99_ms=%.1f e2e_max_ms=%.1f rate=%d sent=%d failed_posts=%d outage_queued=%d outage_drain_s=%.2f ratio_e2e=%.3f ratio_drain=%.3f\n",
		ms(pct(0.50)), ms(pct(0.99)), ms(e2e[len(e2e)-1]), rate, n, fail, queued, drain.Seconds(),
		pct(0.99).Seconds()/1.0, drain.Seconds()/20)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// commitTimes records when each conversation first changed: the inbox
// emits after its transaction committed.
type commitTimes struct {
	mu sync.Mutex
	at map[int64]time.Time
}

func (c *commitTimes) Emit(name string, data any) {
	if name != inbox.EventChanged {
		return
	}
	ev, ok := data.(inbox.ChangedEvent)
	if !ok {
		return
	}
	now := time.Now()
	c.mu.Lock()
	if _, seen := c.at[ev.ConversationID]; !seen {
		c.at[ev.ConversationID] = now
	}
	c.mu.Unlock()
}
