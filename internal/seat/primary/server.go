package primary

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"tsunagu/internal/seat"
	"tsunagu/internal/version"
)

// Peer is the seat a call comes from, as the registry pinned it.
type Peer struct {
	ID          int64
	Name        string
	Fingerprint seat.Fingerprint
	Remote      string // address:port on the LAN
}

// Handler answers one method for a seat. Its result is sent as JSON (a
// json.RawMessage as it is: it must be valid JSON); an error as its code
// (Config.ErrorCode) and message.
type Handler func(ctx context.Context, p Peer, body json.RawMessage) (any, error)

// Host is the primary's end, where the facade will plug in: a handler per
// bound method, and the window's events published to every seat. Server is
// one.
type Host interface {
	Handle(method string, h Handler)
	Publish(name string, body any) error
}

var _ Host = (*Server)(nil)

// Config is what a Server needs.
type Config struct {
	Registry *Registry
	Identity seat.Identity // the primary's (keychain key, seat.NewIdentity)
	Logger   *slog.Logger  // nil: discard
	Clock    func() time.Time
	// PollInterval is how often the registry is asked whether a connected
	// seat was revoked by another program (tsunagu-cli); 0: 500 ms.
	PollInterval time.Duration
	// ErrorCode gives a handler's error its wire code (the later facade
	// work passes msgcode's); nil: this package's codes, else seat.internal.
	ErrorCode func(error) string
}

// Limits of one connection and of pairing.
const (
	handshakeTimeout = 10 * time.Second
	writeTimeout     = 10 * time.Second
	pairTimeout      = 30 * time.Second
	maxConns         = 256 // connections at once, handshakes included
	maxInFlight      = 16  // concurrent calls per seat; more wait
	eventBuffer      = 256 // a seat this far behind is disconnected (it reconnects)
	touchEvery       = time.Minute
	pairFailures     = 5 // wrong codes within pairWindow pause pairing for pairWindow
	pairWindow       = time.Minute
)

// Server is the primary's listener for seats: mutual TLS 1.3, the seat's
// key checked against the registry in the handshake, then calls and one
// event stream on the connection.
type Server struct {
	cfg Config
	log *slog.Logger

	mu       sync.Mutex
	handlers map[string]Handler
	conns    map[*conn]struct{}
	wg       sync.WaitGroup
	fails    []time.Time // recent wrong codes
	paused   time.Time   // pairing refused until then
	revoked  func(seat.Fingerprint)
}

// OnRevoked sets who is told of each seat found revoked (by Revoke here or
// by another program) as its connections are closed: the facade ends that
// seat's session.
func (s *Server) OnRevoked(fn func(seat.Fingerprint)) {
	s.mu.Lock()
	s.revoked = fn
	s.mu.Unlock()
}

// NewServer returns a server with its own methods: "status" (the
// primary's time and version, seats online) and "whoami" (this seat as
// the primary knows it).
func NewServer(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 500 * time.Millisecond
	}
	s := &Server{cfg: cfg, log: cfg.Logger, handlers: map[string]Handler{}, conns: map[*conn]struct{}{}}
	s.Handle("status", s.status)
	s.Handle("whoami", func(_ context.Context, p Peer, _ json.RawMessage) (any, error) {
		return WhoAmI{Name: p.Name, Fingerprint: p.Fingerprint.Short(), Remote: p.Remote}, nil
	})
	return s
}

// Status is the answer to "status".
type Status struct {
	Time        time.Time `json:"time"`
	Version     string    `json:"version"`
	SeatsOnline []string  `json:"seatsOnline"` // names
}

// WhoAmI is the answer to "whoami".
type WhoAmI struct {
	Name        string `json:"name"`
	Fingerprint string `json:"fingerprint"` // the seat's, short
	Remote      string `json:"remote"`
}

func (s *Server) status(context.Context, Peer, json.RawMessage) (any, error) {
	return Status{Time: s.cfg.Clock(), Version: version.Get().Version, SeatsOnline: s.Online()}, nil
}

// Handle registers (or replaces) the handler of method.
func (s *Server) Handle(method string, h Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handlers[method] = h
}

// Online lists the names of the seats connected now (each once).
func (s *Server) Online() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]bool{}
	out := []string{}
	for c := range s.conns {
		if !seen[c.peer.Name] {
			seen[c.peer.Name] = true
			out = append(out, c.peer.Name)
		}
	}
	return out
}

