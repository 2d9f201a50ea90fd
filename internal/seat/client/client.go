// Package client is a seat's (子機) side of branch seats: pairing with a
// primary by a one-time code, then one mutual TLS connection to it that
// carries calls and the primary's events.
//
// A seat keeps no customer data: its data folder holds its install ID and
// seat.json (the primary's address and pinned key fingerprint, the seat's
// name); its private key is in its OS keychain. This package never links
// the customer database (internal/archtest checks it).
package client

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"tsunagu/internal/datadir"
	"tsunagu/internal/recovery"
	"tsunagu/internal/seat"
	"tsunagu/internal/secrets"
)

// PairingFile is the seat's record of its primary in the data folder.
const PairingFile = "seat.json"

var (
	// ErrNotPaired: this data folder has no primary (seat.json) or no seat
	// key in the keychain.
	ErrNotPaired = errors.New("this computer is not paired with a primary: pair it with a seat code first")
	// ErrNotConfirmed: the person did not confirm the primary's fingerprint;
	// the code was not sent.
	ErrNotConfirmed = errors.New("the primary's fingerprint was not confirmed: nothing was sent")
	// ErrFingerprintMismatch: the primary shows another fingerprint than
	// the one given with the code; the code was not sent.
	ErrFingerprintMismatch = errors.New("the primary at this address shows a different fingerprint than the one given with the code: check the address; nothing was sent")
	// ErrRevokedNow: the primary revoked this seat while it was connected.
	ErrRevokedNow = errors.New("the primary's administrator revoked this seat")
)

// Pairing is what a seat keeps of its primary (seat.json).
type Pairing struct {
	Primary            string    `json:"primary"`            // host:port
	PrimaryFingerprint string    `json:"primaryFingerprint"` // full, hex: the pin
	Name               string    `json:"name"`               // this seat's name at the primary
	PairedAt           time.Time `json:"pairedAt"`
}

// Pin is the pinned fingerprint of the primary.
func (p Pairing) Pin() (seat.Fingerprint, error) { return seat.ParseFingerprint(p.PrimaryFingerprint) }

// Role is this seat's role as its UI shows it (seat.RoleInfo): its name,
// its primary's address and short fingerprint.
func (p Pairing) Role() (seat.RoleInfo, error) {
	pin, err := p.Pin()
	if err != nil {
		return seat.RoleInfo{}, fmt.Errorf("the primary's fingerprint in %s: %w", PairingFile, err)
	}
	return seat.RoleInfo{Role: seat.RoleSeat, Seat: p.Name, Primary: p.Primary, PrimaryFingerprint: pin.Short()}, nil
}

// LoadPairing reads seat.json (ErrNotPaired if there is none).
func LoadPairing(dir datadir.Dir) (Pairing, error) {
	b, err := os.ReadFile(dir.File(PairingFile))
	if errors.Is(err, os.ErrNotExist) {
		return Pairing{}, ErrNotPaired
	}
	if err != nil {
		return Pairing{}, fmt.Errorf("read %s: %w", PairingFile, err)
	}
	var p Pairing
	if err := json.Unmarshal(b, &p); err != nil {
		return Pairing{}, fmt.Errorf("%s is malformed: pair this seat again", dir.File(PairingFile))
	}
	if _, err := p.Pin(); err != nil || p.Primary == "" {
		return Pairing{}, fmt.Errorf("%s is malformed: pair this seat again", dir.File(PairingFile))
	}
	return p, nil
}

// PairOptions are the inputs of a pairing.
type PairOptions struct {
	Addr string // the primary's host:port
	Code string // the one-time seat code
	// Fingerprint is the primary's short fingerprint shown with the code.
	// Empty: Confirm is asked with the fingerprint the primary presents.
	Fingerprint string
	Confirm     func(primaryShort string) (bool, error)
	Dir         datadir.Dir
	Secrets     *secrets.Store // this seat's keychain
	Clock       func() time.Time
}

// PairResult is a finished pairing.
type PairResult struct {
	Pairing
	PrimaryShort string `json:"primaryFingerprintShort"`
	SeatShort    string `json:"seatFingerprint"` // the administrator sees it in the seat list
}

