package outbox

import (
	"context"
	"fmt"
	"testing"
	"time"

	"tsunagu/internal/line"
	"tsunagu/internal/linelog"
	"tsunagu/internal/linesim"
)

// Benchmark_multicast_100k sends one message to 100,000 recipients through
// the outbox (Submit: 200 chunks whose retry keys are committed first) against the simulator with
// 30 ms of latency per request and LINE's multicast limit of 200 req/s on
// both sides. The floor is what the rate limit alone allows: 200 requests
// at 200 req/s take 1.0 s. The target is a ratio of at most 1.2. The LINE
// request log is written to the DB as in the app.
func Benchmark_multicast_100k(b *testing.B) {
	const (
		recipients = 100_000
		latency    = 30 * time.Millisecond
		rate       = 200.0
	)
	// Every attempt goes to the persisted request log, as in the app.
	var reqlog *linelog.Log
	e := newEnv(b, linesim.Config{Latency: latency, RateLimits: map[string]float64{linesim.EndpointMulticast: rate}},
		line.Config{Limits: map[line.Endpoint]float64{line.EndpointMulticast: rate}, Retry: line.DefaultRetry,
			OnRequest: func(r line.RequestRecord) { reqlog.Add(r) }})
	reqlog = linelog.New(e.db, linelog.Options{})
	b.Cleanup(func() { reqlog.Close() })
	users := e.customers(recipients, true)
	msgs := text(b, "【お知らせ】年末年始の窓口営業について")
	ctx := context.Background()
	requests := (recipients + line.MaxMulticastRecipients - 1) / line.MaxMulticastRecipients
	floor := float64(requests) / rate

	b.ResetTimer()
	var wall time.Duration
	for range b.N {
		start := time.Now()
		res, err := e.ob.Submit(ctx, Request{Source: "bench", To: users, Messages: msgs})
		if err != nil || res.Status != "done" || res.SentRecipients != recipients {
			b.Fatalf("Send = %+v, %v", res, err)
		}
		wall = time.Since(start)
	}
	b.StopTimer()
	if err := reqlog.Close(); err != nil {
		b.Fatal(err)
	}
	var logged int
	e.db.Reader().QueryRow(`SELECT count(*) FROM line_request_log WHERE endpoint = 'multicast'`).Scan(&logged)
	if logged < requests*b.N {
		b.Fatalf("request log has %d multicast rows, want at least %d", logged, requests*b.N)
	}
	for _, u := range users[:100] {
		if n := len(e.sim.Deliveries(u)); n != b.N {
			b.Fatalf("user got %d deliveries, want %d", n, b.N)
		}
	}
	fmt.Printf("BENCH multicast_100k wall_s=%.3f floor_s=%.3f ratio=%.3f\n", wall.Seconds(), floor, wall.Seconds()/floor)
}
