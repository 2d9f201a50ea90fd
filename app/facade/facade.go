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
	"tsunagu/internal/engine"
	"tsunagu/internal/inbox"
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
}

// Host owns an App's lifecycle. It is kept apart from App so that Start and
// Stop are not bound into the frontend.
type Host struct{ app *App }

// App is what one window's bound services share: the running engine and
// the window's session (the explicit staff member each call passes on).
// It is not bound itself: Host.Services are.
type App struct {
	opts Options
	emit inbox.Emitter
	ctx  context.Context

	mu  sync.RWMutex
	eng *engine.Engine
	err error // why the engine is not running

	sec security // the signed-in staff member (guard.go)
	imp imports  // the running customer import (customers.go)
	upd updates  // the last verified update offer (update.go)
}

// New returns a host for the given options.
func New(opts Options) *Host {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Host{app: &App{opts: opts}}
}

// App is the services' shared state, for tests.
func (h *Host) App() *App { return h.app }

// Start opens the engine. A failure (locked keychain, wrong key) is kept and
// reported through Status, so the window can explain it instead of vanishing.
func (h *Host) Start(ctx context.Context, emit inbox.Emitter) error {
	a := h.app
	a.ctx, a.emit = ctx, emit
	a.startSchedule(ctx) // backups and retention (backup.go)
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.startLocked()
}

// Stop closes the engine.
func (h *Host) Stop() error {
	a := h.app
	a.stopSchedule()
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
	if a.eng != nil {
		if err := a.eng.Close(); err != nil {
			a.opts.Logger.Warn("closing engine", "err", err)
		}
		a.eng = nil
	}
	err := a.startLocked()
	st := a.statusLocked()
	if a.emit != nil {
		a.emit.Emit(EventStatus, st)
	}
	return st, a.userError(err)
}

func (a *App) statusLocked() Status {
	st := Status{Version: a.opts.Version, DataDir: a.opts.DataDir}
	// Never the OS login name: before sign-in nobody is in charge, and the
	// PC's account is often shared by a branch.
	if ss := a.currentSession(); ss != nil && !ss.Ended() {
		st.StaffName = ss.Staff().DisplayName
	}
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