// Serve accepts seats on ln (a TCP listener on the LAN address chosen)
// until ctx ends, then closes every seat's connection and returns nil.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	tl := tls.NewListener(ln, seat.ServerConfig(s.cfg.Identity, func(proto string, fp seat.Fingerprint) error {
		if proto == seat.ProtoPair {
			return nil // anyone may present a code; the code decides
		}
		if _, err := s.cfg.Registry.Active(ctx, fp); err != nil {
			s.log.Info("seat refused at handshake", "fingerprint", fp.Short(), "err", err)
			return err
		}
		return nil
	}))
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.watch(ctx)
	}()
	stop := context.AfterFunc(ctx, func() { tl.Close() })
	defer stop()
	slots := make(chan struct{}, maxConns)
	var err error
	for {
		var nc net.Conn
		nc, err = tl.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				break
			}
			// Out of file descriptors and the like: wait, keep serving.
			s.log.Warn("accepting a seat", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		select {
		case slots <- struct{}{}:
		default:
			// Far more than a branch has seats: someone is flooding the port.
			nc.Close()
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() { <-slots }()
			s.serveConn(ctx, nc.(*tls.Conn))
		}()
	}
	stopped := ctx.Err() != nil
	cancel()
	s.mu.Lock()
	for c := range s.conns {
		c.close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	if stopped && errors.Is(err, net.ErrClosed) {
		return nil
	}
	return fmt.Errorf("accept seats: %w", err)
}

func (s *Server) serveConn(ctx context.Context, tc *tls.Conn) {
	defer tc.Close()
	// Shutting down closes connections still in a handshake or a pairing.
	stop := context.AfterFunc(ctx, func() { tc.Close() })
	defer stop()
	remote := tc.RemoteAddr().String()
	hctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	err := tc.HandshakeContext(hctx)
	cancel()
	if err != nil {
		s.log.Debug("seat handshake failed", "remote", remote, "err", err)
		drainClose(tc.NetConn())
		return
	}
	cs := tc.ConnectionState()
	cert := cs.PeerCertificates[0]
	switch cs.NegotiatedProtocol {
	case seat.ProtoPair:
		s.servePair(ctx, tc, cert, remote)
	case seat.ProtoSeat:
		st, err := s.cfg.Registry.Active(ctx, seat.FingerprintOf(cert))
		if err != nil { // revoked between the handshake's check and now
			return
		}
		s.serveSeat(ctx, tc, Peer{ID: st.ID, Name: st.Name, Fingerprint: st.Fingerprint, Remote: remote})
	}
}

// drainClose ends a refused connection without a TCP reset: in TLS 1.3
// the seat learns of the refusal from the alert just sent, after its own
// handshake has finished and its first request is on the way; closing with
// that request unread would reset the connection, and some systems
// (Windows) then drop the alert before the seat reads it.
func drainClose(nc net.Conn) {
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.CloseWrite()
		tc.SetReadDeadline(time.Now().Add(time.Second))
		io.Copy(io.Discard, io.LimitReader(tc, 64<<10))
	}
	nc.Close()
}

// PairRequest is what a new seat sends on a pairing connection.
type PairRequest struct {
	Code string `json:"code"`
}

// PairAnswer is the primary's answer to a pairing.
type PairAnswer struct {
	Name        string `json:"name"`        // the seat's name, given with the code
	Fingerprint string `json:"fingerprint"` // the seat's own, short: both ends show it
}

func (s *Server) servePair(ctx context.Context, tc *tls.Conn, cert *x509.Certificate, remote string) {
	tc.SetDeadline(time.Now().Add(pairTimeout)) // the network's clock, not the registry's
	f, err := seat.ReadFrame(tc)
	if err != nil || f.Method != "pair" {
		return
	}
	reply := seat.Frame{ID: f.ID}
	var req PairRequest
	var st Seat
	switch {
	case json.Unmarshal(f.Body, &req) != nil:
		reply.Error = &seat.WireError{Code: seat.CodeBadRequest, Message: "malformed pairing request"}
	case s.pairingPaused():
		reply.Error = wireError(seat.ErrPairingPaused, seat.CodePairingPaused)
	default:
		st, err = s.cfg.Registry.Pair(ctx, req.Code, cert, remote)
		switch {
		case err == nil:
			body, _ := json.Marshal(PairAnswer{Name: st.Name, Fingerprint: st.Short})
			reply.Body = body
			s.log.Info("seat paired", "seat", st.Name, "fingerprint", st.Short, "remote", remote)
		case errors.Is(err, seat.ErrCodeWrong), errors.Is(err, seat.ErrCodeUsed), errors.Is(err, seat.ErrCodeExpired):
			s.pairFailed()
			reply.Error = wireError(err, seat.CodeOf(err))
			s.log.Info("seat code refused", "remote", remote, "err", err)
		case errors.Is(err, ErrNameTaken):
			reply.Error = &seat.WireError{Code: seat.CodeBadRequest, Message: ErrNameTaken.Error()}
		default:
			s.log.Error("pairing a seat", "remote", remote, "err", err)
			reply.Error = &seat.WireError{Code: seat.CodeInternal, Message: "the primary could not pair this seat; see its log"}
		}
	}
	if err := seat.WriteFrame(tc, reply); err != nil {
		s.log.Debug("answering a pairing", "remote", remote, "err", err)
	}
}

