package engine

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/curve25519"

	"tsunagu/internal/audit"
	"tsunagu/internal/fielderr"
	"tsunagu/internal/line"
	"tsunagu/internal/relayclient"
	"tsunagu/internal/secrets"
)

// The webhook relay, desktop side. When this data folder is enrolled with a
// relay (relay.json here, the private keys in the keychain), the engine
// keeps the relay's delivery connection and feeds every batch through the
// same path as the sandbox webhook server: line.Verifier, then
// inbox.HandleWebhooks, one transaction per batch. The relay gets the acks
// only once that transaction has committed; a body whose LINE signature
// fails is dropped (acked), counted and reported.

// EventRelayStatus is emitted when the relay connection's status changes.
const EventRelayStatus = "relay:status"

// relayFile holds the enrollment (relay URL, tenant, webhook URL): nothing
// secret, so a file in the data folder rather than the DB or keychain.
const relayFile = "relay.json"

// Errors of the relay side.
var (
	ErrRelayNotEnrolled = errors.New("not enrolled with a webhook relay")
	ErrRelayEnrolled    = errors.New("already enrolled with a webhook relay; disconnect first")
	// ErrRelayNoChannel: events are pulled only with the LINE channel's
	// secret in the keychain. In sandbox mode every real event would
	// fail verification and be dropped, so nothing is pulled.
	ErrRelayNoChannel = errors.New("no LINE channel is configured: relay events are received only in live mode")
)

// RelayEnrollment is what relay.json holds.
type RelayEnrollment struct {
	relayclient.Enrollment
	EnrolledAt time.Time `json:"enrolledAt"`
}

// RelayStatus is what the UI and `tsunagu-cli relay status` show.
type RelayStatus struct {
	Enrolled   bool      `json:"enrolled"`
	RelayURL   string    `json:"relayUrl,omitempty"`
	Tenant     string    `json:"tenant,omitempty"`
	WebhookURL string    `json:"webhookUrl,omitempty"`
	EnrolledAt time.Time `json:"enrolledAt,omitzero"`
	Running    bool      `json:"running"` // the pull loop runs in this engine
	relayclient.Status
	Forged int64 `json:"forged"` // webhook-shaped bodies whose LINE signature failed, dropped
	// Junk counts bodies that were not webhooks at all (not JSON, no
	// events array) and had no valid signature: dropped.
	Junk int64 `json:"junk"`
	// DeadLetters counts events kept aside because the inbox could not
	// store them (tsunagu-cli deadletters).
	DeadLetters int64 `json:"deadLetters"`
}

// relayParts is the engine's relay state.
type relayParts struct {
	mu      sync.Mutex
	client  *relayclient.Client
	stop    context.CancelFunc
	done    chan struct{}
	forged  atomic.Int64
	junk    atomic.Int64
	emitter interface{ Emit(string, any) }
}

// relayLive: LINE runs with the real channel's secret.
func (e *Engine) relayLive() bool { return e.verifier != nil && !e.sandbox }

func (e *Engine) relayPath() string { return e.dir.File(relayFile) }

// RelayEnrollment returns the stored enrollment, or ErrRelayNotEnrolled.
func (e *Engine) RelayEnrollment() (RelayEnrollment, error) {
	data, err := os.ReadFile(e.relayPath())
	if errors.Is(err, os.ErrNotExist) {
		return RelayEnrollment{}, ErrRelayNotEnrolled
	}
	if err != nil {
		return RelayEnrollment{}, fmt.Errorf("read relay enrollment: %w", err)
	}
	var en RelayEnrollment
	if err := json.Unmarshal(data, &en); err != nil || en.Tenant == "" {
		return RelayEnrollment{}, fmt.Errorf("%s is damaged; disconnect and enroll again", relayFile)
	}
	return en, nil
}

func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// clientKeys turns the keychain's private keys into the client's key set.
func clientKeys(k secrets.RelayKeys) (relayclient.Keys, error) {
	pub, err := curve25519.X25519(k.Box[:], curve25519.Basepoint)
	if err != nil {
		return relayclient.Keys{}, err
	}
	var out relayclient.Keys
	copy(out.BoxPub[:], pub)
	out.BoxPriv = k.Box
	out.AuthPriv = ed25519.NewKeyFromSeed(k.AuthSeed[:])
	return out, nil
}

