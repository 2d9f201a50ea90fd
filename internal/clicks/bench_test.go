package clicks

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"tsunagu/internal/relay/wire"
	"tsunagu/internal/store/storetest"
)

// Benchmark_click_attribution_100k stores 100,000 queued clicks, one per
// recipient of a 100,000-recipient campaign, as the desktop does when it
// catches up with the relay: batches of 500 (the relay's batch), each one
// transaction that finds the token, stores the click once and writes the
// click line into the customer's conversation. The clicks come in a random
// order of recipients, as people open their messages (in minting order
// every index would be written in order, which flatters). Encrypted DB.
// Target: under 5 s.
func Benchmark_click_attribution_100k(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	db := storetest.New(b)
	s, err := New(Config{DB: db})
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	ids, camp := seed(b, db, n)
	links := mint(b, s, camp, ids, []string{"https://www.example.jp/teiki"})
	clicks := make([]wire.Click, n)
	order := rand.New(rand.NewPCG(1, 2)).Perm(n)
	for i, r := range order {
		clicks[i] = click(b, links[r]["https://www.example.jp/teiki"], int64(1_700_000_000_000+i))
	}
	b.Logf("fixture in %s", time.Since(t0).Round(time.Millisecond))
	b.ResetTimer()
	start := time.Now()
	for off := 0; off < n; off += 500 {
		r, err := s.Record(ctx, clicks[off:min(off+500, n)])
		if err != nil || r.Stored != min(500, n-off) {
			b.Fatalf("batch at %d: %+v %v", off, r, err)
		}
	}
	d := time.Since(start)
	b.StopTimer()
	var stored, lines int
	db.Reader().QueryRow(`SELECT (SELECT COUNT(*) FROM link_clicks), (SELECT COUNT(*) FROM messages WHERE kind = ?)`, KindClick).Scan(&stored, &lines)
	if stored != n || lines != n {
		b.Fatalf("%d clicks, %d lines stored", stored, lines)
	}
	ms := float64(d.Microseconds()) / 1000
	fmt.Printf("BENCH click_attribution_100k ms=%.1f ratio=%.3f per_click_us=%.1f\n", ms, ms/5000, ms*1000/n)
}
