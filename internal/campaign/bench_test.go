package campaign

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"tsunagu/internal/line"
	"tsunagu/internal/linesim"
	"tsunagu/internal/segment"
)

// Benchmark_campaign_100k sends a one-message LINE campaign to 100,000
// linked, following, consenting customers against the simulator with 30 ms
// of latency per request and LINE's multicast limit on both sides. The
// floor is what the rate limit alone allows: ceil(100,000 / 500) = 200
// multicasts at line.DefaultLimits[multicast] = 200 req/s = 1.0 s. wall_s
// covers the whole run: evaluating the segment and freezing its 100,000
// customers with the first chunk's rows and retry keys in one transaction
// (materialise_s), then sending while the rest of the 100,000 recipient rows
// and 200 requests are expanded, and writing every outcome back (send_s).
// Target: ratio = wall_s / floor_s at most 1.2.
func Benchmark_campaign_100k(b *testing.B) {
	const (
		recipients = 100_000
		latency    = 30 * time.Millisecond
	)
	rate := line.DefaultLimits[line.EndpointMulticast]
	e := newEnv(b, envOptions{latency: latency,
		sim:  linesim.Config{RateLimits: map[string]float64{linesim.EndpointMulticast: rate}},
		line: line.Config{Retry: line.DefaultRetry}})
	ctx := context.Background()
	err := e.db.Write(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{
			`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 100000)
			 INSERT INTO customers (id, customer_no, name, branch, created_at, updated_at) SELECT i, printf('C%07d', i), '顧客 ' || i, '本店', 0, 0 FROM s`,
			`INSERT INTO line_users (user_id, created_at) SELECT printf('U%032x', id), 0 FROM customers`,
			`INSERT INTO customer_line_links (customer_id, line_user_id, linked_at, method) SELECT id, printf('U%032x', id), 0, 'import' FROM customers`,
			`UPDATE customers SET consent_line = 1, consent_line_source = 'import', consent_line_at = 0`,
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	for i := 1; i <= recipients; i++ {
		e.sim.AddCustomer(linesim.Customer{UserID: fmt.Sprintf("U%032x", i), DisplayName: "c", Following: true})
	}
	d := Draft{Name: "年末年始のお知らせ", Rules: segment.Node{Op: "and"}, Channels: []string{ChannelLine},
		Content: Content{Line: []LineMessage{{Kind: "text", Text: "【お知らせ】年末年始の窓口営業について"}}}}
	requests := (recipients + line.MaxMulticastRecipients - 1) / line.MaxMulticastRecipients
	floor := float64(requests) / rate

	var wall, send, threads time.Duration
	b.ResetTimer()
	for range b.N {
		c := e.approved(b, e.svc, d)
		var materialised time.Time
		svc := e.service(b, e.db, func(name string) {
			if name == FailMaterialised && materialised.IsZero() {
				materialised = time.Now()
			}
		})
		start := time.Now()
		if err := svc.Run(ctx, approver, c.ID); err != nil {
			b.Fatal(err)
		}
		wall, send = time.Since(start), time.Since(materialised)
		rep, err := svc.Report(ctx, c.ID)
		if err != nil || rep.Status != StatusDone || rep.Channels[0].Sent != recipients || rep.LineRequests != requests {
			b.Fatalf("report %+v, %v", rep, err)
		}
		// The copies in the recipients' threads are written after the
		// send, in the background (threads.go): not part of wall_s.
		for {
			var left int
			if err := e.db.Reader().QueryRow(`SELECT count(*) FROM campaign_line_requests WHERE campaign_id = ? AND in_threads = 0`, c.ID).Scan(&left); err != nil {
				b.Fatal(err)
			}
			if left == 0 {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		threads = time.Since(start) - wall
	}
	b.StopTimer()
	for i := 1; i <= 100; i++ {
		if n := len(e.sim.Deliveries(fmt.Sprintf("U%032x", i))); n != b.N {
			b.Fatalf("customer %d got %d messages, want %d", i, n, b.N)
		}
	}
	fmt.Printf("BENCH campaign_100k wall_s=%.3f floor_s=%.3f ratio=%.3f send_s=%.3f materialise_s=%.3f threads_s=%.3f\n", wall.Seconds(), floor, wall.Seconds()/floor, send.Seconds(), (wall - send).Seconds(), threads.Seconds())
}
