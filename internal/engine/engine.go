// Package engine assembles Tsunagu's parts for one data folder: the keychain
// items, the encrypted customer DB, the LINE client and webhook verifier, and
// the inbox. With no LINE channel in the keychain it runs in sandbox mode
// against an in-process LINE simulator. The desktop facade and the CLI both
// build on it, so the GUI and the command line share one engine.
package engine

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"tsunagu/internal/auth"
	"tsunagu/internal/automation"
	"tsunagu/internal/backup"
	"tsunagu/internal/clicks"
	"tsunagu/internal/customer"
	"tsunagu/internal/datadir"
	"tsunagu/internal/drafts"
	"tsunagu/internal/erasure"
	"tsunagu/internal/inbox"
	"tsunagu/internal/keyrotate"
	"tsunagu/internal/line"
	"tsunagu/internal/linelog"
	"tsunagu/internal/linesim"
	"tsunagu/internal/outbox"
	"tsunagu/internal/richmenu"
	"tsunagu/internal/secrets"
	"tsunagu/internal/store"
)

// ErrKeyMissing means the DB exists but its key is not in this user's
// keychain: Tsunagu never makes a new key (or DB) over an existing file.
var ErrKeyMissing = errors.New("the database exists but its key is not in the keychain")

// Options configure an engine.
type Options struct {
	DataDir string
	Keyring secrets.Keyring  // nil: the OS keychain
	Emitter inbox.Emitter    // nil: no UI events
	Clock   func() time.Time // nil: time.Now
	Logger  *slog.Logger     // nil: discard
	// LineEndpoint is the Messaging API base URL in live mode; "" means
	// line.DefaultEndpoint. Tests point live mode at linesim (relay.go).
	LineEndpoint string
	// AuthParams are the password hashing costs; zero: auth.DefaultParams
	// (tests pass cheaper ones).
	AuthParams auth.Params
	// SandboxControlBy, when not "", opens the sandbox's control API in
	// sandbox mode (sandboxcontrol.go), audited in this actor's name (the
	// OS user who asked for it: audit.OSActor).
	SandboxControlBy string
	// RouteWindow is how long before a follow an inflow route's visit may
	// explain it; zero: routes.DefaultWindow (tests pass a short one).
	RouteWindow time.Duration
}

// InitResult says what Init found or made.
type InitResult struct {
	DataDir    string `json:"dataDir"`
	InstallID  string `json:"installId"`
	CreatedKey bool   `json:"createdKey"`
	CreatedDB  bool   `json:"createdDb"`
}

// Init prepares a data folder: the folder, its install ID, the DB key in the
// keychain and the encrypted DB. It is safe to run again: existing parts are
// checked, never replaced.
func Init(ctx context.Context, dataDir string, kr secrets.Keyring) (InitResult, error) {
	if kr == nil {
		kr = secrets.OSKeyring()
	}
	dir, err := datadir.Ensure(dataDir)
	if err != nil {
		return InitResult{}, err
	}
	id, err := dir.InstallID()
	if err != nil {
		return InitResult{}, err
	}
	res := InitResult{DataDir: dir.Path, InstallID: id}
	sec := secrets.New(kr, id)
	// A key rotation killed half-way is finished or undone first: until
	// then the keychain's key may not be the one the file needs.
	if _, err := keyrotate.Resume(ctx, dir, sec); err != nil {
		return res, err
	}
	_, statErr := os.Stat(dir.DBPath())
	dbExists := statErr == nil

	key, err := sec.DBKey(ctx)
	switch {
	case errors.Is(err, secrets.ErrNotFound) && dbExists:
		return res, fmt.Errorf("%s: %w", dir.DBPath(), ErrKeyMissing)
	case errors.Is(err, secrets.ErrNotFound):
		if key, err = sec.CreateDBKey(ctx); err != nil {
			return res, err
		}
		res.CreatedKey = true
	case err != nil:
		return res, err
	}
	defer clear(key)

	var db *store.DB
	if dbExists {
		db, err = store.Open(ctx, dir.DBPath(), key)
	} else {
		db, err = store.Create(ctx, dir.DBPath(), key)
		res.CreatedDB = err == nil
	}
	if err != nil {
		return res, err
	}
	return res, db.Close()
}

