package engine

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"tsunagu/internal/clicks"
	"tsunagu/internal/inbox"
	"tsunagu/internal/relay/wire"
	"tsunagu/internal/relayclient"
)

// Tracked links (package clicks). In live mode they point at the enrolled
// relay, which redirects and queues the clicks for the pull loop
// (relayBatch); without a relay, links are sent as written. In sandbox mode
// they point at a loopback HTTPS host of the engine's own (sandboxClicks),
// which redirects and records the click at once: the simulator's friends
// can "open" a link and the customer card shows it, offline.

// Clicks is the tracked-link service.
func (e *Engine) Clicks() *clicks.Service {
	e.clickOnce.Do(func() {
		svc, err := clicks.New(clicks.Config{DB: e.db, Clock: e.now, Relay: e.clickRelay})
		if err != nil {
			e.log.Warn("tracked links are off", "err", err)
			return
		}
		e.clickSvc = svc
	})
	return e.clickSvc
}

// clickRelay is where tracked links point now.
func (e *Engine) clickRelay(ctx context.Context) (string, clicks.Publisher, bool) {
	if e.sandbox {
		sc := e.sandboxClickHost()
		if sc == nil {
			return "", nil, false
		}
		return sc.base, sc, true
	}
	en, err := e.RelayEnrollment()
	if err != nil {
		return "", nil, false
	}
	c, err := e.newRelayClient(ctx)
	if err != nil {
		e.log.Warn("tracked links: relay client", "err", err)
		return "", nil, false
	}
	return en.RelayURL + "/c/" + en.Tenant + "/", c, true
}

// storeClicks stores the clicks of a relay batch (one transaction) and
// tells the UI which conversations got a click line.
func (e *Engine) storeClicks(ctx context.Context, cs []wire.Click) error {
	svc := e.Clicks()
	if svc == nil {
		return errors.New("tracked links are off")
	}
	r, err := svc.Record(ctx, cs)
	if err != nil {
		return err
	}
	if r.Unknown > 0 {
		// A token this DB never made (or of an erased customer): nothing
		// is stored, and the relay's copy is acked so it does not return.
		e.log.Info("clicks on unknown links ignored", "count", r.Unknown)
	}
	if em := e.relay.emitter; em != nil {
		for _, id := range r.Conversations {
			em.Emit(inbox.EventChanged, inbox.ChangedEvent{ConversationID: id})
		}
	}
	return nil
}

// splitClicks takes the clicks out of a relay batch: the webhooks go on to
// the inbox, the clicks are stored in one transaction of their own. Every
// click's result is that transaction's.
func (e *Engine) splitClicks(ctx context.Context, events []relayclient.Event, out []error) (hooks []relayclient.Event, hookIdx []int) {
	var (
		cs  []wire.Click
		idx []int
	)
	for i, ev := range events {
		if ev.Visit != nil || ev.Form != nil || ev.Booking != nil || ev.Released != nil {
			continue // a route's visit (routes.go), a form's answers (forms.go) or a booking request (booking.go), stored apart
		}
		if ev.Click != nil {
			cs = append(cs, *ev.Click)
			idx = append(idx, i)
			continue
		}
		hooks = append(hooks, ev)
		hookIdx = append(hookIdx, i)
	}
	if len(cs) > 0 {
		err := e.storeClicks(ctx, cs)
		for _, i := range idx {
			out[i] = err
		}
	}
	return hooks, hookIdx
}

// sandboxClicks is the sandbox's stand-in for the relay's /c/ endpoint:
// HTTPS on loopback (a self-signed certificate made at start), answering a
// known token with a redirect and recording the click, anything else with
// the relay's kind of neutral page.
type sandboxClicks struct {
	srv  *http.Server
	base string
	e    *Engine
}

func (e *Engine) sandboxClickHost() *sandboxClicks {
	e.clickHostMu.Lock()
	defer e.clickHostMu.Unlock()
	if e.clickHost != nil {
		return e.clickHost
	}
	cert, err := selfSigned()
	if err != nil {
		e.log.Warn("sandbox link host did not start; links are not tracked", "err", err)
		return nil
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	if err != nil {
		e.log.Warn("sandbox link host did not start; links are not tracked", "err", err)
		return nil
	}
	sc := &sandboxClicks{base: "https://" + ln.Addr().String() + "/c/sandbox/", e: e}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /c/sandbox/{token}", sc.serve)
	mux.HandleFunc("GET /r/sandbox/{token}", sc.serveVisit) // inflow routes (routes.go)
	sc.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go sc.srv.Serve(ln)
	e.clickHost = sc
	return sc
}

// PublishLinks implements clicks.Publisher: the sandbox host reads the DB.
func (sc *sandboxClicks) PublishLinks(context.Context, []wire.Link) error { return nil }

func (sc *sandboxClicks) serve(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	var target string
	var expires int64
	ok := wire.ValidToken(token) && sc.e.db.Reader().QueryRowContext(r.Context(),
		`SELECT url, expires_at FROM tracked_links WHERE token = ?`, token).Scan(&target, &expires) == nil &&
		expires > sc.e.now().UnixMilli()
	if !ok {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><meta charset="utf-8"><p>このリンクは現在ご利用いただけません。</p>`)
		return
	}
	var id [wire.ClickIDLen]byte
	rand.Read(id[:])
	if err := sc.e.storeClicks(r.Context(), []wire.Click{{ID: id, Token: token, At: sc.e.now().UnixMilli()}}); err != nil {
		sc.e.log.Warn("sandbox click not stored", "err", err)
	}
	http.Redirect(w, r, target, http.StatusFound)
}

func (sc *sandboxClicks) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return sc.srv.Shutdown(ctx)
}

// clickParts is the engine's tracked-link state.
type clickParts struct {
	clickOnce   sync.Once
	clickSvc    *clicks.Service
	clickHostMu sync.Mutex
	clickHost   *sandboxClicks
}
