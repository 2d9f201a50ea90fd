// Package linesim simulates the LINE Messaging API and the customers on the
// other side of it. It is a real HTTP server on loopback that answers the
// push, reply and profile endpoints with LINE's paths, status codes, headers
// and JSON error bodies, and it sends signed webhooks the way LINE does when
// a simulated customer writes, follows or blocks.
//
// It also answers multicast, quota, validate, content, link-token, rich-menu
// link, mark-as-read and loading-animation calls; enforces LINE's rate
// limits, message limits and a configurable monthly quota; and injects
// faults (latency, 5xx bursts, dropped connections, timeouts after a request
// was accepted) so that retries can be tested.
//
// Tests point LINE's SDK at URL(); the app's sandbox mode uses it to let
// staff try the inbox without a LINE channel. Only 1:1 chats with users are
// modelled.
package linesim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// Customer is a simulated LINE user.
type Customer struct {
	UserID      string // "U" + 32 hex digits; see NewUserID
	DisplayName string
	PictureURL  string
	Language    string // BCP 47, e.g. "ja"; empty means not consented
	Following   bool   // friend of the official account and not blocking it
	// Demographics LINE estimates for the friend-demographics insight
	// (insight.go); "" is LINE's "unknown".
	Gender  string // male, female
	Age     string // one of LINE's age groups, e.g. "from30to34", "from70"
	Area    string // region, e.g. "東京"
	AppType string // ios, android, others
}

// Via values of a Delivery.
const (
	ViaPush      = "push"
	ViaReply     = "reply"
	ViaMulticast = "multicast"
)

// From values of a PhoneMessage.
const (
	FromCustomer = "customer"
	FromOfficial = "official"
)

// Delivery is one message the official account delivered to a customer.
type Delivery struct {
	UserID    string
	Type      string // the message object's type: text, sticker, image, flex, ...
	Text      string // text of a text message; altText of flex, template and imagemap
	Message   []byte // the message object as received
	Via       string // ViaPush, ViaReply or ViaMulticast
	RetryKey  string // X-Line-Retry-Key of the push, if any
	RequestID string // x-line-request-id LINE answered the send with
	// MessageID is the sent message's ID LINE answered a push or reply
	// with; LINE returns none for a multicast, so it is "" there.
	MessageID string
	// Seq is the message's 1-based position among the request's
	// messages: LINE's bubble "seq" in the statistics.
	Seq int
	// Unit is the customAggregationUnits name the send was counted under;
	// "" if it had none, or if the name was over the month's unit limit
	// (units.go).
	Unit string
	At   time.Time
}

// PhoneMessage is one message in the chat as the customer's phone shows it.
type PhoneMessage struct {
	From string // FromCustomer or FromOfficial
	Type string // text, sticker, image, postback, ...; "" is text
	Text string // text, sticker "package/sticker", alt text or postback label
	At   time.Time
}

// Config configures a Server.
type Config struct {
	ChannelSecret string // signs webhooks
	AccessToken   string // the only bearer token the API accepts
	// WebhookURL is where webhooks are POSTed. It may be set later with
	// SetWebhookURL, e.g. once the app's own server is listening.
	WebhookURL string
	// Clock is the time source for timestamps and expiry; nil means
	// time.Now.
	Clock func() time.Time
	// ReplyTokenTTL is how long a reply token is accepted after its
	// event; 0 means DefaultReplyTokenTTL.
	ReplyTokenTTL time.Duration
	// OnDelivery, if set, is called once per message the simulator
	// delivered to a customer, before the API call that sent it is
	// answered. It runs on the request's goroutine with no lock held and
	// should return quickly.
	OnDelivery func(Delivery)
	// HTTPClient posts webhooks; nil means a client with a 10-second
	// timeout.
	HTTPClient *http.Client
	// RateLimits overrides LINE's per-endpoint limits (requests per
	// second; the endpoint names are the Endpoint* constants). A request
	// over its endpoint's limit gets 429. Zero or negative means no limit.
	RateLimits map[string]float64
	// MonthlyQuota is the channel's monthly message limit; 0 means none.
	// Each message delivered to one user counts once, as on LINE.
	MonthlyQuota int64
	// Latency delays every API answer, as a network and LINE's servers do.
	Latency time.Duration
	// InsightDelay is how long after an event LINE's statistics include
	// it (insight.go); 0 means DefaultInsightDelay. Tests move the Clock
	// past it.
	InsightDelay time.Duration
	// UnitsPerMonth is how many distinct customAggregationUnits names a
	// channel may use in a JST calendar month; 0 means LINE's
	// DefaultUnitsPerMonth (1,000).
	UnitsPerMonth int
	// LoginChannelID is the LINE Login channel (linked to the official
	// account) whose LIFF apps get ID tokens (login.go); "" means
	// DefaultLoginChannelID.
	LoginChannelID string
}

