// Command tsunagu-relay is Tsunagu's webhook relay: it receives LINE
// webhooks for many branches, seals them to each branch desktop's key,
// queues them durably in NATS JetStream and delivers them to the desktop.
// It never links Wails, GTK, the customer DB or the keychain.
//
//	tsunagu-relay serve --domain relay.example.jp            # built-in ACME TLS
//	tsunagu-relay serve --behind-proxy --listen 127.0.0.1:8080 --public-url https://relay.example.jp
//	tsunagu-relay tenant add "○○信用金庫 本店"                # prints the enrollment code
//	tsunagu-relay tenant list | disable ID | enable ID | remove ID | code ID | deadletters ID
package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go"
	"golang.org/x/crypto/acme/autocert"

	"tsunagu/internal/relay"
	"tsunagu/internal/version"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

const usageText = `usage: tsunagu-relay COMMAND [flags]

commands:
  serve                 run the relay (--domain NAME for built-in TLS, or --behind-proxy)
  tenant add NAME       add a tenant (one LINE channel); prints its enrollment code
  tenant list           list tenants, enrolled or not, and their queued events
  tenant disable ID     refuse its webhooks and connections (queued events are kept)
  tenant enable ID      undo disable
  tenant remove ID      delete the tenant, its queued events and its media
  tenant code ID        issue a new enrollment code (a replaced PC re-enrolls)
  tenant deadletters ID list the events its desktop did not take (moved aside
                        after --max-deliveries); --replay puts them back at the
                        end of its queue, --purge deletes them; --id N (repeatable)
                        picks some
  version               print the version

common flags: --data-dir DIR (embedded NATS; default /var/lib/tsunagu-relay or
$TSUNAGU_RELAY_DATA), --nats-url URL (an external NATS cluster; $TSUNAGU_RELAY_NATS_URL)
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stderr, usageText)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	var err error
	switch {
	case args[0] == "serve":
		err = cmdServe(ctx, args[1:], stderr)
	case args[0] == "tenant" && len(args) > 1:
		err = cmdTenant(ctx, args[1], args[2:], stdout, stderr)
	case args[0] == "version":
		fmt.Fprintln(stdout, "tsunagu-relay", version.Get().String())
	default:
		fmt.Fprint(stderr, usageText)
		fmt.Fprintf(stderr, "\nunknown command: %s\n", strings.Join(args, " "))
		return 2
	}
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "tsunagu-relay: %s\n", err)
			return 2
		}
		fmt.Fprintf(stderr, "tsunagu-relay: %s\n", err)
		return 1
	}
	return 0
}

type usageError struct{ error }

// common are the flags every command takes.
type common struct {
	dataDir string
	natsURL string
}

func (c *common) register(fs *flag.FlagSet) {
	def := os.Getenv("TSUNAGU_RELAY_DATA")
	if def == "" {
		def = "/var/lib/tsunagu-relay"
	}
	fs.StringVar(&c.dataDir, "data-dir", def, "data folder of the embedded NATS server")
	fs.StringVar(&c.natsURL, "nats-url", os.Getenv("TSUNAGU_RELAY_NATS_URL"), "external NATS cluster URL(s), comma-separated; empty: embedded")
}

// adminFile tells the tenant commands how to reach a running relay's
// embedded NATS server (a loopback port and a random token; mode 0600).
const adminFile = "admin.json"

type adminInfo struct {
	URL   string `json:"url"`
	Token string `json:"token"`
}

func cmdServe(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("tsunagu-relay serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs)
	var (
		domain      = fs.String("domain", "", "public host name: serve HTTPS on :443 with a Let's Encrypt certificate (ACME), and :80 for the challenge")
		behindProxy = fs.Bool("behind-proxy", false, "serve plain HTTP on --listen; a reverse proxy terminates TLS")
		listen      = fs.String("listen", "127.0.0.1:8080", "address for --behind-proxy")
		publicURL   = fs.String("public-url", "", "public base URL for webhook and media URLs (default https://DOMAIN, or from the request)")
		metricsAddr = fs.String("metrics-listen", "127.0.0.1:9464", "address of /metrics (keep it private); empty: off")
		replicas    = fs.Int("replicas", 1, "JetStream replicas on an external cluster (3 on a three-node cluster)")
		retention   = fs.Duration("retention", 7*24*time.Hour, "how long undelivered events are kept")
		maxBody     = fs.Int64("max-body", 1<<20, "largest webhook body in bytes (413 beyond)")
		rate        = fs.Float64("tenant-rate", 200, "webhooks per second per tenant on this instance (429 beyond)")
		burst       = fs.Int("tenant-burst", 400, "burst of the per-tenant rate")
		maxQueued   = fs.Int64("max-queued", 100_000, "undelivered events per tenant (503 beyond)")
		maxQBytes   = fs.Int64("max-queued-bytes", 256<<20, "bytes of undelivered events per tenant, sealed, counted by size class (503 beyond)")
		maxDeliver  = fs.Int("max-deliveries", 10, "deliveries without an ack before an event moves to the tenant's dead letters")
		bodyTimeout = fs.Duration("body-timeout", 10*time.Second, "time to read a webhook body once its headers are in (408 beyond)")
		hdrTimeout  = fs.Duration("header-timeout", 5*time.Second, "time to read a request's headers")
		maxConns    = fs.Int("max-conns", 0, "open connections on the public listener; beyond, 503 at once (default: 10000, or less to stay 512 under the file limit)")
		perClient   = fs.Int("max-conns-per-client", 256, "open connections per client address (IPv6: per /64); 0: no bound (default 0 with --behind-proxy, where the proxy is the only client)")
		mediaTTL    = fs.Duration("media-ttl", 7*24*time.Hour, "how long uploaded images are served")
		maxMedia    = fs.Int64("max-media", 10<<20, "largest uploaded image in bytes")
		clickRate   = fs.Float64("click-rate", 2000, "tracked-link clicks queued per second per tenant on this instance; beyond, a click is redirected but not counted")
		clickBurst  = fs.Int("click-burst", 4000, "burst of --click-rate")
		clientRate  = fs.Float64("click-rate-per-client", 10, "tracked-link clicks queued per second per client address (IPv6: per /64; behind a proxy: the last X-Forwarded-For entry); beyond, a click is redirected but not counted; 0: no bound")
		clientBurst = fs.Int("click-burst-per-client", 50, "burst of --click-rate-per-client")
		linkMaxTTL  = fs.Duration("link-max-ttl", 400*24*time.Hour, "longest a tracked link redirects; a link published with a later expiry ends then (the desktop asks 180 days)")
		logJSON     = fs.Bool("log-json", false, "log as JSON")
	)
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if (*domain == "") == !*behindProxy {
		return usageError{errors.New("serve needs exactly one of --domain NAME or --behind-proxy")}
	}
	if *linkMaxTTL < 24*time.Hour {
		return usageError{errors.New("--link-max-ttl must be at least 24h (a link must outlive the message that carries it)")}
	}
	if *clickRate <= 0 || *clickBurst < 1 || *clientRate < 0 || *clientBurst < 1 {
		return usageError{errors.New("--click-rate and the bursts must be positive, --click-rate-per-client 0 or more")}
	}
	if *clientRate == 0 {
		*clientRate = -1 // the Config's "off"
	}
	if *maxBody > relay.MaxBody {
		return usageError{fmt.Errorf("--max-body may be at most %d (what a desktop's connection admits once sealed)", relay.MaxBody)}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *behindProxy && !set["max-conns-per-client"] {
		*perClient = 0
	}
	nofile := raiseFileLimit()
	if *maxConns <= 0 {
		*maxConns = 10_000
		if nofile > 0 {
			// Room for NATS's files, the metrics listener and logs.
			*maxConns = max(64, min(*maxConns, int(nofile)-512))
		}
	}
	var h slog.Handler = slog.NewTextHandler(os.Stderr, nil)
	if *logJSON {
		h = slog.NewJSONHandler(os.Stderr, nil)
	}
	log := slog.New(h)
	if *publicURL == "" && *domain != "" {
		*publicURL = "https://" + *domain
	}
	cfg := relay.Config{
		DataDir: c.dataDir, NATSURL: c.natsURL, Replicas: *replicas, PublicURL: *publicURL,
		Retention: *retention, MaxBody: *maxBody, TenantRate: *rate, TenantBurst: *burst,
		MaxQueuedPerTenant: *maxQueued, MaxQueuedBytesPerTenant: *maxQBytes, MaxDeliveries: *maxDeliver,
		BodyTimeout: *bodyTimeout, MediaTTL: *mediaTTL, MaxMedia: *maxMedia, Logger: log,
		ClickRate: *clickRate, ClickBurst: *clickBurst, ClickRatePerClient: *clientRate, ClickBurstPerClient: *clientBurst,
		LinkTTL: *linkMaxTTL, TrustForwardedFor: *behindProxy,
	}
	if c.natsURL == "" {
		cfg.NATSListen = "127.0.0.1:0"
		cfg.NATSToken = randomToken()
	}
	srv, err := relay.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer srv.Close()
	if u := srv.NATSClientURL(); u != "" {
		path := filepath.Join(c.dataDir, adminFile)
		data, _ := json.Marshal(adminInfo{URL: u, Token: cfg.NATSToken})
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		defer os.Remove(path)
	}

	errc := make(chan error, 4)
	var servers []*http.Server
	serve := func(s *http.Server, ln net.Listener) {
		servers = append(servers, s)
		go func() {
			var err error
			if s.TLSConfig != nil {
				err = s.ServeTLS(ln, "", "")
			} else {
				err = s.Serve(ln)
			}
			if !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
	}
	// No ReadTimeout: the handlers set their own body deadlines (a webhook
	// --body-timeout, an image upload minutes), and a WebSocket lives long.
	newServer := func(h http.Handler) *http.Server {
		return &http.Server{Handler: h, ReadHeaderTimeout: *hdrTimeout,
			IdleTimeout: 60 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	}
	lim := relay.ConnLimits{MaxConns: *maxConns, MaxPerClient: *perClient}
	if *domain != "" {
		m := &autocert.Manager{Prompt: autocert.AcceptTOS, HostPolicy: autocert.HostWhitelist(*domain),
			Cache: autocert.DirCache(filepath.Join(c.dataDir, "autocert"))}
		tlsLn, err := net.Listen("tcp", ":443")
		if err != nil {
			return err
		}
		httpLn, err := net.Listen("tcp", ":80")
		if err != nil {
			return err
		}
		s := newServer(srv.Handler())
		s.TLSConfig = &tls.Config{GetCertificate: m.GetCertificate, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1", "acme-tls/1"}}
		tlsLim := lim
		tlsLim.TLS = s.TLSConfig
		serve(s, srv.LimitListener(tlsLn, tlsLim))
		serve(newServer(m.HTTPHandler(nil)), srv.LimitListener(httpLn, lim))
		log.Info("serving HTTPS", "domain", *domain)
	} else {
		ln, err := net.Listen("tcp", *listen)
		if err != nil {
			return err
		}
		serve(newServer(srv.Handler()), srv.LimitListener(ln, lim))
		log.Info("serving HTTP behind a proxy", "addr", ln.Addr().String(), "max_conns", lim.MaxConns, "max_conns_per_client", lim.MaxPerClient)
		// Tests and scripts read the address from here.
		fmt.Fprintf(stderr, "listening on %s\n", ln.Addr())
	}
	if *metricsAddr != "" {
		ln, err := net.Listen("tcp", *metricsAddr)
		if err != nil {
			return err
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", srv.MetricsHandler())
		serve(newServer(mux), ln)
		fmt.Fprintf(stderr, "metrics on %s\n", ln.Addr())
	}
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, s := range servers {
		s.Shutdown(sctx)
	}
	return err
}

func randomToken() string {
	b := make([]byte, 24)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// openAdmin reaches the tenants: on the external cluster, on the running
// relay's embedded server, or (relay stopped) on the data folder directly.
func openAdmin(ctx context.Context, c common) (*relay.Admin, func(), error) {
	if c.natsURL != "" {
		return relay.OpenAdmin(ctx, relay.Config{NATSURL: c.natsURL})
	}
	if data, err := os.ReadFile(filepath.Join(c.dataDir, adminFile)); err == nil {
		var ai adminInfo
		if json.Unmarshal(data, &ai) == nil {
			a, closeFn, err := relay.OpenAdmin(ctx, relay.Config{NATSURL: ai.URL,
				NATSOptions: []nats.Option{nats.Token(ai.Token), nats.MaxReconnects(0), nats.Timeout(2 * time.Second)}})
			if err == nil {
				return a, closeFn, nil
			}
		}
	}
	return relay.OpenAdmin(ctx, relay.Config{DataDir: c.dataDir})
}

func cmdTenant(ctx context.Context, sub string, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tsunagu-relay tenant "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	replay := fs.Bool("replay", false, "deadletters: put them back at the end of the queue")
	purge := fs.Bool("purge", false, "deadletters: delete them")
	var ids idList
	fs.Var(&ids, "id", "deadletters: only this one (repeatable)")
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return usageError{err}
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	want := map[string]int{"add": 1, "list": 0, "disable": 1, "enable": 1, "remove": 1, "code": 1, "deadletters": 1}
	n, ok := want[sub]
	if !ok {
		return usageError{fmt.Errorf("unknown tenant command %q", sub)}
	}
	if len(pos) != n {
		return usageError{fmt.Errorf("tenant %s takes %d argument(s)", sub, n)}
	}
	if *replay && *purge {
		return usageError{errors.New("--replay and --purge exclude each other")}
	}
	a, closeFn, err := openAdmin(ctx, c)
	if err != nil {
		return err
	}
	defer closeFn()
	switch sub {
	case "add":
		info, code, err := a.AddTenant(ctx, pos[0])
		if err != nil {
			return err
		}
		if *asJSON {
			return json.NewEncoder(stdout).Encode(map[string]any{"tenant": info, "code": code})
		}
		fmt.Fprintf(stdout, "tenant %s added (%s)\nenrollment code (valid %s, single use): %s\n",
			info.ID, info.Name, relay.CodeTTL, code)
	case "list":
		list, err := a.ListTenants(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			return json.NewEncoder(stdout).Encode(list)
		}
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tENROLLED\tDISABLED\tQUEUED\tQUEUED_BYTES\tDEAD\tCREATED")
		for _, t := range list {
			fmt.Fprintf(tw, "%s\t%s\t%v\t%v\t%d\t%d\t%d\t%s\n", t.ID, t.Name, t.Enrolled, t.Disabled, t.Queued, t.QueuedBytes, t.DeadLetters, t.CreatedAt.Format(time.RFC3339))
		}
		tw.Flush()
	case "disable", "enable":
		if err := a.SetDisabled(ctx, pos[0], sub == "disable"); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "tenant %s %sd\n", pos[0], sub)
	case "remove":
		if err := a.RemoveTenant(ctx, pos[0]); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "tenant %s removed with its queued events and media\n", pos[0])
	case "code":
		code, err := a.ReissueCode(ctx, pos[0])
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "new enrollment code for %s (valid %s, single use): %s\n", pos[0], relay.CodeTTL, code)
	case "deadletters":
		switch {
		case *replay:
			n, err := a.ReplayDeadLetters(ctx, pos[0], ids)
			fmt.Fprintf(stdout, "%d dead letter(s) of %s put back at the end of its queue\n", n, pos[0])
			return err
		case *purge:
			n, err := a.PurgeDeadLetters(ctx, pos[0], ids)
			fmt.Fprintf(stdout, "%d dead letter(s) of %s deleted\n", n, pos[0])
			return err
		}
		list, err := a.DeadLetters(ctx, pos[0])
		if err != nil {
			return err
		}
		if *asJSON {
			return json.NewEncoder(stdout).Encode(list)
		}
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tEVENT_SEQ\tRECEIVED\tDEAD_SINCE\tDELIVERIES\tREASON\tBYTES")
		for _, d := range list {
			fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%d\t%s\t%d\n", d.ID, d.EventSeq, d.ReceivedAt.Format(time.RFC3339), d.DeadAt.Format(time.RFC3339), d.Deliveries, d.Reason, d.Bytes)
		}
		tw.Flush()
	}
	return nil
}

// idList is a repeatable --id flag.
type idList []uint64

func (l *idList) String() string { return fmt.Sprint([]uint64(*l)) }

func (l *idList) Set(v string) error {
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return fmt.Errorf("not a dead letter ID: %q", v)
	}
	*l = append(*l, n)
	return nil
}
