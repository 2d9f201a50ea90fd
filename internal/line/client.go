// Package line is the only code in Tsunagu that speaks the LINE Messaging
// API. Outgoing calls go through LINE's Go SDK (never hand-built HTTP), and
// incoming webhooks are verified against the channel secret before anything
// reads them.
//
// Nothing here logs. Errors carry HTTP statuses and LINE's own error
// messages, never access tokens, message text, webhook bodies or URLs that
// contain user IDs.
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

// DefaultTimeout bounds each call made with the HTTP client NewClient builds
// when given none. LINE answers in well under a second; a send that takes
// longer is better reported as uncertain and retried with its retry key.
const DefaultTimeout = 15 * time.Second

// Client calls the Messaging API for one channel. It is safe for concurrent
// use.
type Client struct {
	endpoint string
	token    string
	hc       *http.Client
}

// SendResult describes LINE's answer to a push or reply.
type SendResult struct {
	Status    int    // HTTP status of the answer
	RequestID string // x-line-request-id of the answer
	// AcceptedRequestID is set when LINE answered 409 because a request
	// with the same retry key was already accepted: that earlier request
	// (this ID) is the one that delivered the message.
	AcceptedRequestID string
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
// DefaultEndpoint; the simulator's URL in tests and sandbox mode). If hc is
// nil, a client with DefaultTimeout that does not follow redirects is used.
// Plain http is refused except to loopback, so the access token never
// crosses a network unencrypted.
func NewClient(endpoint, accessToken string, hc *http.Client) (*Client, error) {
	if accessToken == "" {
		return nil, errors.New("line: no channel access token")
	}
	if err := checkEndpoint(endpoint); err != nil {
		return nil, err
	}
	if hc == nil {
		hc = &http.Client{
			Timeout: DefaultTimeout,
			// LINE never redirects API calls; following one would send
			// the bearer token somewhere unexpected.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	c := &Client{endpoint: endpoint, token: accessToken, hc: hc}
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

// PushText sends text to a user, group or room at any time.
//
// retryKey must be a UUID (8-4-4-4-12 hex) that the caller stored before
// calling, and reuses when it resends the same message: LINE executes a
// retry key once, and answers a repeat with 409 and the request ID that was
// accepted. PushText treats that answer as success (nil error,
// AcceptedRequestID set), so a resend after a timeout never reaches the
// customer twice.
//
// On failure the result still carries the status and request ID LINE gave.
func (c *Client) PushText(ctx context.Context, to, text, retryKey string) (SendResult, error) {
	if to == "" {
		return SendResult{}, errors.New("line: push: no recipient")
	}
	if err := ValidateText(text); err != nil {
		return SendResult{}, err
	}
	if !isRetryKey(retryKey) {
		return SendResult{}, errors.New("line: push: retry key is not a UUID")
	}
	api, err := c.api(ctx)
	if err != nil {
		return SendResult{}, err
	}
	if err := ctx.Err(); err != nil {
		return SendResult{}, fmt.Errorf("line: push: %w", err)
	}
	res, _, err := api.PushMessageWithHttpInfo(&messaging_api.PushMessageRequest{
		To:       to,
		Messages: []messaging_api.MessageInterface{&messaging_api.TextMessage{Text: text}},
	}, retryKey)
	return sendResult("push", res, err, true)
}

// ReplyText answers an event with its reply token. A token works once and
// only for a short time after the event; LINE answers 400 "Invalid reply
// token" otherwise, and the caller should push instead. Replies cannot carry
// a retry key, so a reply whose outcome is unknown cannot be safely resent.
func (c *Client) ReplyText(ctx context.Context, replyToken, text string) (SendResult, error) {
	if replyToken == "" {
		return SendResult{}, errors.New("line: reply: no reply token")
	}
	if err := ValidateText(text); err != nil {
		return SendResult{}, err
	}
	api, err := c.api(ctx)
	if err != nil {
		return SendResult{}, err
	}
	if err := ctx.Err(); err != nil {
		return SendResult{}, fmt.Errorf("line: reply: %w", err)
	}
	res, _, err := api.ReplyMessageWithHttpInfo(&messaging_api.ReplyMessageRequest{
		ReplyToken: replyToken,
		Messages:   []messaging_api.MessageInterface{&messaging_api.TextMessage{Text: text}},
	})
	return sendResult("reply", res, err, false)
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
	api, err := c.api(ctx)
	if err != nil {
		return Profile{}, err
	}
	if err := ctx.Err(); err != nil {
		return Profile{}, fmt.Errorf("line: profile: %w", err)
	}
	res, body, err := api.GetProfileWithHttpInfo(userID)
	if res == nil {
		return Profile{}, transportError("profile", err)
	}
	if res.StatusCode/100 == 2 {
		if err != nil || body == nil {
			return Profile{}, fmt.Errorf("line: profile: decode answer: %w", err)
		}
		return Profile{
			UserID:        body.UserId,
			DisplayName:   body.DisplayName,
			PictureURL:    body.PictureUrl,
			StatusMessage: body.StatusMessage,
			Language:      body.Language,
		}, nil
	}
	apiErr := newAPIError(res)
	if res.StatusCode == http.StatusNotFound {
		return Profile{}, fmt.Errorf("line: profile: %w: %w", ErrUnreachable, apiErr)
	}
	return Profile{}, fmt.Errorf("line: profile: %w", apiErr)
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

// sendResult turns what the SDK returned for a push or reply into a
// SendResult and error.
func sendResult(op string, res *http.Response, err error, retryKeyed bool) (SendResult, error) {
	if res == nil {
		if err == nil {
			err = errors.New("no response")
		}
		return SendResult{}, transportError(op, err)
	}
	r := SendResult{Status: res.StatusCode, RequestID: res.Header.Get("X-Line-Request-Id")}
	if res.StatusCode/100 == 2 {
		// The status is what says LINE accepted the message. The SDK
		// may still report a body it could not decode; failing here
		// would make the caller resend a message that was delivered.
		return r, nil
	}
	apiErr := newAPIError(res)
	if retryKeyed && res.StatusCode == http.StatusConflict {
		if id := res.Header.Get("X-Line-Accepted-Request-Id"); id != "" {
			r.AcceptedRequestID = id
			return r, nil
		}
	}
	return r, fmt.Errorf("line: %s: %w", op, apiErr)
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
