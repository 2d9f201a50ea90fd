// Package relay is Tsunagu's webhook relay: a small public service that
// takes LINE's webhooks for many branches (tenants), seals each raw body and
// signature to the branch desktop's X25519 key, appends it durably to NATS
// JetStream, and only then answers LINE 200. The desktop holds one
// authenticated WebSocket, receives the sealed events in order and acks them
// by sequence once its own DB has committed them.
//
// The relay never sees plaintext after Seal returns, never logs bodies, and
// links neither Wails, GTK, the customer DB nor the keychain (a test checks
// the dependency list). Media uploaded for LINE to fetch is the one thing
// it stores unsealed.
package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"tsunagu/internal/relay/wire"
)

// Config configures a Server. Zero values take the defaults in brackets.
type Config struct {
	// DataDir holds the embedded NATS server's JetStream files. Required
	// unless NATSURL is set.
	DataDir string
	// NATSURL, if set, is an external NATS cluster (JetStream enabled)
	// shared by several relay instances; nothing is embedded then.
	NATSURL string
	// NATSOptions are extra options for the external connection
	// (credentials, TLS).
	NATSOptions []nats.Option
	// NATSListen makes the embedded server also listen on this loopback
	// address, so the tenant admin commands reach a running relay.
	NATSListen string
	// NATSToken is the token the embedded listener requires.
	NATSToken string
	// Replicas of the stream, buckets and consumers on a cluster [1].
	Replicas int
	// PublicURL is the relay's public base URL (https://relay.example.jp)
	// used in webhook and media URLs; "" derives it from the request.
	PublicURL string
	// Retention is how long an undelivered event is kept [7 days].
	Retention time.Duration
	// MaxBody bounds a webhook body; larger ones get 413 [1 MiB, which
	// is also the most it may be: wire.MaxBodyBytes].
	MaxBody int64
	// BodyTimeout bounds the time to read a webhook body once its headers
	// are in; a slower client gets 408 [10 s].
	BodyTimeout time.Duration
	// TenantRate and TenantBurst limit one tenant's webhooks per second on
	// this instance [200/s, burst 400]; beyond them the answer is 429.
	TenantRate  float64
	TenantBurst int
	// MaxQueuedPerTenant caps one tenant's undelivered events; beyond it
	// the answer is 503 [100,000].
	MaxQueuedPerTenant int64
	// MaxQueuedBytesPerTenant caps the bytes of one tenant's undelivered
	// events (sealed, counted by size class, see sizeClass); beyond it the
	// answer is 503 [256 MiB].
	MaxQueuedBytesPerTenant int64
	// MaxDeliveries is how often an event is delivered without an ack
	// before it is moved to the tenant's dead letters, so that it cannot
	// hold up the events behind it [10].
	MaxDeliveries int
	// LinkTTL caps a tracked link's life: an upload asking for a later
	// expiry is kept until now+LinkTTL, and the bucket drops it then; a
	// link's own earlier expiry (the desktop asks 180 days) ends it first
	// [400 days].
	LinkTTL time.Duration
	// ClickRate and ClickBurst limit the clicks one tenant queues per
	// second on this instance [2,000/s, burst 4,000]; beyond them a click
	// is still redirected but not queued (counted as dropped).
	ClickRate  float64
	ClickBurst int
	// ClickRatePerClient and ClickBurstPerClient limit the clicks one
	// address (IPv4, or IPv6 /64) has queued per second on this instance
	// [10/s, burst 50: a carrier's shared address behind many phones fits];
	// beyond them a click is still redirected but not queued (counted as
	// client_limited). A negative rate turns the limit off.
	ClickRatePerClient  float64
	ClickBurstPerClient int
	// TrustForwardedFor: the relay is behind a reverse proxy, and a
	// click's address is the last X-Forwarded-For entry (the proxy's).
	TrustForwardedFor bool
	// MediaTTL is how long an uploaded image is served [7 days].
	MediaTTL time.Duration
	// MaxMedia bounds one uploaded image [10 MiB, LINE's limit].
	MaxMedia int64
	// MediaMaxBytes bounds all stored media together [2 GiB].
	MediaMaxBytes int64
	// AckWait is how long a delivered event may stay unacked before it is
	// delivered again [60 s].
	AckWait time.Duration
	// BatchSize is the most events in one batch [500, at most 1000];
	// batches are also cut to wire.MaxBatchBytes. The desktop stores a
	// batch in one transaction: under a burst, larger batches are what
	// lets it catch up (at 1,000 webhooks/s, batches of 100 fell behind
	// by a second; of 500, not).
	BatchSize int
	// PollWait is how long one fetch waits for new events [2 s].
	PollWait time.Duration
	// LIFFSDK is the URL form pages load LINE's LIFF SDK from
	// [DefaultLIFFSDK]; tests point it at the LINE simulator's stand-in.
	LIFFSDK string
	Clock   func() time.Time // [time.Now]
	Logger  *slog.Logger     // [discard]
}

