package relay_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tsunagu/internal/relay"
	"tsunagu/internal/relay/wire"
	"tsunagu/internal/relayclient"
)

// Benchmark_forms measures the relay's form intake with fsync on (the
// embedded JetStream's SyncAlways) over loopback HTTP, as issue 21 asks:
//   - latency of a sealed 20-answer submission, POST to 202, at a steady
//     200 submits/s (TSUNAGU_BENCH_FORMS_RATE) for 5 s;
//   - the maximum sustained rate: 64 closed-loop senders for 3 s;
//   - the page's transferred size (gzip, as a phone asks for it).
//
// Prints: BENCH forms submit_p99_ms=… max_rate=… page_bytes_gz=…
func Benchmark_forms(b *testing.B) {
	ctx := context.Background()
	// All senders share one loopback address: the per-address limit off.
	tr := newRelay(&testing.T{}, relay.Config{DataDir: b.TempDir(), TenantRate: 1e9, TenantBurst: 1 << 30,
		MaxQueuedPerTenant: 10_000_000, ClickRatePerClient: -1})
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
	client, _ := relayclient.New(relayclient.Config{Enrollment: en, Keys: keys})
	id := newToken(b)
	if err := client.PublishForm(ctx, testFormDef(id)); err != nil {
		b.Fatal(err)
	}
	url := client.FormURL(id)

	// The page as a phone fetches it.
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	res, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		b.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.Header.Get("Content-Encoding") != "gzip" {
		b.Fatal("page not compressed")
	}

	// A realistic submission: 20 answers, an ID token's length.
	answers := map[string]any{}
	for i := range 20 {
		answers["q"+strconv.Itoa(i)] = strings.Repeat("回答", 20)
	}
	sealed, err := wire.SealForm(&keys.BoxPub, wire.FormSubmission{FormID: id, SubmitID: strings.Repeat("a", 32),
		IDToken: strings.Repeat("x", 900), Answers: answers})
	if err != nil {
		b.Fatal(err)
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	var failed atomic.Int64
	postOne := func() time.Duration {
		t0 := time.Now()
		res, err := hc.Post(url, "application/octet-stream", bytes.NewReader(sealed))
		d := time.Since(t0)
		if err != nil {
			failed.Add(1)
			return d
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusAccepted {
			failed.Add(1)
		}
		return d
	}
	rate := 200
	if v, err := strconv.Atoi(os.Getenv("TSUNAGU_BENCH_FORMS_RATE")); err == nil && v > 0 {
		rate = v
	}
	b.ResetTimer()
	var (
		lat []time.Duration
		lmu sync.Mutex
		wg  sync.WaitGroup
	)
	start := time.Now()
	for i := range rate * 5 {
		time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(rate))))
		wg.Go(func() {
			d := postOne()
			lmu.Lock()
			lat = append(lat, d)
			lmu.Unlock()
		})
	}
	wg.Wait()
	var count atomic.Int64
	mstart := time.Now()
	mend := mstart.Add(3 * time.Second)
	for range 64 {
		wg.Go(func() {
			for time.Now().Before(mend) {
				postOne()
				count.Add(1)
			}
		})
	}
	wg.Wait()
	maxRate := float64(count.Load()-failed.Load()) / time.Since(mstart).Seconds()
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(float64(len(lat))*p))].Microseconds()) / 1000
	}
	b.Logf("%d submits at %d/s (%d bytes sealed); %d failed", len(lat), rate, len(sealed), failed.Load())
	fmt.Printf("BENCH forms submit_p50_ms=%.2f submit_p99_ms=%.2f max_rate=%.0f page_bytes_gz=%d rate=%d failed=%d\n",
		pct(.50), pct(.99), maxRate, len(page), rate, failed.Load())
}
