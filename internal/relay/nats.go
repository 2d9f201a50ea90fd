package relay

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"tsunagu/internal/relay/wire"
)

// JetStream layout: one stream holds every tenant's events on subjects
// hooks.<tenantID>.<size class> (see sizeClass), work-queue retention (an
// acked event is gone) and a maximum age; one durable pull consumer per
// tenant filtered on its subjects. Events a desktop could not take after
// many deliveries move to a second stream of dead letters
// (dead.<tenantID>). Tenants live in a KV bucket and uploaded media in an
// object store, so several relay instances on one NATS cluster share
// everything.
const (
	streamName    = "TSUNAGU_HOOKS"
	subjectPrefix = "hooks."
	deadStream    = "TSUNAGU_DEAD"
	deadPrefix    = "dead."
	tenantsBucket = "tsunagu_relay_tenants"
	noncesBucket  = "tsunagu_relay_nonces"
	// attemptsBucket counts the lone delivery attempts of redelivered
	// events (see deliver), key TENANT.SEQ.
	attemptsBucket = "tsunagu_relay_attempts"
	mediaBucket    = "tsunagu_relay_media"
	// linksBucket maps a tracked link (LinkKey: a hash of tenant and
	// token) to its target URL and expiry.
	linksBucket = "tsunagu_relay_links"
	// formsBucket holds published form definitions (forms.go) under
	// TENANT.FORM: questions and texts, nothing about anyone.
	formsBucket = "tsunagu_relay_forms"
	// prefillBucket holds sealed prefill values (forms_prefill.go) under
	// TENANT.ID, each with its own TTL (its expiry): ciphertext only.
	prefillBucket = "tsunagu_relay_prefill"
	// bookingBucket holds each tenant's published availability (key
	// TENANT: bare slots, no names); holdsBucket the places held at the
	// relay and not yet counted by the desktop (booking.go).
	bookingBucket = "tsunagu_relay_booking"
	holdsBucket   = "tsunagu_relay_holds"
	// wakePrefix: a core NATS (not stored) nudge after each queued event,
	// so the instance holding the tenant's connection fetches at once
	// without every instance receiving every body.
	wakePrefix = "tsunagu_relay.wake."
	// maxDeadPerTenant bounds one tenant's dead letters (the oldest go).
	maxDeadPerTenant = 10_000
	// headerSlack is room for NATS headers and subjects on top of a sealed
	// event (the dead-letter copy carries a few headers).
	headerSlack = 4 << 10
)

// RequiredMaxPayload is the NATS max_payload the relay needs: the largest
// sealed event (a body of wire.MaxBodyBytes) with its headers.
const RequiredMaxPayload = wire.MaxEventBytes + headerSlack

// subjectOf is where an event of sealedLen bytes is published.
func subjectOf(tenant string, sealedLen int) string {
	return subjectPrefix + tenant + "." + strconv.FormatInt(sizeClass(sealedLen), 10)
}

// tenantSubjects are a tenant's event subjects: with a size class, and the
// bare hooks.<tenant> of relays before size classes (still delivered).
func tenantSubjects(tenant string) []string {
	return []string{subjectPrefix + tenant, subjectPrefix + tenant + ".*"}
}

func deadSubjectOf(tenant string) string { return deadPrefix + tenant }
func wakeSubjectOf(tenant string) string { return wakePrefix + tenant }
func consumerOf(tenant string) string    { return "t_" + tenant }

// embedded is a single-node NATS server with JetStream in this process.
type embedded struct {
	srv   *server.Server
	token string
}

