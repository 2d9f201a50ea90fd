// Package clock is a clock that can be moved forward: the sandbox's UI tests
// use it so a reminder due at the next minute, or the one-minute idle lock,
// is reached by moving the clock instead of waiting (make test's budget).
// The desktop app never uses it: its clock is time.Now.
package clock

import (
	"sync"
	"time"
)

// Movable is a base clock plus an offset that only grows, so time never
// runs backwards for what reads it.
type Movable struct {
	base func() time.Time

	mu    sync.Mutex
	ahead time.Duration
}

// NewMovable returns a clock reading base (time.Now if nil) until moved.
func NewMovable(base func() time.Time) *Movable {
	if base == nil {
		base = time.Now
	}
	return &Movable{base: base}
}

// Now is the base clock's time plus how far the clock was moved.
func (m *Movable) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.base().Add(m.ahead)
}

// Advance moves the clock forward by d; a d of zero or less does nothing.
func (m *Movable) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ahead += d
}
