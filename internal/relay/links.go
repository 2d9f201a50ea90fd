package relay

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/time/rate"

	"tsunagu/internal/relay/wire"
)

// Tracked links. The desktop publishes token → target URL (and an expiry),
// signed like a media upload; the relay keeps them in a KV bucket under a
// hash of tenant and token. GET /c/TENANT/TOKEN answers at once: a redirect
// to the target, or the same neutral page for every unknown, expired or
// disabled link (nothing in it says which). A click on a known link is
// sealed to the tenant's desktop key (token, time, a random ID; never the
// client's address or user agent) and queued like a webhook, so clicks are
// kept while the desktop is off and fetched with its webhooks.

// maxLinksBody bounds a link upload (MaxLinksPerUpload links of at most
// MaxLinkURL bytes each would be more; real uploads are a few hundred KiB).
const maxLinksBody = 4 << 20

// linkRecord is what the bucket holds per link.
type linkRecord struct {
	URL       string `json:"u"`
	ExpiresAt int64  `json:"e"` // unix ms
}

// validTarget: an absolute http(s) URL with a host, as the desktop sends.
func validTarget(raw string) bool {
	if len(raw) == 0 || len(raw) > wire.MaxLinkURL {
		return false
	}
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && u.User == nil
}

func (s *Server) handleLinksUpload(w http.ResponseWriter, r *http.Request) {
	id := r.Header.Get(wire.HeaderTenant)
	t := s.tenant(r.Context(), id, usable)
	if !usable(t) {
		s.metrics.rejected.WithLabelValues("", "auth").Inc()
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	if r.ContentLength > maxLinksBody {
		http.Error(w, "too many links", http.StatusRequestEntityTooLarge)
		return
	}
	http.NewResponseController(w).SetReadDeadline(time.Now().Add(mediaBodyTimeout))
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxLinksBody))
	if err != nil {
		http.Error(w, "too many links or could not read body", http.StatusRequestEntityTooLarge)
		return
	}
	nonce, err1 := base64.StdEncoding.DecodeString(r.Header.Get(wire.HeaderNonce))
	sig, err2 := base64.StdEncoding.DecodeString(r.Header.Get(wire.HeaderSignature))
	if err1 != nil || err2 != nil || !s.redeemNonce(r.Context(), nonce) ||
		!wire.Verify(t.AuthKey, wire.PurposeLinks, t.ID, nonce, wire.LinksStatement(body), sig) {
		s.metrics.rejected.WithLabelValues("", "auth").Inc()
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	var req wire.LinksRequest
	if err := json.Unmarshal(body, &req); err != nil || len(req.Links) > wire.MaxLinksPerUpload {
		http.Error(w, "malformed links", http.StatusBadRequest)
		return
	}
	// A link asked to live past the cap lives until the cap: refusing it
	// would hold the desktop's send until someone changed a setting, and
	// the bucket's own TTL (LinkTTL) would drop it then anyway.
	maxExp := s.cfg.Clock().Add(s.cfg.LinkTTL).UnixMilli()
	for i, l := range req.Links {
		if !wire.ValidToken(l.Token) || !validTarget(l.URL) || l.ExpiresAt <= 0 {
			http.Error(w, "malformed link", http.StatusBadRequest)
			return
		}
		req.Links[i].ExpiresAt = min(l.ExpiresAt, maxExp)
	}
	if err := s.putLinks(r.Context(), t.ID, req.Links); err != nil {
		s.log.Warn("links not stored", "tenant", t.ID, "err", err)
		http.Error(w, "not stored", http.StatusServiceUnavailable)
		return
	}
	s.metrics.links.WithLabelValues(t.ID).Add(float64(len(req.Links)))
	w.WriteHeader(http.StatusNoContent)
}