func wireError(err error, code string) *seat.WireError {
	return &seat.WireError{Code: code, Message: err.Error()}
}

// pairingPaused: after pairFailures wrong codes within pairWindow, every
// pairing is refused for pairWindow. It is per primary, not per address: a
// LAN address is easily changed.
func (s *Server) pairingPaused() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg.Clock().Before(s.paused)
}

func (s *Server) pairFailed() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Clock()
	recent := s.fails[:0]
	for _, t := range s.fails {
		if now.Sub(t) < pairWindow {
			recent = append(recent, t)
		}
	}
	s.fails = append(recent, now)
	if len(s.fails) >= pairFailures {
		s.paused = now.Add(pairWindow)
		s.fails = nil
		s.log.Warn("pairing paused after repeated wrong seat codes", "for", pairWindow)
	}
}

// Publish sends an event to every connected seat. A seat whose events
// back up (eventBuffer) is disconnected rather than slowing the others; it
// reconnects and reads the state afresh.
func (s *Server) Publish(name string, body any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("encode event %s: %w", name, err)
	}
	f, err := seat.EncodeFrame(seat.Frame{Event: name, Body: b})
	if err != nil {
		return fmt.Errorf("encode event %s: %w", name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		select {
		case c.events <- f:
		default:
			s.log.Warn("seat too slow for events: disconnected", "seat", c.peer.Name)
			go c.close()
		}
	}
	return nil
}

// Revoke revokes the seat called name (audited) and closes its
// connections at once.
func (s *Server) Revoke(ctx context.Context, actor, name string) (Seat, error) {
	st, err := s.cfg.Registry.Revoke(ctx, actor, name)
	if err != nil {
		return Seat{}, err
	}
	s.disconnect([]seat.Fingerprint{st.Fingerprint})
	return st, nil
}

// disconnect closes the connections of the given seats, telling each
// first (best effort) that it was revoked.
func (s *Server) disconnect(fps []seat.Fingerprint) {
	s.mu.Lock()
	revoked := s.revoked
	s.mu.Unlock()
	if revoked != nil {
		for _, fp := range fps {
			revoked(fp)
		}
	}
	s.mu.Lock()
	var victims []*conn
	for c := range s.conns {
		for _, fp := range fps {
			if c.peer.Fingerprint.Equal(fp) {
				victims = append(victims, c)
			}
		}
	}
	s.mu.Unlock()
	for _, c := range victims {
		s.log.Info("revoked seat disconnected", "seat", c.peer.Name)
		body, _ := json.Marshal(map[string]string{"name": c.peer.Name})
		c.writeWithin(seat.Frame{Event: EventRevoked, Body: body}, time.Second)
		c.close()
	}
}

// Events the server itself publishes.
const (
	EventOnline  = "seat.online"  // {name}: a seat connected
	EventOffline = "seat.offline" // {name}: a seat's connection ended
	EventRevoked = "seat.revoked" // {name}: to the revoked seat, just before it is disconnected
)

// watch closes the connections of seats revoked by another program, and
// keeps the seats' last contact current while they stay connected.
func (s *Server) watch(ctx context.Context) {
	tick := time.NewTicker(s.cfg.PollInterval)
	defer tick.Stop()
	lastTouch := s.cfg.Clock()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		s.mu.Lock()
		var fps []seat.Fingerprint
		ids := map[int64]bool{}
		for c := range s.conns {
			fps = append(fps, c.peer.Fingerprint)
			ids[c.peer.ID] = true
		}
		s.mu.Unlock()
		if len(fps) == 0 {
			continue
		}
		gone, err := s.cfg.Registry.Revoked(ctx, fps)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("checking seats for revocation", "err", err)
			}
			continue
		}
		s.disconnect(gone)
		if now := s.cfg.Clock(); now.Sub(lastTouch) >= touchEvery {
			lastTouch = now
			for id := range ids {
				if err := s.cfg.Registry.Touch(ctx, id); err != nil && ctx.Err() == nil {
					s.log.Warn("recording seat contact", "err", err)
				}
			}
		}
	}
}

