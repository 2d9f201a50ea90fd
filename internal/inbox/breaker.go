package inbox

import (
	"math/rand/v2"
	"sync"
	"time"
)

// BreakerConfig configures the circuit breaker of one LINE endpoint.
type BreakerConfig struct {
	// Failures is how many consecutive network or 5xx failures open the
	// breaker; 0 means 3 (a branch's light traffic should still notice an
	// outage within seconds).
	Failures int
	// MinOpen is how long it stays open the first time before one probe
	// may go; each failed probe doubles it up to MaxOpen. 0 means 1 s and
	// 15 s: an API that comes back is noticed within MaxOpen.
	MinOpen, MaxOpen time.Duration
}

func (c BreakerConfig) withDefaults() BreakerConfig {
	if c.Failures <= 0 {
		c.Failures = 3
	}
	if c.MinOpen <= 0 {
		c.MinOpen = time.Second
	}
	if c.MaxOpen < c.MinOpen {
		c.MaxOpen = max(15*time.Second, c.MinOpen)
	}
	return c
}

// breaker stops calls to an endpoint that keeps failing (LINE unreachable,
// or answering 5xx), so that an outage costs one probe now and then instead
// of a request per job, and reports since when the endpoint is down.
// Waiting uses the real monotonic clock; "since" the inbox's clock, for
// display.
type breaker struct {
	cfg      BreakerConfig
	now      func() time.Time // the inbox's clock, for Since
	onChange func()           // called (without the lock) when it opens or closes

	mu      sync.Mutex
	fails   int
	open    bool
	since   time.Time // when it opened (the inbox's clock)
	retryAt time.Time // monotonic: when a probe may go
	openFor time.Duration
	probing bool
}

func newBreaker(cfg BreakerConfig, now func() time.Time, onChange func()) *breaker {
	return &breaker{cfg: cfg.withDefaults(), now: now, onChange: onChange}
}

// allow reports whether a call may go now. While open, one call (the
// probe) is let through once the open period has passed; otherwise wait
// says how long until it may.
func (b *breaker) allow() (ok bool, wait time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.open {
		return true, 0
	}
	if b.probing {
		return false, b.cfg.MinOpen
	}
	if d := time.Until(b.retryAt); d > 0 {
		return false, d
	}
	b.probing = true
	return true, 0
}

// peek reports how long until a call may go (0: now), without taking the
// probe.
func (b *breaker) peek() (open bool, wait time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case !b.open:
		return false, 0
	case b.probing:
		return true, 50 * time.Millisecond
	}
	return true, max(time.Until(b.retryAt), 0)
}

// success records a call LINE answered (any answer that is not a 5xx):
// the endpoint is reachable. It reports whether that ended an outage.
func (b *breaker) success() (recovered bool) {
	b.mu.Lock()
	recovered = b.open
	b.fails, b.open, b.probing, b.openFor = 0, false, false, 0
	b.mu.Unlock()
	if recovered && b.onChange != nil {
		b.onChange()
	}
	return recovered
}

// failure records a network failure, timeout or 5xx.
func (b *breaker) failure() {
	b.mu.Lock()
	b.fails++
	opened := false
	switch {
	case b.open && b.probing:
		b.probing = false
		b.openFor = min(2*b.openFor, b.cfg.MaxOpen)
		b.retryAt = time.Now().Add(jitter(b.openFor))
	case !b.open && b.fails >= b.cfg.Failures:
		b.open, opened = true, true
		b.since = b.now()
		b.openFor = b.cfg.MinOpen
		b.retryAt = time.Now().Add(jitter(b.openFor))
	}
	b.mu.Unlock()
	if opened && b.onChange != nil {
		b.onChange()
	}
}

// release ends a probe that was let through but not made (the job was
// dropped before its request), so another may go.
func (b *breaker) release() {
	b.mu.Lock()
	b.probing = false
	b.mu.Unlock()
}

// state reports whether the breaker is open and since when.
func (b *breaker) state() (open bool, since time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.open, b.since
}

// jitter spreads d over [d/2, d], so that many clients (and lanes) do not
// probe or retry in lockstep.
func jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// Backoff is how long a job or send waits after a temporary failure:
// Min after the first, doubling up to Max, jittered.
type Backoff struct {
	Min, Max time.Duration
}

func (b Backoff) withDefaults(min, max time.Duration) Backoff {
	if b.Min <= 0 {
		b.Min = min
	}
	if b.Max < b.Min {
		b.Max = max
		if b.Max < b.Min {
			b.Max = b.Min
		}
	}
	return b
}

// after returns the wait after the nth failure (n >= 1).
func (b Backoff) after(n int) time.Duration {
	d := b.Min << min(max(n-1, 0), 20)
	if d <= 0 || d > b.Max {
		d = b.Max
	}
	return jitter(d)
}
