package relay

import (
	"context"
	"net/http"
	"time"

	"tsunagu/internal/relay/wire"
)

// Inflow routes. A route's QR code holds GET /r/TENANT/TOKEN. The desktop
// publishes the token → target (LINE's add-friend URL, or a page) through
// the tracked-link upload, so the relay holds nothing more for a route than
// for a link. A visit redirects at once and is queued sealed to the
// tenant's key as a visit (wire.SealVisit: token, time, random ID; never
// the client's address or user agent); the desktop attributes follows to
// routes from the visits. Unknown, expired and disabled tokens get the
// links' neutral page.

func (s *Server) handleVisit(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	t, token, rec, ok := s.followable(w, r, start)
	if !ok {
		return
	}
	result := "visit_dropped"
	if s.queueVisit(r.Context(), t, token) {
		result = "visit_queued"
	}
	s.metrics.clicks.WithLabelValues(t.ID, result).Inc()
	// A plain redirect: a phone's camera app opens the URL in the browser,
	// which hands line.me/R/ti/p/… to the LINE app.
	http.Redirect(w, r, rec.URL, http.StatusFound)
	s.metrics.clickSecs.Observe(time.Since(start).Seconds())
}

// queueVisit seals the visit and publishes it on the tenant's queue. Unlike
// a click it is awaited: visits are few (people at a counter, not a
// campaign's thousands), and the desktop needs each one to attribute the
// follow that comes seconds later.
func (s *Server) queueVisit(ctx context.Context, t *Tenant, token string) bool {
	if !s.clickLimiter(t.ID).Allow() {
		return false
	}
	sealed, err := wire.SealVisit(t.boxKey(), token, s.cfg.Clock().UnixMilli())
	if err != nil {
		return false
	}
	if reason, _ := s.admit(ctx, t.ID, len(sealed)); reason != "" {
		return false
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	_, err = s.o.js.Publish(pctx, subjectOf(t.ID, len(sealed)), sealed)
	cancel()
	if err != nil {
		s.log.Warn("visit not queued", "tenant", t.ID, "err", err)
		return false
	}
	s.nc.Publish(wakeSubjectOf(t.ID), nil)
	return true
}
