package relay_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"tsunagu/internal/store/storetest"

	"tsunagu/internal/inbox"
	"tsunagu/internal/line"
	"tsunagu/internal/relay"
	"tsunagu/internal/relayclient"
)

// Benchmark_relay measures, with fsync on (the embedded JetStream's
// SyncAlways) over loopback HTTP:
//   - ack latency (POST to 200) at a steady 1,000 webhooks/s for 3 s;
//   - the maximum sustained intake rate: 64 closed-loop senders for 3 s;
//   - end-to-end latency, POST sent to the commit of the inbox's
//     transaction in the real encrypted DB (open, verify with the SDK,
//     store), at 200/s for 3 s, the desktop on the same machine.
//
// Prints: BENCH relay ack_p50_ms=… ack_p99_ms=… max_rate=… e2e_p99_ms=…
func Benchmark_relay(b *testing.B) {
	ctx := context.Background()
	tr := newRelay(&testing.T{}, relay.Config{DataDir: b.TempDir(), TenantRate: 1e9, TenantBurst: 1 << 30, MaxQueuedPerTenant: 10_000_000})
	b.Cleanup(func() { tr.http.Close(); tr.srv.Close() })
	enroll := func(name string) (relayclient.Enrollment, relayclient.Keys) {
		_, code, err := tr.srv.Admin().AddTenant(ctx, name)
		if err != nil {
			b.Fatal(err)
		}
		keys, _ := relayclient.GenerateKeys()
		en, err := relayclient.Enroll(ctx, nil, tr.http.URL, code, keys, relayclient.HTTPLoopback)
		if err != nil {
			b.Fatal(err)
		}
		return en, keys
	}
	intake, _ := enroll("intake")
	en, keys := enroll("e2e")

	// The desktop: verifier + inbox on the real encrypted DB.
	db := storetest.New(b)
	ib, err := inbox.New(inbox.Config{DB: db})
	if err != nil {
		b.Fatal(err)
	}
	v := line.NewVerifier(testSecret)
	var mu sync.Mutex
	sent := map[string]time.Time{}
	var e2e []time.Duration
	client, err := relayclient.New(relayclient.Config{Enrollment: en, Keys: keys})
	if err != nil {
		b.Fatal(err)
	}
	cctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	startDesktop := func() {
		go func() {
			defer close(done)
			client.Run(cctx, func(ctx context.Context, body []byte, sig string) error {
				wh, err := v.Parse(body, sig)
				if err != nil {
					return fmt.Errorf("%w: %w", relayclient.ErrDrop, err)
				}
				if err := ib.HandleWebhook(ctx, wh); err != nil {
					return err
				}
				rest := body[bytes.Index(body, []byte(`"webhookEventId":"`))+18:]
				id := string(rest[:bytes.IndexByte(rest, '"')])
				mu.Lock()
				if t0, ok := sent[id]; ok {
					e2e = append(e2e, time.Since(t0))
				}
				mu.Unlock()
				return nil
			})
		}()
	}

	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	postOne := func(url string, i int) (time.Duration, bool) {
		body := hookBody(i, fmt.Sprintf("bench %d", i))
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		req.Header.Set("X-Line-Signature", sign(testSecret, body))
		id := fmt.Sprintf("01EV%06d", i)
		t0 := time.Now()
		mu.Lock()
		sent[id] = t0
		mu.Unlock()
		res, err := hc.Do(req)
		d := time.Since(t0)
		if err != nil {
			return d, false
		}
		res.Body.Close()
		return d, res.StatusCode == 200
	}

	b.ResetTimer()
	// openLoop posts at a steady rate for secs seconds and returns the
	// acknowledgement latencies.
	var failed atomic.Int64
	openLoop := func(url string, rate, secs, first int) []time.Duration {
		var acks []time.Duration
		var amu sync.Mutex
		var wg sync.WaitGroup
		start := time.Now()
		for i := range rate * secs {
			time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(rate))))
			wg.Go(func() {
				d, ok := postOne(url, first+i)
				if !ok {
					failed.Add(1)
				}
				amu.Lock()
				acks = append(acks, d)
				amu.Unlock()
			})
		}
		wg.Wait()
		return acks
	}
	envInt := func(name string, def int) int {
		if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
			return v
		}
		return def
	}

	// Phase 1: acknowledgement latency at 1,000/s (TSUNAGU_BENCH_RATE),
	// relay alone (it runs on its own machine).
	rate := envInt("TSUNAGU_BENCH_RATE", 1000)
	acks := openLoop(intake.WebhookURL, rate, 3, 0)

	// Phase 2: maximum sustained intake, 64 closed-loop senders, 3 s.
	var count, next atomic.Int64
	next.Store(1_000_000)
	var wg sync.WaitGroup
	mstart := time.Now()
	mend := mstart.Add(3 * time.Second)
	for range 64 {
		wg.Go(func() {
			for time.Now().Before(mend) {
				if _, ok := postOne(intake.WebhookURL, int(next.Add(1))); ok {
					count.Add(1)
				} else {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	maxRate := float64(count.Load()) / time.Since(mstart).Seconds()

	// Phase 3: end to end, POST to the desktop's DB commit, with the
	// desktop pulling on the same machine, at TSUNAGU_BENCH_E2E_RATE
	// (default 200/s) for 3 s.
	e2eRate := envInt("TSUNAGU_BENCH_E2E_RATE", 200)
	startDesktop()
	openLoop(en.WebhookURL, e2eRate, 3, 2_000_000)
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(e2e)
		mu.Unlock()
		if n >= e2eRate*3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	<-done
	b.StopTimer()

	pct := func(ds []time.Duration, p float64) float64 {
		if len(ds) == 0 {
			return -1
		}
		s := slices.Clone(ds)
		slices.Sort(s)
		return float64(s[min(len(s)-1, int(float64(len(s))*p))].Microseconds()) / 1000
	}
	mu.Lock()
	e2eCopy := slices.Clone(e2e)
	mu.Unlock()
	b.Logf("%d posts at %d/s; %d of %d stored end to end at %d/s; %d failed posts", len(acks), rate, len(e2eCopy), e2eRate*3, e2eRate, failed.Load())
	fmt.Printf("BENCH relay ack_p50_ms=%.2f ack_p99_ms=%.2f max_rate=%.0f e2e_p99_ms=%.2f e2e_p50_ms=%.2f rate=%d e2e_rate=%d stored=%d failed=%d\n",
		pct(acks, .50), pct(acks, .99), maxRate, pct(e2eCopy, .99), pct(e2eCopy, .50), rate, e2eRate, len(e2eCopy), failed.Load())
}