// startEmbedded starts NATS with JetStream's file store under dir. Every
// write is fsynced before JetStream acknowledges it (SyncAlways), so an
// event the relay answered 200 for survives kill -9 and power loss. The
// server listens on no port unless listen is set (loopback, for the tenant
// admin commands to reach a running relay).
// listen "host:0" means a free port (nats-server's own 0 means 4222).
func startEmbedded(dir, listen, token string) (*embedded, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("relay: data dir: %w", err)
	}
	opts := &server.Options{
		ServerName: "tsunagu-relay",
		JetStream:  true,
		StoreDir:   filepath.Join(dir, "jetstream"),
		SyncAlways: true,
		NoLog:      true,
		NoSigs:     true,
		DontListen: listen == "",
		// The default (1 MiB) cannot carry a sealed body of exactly the
		// documented maximum.
		MaxPayload: RequiredMaxPayload,
	}
	if listen != "" {
		host, port, err := splitHostPort(listen)
		if err != nil {
			return nil, err
		}
		if port == 0 {
			port = server.RANDOM_PORT
		}
		opts.Host, opts.Port = host, port
		if token == "" {
			return nil, errors.New("relay: the embedded NATS listener needs a token")
		}
		opts.Authorization = token
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("relay: embedded NATS: %w", err)
	}
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return nil, errors.New("relay: embedded NATS did not start")
	}
	return &embedded{srv: srv, token: token}, nil
}

func (e *embedded) connect() (*nats.Conn, error) {
	return nats.Connect("", nats.InProcessServer(e.srv), nats.Name("tsunagu-relay"), nats.Token(e.token))
}

func (e *embedded) close() {
	e.srv.Shutdown()
	e.srv.WaitForShutdown()
}

// queueConfig are the limits of the JetStream objects.
type queueConfig struct {
	Retention     time.Duration
	MaxPerTenant  int64
	Replicas      int
	MediaTTL      time.Duration
	MediaMaxBytes int64
	AckWait       time.Duration
	MaxAckPending int
	ChallengeTTL  time.Duration
	LinkTTL       time.Duration
}

// jsObjects are the JetStream objects the relay uses.
type jsObjects struct {
	js       jetstream.JetStream
	stream   jetstream.Stream
	dead     jetstream.Stream
	tenants  jetstream.KeyValue
	nonces   jetstream.KeyValue
	attempts jetstream.KeyValue
	links    jetstream.KeyValue
	forms    jetstream.KeyValue
	prefill  jetstream.KeyValue
	booking  jetstream.KeyValue
	holds    jetstream.KeyValue
	media    jetstream.ObjectStore
}

// setupJetStream creates or updates the stream, buckets and object store.
// It is idempotent, so every relay instance runs it at start.
func setupJetStream(ctx context.Context, nc *nats.Conn, cfg queueConfig) (*jsObjects, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("relay: jetstream: %w", err)
	}
	o := &jsObjects{js: js}
	o.stream, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:                 streamName,
		Description:          "Tsunagu relay: sealed LINE webhooks, one subject per tenant",
		Subjects:             []string{subjectPrefix + ">"},
		Retention:            jetstream.WorkQueuePolicy,
		MaxAge:               cfg.Retention,
		MaxMsgsPerSubject:    cfg.MaxPerTenant,
		Discard:              jetstream.DiscardNew,
		DiscardNewPerSubject: true,
		Storage:              jetstream.FileStorage,
		Replicas:             cfg.Replicas,
		Duplicates:           2 * time.Minute,
		MaxMsgSize:           RequiredMaxPayload,
	})
	if err != nil {
		return nil, fmt.Errorf("relay: stream %s: %w", streamName, err)
	}
	o.dead, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:              deadStream,
		Description:       "Tsunagu relay: sealed events a desktop did not take after many deliveries",
		Subjects:          []string{deadPrefix + "*"},
		Retention:         jetstream.LimitsPolicy,
		MaxAge:            cfg.Retention,
		MaxMsgsPerSubject: maxDeadPerTenant,
		Discard:           jetstream.DiscardOld,
		Storage:           jetstream.FileStorage,
		Replicas:          cfg.Replicas,
		Duplicates:        2 * time.Minute,
		MaxMsgSize:        RequiredMaxPayload,
	})
	if err != nil {
		return nil, fmt.Errorf("relay: stream %s: %w", deadStream, err)
	}
	o.tenants, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      tenantsBucket,
		Description: "Tsunagu relay tenants (public keys and hashes only)",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("relay: bucket %s: %w", tenantsBucket, err)
	}
	o.nonces, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      noncesBucket,
		Description: "Tsunagu relay single-use upload challenges",
		History:     1,
		TTL:         cfg.ChallengeTTL,
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("relay: bucket %s: %w", noncesBucket, err)
	}
	o.attempts, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      attemptsBucket,
		Description: "Tsunagu relay: lone delivery attempts of redelivered events",
		History:     1,
		TTL:         cfg.Retention,
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("relay: bucket %s: %w", attemptsBucket, err)
	}
	o.links, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      linksBucket,
		Description: "Tsunagu relay tracked links: hash of tenant and token -> target URL and expiry",
		History:     1,
		TTL:         cfg.LinkTTL,
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("relay: bucket %s: %w", linksBucket, err)
	}
	o.forms, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      formsBucket,
		Description: "Tsunagu relay form definitions (no customer data)",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("relay: bucket %s: %w", formsBucket, err)
	}
	o.prefill, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      prefillBucket,
		Description: "Tsunagu relay sealed prefill values (ciphertext; each key expires)",
		History:     1,
		// Per-key TTLs (the link's expiry) need limit markers; MaxAge is
		// the backstop for the longest a form may set.
		TTL:            time.Duration(wire.MaxPrefillTTL)*time.Millisecond + time.Hour,
		LimitMarkerTTL: time.Minute,
		Storage:        jetstream.FileStorage,
		Replicas:       cfg.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("relay: bucket %s: %w", prefillBucket, err)
	}
	for _, b := range []struct {
		kv   *jetstream.KeyValue
		name string
	}{{&o.booking, bookingBucket}, {&o.holds, holdsBucket}} {
		*b.kv, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket: b.name, Description: "Tsunagu relay consultation booking (no names)", History: 1,
			Storage: jetstream.FileStorage, Replicas: cfg.Replicas,
		})
		if err != nil {
			return nil, fmt.Errorf("relay: bucket %s: %w", b.name, err)
		}
	}
	o.media, err = js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket:      mediaBucket,
		Description: "Tsunagu relay media for LINE to fetch (not sealed)",
		TTL:         cfg.MediaTTL,
		MaxBytes:    cfg.MediaMaxBytes,
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("relay: object store %s: %w", mediaBucket, err)
	}
	return o, nil
}

