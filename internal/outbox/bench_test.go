package outbox

import (
	"context"
	"fmt"
	"testing"
	"time"

	"tsunagu/internal/line"
	"tsunagu/internal/linesim"
)

// Benchmark_multicast_100k sends one message to 100,000 recipients through
// the outbox (Submit: 200 chunks whose retry keys are committed first) against the simulator with
// 30 ms of latency per request and LINE's multicast limit of 200 req/s on
// both sides. The floor is what the rate limit alone allows: 200 requests
// at 200 req/s take 1.0 s. The target is a ratio of at most 1.2.
func Benchmark_multicast_100k(b *testing.B) {
	const (
		recipients = 100_000
		latency    = 30 * time.Millisecond
		rate       = 200.0
	)
	e := newEnv(b, linesim.Config{Latency: latency, RateLimits: map[string]float64{linesim.EndpointMulticast: rate}},
		line.Config{Limits: map[line.Endpoint]float64{line.EndpointMulticast: rate}, Retry: line.DefaultRetry})
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
	for _, u := range users[:100] {
		if n := len(e.sim.Deliveries(u)); n != b.N {
			b.Fatalf("user got %d deliveries, want %d", n, b.N)
		}
	}
	fmt.Printf("BENCH multicast_100k wall_s=%.3f floor_s=%.3f ratio=%.3f\n", wall.Seconds(), floor, wall.Seconds()/floor)
}