// putLinks stores the links, published asynchronously on the bucket's
// stream and awaited together: one upload of thousands of links costs a
// few pipelined fsyncs' time rather than one round trip each.
func (s *Server) putLinks(ctx context.Context, tenant string, links []wire.Link) error {
	// In windows: the client stalls beyond its pending-publish limit (4,000).
	for len(links) > 0 {
		part := links[:min(len(links), 1000)]
		links = links[len(part):]
		if err := s.putLinksWindow(ctx, tenant, part); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) putLinksWindow(ctx context.Context, tenant string, links []wire.Link) error {
	futures := make([]jetstream.PubAckFuture, 0, len(links))
	for _, l := range links {
		val, _ := json.Marshal(linkRecord{URL: l.URL, ExpiresAt: l.ExpiresAt})
		f, err := s.o.js.PublishAsync("$KV."+linksBucket+"."+wire.LinkKey(tenant, l.Token), val)
		if err != nil {
			return fmt.Errorf("relay: store link: %w", err)
		}
		futures = append(futures, f)
	}
	timeout := time.After(30 * time.Second)
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return fmt.Errorf("relay: store link: %w", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-timeout:
			return errors.New("relay: store links: timed out")
		}
	}
	return nil
}

// neutralPage is the one answer for every link the relay cannot follow:
// the same bytes whether the tenant, the token or the time is wrong.
const neutralPage = `<!doctype html><html lang="ja"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex"><title>ご案内</title></head>` +
	`<body style="font-family:sans-serif;margin:3em auto;max-width:32em;padding:0 1em;color:#333"><p>このリンクは現在ご利用いただけません。</p><p>お手数ですが、お届けしたメッセージをもう一度ご確認ください。</p></body></html>`

// followable is the one lookup of a tracked link's or a route's token
// (GET /c/… and /r/…): the tenant, the token and where it leads, if the
// tenant is usable and the token known, unexpired and pointing somewhere
// allowed. Otherwise it answers the neutral page itself (counted, timed)
// and ok is false: both endpoints fail alike, so neither leaks which part
// was wrong.
func (s *Server) followable(w http.ResponseWriter, r *http.Request, start time.Time) (t *Tenant, token string, rec linkRecord, ok bool) {
	id, token := r.PathValue("tenant"), r.PathValue("token")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	t = s.tenant(r.Context(), id, nil)
	ok = usable(t) && wire.ValidToken(token)
	if ok {
		e, err := s.o.links.Get(r.Context(), wire.LinkKey(id, token))
		ok = err == nil && json.Unmarshal(e.Value(), &rec) == nil && rec.ExpiresAt > s.cfg.Clock().UnixMilli() && validTarget(rec.URL)
	}
	if !ok {
		s.metrics.clicks.WithLabelValues("", "neutral").Inc()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, neutralPage)
		s.metrics.clickSecs.Observe(time.Since(start).Seconds())
	}
	return t, token, rec, ok
}

func (s *Server) handleClick(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	t, token, rec, ok := s.followable(w, r, start)
	if !ok {
		return
	}
	// Over a limit the person is still redirected (the link must work);
	// only the count is not queued.
	result := "dropped"
	switch {
	case !s.clickClients.allow(s.clickClient(r), s.cfg.Clock()):
		result = "client_limited"
	case s.queueClick(r.Context(), t, token):
		result = "queued"
	}
	s.metrics.clicks.WithLabelValues(t.ID, result).Inc()
	http.Redirect(w, r, rec.URL, http.StatusFound)
	s.metrics.clickSecs.Observe(time.Since(start).Seconds())
}