// DefaultReplyTokenTTL is how long a reply token stays valid by default.
// LINE asks bots to reply within a minute of the event.
const DefaultReplyTokenTTL = time.Minute

// RetryKeyTTL is how long LINE remembers an accepted retry key.
const RetryKeyTTL = 24 * time.Hour

// Errors from the customer-side methods.
var (
	ErrUnknownCustomer = errors.New("linesim: unknown customer")
	ErrNoWebhookURL    = errors.New("linesim: no webhook URL set")
	ErrUnknownEvent    = errors.New("linesim: unknown webhook event")
)

// Server is the simulated LINE Platform. Its methods are safe for
// concurrent use, including while API requests are being served.
type Server struct {
	secret      string
	token       string
	now         func() time.Time
	replyTTL    time.Duration
	onDelivery  func(Delivery)
	hc          *http.Client
	destination string // the bot's own user ID, sent in every webhook

	mu          sync.Mutex
	srv         *http.Server
	url         string
	closed      bool
	webhookURL  string
	customers   map[string]*customer
	order       []string // customer IDs in the order they were added
	retryKeys   map[string]acceptedPush
	replyTokens map[string]*replyToken
	events      map[string]wireEvent // by webhookEventId, for Redeliver
	nextMsgID   uint64
	content     map[string]content  // media customers sent, by message ID
	linkTokens  map[string]string   // issued link token -> user ID
	readTokens  map[string]readMark // markAsReadToken -> the message it marks

	faults   map[string][]Fault // per endpoint, consumed in order
	limits   map[string]*window // per endpoint
	latency  time.Duration
	quota    int64
	used     int64 // messages delivered this "month"
	requests []Request

	rich richMenuState // rich menus, the default menu (richmenu.go)

	insight insightState // aggregation units and interactions (units.go, insight.go)

	outage     outageState     // connection-level faults (outage.go)
	expired    map[string]bool // content LINE no longer has, by message ID
	allExpired bool            // all content expired

	login loginState // LINE Login ID tokens (login.go); fixed at New
}

// content is a media file a customer sent, served by the content endpoint.
type content struct {
	data        []byte
	contentType string
}

type customer struct {
	Customer
	blocked    bool // unfollowed: the next follow is an unblock
	deliveries []Delivery
	chat       []PhoneMessage
	richMenu   string    // rich menu linked to this user, if any
	readAt     time.Time // last mark-as-read
	readUpTo   uint64    // the newest message marked read by token (message IDs increase)
	loadingEnd time.Time // loading animation shown until
	// firstFollow is when the customer first became a friend (zero:
	// never); blocks are their block/unblock changes, oldest first. The
	// followers insight counts from these (insight.go).
	firstFollow time.Time
	blocks      []blockChange
}

// acceptedPush is what LINE remembers of a push accepted with a retry key.
type acceptedPush struct {
	requestID string
	sent      []sentMessage
	at        time.Time
}

// readMark is what a markAsReadToken stands for: one customer message.
// Tokens do not expire and may be used again (LINE documents no limit).
type readMark struct {
	userID    string
	messageID uint64
}

type replyToken struct {
	userID  string
	expires time.Time
	used    bool
}