// Engine is a running Tsunagu for one data folder.
type Engine struct {
	dir      datadir.Dir
	secrets  *secrets.Store
	db       *store.DB
	client   *line.Client
	bgClient *line.Client // the background workers' client (linestatus.go)
	verifier *line.Verifier
	inbox    *inbox.Inbox
	outbox   *outbox.Outbox
	reqlog   *linelog.Log // the LINE request log; nil without LINE
	log      *slog.Logger
	clock    func() time.Time // Options.Clock; nil: time.Now (linking.go)

	// Background work (resuming the outbox) stops at Close.
	bgStop context.CancelFunc
	bg     sync.WaitGroup

	sandbox    bool
	sim        *linesim.Server
	hookSrv    *http.Server
	hookURL    string
	ctlSrv     *http.Server // the sandbox's control API, if opened (sandboxcontrol.go)
	tokenHnt   string
	media      *sandboxMedia       // image host of sandbox mode (hooks.go)
	camp       campaignParts       // segments and campaigns (campaign.go)
	relay      relayParts          // webhook relay pull loop (relay.go)
	auto       *automation.Service // welcome series and date reminders (automation.go)
	rich       *richmenu.Service   // per-segment rich menus (richmenu.go)
	backups    *backup.Service     // backups and recovery codes (schedule.go)
	erase      *erasure.Eraser     // APPI erasure and retention (schedule.go)
	authp      authParts           // staff and sessions, built on first use (services.go)
	customers  *customer.Service   // customers (services.go)
	drafts     *drafts.Service     // unsent work of each staff member (services.go)
	feat       featureParts        // imports and linking (linking.go)
	clickParts                     // tracked links (clicks.go)
	routeParts                     // inflow routes (routes.go)
	formParts                      // web forms (forms.go)
	book       bookingParts        // consultation booking (booking.go)
}

// Start opens the data folder (initialising it on first run) and starts the
// LINE side: the real channel if its credentials are in the keychain,
// otherwise the sandbox simulator.
func Start(ctx context.Context, opts Options) (*Engine, error) {
	if opts.Keyring == nil {
		opts.Keyring = secrets.OSKeyring()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if _, err := Init(ctx, opts.DataDir, opts.Keyring); err != nil {
		return nil, err
	}
	e, err := Open(ctx, opts.DataDir, opts.Keyring)
	if err != nil {
		return nil, err
	}
	e.log = opts.Logger
	e.clock = opts.Clock
	e.routeWindow = opts.RouteWindow
	e.authp.params = opts.AuthParams
	// The LINE request log keeps linelog.Retention; older rows go now.
	now := time.Now
	if opts.Clock != nil {
		now = opts.Clock
	}
	if _, err := linelog.Prune(ctx, e.db, now().Add(-linelog.Retention)); err != nil {
		e.log.Warn("pruning the LINE request log", "err", err)
	}
	if err := e.startLine(ctx, opts); err != nil {
		e.Close()
		return nil, err
	}
	if err := e.startCampaigns(opts); err != nil { // campaign.go: scheduler, resumes sends
		e.Close()
		return nil, err
	}
	if err := e.startAutomations(opts); err != nil { // automation.go: scheduler, catches up
		e.Close()
		return nil, err
	}
	e.startRelay(ctx, opts) // relay.go: pulls webhooks if enrolled with a relay
	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	e.bgStop = stop
	// The inbox's background work: the fetch jobs the webhooks recorded
	// (profiles, content) and the send queue, starting with what a crash
	// or an outage left (pushes resent with their stored retry keys,
	// replies whose attempt had begun flagged for staff). Nothing of it
	// delays the start.
	e.bg.Go(func() { e.inbox.Run(bg) })
	// Pushes and multicasts left pending (a crash, an outage, last month's
	// quota) go out again with their stored retry keys, now and whenever
	// LINE answers again after an outage (linestatus.go). A large campaign
	// may take minutes, so it runs in the background until Close.
	e.bg.Go(func() { e.resumeSends(bg) })
	e.startRichMenus(bg) // richmenu.go: keeps friends' rich menus in step with their segments
	return e, nil
}

// Open opens an initialised data folder's DB without starting LINE; the CLI
// uses it for read-only and offline commands.
func Open(ctx context.Context, dataDir string, kr secrets.Keyring) (*Engine, error) {
	if kr == nil {
		kr = secrets.OSKeyring()
	}
	dir, err := datadir.Existing(dataDir)
	if err != nil {
		return nil, fmt.Errorf("%w (run `tsunagu-cli init` first)", err)
	}
	id, err := dir.ReadInstallID()
	if err != nil {
		return nil, fmt.Errorf("%w (run `tsunagu-cli init` first)", err)
	}
	sec := secrets.New(kr, id)
	// A key rotation killed half-way is finished or undone first: until
	// then the keychain's key may not be the one the file needs.
	if _, err := keyrotate.Resume(ctx, dir, sec); err != nil {
		return nil, err
	}
	key, err := sec.DBKey(ctx)
	if errors.Is(err, secrets.ErrNotFound) {
		return nil, fmt.Errorf("%s: %w", dir.DBPath(), ErrKeyMissing)
	}
	if err != nil {
		return nil, err
	}
	defer clear(key)
	db, err := store.Open(ctx, dir.DBPath(), key)
	if err != nil {
		return nil, err
	}
	e := &Engine{dir: dir, secrets: sec, db: db, log: slog.New(slog.DiscardHandler)}
	e.erase = erasure.New(db, e.ErasureHooks(), e.now)
	e.customers = customer.New(db, e.now)
	e.drafts = drafts.New(db, e.now)
	e.openFeatures() // linking.go
	if e.backups, err = backup.NewService(backup.ServiceConfig{DB: db, DataDir: dir.Path, InstallID: id,
		Key: sec.DBKey, Clock: e.now}); err != nil {
		db.Close()
		return nil, err
	}
	if e.inbox, err = inbox.New(inbox.Config{DB: db}); err != nil {
		db.Close()
		return nil, err
	}
	if e.outbox, err = outbox.New(outbox.Config{DB: db, Record: recordSent}); err != nil {
		db.Close()
		return nil, err
	}
	if err := e.openCampaigns(nil); err != nil { // campaign.go
		db.Close()
		return nil, err
	}
	return e, nil
}

// Close stops the LINE side and closes the DB.
func (e *Engine) Close() error {
	e.stopRelayLoop()    // relay.go: no event arrives once the DB closes
	e.closeAutomations() // automation.go: stops its scheduler before the DB closes
	e.closeCampaigns()   // campaign.go: stops sends before the DB closes
	if e.bgStop != nil {
		e.bgStop()
	}
	e.bg.Wait()
	var errs []error
	if e.hookSrv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		errs = append(errs, e.hookSrv.Shutdown(ctx))
		cancel()
	}
	errs = append(errs, e.closeSandboxControl())
	if e.sim != nil {
		errs = append(errs, e.sim.Close())
	}
	if e.media != nil {
		errs = append(errs, e.media.Close())
	}
	if e.clickHost != nil {
		errs = append(errs, e.clickHost.Close())
	}
	if e.reqlog != nil {
		// The last attempts are written before the DB closes.
		errs = append(errs, e.reqlog.Close())
	}
	if e.db != nil {
		errs = append(errs, e.db.Close())
	}
	return errors.Join(errs...)
}

