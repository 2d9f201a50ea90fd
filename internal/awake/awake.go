// Package awake keeps the primary's PC from going to sleep while seats are
// connected: a seat whose primary sleeps cannot work. Keeper counts the
// seats online and holds the operating system's sleep block from the first
// to the last; the block itself is per OS (awake_windows.go: the power
// request API; awake_darwin.go: caffeinate; awake_linux.go: systemd-inhibit,
// best effort). The display may still turn off: only system sleep is held.
package awake

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
)

// ErrUnsupported: this computer offers no way to hold off sleep that the
// app can use (e.g. Linux without systemd-logind); seats then depend on the
// PC's own power settings (docs/install.md).
var ErrUnsupported = errors.New("this computer offers no sleep block the app can use: set the power settings so that it does not sleep (docs/install.md)")

// Blocker holds off system sleep until the returned release is called.
type Blocker interface {
	Block(why string) (release func() error, err error)
}

// Reason is what the OS shows people asking why the PC stays awake.
const Reason = "Tsunagu: 子機が接続中です (seats are connected)"

// Keeper holds a Blocker while at least one seat is online.
type Keeper struct {
	b   Blocker
	log *slog.Logger

	mu      sync.Mutex
	n       int
	release func() error
}

// New returns a keeper over b (System() for this OS); log nil discards.
func New(b Blocker, log *slog.Logger) *Keeper {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Keeper{b: b, log: log}
}

// Hold counts one more seat online; the first takes the block. A block
// that cannot be taken is logged, not fatal: seats still work while the PC
// is awake.
func (k *Keeper) Hold() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.n++
	if k.n == 1 && k.release == nil {
		rel, err := k.b.Block(Reason)
		if err != nil {
			k.log.Warn("could not keep the PC awake while seats are connected", "err", err)
			return
		}
		k.release = rel
	}
}

// Release counts one seat fewer; the last lets the PC sleep again.
func (k *Keeper) Release() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.n == 0 {
		return
	}
	k.n--
	if k.n == 0 {
		k.drop()
	}
}

// Set makes the count n at once (e.g. from the server's list of seats
// online after a reconnect storm).
func (k *Keeper) Set(n int) {
	k.mu.Lock()
	cur := k.n
	k.mu.Unlock()
	for ; cur < n; cur++ {
		k.Hold()
	}
	for ; cur > n; cur-- {
		k.Release()
	}
}

// Online is how many seats the keeper counts.
func (k *Keeper) Online() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.n
}

// Held reports whether the sleep block is taken now.
func (k *Keeper) Held() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.release != nil
}

// Close lets the PC sleep again whatever the count (the app is quitting).
func (k *Keeper) Close() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.n = 0
	k.drop()
}

func (k *Keeper) drop() {
	if k.release == nil {
		return
	}
	if err := k.release(); err != nil {
		k.log.Warn("could not end the keep-awake block", "err", fmt.Errorf("release: %w", err))
	}
	k.release = nil
}