// ensureConsumer creates the tenant's durable pull consumer (idempotent).
func (o *jsObjects) ensureConsumer(ctx context.Context, tenant string, cfg queueConfig) (jetstream.Consumer, error) {
	cc := jetstream.ConsumerConfig{
		Durable:        consumerOf(tenant),
		FilterSubjects: tenantSubjects(tenant),
		AckPolicy:      jetstream.AckExplicitPolicy,
		DeliverPolicy:  jetstream.DeliverAllPolicy,
		AckWait:        cfg.AckWait,
		MaxAckPending:  cfg.MaxAckPending,
		// No MaxDeliver: an event delivered too often is moved to the
		// dead letters by the relay when it is fetched once more
		// (deliver), so nothing is ever stranded in the work queue.
		MaxDeliver: -1,
		Replicas:   cfg.Replicas,
	}
	c, err := o.stream.CreateOrUpdateConsumer(ctx, cc)
	if errors.Is(err, jetstream.ErrConsumerMultipleFilterSubjectsNotSupported) {
		// A consumer of a relay before size classes (one filter
		// subject) is not changed in place by the server: replace it.
		// The work queue keeps every unacked event, and the new
		// consumer delivers them all again, in order, from the first.
		if err := o.stream.DeleteConsumer(ctx, consumerOf(tenant)); err != nil {
			return nil, fmt.Errorf("relay: replace consumer for tenant %s: %w", tenant, err)
		}
		c, err = o.stream.CreateOrUpdateConsumer(ctx, cc)
	}
	if err != nil {
		return nil, fmt.Errorf("relay: consumer for tenant %s: %w", tenant, err)
	}
	return c, nil
}

// removeTenantQueue deletes the tenant's consumer and purges its events.
func (o *jsObjects) removeTenantQueue(ctx context.Context, tenant string) error {
	if err := o.stream.DeleteConsumer(ctx, consumerOf(tenant)); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return fmt.Errorf("relay: delete consumer: %w", err)
	}
	for _, subj := range tenantSubjects(tenant) {
		if err := o.stream.Purge(ctx, jetstream.WithPurgeSubject(subj)); err != nil {
			return fmt.Errorf("relay: purge queue: %w", err)
		}
	}
	if err := o.dead.Purge(ctx, jetstream.WithPurgeSubject(deadSubjectOf(tenant))); err != nil {
		return fmt.Errorf("relay: purge dead letters: %w", err)
	}
	return nil
}