// Inbox is the shared inbox; read-only if the engine was opened without LINE.
func (e *Engine) Inbox() *inbox.Inbox { return e.inbox }

// Outbox sends pushes and multicasts with stored retry keys; it cannot send
// if the engine was opened without LINE.
func (e *Engine) Outbox() *outbox.Outbox { return e.outbox }

// Line is the LINE client (the simulator's in sandbox mode), nil if the
// engine was opened without LINE.
func (e *Engine) Line() *line.Client { return e.client }

// DB is the open customer DB, for tests and the engine's own files: the
// programs call services instead (archtest).
func (e *Engine) DB() *store.DB { return e.db }

// Secrets is this data folder's keychain items, for tests and the
// engine's own files: the programs call services instead (archtest).
func (e *Engine) Secrets() *secrets.Store { return e.secrets }

// DataDir is the data folder path.
func (e *Engine) DataDir() string { return e.dir.Path }

// Sandbox reports whether the engine talks to the built-in simulator.
func (e *Engine) Sandbox() bool { return e.sandbox }

// Sim is the sandbox simulator, nil in live mode.
func (e *Engine) Sim() *linesim.Server { return e.sim }

// TokenHint is a masked hint of the live channel's access token.
func (e *Engine) TokenHint() string { return e.tokenHnt }

// RejectedWebhooks counts webhook bodies dropped for a bad signature.
func (e *Engine) RejectedWebhooks() int64 {
	if e.verifier == nil {
		return 0
	}
	return e.verifier.Rejected()
}

// WebhookHandler verifies and stores webhooks for this channel. In sandbox
// mode the simulator posts to it over loopback; the relay delivers the same
// bodies in live mode.
func (e *Engine) WebhookHandler() http.Handler {
	return e.verifier.Handler(e.inbox.HandleWebhook)
}

// --- helpers ---

func (e *Engine) startLine(ctx context.Context, opts Options) error {
	ch, err := e.secrets.Channel(ctx)
	switch {
	case err == nil:
		return e.startLive(ch, opts)
	case errors.Is(err, secrets.ErrNotFound):
		return e.startSandbox(ctx, opts)
	default:
		return err
	}
}

func (e *Engine) startLive(ch secrets.Channel, opts Options) error {
	endpoint := line.DefaultEndpoint
	if opts.LineEndpoint != "" {
		endpoint = opts.LineEndpoint
	}
	client, err := e.newClient(endpoint, ch.AccessToken, false)
	if err != nil {
		return err
	}
	e.lineEndpoint = endpoint
	e.client = client
	e.verifier = line.NewVerifier(ch.Secret)
	e.tokenHnt = ch.TokenHint()
	return e.newInbox(opts)
}