// New returns a Server for cfg. It does not listen until Start.
func New(cfg Config) *Server {
	s := &Server{
		secret:      cfg.ChannelSecret,
		token:       cfg.AccessToken,
		now:         cfg.Clock,
		replyTTL:    cfg.ReplyTokenTTL,
		onDelivery:  cfg.OnDelivery,
		hc:          cfg.HTTPClient,
		destination: NewUserID(),
		webhookURL:  cfg.WebhookURL,
		customers:   map[string]*customer{},
		retryKeys:   map[string]acceptedPush{},
		replyTokens: map[string]*replyToken{},
		events:      map[string]wireEvent{},
		nextMsgID:   firstMessageID(),
		content:     map[string]content{},
		linkTokens:  map[string]string{},
		readTokens:  map[string]readMark{},
		expired:     map[string]bool{},
		faults:      map[string][]Fault{},
		limits:      map[string]*window{},
		latency:     cfg.Latency,
		quota:       cfg.MonthlyQuota,
		insight:     newInsightState(cfg.InsightDelay, cfg.UnitsPerMonth),
		login:       newLoginState(cfg.LoginChannelID),
	}
	for ep, rate := range DefaultRateLimits {
		if r, ok := cfg.RateLimits[ep]; ok {
			rate = r
		}
		if rate > 0 {
			s.limits[ep] = newWindow(rate)
		}
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.replyTTL <= 0 {
		s.replyTTL = DefaultReplyTokenTTL
	}
	if s.hc == nil {
		s.hc = &http.Client{Timeout: 10 * time.Second}
	}
	return s
}

// Start listens on a free loopback port and serves the API until Close. ctx
// bounds only the setup, not the server's life.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("linesim: server is closed")
	}
	if s.srv != nil {
		return errors.New("linesim: already started")
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("linesim: listen: %w", err)
	}
	s.srv = &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: 10 * time.Second,
	}
	s.url = "http://" + ln.Addr().String()
	srv := s.srv
	fl := &faultListener{Listener: ln, s: s}
	s.outage.mu.Lock()
	s.outage.addr, s.outage.ln = ln.Addr().String(), fl
	s.outage.mu.Unlock()
	// Serve returns http.ErrServerClosed after Close; there is no one
	// to report any other accept error to, and the API calls will fail
	// visibly anyway.
	go func() { _ = srv.Serve(fl) }()
	return nil
}

// URL returns the API's base URL, e.g. "http://127.0.0.1:41234", for
// messaging_api.WithEndpoint. It is empty before Start.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// Close stops the server, waiting briefly for requests being served. A
// closed Server cannot be started again.
func (s *Server) Close() error {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.closed = true
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	s.closeOutage()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			// net/http waits up to 5 s for a connection a client has
			// opened but not yet sent a request on (StateNew): an
			// engine closing at the same moment leaves one behind.
			// Nothing is lost by cutting it: the simulator is going.
			return srv.Close()
		}
		return errors.Join(fmt.Errorf("linesim: shutdown: %w", err), srv.Close())
	}
	return nil
}

// SetWebhookURL sets where webhooks are POSTed.
func (s *Server) SetWebhookURL(u string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.webhookURL = u
}

// Destination returns the bot user ID sent as "destination" in webhooks.
func (s *Server) Destination() string { return s.destination }

// AddCustomer adds c, or updates the customer with c's UserID (keeping its
// chat history). An empty UserID is replaced by a new one. A malformed
// UserID is a programming error and panics, since LINE could never have
// issued it.
func (s *Server) AddCustomer(c Customer) {
	if c.UserID == "" {
		c.UserID = NewUserID()
	}
	if !isUserID(c.UserID) {
		panic(fmt.Sprintf("linesim: AddCustomer: malformed user ID %q", c.UserID))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if cu, ok := s.customers[c.UserID]; ok {
		cu.setFollowing(c.Following, now)
		cu.Customer = c
		return
	}
	cu := &customer{Customer: Customer{UserID: c.UserID}}
	cu.setFollowing(c.Following, now)
	cu.Customer = c
	s.customers[c.UserID] = cu
	s.order = append(s.order, c.UserID)
}

// Customers returns every customer in the order they were added.
func (s *Server) Customers() []Customer {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Customer, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, s.customers[id].Customer)
	}
	return out
}

// Deliveries returns what the official account delivered to a customer,
// oldest first. Pushes LINE accepted for a customer who blocked the account
// are not delivered and not listed, as on LINE.
func (s *Server) Deliveries(userID string) []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.customers[userID]
	if !ok {
		return nil
	}
	return append([]Delivery(nil), c.deliveries...)
}

// Chat returns the customer's chat with the official account in both
// directions, oldest first.
func (s *Server) Chat(userID string) []PhoneMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.customers[userID]
	if !ok {
		return nil
	}
	return append([]PhoneMessage(nil), c.chat...)
}
