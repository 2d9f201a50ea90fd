package line

import (
	"context"
	"errors"
	"math"
	"sync"
	"time"
)

// bucket is a token bucket of burst 1 (GCRA): requests leave at most at the
// configured rate, evenly spaced. Even spacing keeps a client under LINE's
// limit however LINE windows its count, and lets many goroutines share one
// endpoint's budget: each reserves the next free slot and sleeps until it.
//
// A rate under one a second is a limit LINE states per hour (60 an hour for
// the statistics reads). Spacing those a minute apart would make a report
// wait a minute per figure, so such a bucket instead lets a request leave
// when fewer than the hour's allowance left in the trailing hour: any hour
// holds at most that many, however LINE windows its count.
type bucket struct {
	interval time.Duration
	perHour  int // > 0: the trailing-hour allowance replaces the spacing

	mu   sync.Mutex
	next time.Time   // the earliest time the next request may leave
	sent []time.Time // perHour: the reserved departures of the last hour, in order
}

func newBuckets(overrides map[Endpoint]float64) map[Endpoint]*bucket {
	m := make(map[Endpoint]*bucket, len(DefaultLimits))
	for ep, rate := range DefaultLimits {
		if r, ok := overrides[ep]; ok && r > 0 {
			rate = r
		}
		b := &bucket{interval: time.Duration(float64(time.Second) / rate)}
		if rate < 1 {
			b.perHour = max(1, int(math.Round(rate*3600)))
		}
		m[ep] = b
	}
	return m
}

// reserve returns when the next request may leave, and books it.
func (b *bucket) reserve(now time.Time) time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.perHour == 0 {
		at := b.next
		if at.Before(now) {
			at = now
		}
		b.next = at.Add(b.interval)
		return at
	}
	i := 0
	for i < len(b.sent) && !b.sent[i].After(now.Add(-time.Hour)) {
		i++
	}
	b.sent = b.sent[i:]
	at := now
	if len(b.sent) >= b.perHour {
		// An hour after the departure that would make this one too many.
		at = b.sent[len(b.sent)-b.perHour].Add(time.Hour)
	}
	b.sent = append(b.sent, at)
	return at
}

// ErrWouldWait means a call under NoWait found the endpoint's rate limit
// spent: nothing was sent, and nothing of the allowance was used.
var ErrWouldWait = errors.New("line: the endpoint's rate limit allows no request now")

type noWaitKey struct{}

// NoWait makes calls under the returned context fail at once with
// ErrWouldWait where they would wait for the rate limit. For background
// work that simply tries again on its next pass (the statistics fetcher),
// where an hour's wait would hold up everything scheduled after it.
func NoWait(ctx context.Context) context.Context { return context.WithValue(ctx, noWaitKey{}, true) }

// tryReserve books a request leaving now, if one may.
func (b *bucket) tryReserve(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.perHour == 0 {
		if b.next.After(now) {
			return false
		}
		b.next = now.Add(b.interval)
		return true
	}
	i := 0
	for i < len(b.sent) && !b.sent[i].After(now.Add(-time.Hour)) {
		i++
	}
	b.sent = b.sent[i:]
	if len(b.sent) >= b.perHour {
		return false
	}
	b.sent = append(b.sent, now)
	return true
}

// wait blocks until the caller may send, or ctx ends. A cancelled wait
// still spends its slot: the bucket errs on the side of sending less.
func (b *bucket) wait(ctx context.Context) error {
	if b == nil {
		return nil
	}
	if ctx.Value(noWaitKey{}) != nil {
		if !b.tryReserve(time.Now()) {
			return ErrWouldWait
		}
		return ctx.Err()
	}
	now := time.Now()
	at := b.reserve(now)
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