// startSandbox runs the LINE simulator in-process with throwaway credentials
// (they protect nothing real, so they never touch the keychain), a loopback
// webhook listener, and a few simulated customers.
func (e *Engine) startSandbox(ctx context.Context, opts Options) error {
	secret, token := randomHex(16), randomHex(32)
	e.sandbox = true
	e.sim = linesim.New(linesim.Config{
		ChannelSecret: secret,
		AccessToken:   token,
		Clock:         opts.Clock,
		InsightDelay:  SandboxInsightDelay,
		OnDelivery: func(d linesim.Delivery) {
			if opts.Emitter != nil {
				opts.Emitter.Emit(EventSandboxPhone, SandboxPhoneEvent{UserID: d.UserID})
			}
		},
	})
	if err := e.sim.Start(ctx); err != nil {
		return fmt.Errorf("start LINE simulator: %w", err)
	}
	client, err := e.newClient(e.sim.URL(), token, true)
	if err != nil {
		return err
	}
	e.lineEndpoint = e.sim.URL()
	e.client = client
	e.verifier = line.NewVerifier(secret)
	if err := e.newInbox(opts); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("sandbox webhook listener: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /webhook", e.WebhookHandler())
	e.hookSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	e.hookURL = "http://" + ln.Addr().String() + "/webhook"
	go e.hookSrv.Serve(ln)
	e.sim.SetWebhookURL(e.hookURL)
	for _, c := range sandboxCustomers(e.dir) {
		// The simulator starts empty each run; a customer who blocked the
		// account in an earlier session is still blocked.
		state, err := e.inbox.FollowState(ctx, c.UserID)
		if err != nil {
			return err
		}
		c.Following = state != "unfollowed"
		e.sim.AddCustomer(c)
	}
	if opts.SandboxControlBy != "" {
		// A trainer's aid: the window works without it (and without its
		// file, scripts fail plainly). Not audited means not opened.
		if err := e.startSandboxControl(ctx, opts.SandboxControlBy, opts); err != nil {
			e.log.Warn("sandbox control API not opened", "err", err)
		}
	}
	return nil
}

// newClient returns the LINE client, every HTTP attempt of which goes to
// the request log in the DB, and the background workers' client on the
// same channel (bgClient): one attempt per call, bounded by the callers'
// own timeouts, since the fetcher and the send queue retry with their own
// backoff and breakers.
func (e *Engine) newClient(endpoint, token string, sandbox bool) (*line.Client, error) {
	e.reqlog = linelog.New(e.db, linelog.Options{Sandbox: sandbox, Logger: e.log})
	bg, err := line.New(line.Config{Endpoint: endpoint, AccessToken: token, OnRequest: e.reqlog.Add,
		Retry: line.RetryPolicy{MaxAttempts: 1}, AttemptTimeout: BackgroundAttemptTimeout})
	if err != nil {
		return nil, err
	}
	e.bgClient = bg
	return line.New(line.Config{Endpoint: endpoint, AccessToken: token, OnRequest: e.reqlog.Add})
}

func (e *Engine) newInbox(opts Options) error {
	ib, err := inbox.New(inbox.Config{DB: e.db, Sender: e.client, Content: e.client, ReadMarker: e.client,
		Emitter: opts.Emitter, Clock: opts.Clock, Logger: e.log, Hooks: e.inboxHooks(), MediaHost: e.mediaHost(),
		StickerImageBase: e.stickerImageBase(), Links: e.Clicks(),
		Fetch: inbox.FetchConfig{Profiles: e.bgClient, Content: e.bgClient}, Queue: inbox.SendQueueConfig{Sender: e.bgClient}})
	if err != nil {
		return err
	}
	ob, err := outbox.New(outbox.Config{DB: e.db, Sender: e.client, Clock: opts.Clock, Record: recordSent})
	if err != nil {
		return err
	}
	e.outbox = ob
	e.inbox = ib
	return nil
}

// recordSent puts what the outbox sends (survey invitations, reminders,
// welcome steps) into the recipients' conversations.
// A copy shows each tracked link as written, never its token.
func recordSent(ctx context.Context, tx *sql.Tx, r outbox.Recorded) error {
	return inbox.RecordSent(ctx, tx, inbox.Sent{Source: r.Source, To: r.To, Messages: r.Messages, OutboxRequest: r.RequestID, At: r.At,
		Untrack: func(text string) string { return clicks.Untrack(ctx, tx, text) }})
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