// conn is one paired seat's connection.
type conn struct {
	tc     *tls.Conn
	peer   Peer
	events chan []byte // encoded frames
	ctx    context.Context
	cancel context.CancelFunc
	wmu    sync.Mutex
	once   sync.Once
}

func (c *conn) close() {
	c.once.Do(func() {
		c.cancel()
		c.tc.Close()
	})
}

func (c *conn) write(f seat.Frame) error { return c.writeWithin(f, writeTimeout) }

func (c *conn) writeWithin(f seat.Frame, d time.Duration) error {
	b, err := seat.EncodeFrame(f)
	if err != nil {
		return err
	}
	return c.writeEncoded(b, d)
}

func (c *conn) writeEncoded(b []byte, d time.Duration) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.tc.SetWriteDeadline(time.Now().Add(d))
	_, err := c.tc.Write(b)
	return err
}

func (s *Server) serveSeat(ctx context.Context, tc *tls.Conn, p Peer) {
	cctx, cancel := context.WithCancel(ctx)
	c := &conn{tc: tc, peer: p, events: make(chan []byte, eventBuffer), ctx: cctx, cancel: cancel}
	defer c.close()
	s.log.Info("seat connected", "seat", p.Name, "remote", p.Remote)
	if err := s.cfg.Registry.Touch(ctx, p.ID); err != nil {
		s.log.Warn("recording seat contact", "err", err)
	}
	s.Publish(EventOnline, map[string]string{"name": p.Name})
	s.mu.Lock()
	s.conns[c] = struct{}{}
	s.mu.Unlock()

	var calls sync.WaitGroup
	defer func() {
		c.close()
		calls.Wait()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		s.log.Info("seat disconnected", "seat", p.Name)
		if err := s.cfg.Registry.Touch(context.WithoutCancel(ctx), p.ID); err != nil {
			s.log.Warn("recording seat contact", "err", err)
		}
		s.Publish(EventOffline, map[string]string{"name": p.Name})
	}()

	calls.Add(1)
	go func() { // the event stream
		defer calls.Done()
		for {
			select {
			case <-cctx.Done():
				return
			case f := <-c.events:
				if err := c.writeEncoded(f, writeTimeout); err != nil {
					c.close()
					return
				}
			}
		}
	}()

	sem := make(chan struct{}, maxInFlight)
	for {
		f, err := seat.ReadFrame(tc)
		if err != nil {
			return
		}
		if f.Method == "" || f.ID == 0 {
			return // not a request: a confused or hostile peer
		}
		select {
		case sem <- struct{}{}:
		case <-cctx.Done():
			return
		}
		calls.Add(1)
		go func() {
			defer calls.Done()
			defer func() { <-sem }()
			if err := c.write(s.call(cctx, p, f)); err != nil {
				c.close()
			}
		}()
	}
}

func (s *Server) call(ctx context.Context, p Peer, f seat.Frame) seat.Frame {
	reply := seat.Frame{ID: f.ID}
	s.mu.Lock()
	h, ok := s.handlers[f.Method]
	s.mu.Unlock()
	if !ok {
		reply.Error = wireError(seat.ErrUnknownMethod, seat.CodeUnknownMethod)
		return reply
	}
	res, err := h(ctx, p, f.Body)
	if raw, ok := res.(json.RawMessage); ok && err == nil {
		// Already encoded by the handler (the bound services' answers).
		reply.Body = raw
	} else if err == nil {
		if reply.Body, err = json.Marshal(res); err != nil {
			err = fmt.Errorf("encode answer of %s: %w", f.Method, err)
		}
	}
	if err != nil {
		code := seat.CodeOf(err)
		if s.cfg.ErrorCode != nil {
			code = s.cfg.ErrorCode(err)
		}
		if code == "" {
			code = seat.CodeInternal
			s.log.Error("seat call failed", "method", f.Method, "seat", p.Name, "err", err)
		}
		reply.Body = nil
		reply.Error = &seat.WireError{Code: code, Message: err.Error()}
	}
	return reply
}