// RelayEnroll enrolls this data folder with a relay: new keys go to the
// keychain, their public halves and the code to the relay, and the
// enrollment to relay.json; then the pull loop starts (with LINE set up).
// The URL must be https:// (t: see relayclient.EnrollURL); a refused URL or
// an empty code creates no keys and sends nothing. The enrollment is
// audited (relay.enroll) in the name of actor (audit.RecordChange).
func (e *Engine) RelayEnroll(ctx context.Context, actor, relayURL, code string, t relayclient.Transport) (RelayEnrollment, error) {
	// The form's fields are named (relayUrl, code) so the screen marks the
	// one to fix: a refused code is not a wrong address.
	var wrong fielderr.List
	sentinel := relayclient.ErrBadCode
	if strings.TrimSpace(relayURL) == "" {
		wrong.Add("relayUrl", fielderr.Required)
		sentinel = relayclient.ErrBadURL
	}
	if strings.TrimSpace(code) == "" {
		wrong.Add("code", fielderr.Required)
	}
	if err := wrong.Err(sentinel); err != nil {
		return RelayEnrollment{}, fmt.Errorf("enrollment form: %w", err)
	}
	if _, err := e.RelayEnrollment(); err == nil {
		return RelayEnrollment{}, ErrRelayEnrolled
	}
	base, err := relayclient.EnrollURL(relayURL, t)
	if err != nil {
		return RelayEnrollment{}, fielderr.New(err, "relayUrl", fielderr.HTTPS)
	}
	sk, err := secrets.NewRelayKeys()
	if err != nil {
		return RelayEnrollment{}, err
	}
	keys, err := clientKeys(sk)
	if err != nil {
		return RelayEnrollment{}, err
	}
	// Keys first: an enrollment whose private key was never stored
	// would receive events nobody can open.
	if err := e.secrets.SetRelayKeys(ctx, sk); err != nil {
		return RelayEnrollment{}, err
	}
	en, err := relayclient.Enroll(ctx, nil, base, code, keys, t)
	if err != nil {
		e.secrets.DeleteRelayKeys(context.WithoutCancel(ctx))
		switch {
		case errors.Is(err, relayclient.ErrBadCode):
			err = fielderr.New(err, "code", fielderr.Refused)
		case errors.Is(err, relayclient.ErrEnrollFailed):
			err = fielderr.New(err, "relayUrl", fielderr.Unreachable)
		}
		return RelayEnrollment{}, err
	}
	rec := RelayEnrollment{Enrollment: en, EnrolledAt: e.now().UTC()}
	data, _ := json.MarshalIndent(rec, "", "  ")
	if err := writeFileAtomic(e.relayPath(), data); err != nil {
		return RelayEnrollment{}, fmt.Errorf("write %s: %w", relayFile, err)
	}
	// Enrolled from here on: the loop runs even if the entry could not be
	// written, and the call reports that failure.
	auditErr := e.recordChange(ctx, actor, audit.ActionRelayEnroll, en.Tenant, map[string]string{"relay": en.RelayURL})
	if e.relayLive() {
		if err := e.startRelayLoop(ctx); err != nil {
			return rec, errors.Join(auditErr, err)
		}
	}
	return rec, auditErr
}

