package engine

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"tsunagu/internal/inbox"
	"tsunagu/internal/relay/wire"
	"tsunagu/internal/relayclient"
	"tsunagu/internal/routes"
)

// Inflow routes (package routes). In live mode a route's URL points at the
// enrolled relay (/r/TENANT/TOKEN), which redirects and queues the visit
// for the pull loop; in sandbox mode at the engine's loopback link host
// (clicks.go), which records the visit at once and redirects. The routes
// hook attributes each new friend in the follow's own transaction.

// routeParts is the engine's route state.
type routeParts struct {
	routeOnce   sync.Once
	routeSvc    *routes.Service
	routeWindow time.Duration // Options.RouteWindow
}

// Routes is the inflow-route service.
func (e *Engine) Routes() *routes.Service {
	e.routeOnce.Do(func() {
		svc, err := routes.New(routes.Config{DB: e.db, Clock: e.now, Relay: e.routeRelay, Account: e.lineAccountInfo,
			Window: e.routeWindow})
		if err != nil {
			e.log.Warn("inflow routes are off", "err", err)
			return
		}
		e.routeSvc = svc
	})
	return e.routeSvc
}

// lineAccountInfo is the official account's name and basic ID, from LINE
// (or the simulator).
func (e *Engine) lineAccountInfo(ctx context.Context) (routes.Account, error) {
	info, err := lineAccount{e}.BotInfo(ctx)
	if err != nil {
		return routes.Account{}, err
	}
	return routes.Account{Name: info.DisplayName, BasicID: info.BasicID}, nil
}

// routeRelay is where route URLs point now.
func (e *Engine) routeRelay(ctx context.Context) (string, routes.Publisher, bool) {
	if e.sandbox {
		sc := e.sandboxClickHost()
		if sc == nil {
			return "", nil, false
		}
		return strings.TrimSuffix(sc.base, "/c/sandbox/") + "/r/sandbox/", sc, true
	}
	en, err := e.RelayEnrollment()
	if err != nil {
		return "", nil, false
	}
	c, err := e.newRelayClient(ctx)
	if err != nil {
		e.log.Warn("inflow routes: relay client", "err", err)
		return "", nil, false
	}
	return en.RelayURL + "/r/" + en.Tenant + "/", c, true
}

// routeHooks is the inbox hook that attributes new friends (none if the
// service could not be built).
func (e *Engine) routeHooks() []inbox.Hook {
	svc := e.Routes()
	if svc == nil {
		return nil
	}
	return []inbox.Hook{svc.Hook()}
}

// storeVisits stores the route visits of a relay batch (one transaction)
// before its webhooks reach the inbox, so a follow in the same batch sees
// the visit that came before it. Every visit's result is that
// transaction's.
func (e *Engine) storeVisits(ctx context.Context, events []relayclient.Event, out []error) {
	var (
		vs  []wire.Click
		idx []int
	)
	for i, ev := range events {
		if ev.Visit != nil {
			vs = append(vs, *ev.Visit)
			idx = append(idx, i)
		}
	}
	if len(vs) == 0 {
		return
	}
	var err error
	if svc := e.Routes(); svc == nil {
		err = errors.New("inflow routes are off")
	} else {
		var r routes.Recorded
		r, err = svc.RecordVisits(ctx, vs)
		if err == nil && r.Unknown > 0 {
			e.log.Info("visits of unknown routes ignored", "count", r.Unknown)
		}
	}
	for _, i := range idx {
		out[i] = err
	}
}

// serveVisit is the sandbox's stand-in for the relay's /r/ endpoint: a
// published route's token records a visit at once and redirects to its
// target; anything else gets the neutral page.
func (sc *sandboxClicks) serveVisit(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	svc := sc.e.Routes()
	var target string
	ok := svc != nil && wire.ValidToken(token)
	if ok {
		target, ok = svc.Target(r.Context(), token)
	}
	if !ok {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><meta charset="utf-8"><p>このリンクは現在ご利用いただけません。</p>`)
		return
	}
	var id [wire.ClickIDLen]byte
	rand.Read(id[:])
	if _, err := svc.RecordVisits(r.Context(), []wire.Click{{ID: id, Token: token, At: sc.e.now().UnixMilli()}}); err != nil {
		sc.e.log.Warn("sandbox visit not stored", "err", err)
	}
	http.Redirect(w, r, target, http.StatusFound)
}
