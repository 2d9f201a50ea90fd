package facade

// Branch seats (issue 18), the primary's side: every paired seat PC calls
// the bound services over its mutual TLS connection (internal/seat/primary)
// on a Client of its own, one per seat key, so each seat has its own
// sign-in, lockout and idle lock and its calls go through the same guarded
// path (call.go) as the window's. The window's events are published to
// every seat. The rules stay in internal/; this is the adapter.

import (
	"context"
	"encoding/json"
	"errors"
	"sync"

	"tsunagu/internal/dispatch"
	"tsunagu/internal/inbox"
	"tsunagu/internal/msgcode"
	"tsunagu/internal/seat"
	"tsunagu/internal/seat/forward"
	"tsunagu/internal/seat/primary"
)

// seatClients are the connected seats' clients, by key fingerprint.
type seatClients struct {
	mu      sync.Mutex
	clients map[string]*seatClient
}

type seatClient struct {
	client *Client
	table  *dispatch.Table
}

// seatEmitter is the App's emitter: the window's (Start's emit), and every
// seat server plugged in (plugSeats).
type seatEmitter struct {
	next inbox.Emitter

	mu   sync.Mutex
	pubs map[primary.Host]struct{}
}

func (e *seatEmitter) Emit(name string, data any) {
	if e.next != nil {
		e.next.Emit(name, data)
	}
	e.mu.Lock()
	pubs := make([]primary.Host, 0, len(e.pubs))
	for p := range e.pubs {
		pubs = append(pubs, p)
	}
	e.mu.Unlock()
	for _, p := range pubs {
		// Every event the UI gets is the whole App's (presence and status
		// too: each client asks for its own view), so every seat gets it.
		_ = p.Publish(name, data)
	}
}

func (e *seatEmitter) add(p primary.Host) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.pubs == nil {
		e.pubs = map[primary.Host]struct{}{}
	}
	e.pubs[p] = struct{}{}
}

func (e *seatEmitter) remove(p primary.Host) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.pubs, p)
}

// plugSeats serves the bound services on srv, a seat server over this
// App's engine (Host.SeatServer's, or any other built on the registry):
// each seat's calls ("call") on a client of its own, every event published
// to its seats, a revoked seat's session ended. unplug stops the events.
func (a *App) plugSeats(srv *primary.Server) (unplug func()) {
	srv.Handle(forward.Method, a.seatCall)
	srv.OnRevoked(a.dropSeat)
	a.seatPub.add(srv)
	return func() { a.seatPub.remove(srv) }
}

// SeatListener is where the seat port listens and the primary's short
// fingerprint (the pairing screen shows it); Addr "" when the port is not open.
type SeatListener struct {
	Addr        string
	Fingerprint string
}

// SeatListener reports the seat port (for Options.SeatListen: the address
// with its port resolved).
func (h *Host) SeatListener() SeatListener {
	a := h.app
	a.seats.mu.Lock()
	defer a.seats.mu.Unlock()
	if a.seats.open == nil || len(a.seats.open.Addrs()) == 0 {
		return SeatListener{}
	}
	return SeatListener{Addr: a.seats.open.Addrs()[0], Fingerprint: a.seats.fingerprint}
}

// seatCall runs one bound method for a seat on that seat's client.
func (a *App) seatCall(_ context.Context, p primary.Peer, body json.RawMessage) (any, error) {
	var req forward.Request
	if err := json.Unmarshal(body, &req); err != nil || req.Method == "" {
		return nil, errors.New("malformed forwarded call")
	}
	// A seat answers its role itself (internal/seat/forward); one that
	// asks anyway is told what it is here, never the primary's role.
	if req.Method == forward.MethodRole {
		res, err := json.Marshal(seat.RoleInfo{Role: seat.RoleSeat, Seat: p.Name})
		if err != nil {
			return nil, err
		}
		return forward.Answer{Result: res}.Encode()
	}
	// A dialog would open on the primary's screen and a file land on its
	// disk (seats_files.go): refused before anything runs.
	if code := seatRefusal(req.Method); code != "" {
		return forward.Answer{Error: code}.Encode()
	}
	sc, err := a.seatClient(p)
	if err != nil {
		return nil, err
	}
	if seatFileMethod(req.Method) {
		return a.seatFileCall(sc, p, req)
	}
	if req.File != nil {
		return forward.Answer{Error: msgcode.Internal}.Encode()
	}
	res, err := sc.table.Call(req.Method, req.Args)
	return a.answer(req.Method, p, res, err).Encode()
}

// answer is a bound method's outcome as the dev bridge would send it: the
// result, or the message code and wrong fields.
func (a *App) answer(method string, p primary.Peer, res any, err error) forward.Answer {
	switch {
	case errors.Is(err, dispatch.ErrNoMethod):
		return forward.Answer{Error: msgcode.NotFound}
	case errors.Is(err, dispatch.ErrBadArgs):
		a.opts.Logger.Warn("seat call with bad arguments", "seat", p.Name, "method", method, "err", err)
		return forward.Answer{Error: msgcode.Internal}
	case err != nil:
		ue := msgcode.For(err)
		ans := forward.Answer{Error: ue.Code}
		if len(ue.Fields) > 0 {
			ans.Fields, _ = json.Marshal(ue.Fields)
		}
		return ans
	}
	b, err := json.Marshal(res)
	if err != nil {
		a.opts.Logger.Error("encoding a seat's answer", "method", method, "err", err)
		return forward.Answer{Error: msgcode.Internal}
	}
	return forward.Answer{Result: b}
}

// seatClient is the client of the seat p, made on its first call.
func (a *App) seatClient(p primary.Peer) (*seatClient, error) {
	key := p.Fingerprint.String()
	a.seatCalls.mu.Lock()
	defer a.seatCalls.mu.Unlock()
	if sc, ok := a.seatCalls.clients[key]; ok {
		return sc, nil
	}
	c := a.NewClient(p.Name)
	t, err := dispatch.New(c.Services()...)
	if err != nil {
		return nil, err
	}
	if a.seatCalls.clients == nil {
		a.seatCalls.clients = map[string]*seatClient{}
	}
	sc := &seatClient{client: c, table: t}
	a.seatCalls.clients[key] = sc
	return sc, nil
}

// dropSeat forgets a revoked seat's client and ends its session (audited
// as a sign-out), so nothing it was signed in as outlives the revocation.
func (a *App) dropSeat(fp seat.Fingerprint) {
	key := fp.String()
	a.seatCalls.mu.Lock()
	sc := a.seatCalls.clients[key]
	delete(a.seatCalls.clients, key)
	a.seatCalls.mu.Unlock()
	if sc != nil {
		sc.client.files.drop()
		if err := (&SessionService{sc.client}).SignOut(); err != nil && msgcode.Code(err) != msgcode.SignInRequired {
			a.opts.Logger.Warn("ending a revoked seat's session", "seat", sc.client.seat, "err", err)
		}
	}
}