// RelayDisconnect stops the pull loop and forgets the enrollment and its
// keys; audited (relay.disconnect) in the name of actor. Events still
// queued at the relay stay there until its retention ends (or the operator
// removes the tenant).
func (e *Engine) RelayDisconnect(ctx context.Context, actor string) error {
	// A damaged relay.json is disconnected too (its message says so).
	en, err := e.RelayEnrollment()
	if errors.Is(err, ErrRelayNotEnrolled) {
		return err
	}
	e.stopRelayLoop()
	if err := e.secrets.DeleteRelayKeys(ctx); err != nil {
		return err
	}
	if err := os.Remove(e.relayPath()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	e.emitRelayStatus()
	return e.recordChange(ctx, actor, audit.ActionRelayDisconnect, en.Tenant, nil)
}

// RelayStatus reports the enrollment and the connection.
func (e *Engine) RelayStatus() RelayStatus {
	en, err := e.RelayEnrollment()
	if err != nil {
		return RelayStatus{Status: relayclient.Status{State: relayclient.StateStopped}}
	}
	st := RelayStatus{Enrolled: true, RelayURL: en.RelayURL, Tenant: en.Tenant, WebhookURL: en.WebhookURL,
		EnrolledAt: en.EnrolledAt, Forged: e.relay.forged.Load(), Junk: e.relay.junk.Load(),
		Status: relayclient.Status{State: relayclient.StateStopped}}
	if n, err := e.inbox.OpenDeadLetters(context.Background()); err == nil {
		st.DeadLetters = n
	}
	e.relay.mu.Lock()
	if c := e.relay.client; c != nil {
		st.Status = c.Status()
		st.Running = true
	}
	e.relay.mu.Unlock()
	return st
}

// RelaySetWebhookOnLINE sets the channel's webhook URL on LINE to the
// relay's, through LINE's set-webhook-endpoint API; audited
// (relay.webhook_set) in the name of actor.
func (e *Engine) RelaySetWebhookOnLINE(ctx context.Context, actor string) (string, error) {
	en, err := e.RelayEnrollment()
	if err != nil {
		return "", err
	}
	if !e.relayLive() || e.client == nil {
		return "", ErrRelayNoChannel
	}
	if err := e.client.SetWebhookEndpoint(ctx, en.WebhookURL); err != nil {
		return "", err
	}
	return en.WebhookURL, e.recordChange(ctx, actor, audit.ActionRelayWebhook, en.Tenant, nil)
}

// RelayUploadMedia uploads an image to the relay for LINE to fetch and
// returns its HTTPS URL (valid for the relay's media TTL, 7 days by
// default). The relay stores it unsealed.
func (e *Engine) RelayUploadMedia(ctx context.Context, data []byte, contentType string) (string, error) {
	c, err := e.newRelayClient(ctx)
	if err != nil {
		return "", err
	}
	return c.UploadMedia(ctx, data, contentType)
}

// RelaySync connects once, stores everything queued and returns how many
// events it handled (`tsunagu-cli sync --once`). The engine must have been
// started (LINE's verifier is needed); the pull loop must not be running.
func (e *Engine) RelaySync(ctx context.Context) (int64, error) {
	if !e.relayLive() {
		return 0, ErrRelayNoChannel
	}
	e.stopRelayLoop() // one connection per desktop
	// ... and one receiver per data folder (relaylock.go): ErrRelayBusy.
	lock, err := e.lockRelay()
	if err != nil {
		return 0, err
	}
	defer lock.release()
	c, err := e.newRelayClient(ctx)
	if err != nil {
		return 0, err
	}
	return c.DrainBatch(ctx, e.relayBatch)
}

// SyncResult is what one `tsunagu-cli sync --once` did.
type SyncResult struct {
	Received    int64 `json:"received"`
	Stored      int64 `json:"stored"`
	Forged      int64 `json:"forged"`      // dropped: a bad LINE signature
	Junk        int64 `json:"junk"`        // dropped: not a webhook
	DeadLetters int64 `json:"deadLetters"` // waiting: the inbox could not store them
}

// SyncOnce stores everything queued at the relay (RelaySync), then does
// what the schedule says is due (backups, retention), as the window would:
// a PC that only runs `tsunagu-cli sync --once` from a task scheduler is
// backed up too.
func (e *Engine) SyncOnce(ctx context.Context) (SyncResult, error) {
	n, err := e.RelaySync(ctx)
	if err != nil {
		return SyncResult{}, err
	}
	e.RunScheduledWork(ctx)
	st := e.RelayStatus()
	return SyncResult{Received: n, Stored: n - st.Forged - st.Junk, Forged: st.Forged, Junk: st.Junk, DeadLetters: st.DeadLetters}, nil
}

// RelayRun runs the pull loop in the foreground until ctx ends (`tsunagu-cli
// sync`). With schedule > 0 the scheduled work (backups, retention) runs
// beside it, once at once and then every schedule, as in the window: from
// the moment this process holds the data folder's relay lock until the loop
// ends.
func (e *Engine) RelayRun(ctx context.Context, schedule time.Duration, onStatus func(relayclient.Status)) error {
	if !e.relayLive() {
		return ErrRelayNoChannel
	}
	e.stopRelayLoop() // one connection per desktop
	// ... and one receiver per data folder (relaylock.go): ErrRelayBusy.
	lock, err := e.lockRelay()
	if err != nil {
		return err
	}
	defer lock.release()
	if schedule > 0 {
		sctx, stop := context.WithCancel(ctx)
		var work sync.WaitGroup
		work.Go(func() {
			e.RunScheduledWork(sctx)
			e.RunSchedule(sctx, schedule)
		})
		defer func() { stop(); work.Wait() }()
	}
	c, err := e.newRelayClient(ctx, onStatus)
	if err != nil {
		return err
	}
	return c.RunBatch(ctx, e.relayBatch)
}

func (e *Engine) newRelayClient(ctx context.Context, onStatus ...func(relayclient.Status)) (*relayclient.Client, error) {
	en, err := e.RelayEnrollment()
	if err != nil {
		return nil, err
	}
	sk, err := e.secrets.RelayKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("relay keys: %w", err)
	}
	keys, err := clientKeys(sk)
	if err != nil {
		return nil, err
	}
	cfg := relayclient.Config{Enrollment: en.Enrollment, Keys: keys, Logger: e.log, Clock: e.clock}
	if len(onStatus) > 0 {
		cfg.OnStatus = onStatus[0]
	}
	return relayclient.New(cfg)
}