// queueClick seals the click and publishes it on the tenant's queue. The
// publish is not awaited: the person is redirected at once, and a click
// lost to a crash in the next milliseconds costs a count, not a message
// (unlike a webhook, nobody redelivers it; the redirect matters more).
func (s *Server) queueClick(ctx context.Context, t *Tenant, token string) bool {
	if !s.clickLimiter(t.ID).Allow() {
		return false
	}
	sealed, err := wire.SealClick(t.boxKey(), token, s.cfg.Clock().UnixMilli())
	if err != nil {
		return false
	}
	if reason, _ := s.admit(ctx, t.ID, len(sealed)); reason != "" {
		return false
	}
	subject := subjectOf(t.ID, len(sealed))
	if _, err := s.o.js.PublishAsync(subject, sealed); err != nil {
		if !errors.Is(err, jetstream.ErrTooManyStalledMsgs) {
			s.log.Warn("click not queued", "tenant", t.ID, "err", err)
			return false
		}
		// A burst filled the client's window of unconfirmed publishes:
		// this click waits for its own confirmation (a slower redirect)
		// rather than being lost.
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err = s.o.js.Publish(pctx, subject, sealed)
		cancel()
		if err != nil {
			s.log.Warn("click not queued", "tenant", t.ID, "err", err)
			return false
		}
	}
	s.nc.Publish(wakeSubjectOf(t.ID), nil)
	return true
}

func (s *Server) clickLimiter(id string) *rate.Limiter {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.clickLim[id]
	if l == nil {
		l = rate.NewLimiter(rate.Limit(s.cfg.ClickRate), s.cfg.ClickBurst)
		s.clickLim[id] = l
	}
	return l
}

// clickClient is the address a click's per-client limit counts: the IPv4
// address or the IPv6 /64 of the connection or, behind a proxy
// (TrustForwardedFor), of the last X-Forwarded-For entry, the one the proxy
// added (earlier entries are the client's to invent).
func (s *Server) clickClient(r *http.Request) netip.Prefix {
	host := r.RemoteAddr
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if s.cfg.TrustForwardedFor {
		if xs := r.Header.Values("X-Forwarded-For"); len(xs) > 0 {
			parts := strings.Split(xs[len(xs)-1], ",")
			host = strings.TrimSpace(parts[len(parts)-1])
		}
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Prefix{}
	}
	ip = ip.Unmap()
	bits := 32
	if ip.Is6() {
		bits = 64
	}
	p, _ := ip.Prefix(bits)
	return p
}

// maxClickClients bounds the addresses clientLimits remembers; past it a
// new address is not limited (memory stays bounded under a spread-out
// flood, which the per-tenant limit still bounds).
const maxClickClients = 100_000

// clientLimits is the per-address click limit (ClickRatePerClient): a token
// bucket per address, forgotten once it has been idle long enough to be
// full again.
type clientLimits struct {
	rate  rate.Limit
	burst int
	idle  time.Duration

	mu    sync.Mutex
	m     map[netip.Prefix]*clientLimit
	swept time.Time
}

type clientLimit struct {
	lim  *rate.Limiter
	last time.Time
}

func newClientLimits(perSec float64, burst int) *clientLimits {
	idle := time.Duration(float64(burst)/perSec*float64(time.Second)) + time.Second
	return &clientLimits{rate: rate.Limit(perSec), burst: burst, idle: idle, m: map[netip.Prefix]*clientLimit{}}
}

// allow takes one click of key's allowance at now.
func (c *clientLimits) allow(key netip.Prefix, now time.Time) bool {
	if c == nil || !key.IsValid() {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.Sub(c.swept) > c.idle {
		for k, e := range c.m {
			if now.Sub(e.last) > c.idle {
				delete(c.m, k)
			}
		}
		c.swept = now
	}
	e := c.m[key]
	if e == nil {
		if len(c.m) >= maxClickClients {
			return true
		}
		e = &clientLimit{lim: rate.NewLimiter(c.rate, c.burst)}
		c.m[key] = e
	}
	e.last = now
	return e.lim.AllowN(now, 1)
}

// deleteTenantLinks removes a removed tenant's tracked links.
func (o *jsObjects) deleteTenantLinks(ctx context.Context, tenant string) error {
	st, err := o.js.Stream(ctx, "KV_"+linksBucket)
	if err != nil {
		return err
	}
	return st.Purge(ctx, jetstream.WithPurgeSubject("$KV."+linksBucket+"."+tenant+".*"))
}
