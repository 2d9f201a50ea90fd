package relay

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// JetStream layout: one stream holds every tenant's events, one subject per
// tenant (hooks.<tenantID>), work-queue retention (an acked event is gone)
// and a maximum age; one durable pull consumer per tenant filtered on its
// subject. Tenants live in a KV bucket and uploaded media in an object
// store, so several relay instances on one NATS cluster share everything.
const (
	streamName    = "TSUNAGU_HOOKS"
	subjectPrefix = "hooks."
	tenantsBucket = "tsunagu_relay_tenants"
	noncesBucket  = "tsunagu_relay_nonces"
	mediaBucket   = "tsunagu_relay_media"
)

func subjectOf(tenant string) string  { return subjectPrefix + tenant }
func consumerOf(tenant string) string { return "t_" + tenant }

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
	}
	if listen != "" {
		host, port, err := splitHostPort(listen)
		if err != nil {
			return nil, err
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
}

// jsObjects are the JetStream objects the relay uses.
type jsObjects struct {
	js      jetstream.JetStream
	stream  jetstream.Stream
	tenants jetstream.KeyValue
	nonces  jetstream.KeyValue
	media   jetstream.ObjectStore
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
		Subjects:             []string{subjectPrefix + "*"},
		Retention:            jetstream.WorkQueuePolicy,
		MaxAge:               cfg.Retention,
		MaxMsgsPerSubject:    cfg.MaxPerTenant,
		Discard:              jetstream.DiscardNew,
		DiscardNewPerSubject: true,
		Storage:              jetstream.FileStorage,
		Replicas:             cfg.Replicas,
		Duplicates:           2 * time.Minute,
	})
	if err != nil {
		return nil, fmt.Errorf("relay: stream %s: %w", streamName, err)
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
	c, err := o.stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       consumerOf(tenant),
		FilterSubject: subjectOf(tenant),
		AckPolicy:     jetstream.AckExplicitPolicy,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckWait:       cfg.AckWait,
		MaxAckPending: cfg.MaxAckPending,
		Replicas:      cfg.Replicas,
	})
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
	if err := o.stream.Purge(ctx, jetstream.WithPurgeSubject(subjectOf(tenant))); err != nil {
		return fmt.Errorf("relay: purge queue: %w", err)
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
	var e1, e2, e3, e4 error
	o.stream, e1 = js.Stream(ctx, streamName)
	o.tenants, e2 = js.KeyValue(ctx, tenantsBucket)
	o.nonces, e3 = js.KeyValue(ctx, noncesBucket)
	o.media, e4 = js.ObjectStore(ctx, mediaBucket)
	if e1 == nil && e2 == nil && e3 == nil && e4 == nil {
		return o, nil
	}
	return setupJetStream(ctx, nc, cfg)
}