// relayBatch is the relay's events' way in: the same verifier and inbox as
// the sandbox webhook server, one transaction per relay batch (group
// commit). It returns only after that transaction committed, so the acks
// that follow are safe. A body whose LINE signature fails is dropped and
// counted: as forged if it has a webhook's shape, as junk if it has not.
// A signed body the inbox cannot read, and single events it cannot store,
// are kept as dead letters and acked: nothing blocks the queue behind them.
func (e *Engine) relayBatch(ctx context.Context, events []relayclient.Event) []error {
	out := make([]error, len(events))
	var (
		whs     []*line.Webhook
		idx     []int
		changed bool
	)
	// Route visits and clicks on tracked links come in the same queue
	// (routes.go, clicks.go); visits are stored first, so that a follow of
	// this batch finds the visit before it.
	e.storeVisits(ctx, events, out)
	e.storeForms(ctx, events, out) // web form answers (forms.go)
	e.storeBookings(ctx, events, out)
	hooks, hookIdx := e.splitClicks(ctx, events, out)
	for k, ev := range hooks {
		i := hookIdx[k]
		wh, err := e.verifier.Parse(ev.Body, ev.Signature)
		if errors.Is(err, line.ErrMalformedWebhook) {
			// Signed by LINE, so not junk: keep the events that parse
			// and set the others aside as dead letters.
			wh, err = line.ParseVerified(ev.Body)
			changed = true
		}
		switch {
		case err == nil:
			whs = append(whs, wh)
			idx = append(idx, i)
		case errors.Is(err, line.ErrMalformedWebhook):
			out[i] = e.inbox.RecordBadBody(ctx, ev.Body, err.Error())
		default:
			reason := "forged"
			if line.LooksLikeWebhook(ev.Body) {
				e.relay.forged.Add(1)
			} else {
				reason = "junk"
				e.relay.junk.Add(1)
			}
			e.log.Warn("relay event dropped", "reason", reason)
			out[i] = fmt.Errorf("%w: %s: %w", relayclient.ErrDrop, reason, err)
			changed = true
		}
	}
	if len(whs) > 0 {
		res, err := e.inbox.HandleWebhooks(ctx, whs)
		for _, i := range idx {
			out[i] = err
		}
		changed = changed || res.DeadLetters > 0
	}
	if changed {
		e.emitRelayStatus()
	}
	return out
}

// startRelay starts the pull loop at engine start if this folder is
// enrolled. A failure is logged, not fatal: the app works without it.
func (e *Engine) startRelay(ctx context.Context, opts Options) {
	e.relay.emitter = opts.Emitter
	if !e.relayLive() {
		return
	}
	if _, err := e.RelayEnrollment(); err != nil {
		if !errors.Is(err, ErrRelayNotEnrolled) {
			e.log.Warn("relay enrollment unreadable", "err", err)
		}
		return
	}
	if err := e.startRelayLoop(ctx); err != nil {
		e.log.Warn("relay not started", "err", err)
	}
}

func (e *Engine) startRelayLoop(ctx context.Context) error {
	e.stopRelayLoop()
	c, err := e.newRelayClient(ctx, func(relayclient.Status) { e.emitRelayStatus() })
	if err != nil {
		return err
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	e.relay.mu.Lock()
	e.relay.client, e.relay.stop, e.relay.done = c, cancel, done
	e.relay.mu.Unlock()
	go func() {
		defer close(done)
		// The app waits while a `tsunagu-cli sync` receives (relaylock.go).
		lock, err := e.waitRelayLock(rctx)
		if err != nil {
			return
		}
		defer lock.release()
		c.RunBatch(rctx, e.relayBatch)
	}()
	return nil
}

func (e *Engine) stopRelayLoop() {
	e.relay.mu.Lock()
	stop, done := e.relay.stop, e.relay.done
	e.relay.client, e.relay.stop, e.relay.done = nil, nil, nil
	e.relay.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
}

func (e *Engine) emitRelayStatus() {
	if em := e.relay.emitter; em != nil {
		em.Emit(EventRelayStatus, e.RelayStatus())
	}
}

func (e *Engine) now() time.Time {
	if e.clock != nil {
		return e.clock()
	}
	return time.Now()
}
