// Package facade is what the UI talks to: one bound service per feature
// (services.go). The desktop binds them to Wails (window.go.facade.<Service>
// in the frontend); the dev bridge serves the same methods over HTTP for
// browser tests. The services hold no business rules: each method calls
// the engine's internal services through the one guarded path (call.go)
// and turns errors into message codes the UI translates (internal/msgcode).
package facade

import (
	"context"
	"log/slog"
	"sync"
	"time"
	"tsunagu/internal/msgcode"

	"tsunagu/internal/auth"
	"tsunagu/internal/awake"
	"tsunagu/internal/engine"
	"tsunagu/internal/inbox"
	"tsunagu/internal/presence"
	"tsunagu/internal/relayclient"
	"tsunagu/internal/secrets"
)

// EventStatus is emitted with a Status when the mode or channel changes.
const EventStatus = "status:changed"

// Options configure the facade.
type Options struct {
	DataDir string
	Keyring secrets.Keyring // nil: OS keychain
	Version string
	Logger  *slog.Logger
	Clock   func() time.Time
	// AuthParams are the argon2id costs for staff passwords (zero:
	// auth.DefaultParams). Tests use cheaper ones.
	AuthParams auth.Params
	// FilePicker shows the file dialogs of the import and export (nil:
	// those methods fail with errors.noFilePicker).
	FilePicker FilePicker
	// Updates wire the update check (update.go); zero: IT's machine policy.
	Updates UpdateOptions
	// RelayTransport is what relay URLs enrollment accepts: zero
	// (relayclient.HTTPSOnly) for the app; the dev server allows http://
	// to loopback for the UI tests' relay.
	RelayTransport relayclient.Transport
	// SandboxControlBy opens the sandbox's control API in this actor's
	// name (engine.Options.SandboxControlBy); "": closed.
	SandboxControlBy string
	// Branch seats (seatadmin.go, seatpair.go): SeatOnLAN opens the seat
	// port on this PC's private LAN addresses (the window); false keeps it
	// on 127.0.0.1 (tests, the dev server: never the LAN). SeatDiscovery
	// announces the primary and lets a new seat browse on mDNS (the window
	// only); KeepAwake holds off sleep while seats are online (nil: the
	// PC's sleep is not touched).
	SeatOnLAN     bool
	SeatDiscovery bool
	KeepAwake     awake.Blocker
	// SeatListen opens the seat port on this one address:port whenever the
	// engine starts, paired seats or not (the dev bridge's --seat-listen,
	// tests) instead of the configured port on the LAN addresses; port 0
	// picks a free port, kept across restarts of the engine
	// (Host.SeatListener says which).
	SeatListen string
}

// Host owns an App's lifecycle. It is kept apart from App so that Start and
// Stop are not bound into the frontend.
type Host struct {
	app    *App
	window *Client
}

// App is what every client's bound services share: the running engine, the
// schedule and the emitter. Sessions are each client's own (Client). It is
// not bound itself: the services are.
type App struct {
	opts Options
	emit inbox.Emitter
	ctx  context.Context

	mu  sync.RWMutex
	eng *engine.Engine
	err error // why the engine is not running

	sched    schedule           // the backup and retention loop (backup.go)
	presence *presence.Registry // who has which conversation open (presence.go)
	upd      updates            // the last verified update offer (update.go)
	seats    seatPort           // the seat port, off until used (seatadmin.go)

	seatPub   seatEmitter // emit, and every seat server's Publish (seats.go)
	seatCalls seatClients // the seats' clients, by key (seats.go)
}

// New returns a host for the given options.
func New(opts Options) *Host {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	a := &App{opts: opts, presence: presence.New(opts.Clock)}
	return &Host{app: a, window: a.NewClient("")}
}

// App is the window's client, for tests: the services' shared state and
// the window's session.
func (h *Host) App() *Client { return h.window }

// NewClient returns a new client with no session: a seat (issue 18), or a
// browser of the dev bridge playing one.
func (h *Host) NewClient(seat string) *Client { return h.app.NewClient(seat) }

// Client is one place the bound services are used from, with its own
// session: the window, or (issue 18) a seat PC connected to this one. Each
// signs in as its own staff member; signing out or locking one touches no
// other. What is shared (the engine, the schedule, events) is the App's.
type Client struct {
	*App
	seat string // "" for this PC's window; a seat's name otherwise
	id   string // random: the client's key in presence

	// Not named mu: App's mu (the engine) must stay reachable as c.mu.
	sessMu  sync.Mutex
	session *auth.Session

	imp   imports   // this person's last import report (customers.go)
	files seatFiles // a seat's file dialogs and opened file (seats_files.go)
}

