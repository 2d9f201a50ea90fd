// Package line is the only code in Tsunagu that speaks the LINE Messaging
// API. Outgoing calls go through LINE's Go SDK (never hand-built HTTP), and
// incoming webhooks are verified against the channel secret before anything
// reads them.
//
// Every call waits for its endpoint's client-side rate limit, runs under a
// per-attempt timeout, and is retried where that is safe: pushes and
// multicasts carry a caller-stored X-Line-Retry-Key and are resent
// byte-identical after a timeout, a dropped connection, a 5xx or a 429;
// reads are retried freely; replies only after a 429 (LINE did not process
// them). A 429 for the monthly message limit is final (ErrMonthlyLimit).
//
// Nothing here logs. Errors and the request log carry HTTP statuses, LINE's
// request IDs and LINE's own error messages, never access tokens, message
// text, webhook bodies or URLs that contain user IDs.
package line

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/google/uuid"
	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"
)

// DefaultEndpoint is the Messaging API's base URL.
const DefaultEndpoint = "https://api.line.me"

// StickerImageBase is where LINE's sticker CDN serves a sticker's image:
// StickerImageBase + "{stickerId}/android/sticker.png" (the pattern LINE's
// own sticker list links to; the Messaging API has no endpoint for it). The
// app shows it in the conversation and falls back to the text label when
// the image cannot be loaded.
const StickerImageBase = "https://stickershop.line-scdn.net/stickershop/v1/sticker/"

// DefaultDataEndpoint serves message content (images, video, audio, files).
const DefaultDataEndpoint = "https://api-data.line.me"

// DefaultTimeout bounds each attempt of a call. LINE answers in well under
// a second; a send that takes longer is better treated as uncertain and
// retried with its retry key.
const DefaultTimeout = 15 * time.Second

// Config configures a Client.
type Config struct {
	Endpoint     string // "" means DefaultEndpoint
	DataEndpoint string // "" means DefaultDataEndpoint for DefaultEndpoint, else Endpoint
	AccessToken  string
	// HTTPClient makes the requests; nil means a client that does not
	// follow redirects. Its Transport is wrapped to keep the request log.
	HTTPClient *http.Client
	// AttemptTimeout bounds one attempt (connect to last byte of the
	// answer); 0 means DefaultTimeout.
	AttemptTimeout time.Duration
	// Limits overrides the per-endpoint rate limits (requests per
	// second); unset endpoints use DefaultLimits.
	Limits map[Endpoint]float64
	// Retry is the retry policy; zero fields take DefaultRetry's.
	Retry RetryPolicy
	// OnRequest, if set, is called after every HTTP attempt with its log
	// record. It runs on the caller's goroutine and should be quick.
	OnRequest func(RequestRecord)
}

// Client calls the Messaging API for one channel. It is safe for concurrent
// use.
type Client struct {
	endpoint     string
	dataEndpoint string
	token        string
	hc           *http.Client
	timeout      time.Duration
	limits       map[Endpoint]*bucket // fixed at New; buckets lock themselves
	retry        RetryPolicy
	log          *requestLog
}

// SendResult describes LINE's answer to a push, multicast or reply.
type SendResult struct {
	Status    int    // HTTP status of the last answer
	RequestID string // x-line-request-id of the last answer
	// AcceptedRequestID is set when LINE answered 409 because a request
	// with the same retry key was already accepted: that earlier request
	// (this ID) is the one that delivered the message.
	AcceptedRequestID string
	Attempts          int // HTTP attempts made, including retries
}

// Profile is a user's public LINE profile.
type Profile struct {
	UserID        string
	DisplayName   string
	PictureURL    string
	StatusMessage string
	Language      string
}

// NewClient returns a client for the Messaging API at endpoint (normally
// DefaultEndpoint; the simulator's URL in tests and sandbox mode) with the
// default limits and retry policy. If hc is nil, a client that does not
// follow redirects is used.
func NewClient(endpoint, accessToken string, hc *http.Client) (*Client, error) {
	if endpoint == "" {
		return nil, errors.New("line: no endpoint")
	}
	return New(Config{Endpoint: endpoint, AccessToken: accessToken, HTTPClient: hc})
}

