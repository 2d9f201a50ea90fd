// Package relayclient is the desktop's side of the webhook relay: it makes
// the keys, enrolls with a code, holds the one authenticated delivery
// connection, opens each sealed event and hands the raw body and LINE
// signature to a handler, and acks an event only after the handler has
// returned nil (for Tsunagu: after the inbox's DB transaction committed).
// It also uploads images for LINE to fetch.
//
// It holds keys only in memory for as long as the caller keeps the Client;
// storing them is the secrets package's job.
package relayclient

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"tsunagu/internal/relay/wire"
)

// Keys are the desktop's relay keys: X25519 to open sealed events, Ed25519
// to prove who it is.
type Keys struct {
	BoxPub, BoxPriv [wire.KeySize]byte
	AuthPriv        ed25519.PrivateKey
}

// GenerateKeys makes a new key set.
func GenerateKeys() (Keys, error) {
	pub, priv, err := wire.GenerateBoxKey()
	if err != nil {
		return Keys{}, err
	}
	_, auth, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return Keys{}, err
	}
	return Keys{BoxPub: *pub, BoxPriv: *priv, AuthPriv: auth}, nil
}

// Enrollment is what the desktop keeps (not secret): where the relay is,
// its tenant ID there, and the URL to give LINE.
type Enrollment struct {
	RelayURL   string `json:"relayUrl"`
	Tenant     string `json:"tenant"`
	WebhookURL string `json:"webhookUrl"`
}

// Errors.
var (
	// ErrBadCode: the relay refused the enrollment code.
	ErrBadCode = errors.New("relayclient: the relay refused the enrollment code (wrong, used or expired)")
	// ErrUnauthorized: the relay refused this desktop's signature (wrong
	// key, tenant disabled or removed).
	ErrUnauthorized = errors.New("relayclient: the relay refused this desktop's key")
	// ErrDrop, wrapped in a handler's error, means the event is bad for
	// good (e.g. a forged signature): it is acked, counted and not
	// delivered again.
	ErrDrop = errors.New("relayclient: event dropped")
	// ErrBadURL: the text given as the relay's address is not a URL.
	ErrBadURL = errors.New("relayclient: not a relay URL (https://host)")
	// ErrEnrollFailed: the relay could not be reached or gave no usable
	// answer to an enrollment.
	ErrEnrollFailed = errors.New("relayclient: enrollment failed")
)

// NormalizeURL checks a relay base URL: http(s), a host, no query.
func NormalizeURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.User != nil {
		return "", fmt.Errorf("%w: %q", ErrBadURL, raw)
	}
	return strings.TrimRight(u.Scheme+"://"+u.Host+u.Path, "/"), nil
}

// Transport is the rule for the relay URL's scheme at enrollment, when the
// one-time code travels: whoever reads the code can redeem it with their own
// keys and receive the branch's events.
type Transport int

const (
	// HTTPSOnly accepts https:// only: every real enrollment.
	HTTPSOnly Transport = iota
	// HTTPLoopback also accepts http:// to a loopback host (127.0.0.0/8,
	// ::1, localhost), where the code never leaves the machine: tests and
	// development, behind an explicit option (tsunagu-cli relay enroll
	// --allow-http-loopback).
	HTTPLoopback
)

// ErrInsecureURL: an enrollment to an http:// relay URL that the Transport
// does not allow. Nothing was sent.
var ErrInsecureURL = errors.New("relayclient: enrollment needs an https:// relay URL (http:// only to this computer, with the explicit option)")

// EnrollURL is NormalizeURL plus the Transport rule: the one check every
// enrollment goes through (Enroll calls it before any connection).
func EnrollURL(raw string, t Transport) (string, error) {
	base, err := NormalizeURL(raw)
	if err != nil {
		return "", err
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("%w: %q", ErrBadURL, raw)
	}
	switch {
	case u.Scheme == "https":
		return base, nil
	case t == HTTPLoopback && isLoopbackHost(u.Hostname()):
		return base, nil
	}
	return "", fmt.Errorf("%w: %s", ErrInsecureURL, base)
}