func (c *Config) defaults() {
	if c.Replicas <= 0 {
		c.Replicas = 1
	}
	if c.Retention <= 0 {
		c.Retention = 7 * 24 * time.Hour
	}
	if c.MaxBody <= 0 {
		c.MaxBody = wire.MaxBodyBytes
	}
	if c.BodyTimeout <= 0 {
		c.BodyTimeout = 10 * time.Second
	}
	if c.MaxQueuedBytesPerTenant <= 0 {
		c.MaxQueuedBytesPerTenant = 256 << 20
	}
	if c.MaxDeliveries <= 0 {
		c.MaxDeliveries = 10
	}
	if c.TenantRate <= 0 {
		c.TenantRate = 200
	}
	if c.TenantBurst <= 0 {
		c.TenantBurst = 2 * int(c.TenantRate)
	}
	if c.MaxQueuedPerTenant <= 0 {
		c.MaxQueuedPerTenant = 100_000
	}
	if c.LinkTTL <= 0 {
		c.LinkTTL = 400 * 24 * time.Hour
	}
	if c.ClickRate <= 0 {
		c.ClickRate = 2000
	}
	if c.ClickBurst <= 0 {
		c.ClickBurst = 2 * int(c.ClickRate)
	}
	if c.ClickRatePerClient == 0 {
		c.ClickRatePerClient = 10
	}
	if c.ClickBurstPerClient <= 0 {
		c.ClickBurstPerClient = max(1, 5*int(c.ClickRatePerClient))
	}
	if c.MediaTTL <= 0 {
		c.MediaTTL = 7 * 24 * time.Hour
	}
	if c.MaxMedia <= 0 {
		c.MaxMedia = 10 << 20
	}
	if c.MediaMaxBytes <= 0 {
		c.MediaMaxBytes = 2 << 30
	}
	if c.AckWait <= 0 {
		c.AckWait = 60 * time.Second
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 500
	}
	c.BatchSize = min(c.BatchSize, 1000)
	if c.PollWait <= 0 {
		c.PollWait = 2 * time.Second
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.LIFFSDK == "" {
		c.LIFFSDK = DefaultLIFFSDK
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

func (c *Config) queue() queueConfig {
	return queueConfig{
		Retention: c.Retention, MaxPerTenant: c.MaxQueuedPerTenant, Replicas: c.Replicas,
		MediaTTL: c.MediaTTL, MediaMaxBytes: c.MediaMaxBytes, AckWait: c.AckWait,
		MaxAckPending: max(c.BatchSize, 1) * 2, ChallengeTTL: 2 * time.Minute, LinkTTL: c.LinkTTL,
	}
}

// Server is one relay instance.
type Server struct {
	cfg     Config
	emb     *embedded // nil with an external NATS
	nc      *nats.Conn
	o       *jsObjects
	metrics *metrics
	log     *slog.Logger

	// umu guards usage: each tenant's queued events and bytes as last read
	// from JetStream, plus what this instance queued since.
	umu   sync.Mutex
	usage map[string]*usageSnapshot

	mu       sync.RWMutex
	tenants  map[string]*Tenant
	limiters map[string]*rate.Limiter
	clickLim map[string]*rate.Limiter
	// clickClients is the per-address click limit (nil: off).
	clickClients *clientLimits
	conns        map[string]*liveConn // the one live connection per tenant
	// challenges bounds unauthenticated challenge requests (each one is a
	// KV write) on this instance.
	challenges *rate.Limiter

	pageOnce sync.Once
	page     formPageHTML // forms.go
	bookOnce sync.Once
	bookPage formPageHTML // booking.go
	postal   postalTable  // forms.go

	watchStop context.CancelFunc
	wg        sync.WaitGroup
}

// New connects to (or embeds) NATS, creates the JetStream objects and loads
// the tenants.
func New(ctx context.Context, cfg Config) (*Server, error) {
	cfg.defaults()
	if cfg.MaxBody > wire.MaxBodyBytes {
		return nil, fmt.Errorf("relay: max body %d bytes is over %d, the most a desktop's connection admits sealed", cfg.MaxBody, wire.MaxBodyBytes)
	}
	s := &Server{cfg: cfg, log: cfg.Logger, tenants: map[string]*Tenant{},
		limiters: map[string]*rate.Limiter{}, clickLim: map[string]*rate.Limiter{}, conns: map[string]*liveConn{},
		challenges: rate.NewLimiter(50, 100), usage: map[string]*usageSnapshot{}}
	if cfg.ClickRatePerClient > 0 {
		s.clickClients = newClientLimits(cfg.ClickRatePerClient, cfg.ClickBurstPerClient)
	}
	var err error
	if cfg.NATSURL != "" {
		opts := append([]nats.Option{nats.Name("tsunagu-relay"), nats.MaxReconnects(-1)}, cfg.NATSOptions...)
		s.nc, err = nats.Connect(cfg.NATSURL, opts...)
		if err != nil {
			return nil, fmt.Errorf("relay: connect to NATS: %w", err)
		}
		// A body of the documented maximum must fit once sealed; refuse to
		// start rather than answer such webhooks 503 forever.
		if mp := s.nc.MaxPayload(); mp < RequiredMaxPayload {
			s.nc.Close()
			return nil, fmt.Errorf("relay: the NATS server's max_payload is %d bytes; a sealed webhook of %d bytes (--max-body at most %d) needs %d: set max_payload: %d (or more) in the NATS server configuration",
				mp, wire.MaxEventBytes, wire.MaxBodyBytes, RequiredMaxPayload, 2<<20)
		}
	} else {
		if cfg.DataDir == "" {
			return nil, errors.New("relay: a data dir or a NATS URL is required")
		}
		if s.emb, err = startEmbedded(cfg.DataDir, cfg.NATSListen, cfg.NATSToken); err != nil {
			return nil, err
		}
		if s.nc, err = s.emb.connect(); err != nil {
			s.emb.close()
			return nil, fmt.Errorf("relay: connect to embedded NATS: %w", err)
		}
	}
	if s.o, err = setupJetStream(ctx, s.nc, cfg.queue()); err != nil {
		s.Close()
		return nil, err
	}
	s.metrics = newMetrics(s)
	if err := s.watchTenants(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// NATSClientURL is the embedded server's loopback URL ("" if it does not
// listen or NATS is external).
func (s *Server) NATSClientURL() string {
	if s.emb == nil || s.cfg.NATSListen == "" {
		return ""
	}
	return s.emb.srv.ClientURL()
}

// OpenAdmin opens tenant management without serving: on the external NATS
// of cfg.NATSURL, or on an embedded server over cfg.DataDir (the relay must
// not be running on it then). close releases it.
func OpenAdmin(ctx context.Context, cfg Config) (*Admin, func(), error) {
	cfg.defaults()
	var nc *nats.Conn
	var emb *embedded
	var err error
	if cfg.NATSURL != "" {
		nc, err = nats.Connect(cfg.NATSURL, append([]nats.Option{nats.Name("tsunagu-relay admin")}, cfg.NATSOptions...)...)
	} else {
		if emb, err = startEmbedded(cfg.DataDir, "", ""); err != nil {
			return nil, nil, err
		}
		nc, err = emb.connect()
	}
	closeAll := func() {
		if nc != nil {
			nc.Drain()
			nc.Close()
		}
		if emb != nil {
			emb.close()
		}
	}
	if err != nil {
		closeAll()
		return nil, nil, fmt.Errorf("relay: connect to NATS: %w", err)
	}
	o, err := openJetStream(ctx, nc, cfg.queue())
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	return &Admin{o: o, cfg: cfg.queue(), clock: cfg.Clock}, closeAll, nil
}

// Admin returns tenant management on this server's NATS connection.
func (s *Server) Admin() *Admin { return &Admin{o: s.o, cfg: s.cfg.queue(), clock: s.cfg.Clock} }

// Registry is the server's Prometheus registry.
func (s *Server) Registry() *prometheus.Registry { return s.metrics.reg }

// Close stops watching tenants, drops the connections and stops NATS.
func (s *Server) Close() error {
	if s.watchStop != nil {
		s.watchStop()
	}
	s.mu.Lock()
	for _, c := range s.conns {
		c.cancel()
	}
	s.mu.Unlock()
	s.wg.Wait()
	if s.nc != nil {
		s.nc.Drain()
		s.nc.Close()
	}
	if s.emb != nil {
		s.emb.close()
	}
	return nil
}

// Handler serves the public endpoints: webhooks, enrollment, the delivery
// connection, media, and /healthz. Metrics are served separately
// (MetricsHandler), on a private address.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /hook/{tenant}/{token}", s.handleHook)
	mux.HandleFunc("POST /v1/enroll", s.handleEnroll)
	mux.HandleFunc("GET /v1/connect", s.handleConnect)
	mux.HandleFunc("GET /v1/challenge", s.handleChallenge)
	mux.HandleFunc("POST /v1/media", s.handleMediaUpload)
	mux.HandleFunc("GET /media/{tenant}/{id}", s.handleMediaGet)
	mux.HandleFunc("POST /v1/links", s.handleLinksUpload)
	mux.HandleFunc("GET /c/{tenant}/{token}", s.handleClick)
	mux.HandleFunc("GET /r/{tenant}/{token}", s.handleVisit) // routes.go
	mux.HandleFunc("POST /v1/forms", s.handleFormUpload)     // forms.go
	mux.HandleFunc("GET /f/{tenant}/{form}", s.handleFormPage)
	mux.HandleFunc("GET /f/{tenant}/{form}/def.json", s.handleFormDef)
	mux.HandleFunc("POST /f/{tenant}/{form}", s.handleFormSubmit)
	mux.HandleFunc("GET /f/{tenant}/{form}/p/{id}", s.handlePrefillGet) // forms_prefill.go
	mux.HandleFunc("POST /v1/booking", s.handleBookingUpload)           // booking.go
	mux.HandleFunc("GET /b/{tenant}", s.handleBookingPage)
	mux.HandleFunc("GET /b/{tenant}/slots.json", s.handleBookingSlots)
	mux.HandleFunc("POST /b/{tenant}/hold", s.handleBookingHold)
	mux.HandleFunc("POST /b/{tenant}/request", s.handleBookingRequest)
	mux.HandleFunc("GET /b/{tenant}/cal.ics", s.handleBookingCalendar)
	mux.HandleFunc("GET /postal/{prefix}", s.handlePostal)
	mux.HandleFunc("GET /healthz", s.handleHealth)
	return mux
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	if err := s.healthy(r.Context()); err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

// healthy checks that NATS and JetStream answer (for /healthz).
func (s *Server) healthy(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if s.nc.Status() != nats.CONNECTED {
		return errors.New("nats not connected")
	}
	if _, err := s.o.js.AccountInfo(ctx); err != nil {
		return errors.New("jetstream unavailable")
	}
	return nil
}

// watchTenants keeps the in-memory tenant table in step with the KV
// bucket, so a tenant added, enrolled or disabled through any instance (or
// the admin command) takes effect on every instance.
func (s *Server) watchTenants(ctx context.Context) error {
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.watchStop = cancel
	w, err := s.o.tenants.WatchAll(wctx)
	if err != nil {
		return fmt.Errorf("relay: watch tenants: %w", err)
	}
	initial := make(chan struct{})
	s.wg.Go(func() {
		defer w.Stop()
		once := sync.OnceFunc(func() { close(initial) })
		for {
			select {
			case <-wctx.Done():
				once()
				return
			case e, ok := <-w.Updates():
				if !ok {
					once()
					return
				}
				if e == nil { // the initial values are all in
					once()
					continue
				}
				s.applyTenant(e)
			}
		}
	})
	select {
	case <-initial:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Server) applyTenant(e jetstream.KeyValueEntry) {
	id := e.Key()
	if e.Operation() != jetstream.KeyValuePut {
		s.umu.Lock()
		delete(s.usage, id)
		s.umu.Unlock()
		s.mu.Lock()
		delete(s.tenants, id)
		delete(s.limiters, id)
		delete(s.clickLim, id)
		if c := s.conns[id]; c != nil {
			c.cancel()
		}
		s.mu.Unlock()
		return
	}
	var t Tenant
	if err := jsonUnmarshal(e.Value(), &t); err != nil {
		s.log.Warn("unreadable tenant record", "tenant", id)
		return
	}
	s.mu.Lock()
	prev := s.tenants[id]
	s.tenants[id] = &t
	if t.Disabled || (prev != nil && prev.TokenHash != t.TokenHash) {
		// Disabled, or re-enrolled with new keys: the old connection's
		// key no longer counts.
		if c := s.conns[id]; c != nil {
			c.cancel()
		}
	}
	s.mu.Unlock()
}

// tenant returns the current record from the watched table. fresh, if
// not nil, says whether a cached record will do; if not (e.g. the token
// does not match) the bucket is read, in case the watcher has not caught
// up with an enrollment made a moment ago (here or on another instance).
func (s *Server) tenant(ctx context.Context, id string, fresh func(*Tenant) bool) *Tenant {
	if !validTenantID(id) {
		return nil
	}
	s.mu.RLock()
	t := s.tenants[id]
	s.mu.RUnlock()
	if t != nil && (fresh == nil || fresh(t)) {
		return t
	}
	t, _, err := getTenant(ctx, s.o.tenants, id)
	if err != nil {
		return nil
	}
	return t
}

// usable: enrolled and not disabled.
func usable(t *Tenant) bool { return t != nil && !t.Disabled && t.Enrolled() }

func (s *Server) limiter(id string) *rate.Limiter {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.limiters[id]
	if l == nil {
		l = rate.NewLimiter(rate.Limit(s.cfg.TenantRate), s.cfg.TenantBurst)
		s.limiters[id] = l
	}
	return l
}

// publicBase is the base of URLs handed out (webhook and media).
func (s *Server) publicBase(r *http.Request) string {
	if s.cfg.PublicURL != "" {
		return strings.TrimRight(s.cfg.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func splitHostPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("relay: NATS listen address %q: %w", addr, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return "", 0, fmt.Errorf("relay: NATS listen port %q: %w", p, err)
	}
	return host, port, nil
}

// MaxBody is the most Config.MaxBody may be (wire.MaxBodyBytes).
const MaxBody = wire.MaxBodyBytes