// Pair pairs this data folder with the primary at o.Addr: a new key is
// made, the primary's key is checked (against o.Fingerprint, or confirmed
// by the person) before the code is sent, and once the primary has pinned
// the seat the key goes into the keychain and the primary's pin into
// seat.json. A previous pairing of this folder is replaced.
func Pair(ctx context.Context, o PairOptions) (PairResult, error) {
	now := time.Now
	if o.Clock != nil {
		now = o.Clock
	}
	var want string
	if o.Fingerprint != "" {
		var err error
		if want, err = seat.NormalizeShort(o.Fingerprint); err != nil {
			return PairResult{}, err
		}
	} else if o.Confirm == nil {
		return PairResult{}, errors.New("pairing needs the primary's fingerprint or a person to confirm it")
	}
	key, err := secrets.NewSeatKey()
	if err != nil {
		return PairResult{}, err
	}
	id, err := seat.NewIdentity(key.PrivateKey(), "tsunagu-seat", now())
	if err != nil {
		return PairResult{}, err
	}
	var primary seat.Fingerprint
	if want == "" {
		// Learn the primary's fingerprint on a connection of its own and let
		// the person take their time comparing it; the code then goes over a
		// second connection pinned to exactly the key they confirmed.
		probe, err := dial(ctx, o.Addr, seat.ClientConfig(id, seat.ProtoPair, func(fp seat.Fingerprint) error {
			primary = fp
			return nil
		}))
		if err != nil {
			return PairResult{}, err
		}
		probe.Close()
		ok, err := o.Confirm(primary.Short())
		if err != nil {
			return PairResult{}, err
		}
		if !ok {
			return PairResult{}, ErrNotConfirmed
		}
	}
	confirmed := primary
	tc, err := dial(ctx, o.Addr, seat.ClientConfig(id, seat.ProtoPair, func(fp seat.Fingerprint) error {
		switch {
		case want != "" && fp.Short() != want:
			return ErrFingerprintMismatch
		case want == "" && !fp.Equal(confirmed):
			return seat.ErrWrongPrimary
		}
		primary = fp
		return nil
	}))
	if err != nil {
		return PairResult{}, err
	}
	defer tc.Close()
	body, _ := json.Marshal(map[string]string{"code": o.Code})
	tc.SetDeadline(time.Now().Add(30 * time.Second))
	if err := seat.WriteFrame(tc, seat.Frame{ID: 1, Method: "pair", Body: body}); err != nil {
		return PairResult{}, fmt.Errorf("send the seat code to %s: %w", o.Addr, err)
	}
	f, err := seat.ReadFrame(tc)
	if err != nil {
		return PairResult{}, fmt.Errorf("pairing with %s: %w", o.Addr, err)
	}
	if f.Error != nil {
		return PairResult{}, f.Error.Err()
	}
	var ans struct {
		Name        string `json:"name"`
		Fingerprint string `json:"fingerprint"`
	}
	if err := json.Unmarshal(f.Body, &ans); err != nil {
		return PairResult{}, fmt.Errorf("pairing with %s: malformed answer", o.Addr)
	}
	// The key first: a seat.json without its key is useless, a key without
	// seat.json is harmless (the next pairing replaces it).
	if err := o.Secrets.SetSeatKey(ctx, key); err != nil {
		return PairResult{}, fmt.Errorf("the primary paired this seat, but its key could not be stored (pair again with a new code): %w", err)
	}
	p := Pairing{Primary: o.Addr, PrimaryFingerprint: primary.String(), Name: ans.Name, PairedAt: now().UTC()}
	b, _ := json.MarshalIndent(p, "", "  ")
	if err := recovery.WriteFileAtomic(o.Dir.File(PairingFile), append(b, '\n')); err != nil {
		return PairResult{}, fmt.Errorf("the primary paired this seat, but %s could not be written: %w", PairingFile, err)
	}
	return PairResult{Pairing: p, PrimaryShort: primary.Short(), SeatShort: id.Fingerprint.Short()}, nil
}

func dial(ctx context.Context, addr string, cfg *tls.Config) (*tls.Conn, error) {
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 15 * time.Second}, Config: cfg}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		if errors.Is(err, seat.ErrWrongPrimary) || errors.Is(err, ErrFingerprintMismatch) {
			return nil, err
		}
		return nil, fmt.Errorf("connect to the primary at %s: %w", addr, err)
	}
	return nc.(*tls.Conn), nil
}

var _ seat.Caller = (*Conn)(nil)

// Conn is a paired seat's connection to its primary.
type Conn struct {
	tc     *tls.Conn
	events chan seat.Event
	done   chan struct{}

	wmu     sync.Mutex
	mu      sync.Mutex
	nextID  uint64
	pending map[uint64]chan seat.Frame
	err     error // why the connection ended
	dropped int   // events not read in time
}

// Open dials the primary this data folder is paired with.
func Open(ctx context.Context, dir datadir.Dir, sec *secrets.Store) (*Conn, error) {
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
	return Dial(ctx, p, key)
}