// isLoopbackHost: a literal loopback address or the name localhost, which
// resolvers answer locally (RFC 6761). Other names are refused even if they
// resolve to 127.0.0.1 now: DNS is what an attacker in the path controls.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// Enroll redeems an enrollment code: the relay records the public keys and
// answers with the tenant ID and the webhook URL. The URL must pass
// EnrollURL with t; otherwise nothing is sent and the error wraps
// ErrInsecureURL.
func Enroll(ctx context.Context, hc *http.Client, relayURL, code string, keys Keys, t Transport) (Enrollment, error) {
	base, err := EnrollURL(relayURL, t)
	if err != nil {
		return Enrollment{}, err
	}
	// A redirect is not followed: for 307/308 Go would send the code again,
	// to wherever the answer points (http:// or another host included).
	client := http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if hc != nil {
		client = *hc
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	body, _ := json.Marshal(wire.EnrollRequest{Code: code, BoxKey: keys.BoxPub[:],
		AuthKey: keys.AuthPriv.Public().(ed25519.PublicKey)})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/enroll", bytes.NewReader(body))
	if err != nil {
		return Enrollment{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return Enrollment{}, fmt.Errorf("%w: %w", ErrEnrollFailed, err)
	}
	defer res.Body.Close()
	switch {
	case res.StatusCode == http.StatusForbidden:
		return Enrollment{}, ErrBadCode
	case res.StatusCode != http.StatusOK:
		return Enrollment{}, fmt.Errorf("%w: relay answered %s", ErrEnrollFailed, res.Status)
	}
	var er wire.EnrollResponse
	if err := json.NewDecoder(io.LimitReader(res.Body, 64<<10)).Decode(&er); err != nil || er.Tenant == "" || er.WebhookURL == "" {
		return Enrollment{}, fmt.Errorf("%w: unreadable answer", ErrEnrollFailed)
	}
	return Enrollment{RelayURL: base, Tenant: er.Tenant, WebhookURL: er.WebhookURL}, nil
}

// Handler gets each event's raw body and x-line-signature header, in queue
// order. Returning nil acks the event; an error wrapping ErrDrop acks and
// counts it as dropped; any other error leaves it unacked, and the
// connection is reset so the relay delivers it again after a backoff.
type Handler func(ctx context.Context, body []byte, signature string) error

// Event is one opened event of a batch: a webhook (Body, Signature) or,
// with Click set, a click on a tracked link, or, with Visit set, a visit
// of an inflow route's URL.
type Event struct {
	Body       []byte
	Signature  string
	ReceivedAt int64 // unix ms, at the relay
	Click      *wire.Click
	Visit      *wire.Click
	// Form is a web form submission, sealed in the customer's phone
	// (its ID token is not verified yet: that is the handler's job).
	Form *wire.FormSubmission
	// Booking is a booking page request (book, cancel, move), sealed in
	// the phone like a form answer.
	Booking *wire.BookingRequest
	// Released is a place the relay held for a box that is not the
	// booking request it was posted as (it does not open, or opens to
	// something else or another hold): the handler counts the hold as
	// released (docs/booking.md). Nothing else of the event is set.
	Released *wire.HeldPlace
}

// BatchHandler gets the opened events of one relay batch, in queue order,
// so it can store them in one transaction. It returns one result per
// event, with Handler's meaning: nil acks, an error wrapping ErrDrop acks
// and counts a drop, any other error leaves the event unacked (and resets
// the connection, so it comes again).
type BatchHandler func(ctx context.Context, events []Event) []error

// PerEvent adapts a Handler to a BatchHandler: the events are handled one
// at a time, and the first failure leaves the rest of the batch unacked.
func PerEvent(h Handler) BatchHandler {
	return func(ctx context.Context, events []Event) []error {
		out := make([]error, len(events))
		for i, ev := range events {
			out[i] = h(ctx, ev.Body, ev.Signature)
			if out[i] != nil && !errors.Is(out[i], ErrDrop) {
				for j := i + 1; j < len(events); j++ {
					out[j] = out[i]
				}
				break
			}
		}
		return out
	}
}

// Config configures a Client.
type Config struct {
	Enrollment Enrollment
	Keys       Keys
	HTTPClient *http.Client      // nil: http.DefaultClient
	Dialer     *websocket.Dialer // nil: websocket.DefaultDialer
	MinBackoff time.Duration     // [500 ms]
	MaxBackoff time.Duration     // [30 s]
	Logger     *slog.Logger      // nil: discard
	Clock      func() time.Time  // nil: time.Now
	// OnStatus is called after every change of Status; it must be quick.
	OnStatus func(Status)
}

// State of the connection.
type State string

const (
	StateStopped      State = "stopped"
	StateConnecting   State = "connecting"
	StateConnected    State = "connected"
	StateReconnecting State = "reconnecting"
	StateUnauthorized State = "unauthorized" // the relay refused the key; retried slowly
)

// Status is what the UI shows.
type Status struct {
	State       State     `json:"state"`
	LastEventAt time.Time `json:"lastEventAt,omitzero"` // when the last event was handled
	LastError   string    `json:"lastError,omitempty"`
	Pending     uint64    `json:"pending"`   // events still queued at the relay after the last batch
	LagMillis   int64     `json:"lagMillis"` // relay receipt to handled, last event
	Handled     int64     `json:"handled"`
	Dropped     int64     `json:"dropped"` // forged, undecryptable or malformed
	Connects    int64     `json:"connects"`
}

// Client is the desktop's connection to its relay.
type Client struct {
	cfg Config
	log *slog.Logger

	mu     sync.Mutex
	status Status
}

// New returns a Client; Run connects.
func New(cfg Config) (*Client, error) {
	if _, err := NormalizeURL(cfg.Enrollment.RelayURL); err != nil {
		return nil, err
	}
	if cfg.Enrollment.Tenant == "" || len(cfg.Keys.AuthPriv) != ed25519.PrivateKeySize {
		return nil, errors.New("relayclient: enrollment or keys missing")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	if cfg.Dialer == nil {
		cfg.Dialer = websocket.DefaultDialer
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 500 * time.Millisecond
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(30*time.Second, cfg.MinBackoff)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	return &Client{cfg: cfg, log: cfg.Logger, status: Status{State: StateStopped}}, nil
}

// Status returns the current status.
func (c *Client) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status
}

func (c *Client) update(f func(*Status)) {
	c.mu.Lock()
	f(&c.status)
	st := c.status
	c.mu.Unlock()
	if c.cfg.OnStatus != nil {
		c.cfg.OnStatus(st)
	}
}

// Run keeps the delivery connection up until ctx ends, reconnecting with
// jittered exponential backoff, and hands every event to h.
func (c *Client) Run(ctx context.Context, h Handler) error { return c.RunBatch(ctx, PerEvent(h)) }

// RunBatch is Run with a handler that takes each batch whole.
func (c *Client) RunBatch(ctx context.Context, h BatchHandler) error {
	defer c.update(func(s *Status) { s.State = StateStopped })
	failures := 0
	for ctx.Err() == nil {
		c.update(func(s *Status) {
			if s.State == StateStopped {
				s.State = StateConnecting
			}
		})
		gotEvents, err := c.session(ctx, h, false)
		if ctx.Err() != nil {
			return nil
		}
		if gotEvents {
			failures = 0
		}
		failures++
		state := StateReconnecting
		if errors.Is(err, ErrUnauthorized) {
			state = StateUnauthorized
			failures = max(failures, 8) // a refused key will not fix itself soon
		}
		msg := ""
		if err != nil {
			msg = err.Error()
			c.log.Warn("relay connection ended", "err", err)
		}
		c.update(func(s *Status) { s.State, s.LastError = state, msg })
		if !sleep(ctx, c.backoff(failures)) {
			return nil
		}
	}
	return nil
}

// Drain connects once, handles everything queued and returns how many
// events it handled (tsunagu-cli sync --once).
func (c *Client) Drain(ctx context.Context, h Handler) (int64, error) {
	return c.DrainBatch(ctx, PerEvent(h))
}

// DrainBatch is Drain with a handler that takes each batch whole.
func (c *Client) DrainBatch(ctx context.Context, h BatchHandler) (int64, error) {
	before := c.Status().Handled + c.Status().Dropped
	_, err := c.session(ctx, h, true)
	st := c.Status()
	return st.Handled + st.Dropped - before, err
}

func (c *Client) backoff(n int) time.Duration {
	ceiling := c.cfg.MinBackoff << min(n-1, 16)
	if ceiling <= 0 || ceiling > c.cfg.MaxBackoff {
		ceiling = c.cfg.MaxBackoff
	}
	return ceiling/2 + time.Duration(mrand.Int64N(int64(ceiling/2)+1))
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func wsURL(base string) string {
	if rest, ok := strings.CutPrefix(base, "https://"); ok {
		return "wss://" + rest + "/v1/connect"
	}
	return "ws://" + strings.TrimPrefix(base, "http://") + "/v1/connect"
}

// session runs one connection. With drain it returns once the relay has
// nothing more queued.
func (c *Client) session(ctx context.Context, h BatchHandler, drain bool) (gotEvents bool, err error) {
	conn, _, err := c.cfg.Dialer.DialContext(ctx, wsURL(c.cfg.Enrollment.RelayURL), nil)
	if err != nil {
		return false, fmt.Errorf("relayclient: connect: %w", err)
	}
	defer conn.Close()
	conn.SetReadLimit(wire.ReadLimit) // the relay cuts every batch to fit
	// Closing the connection unblocks the read when ctx ends.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	conn.SetReadDeadline(time.Now().Add(15 * time.Second))
	var ch wire.Msg
	if err := conn.ReadJSON(&ch); err != nil || ch.Type != "challenge" || len(ch.Nonce) < 16 {
		return false, fmt.Errorf("relayclient: no challenge from the relay: %v", err)
	}
	tenant := c.cfg.Enrollment.Tenant
	sig := ed25519.Sign(c.cfg.Keys.AuthPriv, wire.AuthStatement(wire.PurposeConnect, tenant, ch.Nonce, nil))
	if err := conn.WriteJSON(wire.Msg{Type: "auth", Tenant: tenant, Signature: sig}); err != nil {
		return false, fmt.Errorf("relayclient: authenticate: %w", err)
	}
	var ready wire.Msg
	if err := conn.ReadJSON(&ready); err != nil {
		return false, fmt.Errorf("relayclient: authenticate: %w", err)
	}
	if ready.Type == "error" {
		return false, ErrUnauthorized
	}
	if ready.Type != "ready" {
		return false, fmt.Errorf("relayclient: unexpected %q from the relay", ready.Type)
	}
	c.update(func(s *Status) { s.State, s.LastError, s.Pending = StateConnected, "", ready.Pending; s.Connects++ })
	if drain && ready.Pending == 0 {
		return false, nil
	}
	// The relay pings every 20 s; silence for much longer means the
	// connection is dead.
	conn.SetPingHandler(func(data string) error {
		conn.SetReadDeadline(time.Now().Add(time.Minute))
		return conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(5*time.Second))
	})
	for {
		if drain {
			conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		} else {
			conn.SetReadDeadline(time.Now().Add(time.Minute))
		}
		var m wire.Msg
		if err := conn.ReadJSON(&m); err != nil {
			if ctx.Err() != nil {
				return gotEvents, ctx.Err()
			}
			return gotEvents, fmt.Errorf("relayclient: connection: %w", err)
		}
		switch m.Type {
		case "batch":
		case "error":
			return gotEvents, fmt.Errorf("relayclient: relay error: %s", m.Error)
		default:
			continue
		}
		gotEvents = gotEvents || len(m.Events) > 0
		acked, herr := c.handleBatch(ctx, m.Events, h)
		if len(acked) > 0 {
			conn.SetWriteDeadline(time.Now().Add(15 * time.Second))
			if err := conn.WriteJSON(wire.Msg{Type: "ack", Seqs: acked}); err != nil {
				return gotEvents, fmt.Errorf("relayclient: ack: %w", err)
			}
		}
		c.update(func(s *Status) { s.Pending = m.Pending })
		if herr != nil {
			// Reset: the relay hands back what was not acked.
			return gotEvents, herr
		}
		if drain && m.Pending == 0 {
			// Let the acks reach the relay before closing.
			conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
			conn.SetReadDeadline(time.Now().Add(2 * time.Second))
			for conn.ReadJSON(&m) == nil {
			}
			return gotEvents, nil
		}
	}
}

// handleBatch opens the events of a batch and hands them to h at once. It
// returns the sequences to ack: every event handled or dropped. An event
// the handler could not take yet is not acked, and the error says so: the
// caller resets the connection and the relay delivers it (and, to keep
// the order, everything after it that was not acked) again.
func (c *Client) handleBatch(ctx context.Context, events []wire.Event, h BatchHandler) ([]uint64, error) {
	opened := make([]Event, 0, len(events))
	idx := make([]int, 0, len(events)) // opened[k] is events[idx[k]]
	results := make([]error, len(events))
	for i, ev := range events {
		o, err := wire.OpenAny(&c.cfg.Keys.BoxPub, &c.cfg.Keys.BoxPriv, ev.Sealed)
		if ev.Hold != "" && (err != nil || o.Booking == nil || o.Booking.HoldID != ev.Hold) {
			// A place was held for it: the desktop must count that hold,
			// or the place stays taken until the slot passes.
			opened = append(opened, Event{ReceivedAt: ev.ReceivedAt, Released: &wire.HeldPlace{Hold: ev.Hold, Slot: ev.Slot}})
			idx = append(idx, i)
			continue
		}
		if err != nil {
			results[i] = fmt.Errorf("%w: %w", ErrDrop, err)
			continue
		}
		opened = append(opened, Event{Body: o.Body, Signature: o.Signature, ReceivedAt: ev.ReceivedAt, Click: o.Click, Visit: o.Visit, Form: o.Form, Booking: o.Booking})
		idx = append(idx, i)
	}
	if len(opened) > 0 {
		out := h(ctx, opened)
		for k, i := range idx {
			if k < len(out) {
				results[i] = out[k]
			} else {
				results[i] = errors.New("relayclient: handler gave no result")
			}
		}
	}
	var (
		acked            []uint64
		first            error
		handled, dropped int64
		lastReceived     int64
	)
	for i, ev := range events {
		err := results[i]
		switch {
		case err == nil:
			handled++
			lastReceived = ev.ReceivedAt
		case errors.Is(err, ErrDrop):
			c.log.Warn("relay event dropped", "seq", ev.Seq, "err", err)
			dropped++
		default:
			if first == nil {
				first = fmt.Errorf("relayclient: handler: %w", err)
			}
			continue
		}
		acked = append(acked, ev.Seq)
	}
	if handled+dropped > 0 {
		// One status change per batch, not per event: a burst must not
		// cost the UI a refresh per webhook.
		now := c.cfg.Clock()
		c.update(func(s *Status) {
			s.Handled += handled
			s.Dropped += dropped
			if handled > 0 {
				s.LastEventAt = now
				s.LagMillis = now.UnixMilli() - lastReceived
			}
		})
	}
	return acked, first
}

// PublishLinks publishes tracked links (token → target URL, expiry) to the
// relay, signed with the auth key, in uploads of at most
// wire.MaxLinksPerUpload. Nothing but the token, URL and expiry is sent.
func (c *Client) PublishLinks(ctx context.Context, links []wire.Link) error {
	for len(links) > 0 {
		part := links[:min(len(links), wire.MaxLinksPerUpload)]
		links = links[len(part):]
		body, err := json.Marshal(wire.LinksRequest{Links: part})
		if err != nil {
			return fmt.Errorf("relayclient: links: %w", err)
		}
		if err := c.signedUpload(ctx, "links", "/v1/links", wire.PurposeLinks, body, wire.LinksStatement(body)); err != nil {
			return err
		}
	}
	return nil
}

// signedUpload POSTs body to the relay's path, signed with the auth key
// over a fresh challenge for purpose and the body's statement: the one way
// the desktop puts what it publishes (tracked links, forms) on the relay.
func (c *Client) signedUpload(ctx context.Context, what, path, purpose string, body, statement []byte) error {
	nonce, err := c.challenge(ctx)
	if err != nil {
		return fmt.Errorf("relayclient: %s: %w", what, err)
	}
	tenant := c.cfg.Enrollment.Tenant
	sig := ed25519.Sign(c.cfg.Keys.AuthPriv, wire.AuthStatement(purpose, tenant, nonce, statement))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.Enrollment.RelayURL+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(wire.HeaderTenant, tenant)
	req.Header.Set(wire.HeaderNonce, base64.StdEncoding.EncodeToString(nonce))
	req.Header.Set(wire.HeaderSignature, base64.StdEncoding.EncodeToString(sig))
	res, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("relayclient: %s: %w", what, err)
	}
	io.Copy(io.Discard, io.LimitReader(res.Body, 4096))
	res.Body.Close()
	switch {
	case res.StatusCode == http.StatusUnauthorized:
		return ErrUnauthorized
	case res.StatusCode != http.StatusNoContent && res.StatusCode != http.StatusOK:
		return fmt.Errorf("relayclient: %s: relay answered %s", what, res.Status)
	}
	return nil
}

// PublishForm puts a form's definition on the relay (signed; the relay
// serves it at /f/TENANT/FORM). def.BoxKey is set to this desktop's key.
func (c *Client) PublishForm(ctx context.Context, def wire.FormDef) error {
	def.BoxKey = append([]byte(nil), c.cfg.Keys.BoxPub[:]...)
	return c.formUpload(ctx, wire.FormUpload{Form: &def})
}

// PublishPrefill puts one link's sealed prefill values on the relay
// (signed like a definition; wire/prefill.go). Uploading the same blob
// again is fine (a retried send); another blob under the same ID is not.
func (c *Client) PublishPrefill(ctx context.Context, p wire.FormPrefill) error {
	return c.formUpload(ctx, wire.FormUpload{Prefill: &p})
}

// RemoveForm takes a form off the relay: its page then answers 404.
func (c *Client) RemoveForm(ctx context.Context, id string) error {
	return c.formUpload(ctx, wire.FormUpload{Remove: id})
}

// BoxKey is the public key events and form answers are sealed to.
func (c *Client) BoxKey() []byte { return append([]byte(nil), c.cfg.Keys.BoxPub[:]...) }

// FormURL is where the relay serves a form's page.
func (c *Client) FormURL(id string) string {
	return c.cfg.Enrollment.RelayURL + "/f/" + c.cfg.Enrollment.Tenant + "/" + id
}

func (c *Client) formUpload(ctx context.Context, up wire.FormUpload) error {
	body, err := json.Marshal(up)
	if err != nil {
		return fmt.Errorf("relayclient: form: %w", err)
	}
	return c.signedUpload(ctx, "form", "/v1/forms", wire.PurposeForm, body, wire.FormStatement(body))
}

// PublishAvailability puts the bookable slots on the relay (signed; the
// relay serves them to the booking page and holds places against them).
func (c *Client) PublishAvailability(ctx context.Context, a wire.BookingAvail) error {
	a.BoxKey = append([]byte(nil), c.cfg.Keys.BoxPub[:]...)
	return c.bookingUpload(ctx, wire.BookingUpload{Avail: &a})
}

// RemoveAvailability takes the booking page down.
func (c *Client) RemoveAvailability(ctx context.Context) error {
	return c.bookingUpload(ctx, wire.BookingUpload{Remove: true})
}

// BookingURL is where the relay serves the booking page.
func (c *Client) BookingURL() string {
	return c.cfg.Enrollment.RelayURL + "/b/" + c.cfg.Enrollment.Tenant
}

func (c *Client) bookingUpload(ctx context.Context, up wire.BookingUpload) error {
	body, err := json.Marshal(up)
	if err != nil {
		return fmt.Errorf("relayclient: booking: %w", err)
	}
	return c.signedUpload(ctx, "booking", "/v1/booking", wire.PurposeBooking, body, wire.BookingStatement(body))
}

// challenge fetches a single-use nonce for a signed HTTP request.
func (c *Client) challenge(ctx context.Context) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.cfg.Enrollment.RelayURL+"/v1/challenge", nil)
	if err != nil {
		return nil, err
	}
	res, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("challenge: %w", err)
	}
	defer res.Body.Close()
	var ch wire.Challenge
	if err := json.NewDecoder(io.LimitReader(res.Body, 4096)).Decode(&ch); err != nil || res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("challenge: relay answered %s", res.Status)
	}
	return ch.Nonce, nil
}

