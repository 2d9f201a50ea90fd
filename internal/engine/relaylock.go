package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

// One receiver per data folder. The relay delivers a tenant's events over
// one connection; two receivers for one folder (two `tsunagu-cli sync`, or
// one and the app) would each take the connection from the other in turn,
// and neither would say so. Whoever receives holds an exclusive lock on
// relay.lock in the data folder (flock / LockFileEx: released by the OS when
// the holder exits or dies, so a crash never leaves it stale). The file
// itself stays; only the lock on it matters.

// relayLockFile is the lock file's name in the data folder.
const relayLockFile = "relay.lock"

// relayLockRetry is how often the app's pull loop tries again for a lock
// another process holds.
const relayLockRetry = 2 * time.Second

// ErrRelayBusy: another process (a `tsunagu-cli sync` or the Tsunagu app)
// is already receiving this data folder's events from the relay.
var ErrRelayBusy = errors.New("another tsunagu-cli sync or the Tsunagu app is already receiving this data folder's webhooks from the relay")

// relayLock is a held lock; release gives it back.
type relayLock struct{ f *os.File }

func (l *relayLock) release() error {
	return errors.Join(unlockFile(l.f), l.f.Close())
}

// lockRelay takes the folder's relay lock, or fails at once with
// ErrRelayBusy if another holder has it (in this process or another).
func (e *Engine) lockRelay() (*relayLock, error) {
	path := e.dir.File(relayLockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("relay lock: %w", err)
	}
	switch err := tryLockFile(f); {
	case errors.Is(err, errLocked):
		f.Close()
		return nil, ErrRelayBusy
	case err != nil:
		f.Close()
		return nil, fmt.Errorf("relay lock %s: %w", path, err)
	}
	return &relayLock{f: f}, nil
}

// waitRelayLock takes the lock, waiting while another holder has it (the
// app yields to a running `tsunagu-cli sync` and takes over when it ends).
func (e *Engine) waitRelayLock(ctx context.Context) (*relayLock, error) {
	logged := false
	for {
		l, err := e.lockRelay()
		if !errors.Is(err, ErrRelayBusy) {
			if err != nil {
				e.log.Warn("relay not started", "err", err)
			}
			return l, err
		}
		if !logged {
			e.log.Info("relay: another process is receiving for this data folder; waiting for it to stop")
			logged = true
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(relayLockRetry):
		}
	}
}
