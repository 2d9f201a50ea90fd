package client

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"tsunagu/internal/datadir"
	"tsunagu/internal/seat"
	"tsunagu/internal/secrets"
)

// State is where a seat's connection to its primary stands.
type State string

const (
	StateConnecting State = "connecting" // the first attempt
	StateConnected  State = "connected"
	StateAway       State = "away"    // the primary is unreachable: retrying
	StateRefused    State = "refused" // revoked or not paired: not retried
)

// ErrAway: the primary cannot be reached right now. A call made then fails
// at once with it; nothing is queued on the seat to be sent later.
var ErrAway = errors.New("the primary cannot be reached right now (shut down, asleep or the network is cut): the seat keeps trying")

// Session keeps a seat connected to its primary: it reconnects with
// backoff when the primary goes away, reports each change of State, and
// passes every connection's events on one channel.
type Session struct {
	p       Pairing
	key     secrets.SeatKey
	events  chan seat.Event
	backoff func(attempt int) time.Duration

	mu    sync.Mutex
	conn  *Conn
	state State
	err   error // why it is away or refused
}

// NewSession returns a session for the pairing p and the seat's key; Run
// connects it.
func NewSession(p Pairing, key secrets.SeatKey) *Session {
	return &Session{p: p, key: key, events: make(chan seat.Event, 256), state: StateConnecting, backoff: defaultBackoff}
}

// defaultBackoff: 0.5 s doubling to 10 s, so a primary that is back is
// found within seconds and a sleeping one is not hammered.
func defaultBackoff(attempt int) time.Duration {
	d := 500 * time.Millisecond << min(attempt, 5)
	return min(d, 10*time.Second)
}

// Run connects and reconnects until ctx ends or the primary refuses this
// seat (then it returns seat.ErrRefused or ErrRevokedNow). onState is told
// every change, with the reason when the primary is away.
func (s *Session) Run(ctx context.Context, onState func(State, error)) error {
	defer close(s.events)
	for attempt := 0; ; attempt++ {
		c, err := Dial(ctx, s.p, s.key)
		if err == nil {
			attempt = 0
			s.set(StateConnected, c, nil, onState)
			err = s.pump(ctx, c)
		}
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, seat.ErrRefused) || errors.Is(err, ErrRevokedNow) || errors.Is(err, seat.ErrWrongPrimary) {
			s.set(StateRefused, nil, err, onState)
			return err
		}
		s.set(StateAway, nil, err, onState)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(s.backoff(attempt)):
		}
	}
}

// pump forwards c's events until it ends, and says why.
func (s *Session) pump(ctx context.Context, c *Conn) error {
	defer c.Close()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev, ok := <-c.Events():
			if !ok {
				return c.Err()
			}
			select {
			case s.events <- ev:
			default: // the reader is behind: it reads the state afresh
			}
		}
	}
}

func (s *Session) set(st State, c *Conn, err error, onState func(State, error)) {
	s.mu.Lock()
	changed := s.state != st
	s.state, s.conn, s.err = st, c, err
	s.mu.Unlock()
	if changed && onState != nil {
		onState(st, err)
	}
}

// Pairing is the pairing the session connects with (seat.json).
func (s *Session) Pairing() Pairing { return s.p }

// State is the current state and, when away or refused, why.
func (s *Session) State() (State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state, s.err
}

// Call calls method on the primary, or fails at once with ErrAway (or the
// refusal) while there is no connection.
func (s *Session) Call(ctx context.Context, method string, in, out any) error {
	s.mu.Lock()
	c, st, why := s.conn, s.state, s.err
	s.mu.Unlock()
	switch {
	case st == StateRefused:
		return why
	case c == nil:
		return ErrAway
	}
	err := c.Call(ctx, method, in, out)
	if err != nil && c.Err() != nil && !errors.Is(err, ErrRevokedNow) && !errors.Is(err, seat.ErrRefused) {
		// The connection ended during the call: whether the primary did it
		// is unknown, so say it is away rather than guess.
		return errors.Join(ErrAway, err)
	}
	return err
}

// Events is every connection's events, in order; closed when Run returns.
func (s *Session) Events() <-chan seat.Event { return s.events }

// OpenSession is a session for the pairing of this data folder, with the
// seat key from sec (ErrNotPaired without either); Run connects it.
func OpenSession(ctx context.Context, dir datadir.Dir, sec *secrets.Store) (*Session, error) {
	p, err := LoadPairing(dir)
	if err != nil {
		return nil, err
	}
	key, err := sec.SeatKey(ctx)
	if errors.Is(err, secrets.ErrNotFound) {
		return nil, fmt.Errorf("%w (the seat key is not in this computer's keychain)", ErrNotPaired)
	}
	if err != nil {
		return nil, err
	}
	return NewSession(p, key), nil
}