// openJetStream finds the relay's JetStream objects, creating any that are
// missing with cfg; unlike setupJetStream it never changes existing ones
// (the admin commands must not reset a running relay's limits).
func openJetStream(ctx context.Context, nc *nats.Conn, cfg queueConfig) (*jsObjects, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("relay: jetstream: %w", err)
	}
	o := &jsObjects{js: js}
	var e1, e2, e3, e4, e5, e6, e7, e8 error
	o.stream, e1 = js.Stream(ctx, streamName)
	o.dead, e5 = js.Stream(ctx, deadStream)
	o.attempts, e6 = js.KeyValue(ctx, attemptsBucket)
	o.tenants, e2 = js.KeyValue(ctx, tenantsBucket)
	o.nonces, e3 = js.KeyValue(ctx, noncesBucket)
	o.media, e4 = js.ObjectStore(ctx, mediaBucket)
	o.links, e7 = js.KeyValue(ctx, linksBucket)
	o.forms, e8 = js.KeyValue(ctx, formsBucket)
	var e9, e10, e11 error
	o.booking, e9 = js.KeyValue(ctx, bookingBucket)
	o.holds, e10 = js.KeyValue(ctx, holdsBucket)
	o.prefill, e11 = js.KeyValue(ctx, prefillBucket)
	if e1 == nil && e2 == nil && e3 == nil && e4 == nil && e5 == nil && e6 == nil && e7 == nil && e8 == nil && e9 == nil && e10 == nil && e11 == nil {
		return o, nil
	}
	return setupJetStream(ctx, nc, cfg)
}

// queueUsage is what a tenant has queued: events and bytes (by size class).
type queueUsage struct {
	Count int64
	Bytes int64
}

// addSubject counts n events on subject subj (hooks.TENANT[.CLASS]) and
// returns the tenant. Events of relays before size classes count 1 KiB.
func (u *queueUsage) addSubject(subj string, n uint64) string {
	rest := strings.TrimPrefix(subj, subjectPrefix)
	tenant, class, ok := strings.Cut(rest, ".")
	size := int64(1 << 10)
	if ok {
		if c, err := strconv.ParseInt(class, 10, 64); err == nil && c > 0 {
			size = c
		}
	}
	u.Count += int64(n)
	u.Bytes += int64(n) * size
	return tenant
}

// tenantUsage reads one tenant's queued events and bytes from JetStream's
// per-subject counts (the same for every instance on the cluster). Events
// queued by relays before size classes are left out: they are bounded by
// the per-subject count limit and are the first to drain.
func (o *jsObjects) tenantUsage(ctx context.Context, tenant string) (queueUsage, error) {
	var u queueUsage
	si, err := o.stream.Info(ctx, jetstream.WithSubjectFilter(subjectPrefix+tenant+".*"))
	if err != nil {
		return u, fmt.Errorf("relay: queue of tenant %s: %w", tenant, err)
	}
	for s, n := range si.State.Subjects {
		u.addSubject(s, n)
	}
	return u, nil
}

// queueUsages returns every tenant's queued events and bytes.
func queueUsages(ctx context.Context, o *jsObjects) (map[string]queueUsage, error) {
	si, err := o.stream.Info(ctx, jetstream.WithSubjectFilter(subjectPrefix+">"))
	if err != nil {
		return nil, err
	}
	out := map[string]queueUsage{}
	for subj, n := range si.State.Subjects {
		var u queueUsage
		t := u.addSubject(subj, n)
		prev := out[t]
		out[t] = queueUsage{Count: prev.Count + u.Count, Bytes: prev.Bytes + u.Bytes}
	}
	return out, nil
}

// deadCounts returns the number of dead letters per tenant.
func deadCounts(ctx context.Context, o *jsObjects) (map[string]uint64, error) {
	si, err := o.dead.Info(ctx, jetstream.WithSubjectFilter(deadPrefix+"*"))
	if err != nil {
		return nil, err
	}
	out := map[string]uint64{}
	for subj, n := range si.State.Subjects {
		out[strings.TrimPrefix(subj, deadPrefix)] = n
	}
	return out, nil
}