// UploadMedia uploads an image (image/jpeg or image/png, at most 10 MiB)
// for LINE to fetch, and returns its public HTTPS URL, valid for the
// relay's media TTL (7 days by default). The relay stores it unsealed.
func (c *Client) UploadMedia(ctx context.Context, data []byte, contentType string) (string, error) {
	if contentType != "image/jpeg" && contentType != "image/png" {
		return "", fmt.Errorf("relayclient: upload: %q is not image/jpeg or image/png", contentType)
	}
	base := c.cfg.Enrollment.RelayURL
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/challenge", nil)
	if err != nil {
		return "", err
	}
	res, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("relayclient: upload: challenge: %w", err)
	}
	var ch wire.Challenge
	err = json.NewDecoder(io.LimitReader(res.Body, 4096)).Decode(&ch)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || err != nil {
		return "", fmt.Errorf("relayclient: upload: challenge: relay answered %s", res.Status)
	}
	tenant := c.cfg.Enrollment.Tenant
	sig := ed25519.Sign(c.cfg.Keys.AuthPriv, wire.AuthStatement(wire.PurposeMedia, tenant, ch.Nonce, wire.MediaStatement(data, contentType)))
	req, err = http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/media", bytes.NewReader(data))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set(wire.HeaderTenant, tenant)
	req.Header.Set(wire.HeaderNonce, base64.StdEncoding.EncodeToString(ch.Nonce))
	req.Header.Set(wire.HeaderSignature, base64.StdEncoding.EncodeToString(sig))
	res, err = c.cfg.HTTPClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("relayclient: upload: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode == http.StatusUnauthorized {
		return "", ErrUnauthorized
	}
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("relayclient: upload: relay answered %s", res.Status)
	}
	var mr wire.MediaResponse
	if err := json.NewDecoder(io.LimitReader(res.Body, 4096)).Decode(&mr); err != nil || mr.URL == "" {
		return "", errors.New("relayclient: upload: unreadable answer")
	}
	return mr.URL, nil
}
