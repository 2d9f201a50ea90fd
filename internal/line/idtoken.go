package line

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// LINE Login ID tokens. A form page opened in LINE (a LIFF app) gets the
// customer's ID token and seals it with the answers; the desktop learns who
// answered only by asking LINE to verify that token for its LINE Login
// channel. The SDK has no call for LINE Login's verify endpoint, so this is
// the one plain HTTP request in the package: POST /oauth2/v2.1/verify.

// VerifyPath is LINE Login's ID token verification endpoint (on
// DefaultEndpoint).
const VerifyPath = "/oauth2/v2.1/verify"

// idTokenIssuer is the only issuer LINE's ID tokens carry.
const idTokenIssuer = "https://access.line.me"

// ErrIDTokenRejected: LINE refused the ID token (forged, expired, for
// another channel, malformed). Retrying cannot help. The error wrapping it
// carries LINE's description.
var ErrIDTokenRejected = errors.New("line: ID token rejected")

// IDTokenVerifier verifies ID tokens issued to one LINE Login channel.
type IDTokenVerifier struct {
	endpoint  string
	channelID string
	hc        *http.Client
}

// NewIDTokenVerifier returns a verifier for the LINE Login channel
// channelID at endpoint ("" means DefaultEndpoint; the simulator's URL in
// tests). Plain http is refused except to loopback. If hc is nil, a client
// with DefaultTimeout that does not follow redirects is used.
func NewIDTokenVerifier(endpoint, channelID string, hc *http.Client) (*IDTokenVerifier, error) {
	if endpoint == "" {
		endpoint = DefaultEndpoint
	}
	if err := checkEndpoint(endpoint); err != nil {
		return nil, err
	}
	if channelID == "" || strings.ContainsFunc(channelID, func(r rune) bool { return r < '0' || r > '9' }) {
		return nil, errors.New("line: LINE Login channel ID must be digits")
	}
	if hc == nil {
		hc = &http.Client{
			Timeout: DefaultTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		}
	}
	return &IDTokenVerifier{endpoint: strings.TrimRight(endpoint, "/"), channelID: channelID, hc: hc}, nil
}

// IDTokenInfo is what LINE vouches for in a verified ID token.
type IDTokenInfo struct {
	UserID   string
	Nonce    string
	IssuedAt time.Time
	Expires  time.Time
}

// VerifyIDToken asks LINE whether token is a valid ID token for the
// channel and returns whose it is. A refusal wraps ErrIDTokenRejected;
// any other error (network, LINE's 5xx) is worth retrying later.
func (v *IDTokenVerifier) VerifyIDToken(ctx context.Context, token string) (IDTokenInfo, error) {
	if token == "" || len(token) > 8192 {
		return IDTokenInfo{}, fmt.Errorf("%w: empty or oversized", ErrIDTokenRejected)
	}
	form := url.Values{"id_token": {token}, "client_id": {v.channelID}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.endpoint+VerifyPath, strings.NewReader(form.Encode()))
	if err != nil {
		return IDTokenInfo{}, fmt.Errorf("line: verify ID token: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := v.hc.Do(req)
	if err != nil {
		return IDTokenInfo{}, fmt.Errorf("line: verify ID token: %w", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<16))
	if err != nil {
		return IDTokenInfo{}, fmt.Errorf("line: verify ID token: read answer: %w", err)
	}
	switch {
	case res.StatusCode == http.StatusBadRequest:
		var e struct {
			Description string `json:"error_description"`
		}
		_ = json.Unmarshal(body, &e)
		return IDTokenInfo{}, fmt.Errorf("%w: %s", ErrIDTokenRejected, e.Description)
	case res.StatusCode != http.StatusOK:
		return IDTokenInfo{}, fmt.Errorf("line: verify ID token: HTTP %d", res.StatusCode)
	}
	var c struct {
		Iss   string `json:"iss"`
		Sub   string `json:"sub"`
		Aud   string `json:"aud"`
		Exp   int64  `json:"exp"`
		Iat   int64  `json:"iat"`
		Nonce string `json:"nonce"`
	}
	if err := json.Unmarshal(body, &c); err != nil {
		return IDTokenInfo{}, fmt.Errorf("line: verify ID token: answer: %w", err)
	}
	// LINE checked these; checking again costs nothing and keeps a
	// misdirected endpoint from vouching for someone.
	if c.Iss != idTokenIssuer || c.Aud != v.channelID || !IsUserID(c.Sub) {
		return IDTokenInfo{}, fmt.Errorf("%w: issuer, audience or subject not as expected", ErrIDTokenRejected)
	}
	return IDTokenInfo{UserID: c.Sub, Nonce: c.Nonce, IssuedAt: time.Unix(c.Iat, 0), Expires: time.Unix(c.Exp, 0)}, nil
}