// NewClient returns a client of a with no session yet; seat names a seat
// ("" for the window).
func (a *App) NewClient(seat string) *Client {
	return &Client{App: a, seat: seat, id: randomID()}
}

// ClockMoved runs the automation scheduler's pass now: the sandbox's clock
// (Options.Clock, an internal/clock.Movable in the dev bridge's UI tests)
// was moved forward past a send time.
func (h *Host) ClockMoved() {
	a := h.app
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.eng != nil {
		a.eng.Automations().Wake()
	}
}

// Start opens the engine. A failure (locked keychain, wrong key) is kept and
// reported through Status, so the window can explain it instead of vanishing.
func (h *Host) Start(ctx context.Context, emit inbox.Emitter) error {
	a := h.app
	a.seatPub.next = emit
	a.ctx, a.emit = ctx, &a.seatPub
	a.startSchedule(ctx) // backups and retention (backup.go)
	a.mu.Lock()
	err := a.startLocked()
	if err == nil {
		a.openSeatsIfPaired(a.eng)
	}
	a.mu.Unlock()
	return err
}

// Stop closes the engine.
func (h *Host) Stop() error {
	a := h.app
	a.stopSchedule()
	a.closeSeats()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.eng == nil {
		return nil
	}
	err := a.eng.Close()
	a.eng = nil
	return err
}

// Status describes the running app for the header, banner and settings.
type Status struct {
	Sandbox           bool   `json:"sandbox"`
	ChannelConfigured bool   `json:"channelConfigured"`
	TokenHint         string `json:"tokenHint"`
	Version           string `json:"version"`
	DataDir           string `json:"dataDir"`
	StaffName         string `json:"staffName"` // the signed-in staff member's display name; "" before sign-in
	RejectedWebhooks  int64  `json:"rejectedWebhooks"`
	Error             string `json:"error"` // a message code when the engine could not start
}

// SimCustomer is a simulated LINE friend in sandbox mode.
type SimCustomer struct {
	UserID      string `json:"userId"`
	DisplayName string `json:"displayName"`
	Following   bool   `json:"following"`
}

// PhoneMessage is one line of a simulated customer's chat screen.
type PhoneMessage struct {
	From string `json:"from"`
	Type string `json:"type"` // text, sticker, image, postback, ...
	Text string `json:"text"`
	At   int64  `json:"at"`
}

// --- helpers ---

func (a *App) startLocked() error {
	eng, err := engine.Start(a.ctx, engine.Options{
		DataDir:    a.opts.DataDir,
		Keyring:    a.opts.Keyring,
		Emitter:    a.emit,
		Clock:      a.opts.Clock,
		Logger:     a.opts.Logger,
		AuthParams: a.opts.AuthParams,

		SandboxControlBy: a.opts.SandboxControlBy,
	})
	a.eng, a.err = eng, err
	if err != nil {
		a.opts.Logger.Error("engine did not start", "err", err)
	}
	return err
}

func (a *App) restartLocked() (Status, error) {
	a.closeSeats() // its registry is the closing engine's
	if a.eng != nil {
		if err := a.eng.Close(); err != nil {
			a.opts.Logger.Warn("closing engine", "err", err)
		}
		a.eng = nil
	}
	err := a.startLocked()
	if err == nil {
		a.openSeatsIfPaired(a.eng)
	}
	st := a.statusLocked()
	if a.emit != nil {
		a.emit.Emit(EventStatus, st)
	}
	return st, a.userError(err)
}

func (a *App) statusLocked() Status {
	// StaffName is each client's own (Client.withStaff).
	st := Status{Version: a.opts.Version, DataDir: a.opts.DataDir}
	if a.eng == nil {
		if a.err != nil {
			st.Error = msgcode.Code(a.err)
		}
		return st
	}
	st.Sandbox = a.eng.Sandbox()
	st.ChannelConfigured = !st.Sandbox
	st.TokenHint = a.eng.TokenHint()
	st.DataDir = a.eng.DataDir()
	st.RejectedWebhooks = a.eng.RejectedWebhooks()
	return st
}

func (a *App) emitPhone(userID string) {
	if a.emit != nil {
		a.emit.Emit(engine.EventSandboxPhone, engine.SandboxPhoneEvent{UserID: userID})
	}
}

// userError logs the full error (it carries context, never secrets or
// customer data) and returns only its message code, and the wrong fields of
// a validation failure, to the UI (msgcode.Error).
func (a *App) userError(err error) error {
	if err == nil {
		return nil
	}
	ue := msgcode.For(err)
	a.opts.Logger.Warn("request failed", "code", ue.Code, "err", err)
	return ue
}