// Dial connects to p's primary with key and checks that the primary
// accepts this seat (ErrRefused if it was revoked or never paired,
// seat.ErrWrongPrimary if another key answers).
func Dial(ctx context.Context, p Pairing, key secrets.SeatKey) (*Conn, error) {
	pin, err := p.Pin()
	if err != nil {
		return nil, err
	}
	id, err := seat.NewIdentity(key.PrivateKey(), "tsunagu-seat", time.Now())
	if err != nil {
		return nil, err
	}
	tc, err := dial(ctx, p.Primary, seat.ClientConfig(id, seat.ProtoSeat, seat.Pin(pin)))
	if err != nil {
		return nil, err
	}
	c := &Conn{tc: tc, events: make(chan seat.Event, 256), done: make(chan struct{}), pending: map[uint64]chan seat.Frame{}}
	go c.read()
	// In TLS 1.3 the client's handshake ends before the primary has checked
	// the client's key: the primary's verdict arrives with the first answer.
	if err := c.Call(ctx, "whoami", nil, nil); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// refusal reports whether err is the primary's TLS alert (it refused this
// seat's key) rather than the network failing.
func refusal(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "remote error"
}

func (c *Conn) read() {
	var err error
	defer func() {
		c.mu.Lock()
		if c.err == nil {
			switch {
			case refusal(err):
				c.err = seat.ErrRefused
			default:
				c.err = fmt.Errorf("the connection to the primary ended: %w", err)
			}
		}
		for id, ch := range c.pending {
			close(ch)
			delete(c.pending, id)
		}
		c.mu.Unlock()
		close(c.done)
		close(c.events)
		c.tc.Close()
	}()
	for {
		var f seat.Frame
		if f, err = seat.ReadFrame(c.tc); err != nil {
			return
		}
		if f.Event != "" {
			if f.Event == "seat.revoked" {
				c.mu.Lock()
				c.err = ErrRevokedNow
				c.mu.Unlock()
			}
			select {
			case c.events <- seat.Event{Name: f.Event, Body: f.Body}:
			default:
				// A reader that falls this far behind reads the state afresh;
				// the count says it must.
				c.mu.Lock()
				c.dropped++
				c.mu.Unlock()
			}
			continue
		}
		c.mu.Lock()
		ch := c.pending[f.ID]
		delete(c.pending, f.ID)
		c.mu.Unlock()
		if ch != nil {
			ch <- f
		}
	}
}

// Call calls method on the primary with in as its JSON body and decodes
// the answer into out (nil: ignore it).
func (c *Conn) Call(ctx context.Context, method string, in, out any) error {
	var body json.RawMessage
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode %s: %w", method, err)
		}
		body = b
	}
	ch := make(chan seat.Frame, 1)
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return err
	}
	c.nextID++
	id := c.nextID
	c.pending[id] = ch
	c.mu.Unlock()

	c.wmu.Lock()
	c.tc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	err := seat.WriteFrame(c.tc, seat.Frame{ID: id, Method: method, Body: body})
	c.wmu.Unlock()
	if err != nil {
		c.forget(id)
		// The reader knows why: a refusal arrives as the primary's alert.
		select {
		case <-c.done:
		case <-time.After(2 * time.Second):
			c.tc.Close()
			<-c.done
		}
		return c.Err()
	}
	select {
	case f, ok := <-ch:
		if !ok {
			return c.Err()
		}
		if f.Error != nil {
			return fmt.Errorf("%s: %w", method, f.Error.Err())
		}
		if out != nil {
			if err := json.Unmarshal(f.Body, out); err != nil {
				return fmt.Errorf("decode the answer of %s: %w", method, err)
			}
		}
		return nil
	case <-ctx.Done():
		c.forget(id)
		return ctx.Err()
	}
}

func (c *Conn) forget(id uint64) {
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
}

// Events is the primary's event stream; it is closed when the connection
// ends (then Err says why).
func (c *Conn) Events() <-chan seat.Event { return c.events }

// Done is closed when the connection has ended.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err is why the connection ended (nil while it is open): ErrRevokedNow,
// seat.ErrRefused, or the network's error.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Dropped is how many events arrived while the Events channel was full.
func (c *Conn) Dropped() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dropped
}

// Close ends the connection.
func (c *Conn) Close() error {
	c.mu.Lock()
	if c.err == nil {
		c.err = errors.New("the connection was closed")
	}
	c.mu.Unlock()
	err := c.tc.Close()
	<-c.done
	return err
}
