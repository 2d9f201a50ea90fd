package relay_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tsunagu/internal/relay"
	"tsunagu/internal/relay/wire"
	"tsunagu/internal/relayclient"
)

// Benchmark_clicks measures the tracked-link redirect over loopback HTTP,
// fsync on (the embedded JetStream's SyncAlways), every click sealed and
// queued for the desktop (which is off):
//   - redirect latency (GET to 302) at a steady 1,000 clicks/s for 3 s;
//   - the maximum sustained rate: 64 closed-loop clients for 3 s.
//
// Targets: p99 under 20 ms, at least 2,000 clicks/s on one node. ratio is
// the worse of p99/20 ms and 2,000/max_rate (at most 1: both met).
// Prints: BENCH clicks redirect_p99_ms=… max_rate=… ratio=…
func Benchmark_clicks(b *testing.B) {
	ctx := context.Background()
	tr := newRelay(&testing.T{}, relay.Config{DataDir: b.TempDir(), ClickRate: 1e9, ClickBurst: 1 << 30, ClickRatePerClient: -1, MaxQueuedPerTenant: 10_000_000})
	b.Cleanup(func() { tr.http.Close(); tr.srv.Close() })
	_, code, err := tr.srv.Admin().AddTenant(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	keys, _ := relayclient.GenerateKeys()
	en, err := relayclient.Enroll(ctx, nil, tr.http.URL, code, keys, relayclient.HTTPLoopback)
	if err != nil {
		b.Fatal(err)
	}
	client, err := relayclient.New(relayclient.Config{Enrollment: en, Keys: keys})
	if err != nil {
		b.Fatal(err)
	}
	// 20,000 recipients' links, published as the desktop does.
	links := make([]wire.Link, 20_000)
	exp := time.Now().Add(time.Hour).UnixMilli()
	for i := range links {
		links[i] = wire.Link{Token: newToken(b), URL: fmt.Sprintf("https://www.example.jp/teiki?r=%d", i), ExpiresAt: exp}
	}
	t0 := time.Now()
	if err := client.PublishLinks(ctx, links); err != nil {
		b.Fatal(err)
	}
	b.Logf("published %d links in %s", len(links), time.Since(t0).Round(time.Millisecond))
	base := tr.http.URL + "/c/" + en.Tenant + "/"
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var failed atomic.Int64
	clickOne := func(i int) time.Duration {
		t0 := time.Now()
		res, err := hc.Get(base + links[i%len(links)].Token)
		d := time.Since(t0)
		if err != nil {
			failed.Add(1)
			return d
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusFound {
			failed.Add(1)
		}
		return d
	}

	b.ResetTimer()
	const rate, secs = 1000, 3
	var (
		lat []time.Duration
		mu  sync.Mutex
		wg  sync.WaitGroup
	)
	start := time.Now()
	for i := range rate * secs {
		time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / rate)))
		wg.Go(func() {
			d := clickOne(i)
			mu.Lock()
			lat = append(lat, d)
			mu.Unlock()
		})
	}
	wg.Wait()

	var count, next atomic.Int64
	mstart := time.Now()
	mend := mstart.Add(3 * time.Second)
	for range 64 {
		wg.Go(func() {
			for time.Now().Before(mend) {
				clickOne(int(next.Add(1)))
				count.Add(1)
			}
		})
	}
	wg.Wait()
	maxRate := float64(count.Load()) / time.Since(mstart).Seconds()
	b.StopTimer()

	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(float64(len(lat))*p))].Microseconds()) / 1000
	}
	// Every click was queued (sealed, for the desktop), none dropped.
	m := scrape(&testing.T{}, tr.srv)
	queued := metricLine(m, `tsunagu_relay_clicks_total{result="queued",tenant="`+en.Tenant+`"}`)
	dropped := metricLine(m, `tsunagu_relay_clicks_total{result="dropped",tenant="`+en.Tenant+`"}`)
	b.Logf("%d clicks at %d/s, %d in the closed loop; %d failed; %s; %s", len(lat), rate, count.Load(), failed.Load(), queued, dropped)
	p99 := pct(.99)
	fmt.Printf("BENCH clicks redirect_p99_ms=%.2f max_rate=%.0f ratio=%.3f redirect_p50_ms=%.2f failed=%d\n",
		p99, maxRate, max(p99/20, 2000/maxRate), pct(.50), failed.Load())
}