// New returns a client for cfg. Plain http is refused except to loopback,
// so the access token never crosses a network unencrypted.
func New(cfg Config) (*Client, error) {
	if cfg.AccessToken == "" {
		return nil, errors.New("line: no channel access token")
	}
	if cfg.Endpoint == "" {
		cfg.Endpoint = DefaultEndpoint
	}
	if cfg.DataEndpoint == "" {
		cfg.DataEndpoint = cfg.Endpoint
		if cfg.Endpoint == DefaultEndpoint {
			cfg.DataEndpoint = DefaultDataEndpoint
		}
	}
	for _, ep := range []string{cfg.Endpoint, cfg.DataEndpoint} {
		if err := checkEndpoint(ep); err != nil {
			return nil, err
		}
	}
	var hc http.Client
	if cfg.HTTPClient != nil {
		hc = *cfg.HTTPClient
	} else {
		// LINE never redirects API calls; following one would send the
		// bearer token somewhere unexpected.
		hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	log := newRequestLog(cfg.OnRequest)
	hc.Transport = &logTransport{next: hc.Transport, log: log}
	if cfg.AttemptTimeout <= 0 {
		cfg.AttemptTimeout = DefaultTimeout
	}
	c := &Client{
		endpoint:     cfg.Endpoint,
		dataEndpoint: cfg.DataEndpoint,
		token:        cfg.AccessToken,
		hc:           &hc,
		timeout:      cfg.AttemptTimeout,
		limits:       newBuckets(cfg.Limits),
		retry:        cfg.Retry.withDefaults(),
		log:          log,
	}
	// Build one SDK client now so configuration errors surface here rather
	// than on the first send.
	if _, err := c.api(context.Background()); err != nil {
		return nil, err
	}
	return c, nil
}

// String describes the client without its access token, so a stray %v in a
// log line cannot leak it.
func (c *Client) String() string { return "line.Client(" + c.endpoint + ")" }

// GoString is String for %#v.
func (c *Client) GoString() string { return c.String() }

// Requests returns the most recent HTTP attempts, oldest first (at most
// RequestLogSize).
func (c *Client) Requests() []RequestRecord { return c.log.snapshot() }

// PushText sends one text message to a user, group or room; see Push.
func (c *Client) PushText(ctx context.Context, to, text, retryKey string) (SendResult, error) {
	if err := ValidateText(text); err != nil {
		return SendResult{}, err
	}
	m, err := Text(text)
	if err != nil {
		return SendResult{}, err
	}
	return c.Push(ctx, to, []Message{m}, retryKey)
}

// ReplyText answers an event with one text message; see Reply.
func (c *Client) ReplyText(ctx context.Context, replyToken, text string) (SendResult, error) {
	if err := ValidateText(text); err != nil {
		return SendResult{}, err
	}
	m, err := Text(text)
	if err != nil {
		return SendResult{}, err
	}
	return c.Reply(ctx, replyToken, []Message{m})
}

// Profile fetches a user's profile. LINE answers 404 for a user who blocked
// the account, is not a friend, did not consent, or does not exist; that
// error wraps both ErrUnreachable and the *APIError.
func (c *Client) Profile(ctx context.Context, userID string) (Profile, error) {
	// The SDK pastes the ID into the URL path unescaped: only a
	// well-formed ID may get there.
	if !IsUserID(userID) {
		return Profile{}, errors.New("line: profile: malformed user ID")
	}
	var body *messaging_api.UserProfileResponse
	res, _, err := c.do(ctx, EndpointProfile, retryIdempotent, func(api *messaging_api.MessagingApiAPI) (*http.Response, error) {
		res, b, err := api.GetProfileWithHttpInfo(userID)
		body = b
		return res, err
	})
	if err != nil {
		if res != nil && res.StatusCode == http.StatusNotFound {
			return Profile{}, fmt.Errorf("line: profile: %w: %w", ErrUnreachable, err)
		}
		return Profile{}, fmt.Errorf("line: profile: %w", err)
	}
	if body == nil {
		return Profile{}, errors.New("line: profile: answer could not be decoded")
	}
	return Profile{
		UserID:        body.UserId,
		DisplayName:   body.DisplayName,
		PictureURL:    body.PictureUrl,
		StatusMessage: body.StatusMessage,
		Language:      body.Language,
	}, nil
}

// IsUserID reports whether id has the form of a LINE user ID: "U" and 32
// lowercase hex digits.
func IsUserID(id string) bool {
	if len(id) != 33 || id[0] != 'U' {
		return false
	}
	for i := 1; i < len(id); i++ {
		c := id[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// api returns an SDK client bound to ctx. The SDK's generated methods take
// no context; its WithContext sets one on the client value instead, so a
// fresh value per call keeps concurrent calls from sharing (and racing on)
// one context. Construction only parses the endpoint URL.
func (c *Client) api(ctx context.Context) (*messaging_api.MessagingApiAPI, error) {
	api, err := messaging_api.NewMessagingApiAPI(c.token,
		messaging_api.WithEndpoint(c.endpoint),
		messaging_api.WithHTTPClient(c.hc),
	)
	if err != nil {
		return nil, fmt.Errorf("line: configure SDK client: %w", err)
	}
	return api.WithContext(ctx), nil
}

// blobAPI is api for the content endpoint.
func (c *Client) blobAPI(ctx context.Context) (*messaging_api.MessagingApiBlobAPI, error) {
	api, err := messaging_api.NewMessagingApiBlobAPI(c.token,
		messaging_api.WithBlobEndpoint(c.dataEndpoint),
		messaging_api.WithBlobHTTPClient(c.hc),
	)
	if err != nil {
		return nil, fmt.Errorf("line: configure SDK content client: %w", err)
	}
	return api.WithContext(ctx), nil
}

// isRetryKey reports whether k is a UUID in the hyphenated hex form LINE
// requires. uuid.Parse alone also accepts braces, "urn:uuid:" and bare hex.
func isRetryKey(k string) bool {
	if len(k) != 36 {
		return false
	}
	_, err := uuid.Parse(k)
	return err == nil
}

func checkEndpoint(endpoint string) error {
	u, err := url.ParseRequestURI(endpoint)
	if err != nil {
		return fmt.Errorf("line: endpoint: %w", err)
	}
	if u.Host == "" {
		return fmt.Errorf("line: endpoint %q has no host", endpoint)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("line: endpoint %q: plain http is only allowed to loopback", endpoint)
	default:
		return fmt.Errorf("line: endpoint %q: scheme must be https", endpoint)
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
