package line

import (
	"context"
	"sync"
	"time"
)

// bucket is a token bucket of burst 1 (GCRA): requests leave at most at the
// configured rate, evenly spaced. Even spacing keeps a client under LINE's
// limit however LINE windows its count, and lets many goroutines share one
// endpoint's budget: each reserves the next free slot and sleeps until it.
type bucket struct {
	interval time.Duration

	mu   sync.Mutex
	next time.Time // the earliest time the next request may leave
}

func newBuckets(overrides map[Endpoint]float64) map[Endpoint]*bucket {
	m := make(map[Endpoint]*bucket, len(DefaultLimits))
	for ep, rate := range DefaultLimits {
		if r, ok := overrides[ep]; ok && r > 0 {
			rate = r
		}
		m[ep] = &bucket{interval: time.Duration(float64(time.Second) / rate)}
	}
	return m
}

// wait blocks until the caller may send, or ctx ends. A cancelled wait
// still spends its slot: the bucket errs on the side of sending less.
func (b *bucket) wait(ctx context.Context) error {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	now := time.Now()
	at := b.next
	if at.Before(now) {
		at = now
	}
	b.next = at.Add(b.interval)
	b.mu.Unlock()
	d := at.Sub(now)
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
