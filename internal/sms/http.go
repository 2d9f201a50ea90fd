package sms

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultTimeout bounds one provider request.
const DefaultTimeout = 20 * time.Second

// TwilioEndpoint is Twilio's REST API.
const TwilioEndpoint = "https://api.twilio.com"

// Twilio sends through Twilio's Messages API
// (POST /2010-04-01/Accounts/{SID}/Messages.json, basic auth SID:token).
// Twilio does not deduplicate: a timed-out request is uncertain.
type Twilio struct {
	endpoint string
	sid      string
	token    string
	from     string
	hc       *http.Client
}

// NewTwilio returns a Twilio sender; endpoint "" is TwilioEndpoint (tests
// pass an httptest server), hc nil a client with DefaultTimeout.
func NewTwilio(endpoint, accountSID, authToken, from string, hc *http.Client) (*Twilio, error) {
	if endpoint == "" {
		endpoint = TwilioEndpoint
	}
	if !strings.HasPrefix(accountSID, "AC") || len(accountSID) != 34 || authToken == "" {
		return nil, fmt.Errorf("%w: Twilio account SID or token", ErrInvalid)
	}
	if !strings.HasPrefix(from, "+") && !strings.HasPrefix(from, "MG") {
		return nil, fmt.Errorf("%w: Twilio sender must be an E.164 number or a Messaging Service SID", ErrInvalid)
	}
	if err := checkURL(endpoint); err != nil {
		return nil, err
	}
	return &Twilio{endpoint: strings.TrimRight(endpoint, "/"), sid: accountSID, token: authToken, from: from, hc: client(hc)}, nil
}

func client(hc *http.Client) *http.Client {
	if hc != nil {
		return hc
	}
	return &http.Client{Timeout: DefaultTimeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// checkURL allows https, and http to loopback only (tests, a local relay).
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%w: URL", ErrInvalid)
	}
	if u.Scheme == "https" {
		return nil
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); u.Scheme == "http" && (host == "localhost" || ip != nil && ip.IsLoopback()) {
		return nil
	}
	return fmt.Errorf("%w: URL must be https", ErrInvalid)
}

// String never shows the token.
func (t *Twilio) String() string { return "sms.Twilio(" + t.sid[:6] + "…)" }

// Send posts one message.
func (t *Twilio) Send(ctx context.Context, to, text, idempotencyKey string) (string, error) {
	e164, err := E164(to)
	if err != nil {
		return "", err
	}
	form := url.Values{"To": {e164}, "Body": {text}}
	if strings.HasPrefix(t.from, "MG") {
		form.Set("MessagingServiceSid", t.from)
	} else {
		form.Set("From", t.from)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.endpoint+"/2010-04-01/Accounts/"+url.PathEscape(t.sid)+"/Messages.json",
		strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("sms: %w", err)
	}
	req.SetBasicAuth(t.sid, t.token)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	// Twilio ignores it for Messages, but it makes the request traceable.
	req.Header.Set("I-Twilio-Idempotency-Token", idempotencyKey)
	var body struct {
		SID     string `json:"sid"`
		Status  string `json:"status"`
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	status, err := do(t.hc, req, &body)
	if err != nil {
		return "", err
	}
	if status >= 400 {
		return "", providerError(status, "twilio "+strconv.Itoa(body.Code)+": "+body.Message)
	}
	if body.Status == "failed" || body.Status == "undelivered" {
		return body.SID, fmt.Errorf("%w: twilio status %s", ErrRefused, body.Status)
	}
	return body.SID, nil
}

// Webhook posts each message as JSON to a provider's (or relay's) URL:
//
//	POST {url}
//	Content-Type: application/json
//	Idempotency-Key: <key>
//	X-Tsunagu-Timestamp: <unix seconds>
//	X-Tsunagu-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>
//	{"to": "+819012345678", "text": "...", "idempotencyKey": "<key>"}
//
// and expects 2xx with an optional {"id": "..."}. The receiver must deliver
// a repeated Idempotency-Key once (answering 2xx or 409), which makes an
// uncertain send safe to repeat.
type Webhook struct {
	url    string
	secret []byte
	hc     *http.Client
	now    func() time.Time
}

// NewWebhook returns a webhook sender.
func NewWebhook(rawURL, secret string, hc *http.Client, clock func() time.Time) (*Webhook, error) {
	if err := checkURL(rawURL); err != nil {
		return nil, err
	}
	if len(secret) < MinWebhookSecret {
		return nil, fmt.Errorf("%w: the signing secret needs at least %d characters", ErrInvalid, MinWebhookSecret)
	}
	if clock == nil {
		clock = time.Now
	}
	return &Webhook{url: rawURL, secret: []byte(secret), hc: client(hc), now: clock}, nil
}

// Idempotent: the webhook contract deduplicates by Idempotency-Key.
func (w *Webhook) Idempotent() bool { return true }

// String never shows the secret.
func (w *Webhook) String() string { return "sms.Webhook" }

// Signature computes the X-Tsunagu-Signature value for a body (receivers
// use it to verify).
func Signature(secret []byte, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(timestamp))
	mac.Write([]byte("."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Send posts one message.
func (w *Webhook) Send(ctx context.Context, to, text, idempotencyKey string) (string, error) {
	e164, err := E164(to)
	if err != nil {
		return "", err
	}
	if idempotencyKey == "" {
		return "", fmt.Errorf("%w: idempotency key is required", ErrInvalid)
	}
	body, _ := json.Marshal(map[string]string{"to": e164, "text": text, "idempotencyKey": idempotencyKey})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("sms: %w", err)
	}
	ts := strconv.FormatInt(w.now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", idempotencyKey)
	req.Header.Set("X-Tsunagu-Timestamp", ts)
	req.Header.Set("X-Tsunagu-Signature", Signature(w.secret, ts, body))
	var res struct {
		ID string `json:"id"`
	}
	status, err := do(w.hc, req, &res)
	if err != nil {
		return "", err
	}
	if status == http.StatusConflict {
		return res.ID, nil // already delivered under this key
	}
	if status >= 400 {
		return "", providerError(status, "webhook")
	}
	return res.ID, nil
}

// do sends req and decodes a JSON answer into v (best effort). A transport
// error is uncertain: the provider may have taken the message.
func do(hc *http.Client, req *http.Request, v any) (int, error) {
	res, err := hc.Do(req)
	if err != nil {
		if errors.Is(err, context.Canceled) && req.Context().Err() != nil {
			return 0, fmt.Errorf("%w: %w", ErrUncertain, req.Context().Err())
		}
		return 0, fmt.Errorf("%w: %w", ErrUncertain, scrub(err))
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if err != nil && res.StatusCode < 300 {
		return 0, fmt.Errorf("%w: reading the answer: %w", ErrUncertain, err)
	}
	_ = json.Unmarshal(data, v)
	return res.StatusCode, nil
}

// scrub drops the URL (which may carry a token in a query) from a transport error.
func scrub(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// providerError: a 5xx may have been processed or not (uncertain for a
// non-deduplicating provider); a 4xx (429 included) is a refusal.
func providerError(status int, what string) error {
	if status >= 500 {
		return fmt.Errorf("%w: %s answered %d", ErrUncertain, what, status)
	}
	return fmt.Errorf("%w: %s answered %d", ErrRefused, what, status)
}
