package line

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// LINE Login ID tokens. A form page opened in LINE (a LIFF app) gets the
// customer's ID token and seals it with the answers; the desktop learns who
// answered by verifying that token here, against LINE's published keys
// (GET /oauth2/v2.1/certs, a JWKS). LIFF's ID tokens are ES256 JWTs
// carrying a kid; nothing else is accepted.
//
// The token is checked locally, not with LINE's verify endpoint, because
// its expiry must be judged at the time the relay received the answer:
// the endpoint judges it at the time it is asked, and a desktop that was
// off for more than the token's hour would refuse every answer queued
// meanwhile. The SDK has no call for the certs endpoint, so this is the
// one plain HTTP request in the package.

// CertsPath is LINE Login's JWKS endpoint (on DefaultEndpoint).
const CertsPath = "/oauth2/v2.1/certs"

// idTokenIssuer is the only issuer LINE's ID tokens carry.
const idTokenIssuer = "https://access.line.me"

// IDTokenLeeway is how far the clocks of LINE, the relay and the phone
// may disagree: a token issued up to this long after the relay's receipt
// time, or expired up to this long before it, is still accepted.
const IDTokenLeeway = time.Minute

// Key cache bounds: LINE's Cache-Control max-age is followed within them
// (a day at most, so a retired key is not trusted for long); an unknown
// kid refetches the keys, at most once per KeysRefetchEvery, so forged
// tokens with made-up kids cannot make the desktop hammer LINE.
const (
	keysDefaultAge   = time.Hour
	keysMinAge       = time.Minute
	keysMaxAge       = 24 * time.Hour
	KeysRefetchEvery = 30 * time.Second
)

var (
	// ErrIDTokenRejected: the ID token is not a valid LIFF ID token for
	// the channel (forged, tampered, another channel or issuer, an
	// algorithm other than ES256, a key LINE does not publish, expired).
	// Retrying cannot help. The error wrapping it says why.
	ErrIDTokenRejected = errors.New("line: ID token rejected")
	// ErrIDTokenExpired: rejected because it had expired when the answer
	// was received (wrapped together with ErrIDTokenRejected).
	ErrIDTokenExpired = errors.New("line: ID token expired")
)

// IDTokenConfig configures an IDTokenVerifier.
type IDTokenConfig struct {
	Endpoint  string           // LINE's API base ("" means DefaultEndpoint; the simulator's in tests)
	ChannelID string           // the LINE Login channel ID (the tokens' aud)
	HTTP      *http.Client     // nil: DefaultTimeout, redirects not followed
	Clock     func() time.Time // [time.Now]: key cache ages and refetch limits
}

// IDTokenVerifier verifies ID tokens issued to one LINE Login channel. It
// caches LINE's keys; one verifier serves any number of goroutines.
type IDTokenVerifier struct {
	endpoint  string
	channelID string
	hc        *http.Client
	now       func() time.Time

	mu      sync.Mutex
	keys    map[string]*ecdsa.PublicKey // by kid
	until   time.Time                   // keys are fresh until then
	fetched time.Time                   // last fetch attempt
}

// NewIDTokenVerifier returns a verifier for cfg.ChannelID. Plain http is
// refused except to loopback.
func NewIDTokenVerifier(cfg IDTokenConfig) (*IDTokenVerifier, error) {
	if cfg.Endpoint == "" {
		cfg.Endpoint = DefaultEndpoint
	}
	if err := checkEndpoint(cfg.Endpoint); err != nil {
		return nil, err
	}
	if cfg.ChannelID == "" || strings.ContainsFunc(cfg.ChannelID, func(r rune) bool { return r < '0' || r > '9' }) {
		return nil, errors.New("line: LINE Login channel ID must be digits")
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{
			Timeout: DefaultTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		}
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	return &IDTokenVerifier{endpoint: strings.TrimRight(cfg.Endpoint, "/"), channelID: cfg.ChannelID, hc: cfg.HTTP, now: cfg.Clock}, nil
}

// ChannelID is the LINE Login channel the verifier accepts tokens for.
func (v *IDTokenVerifier) ChannelID() string { return v.channelID }

// IDTokenInfo is what LINE vouches for in a verified ID token.
type IDTokenInfo struct {
	UserID   string
	Nonce    string
	IssuedAt time.Time
	Expires  time.Time
}

// VerifyIDToken checks token's signature against LINE's keys and its
// claims for the channel, judging expiry at receivedAt (when the relay
// received the answer, never a time the phone wrote). A refusal wraps
// ErrIDTokenRejected (and ErrIDTokenExpired if that is why); any other
// error (LINE's keys unreachable, or a refetch not allowed yet) is
// transient: the caller should try again later.
func (v *IDTokenVerifier) VerifyIDToken(ctx context.Context, token string, receivedAt time.Time) (IDTokenInfo, error) {
	if token == "" || len(token) > 8192 {
		return IDTokenInfo{}, fmt.Errorf("%w: empty or oversized", ErrIDTokenRejected)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return IDTokenInfo{}, fmt.Errorf("%w: not a JWS", ErrIDTokenRejected)
	}
	enc := base64.RawURLEncoding
	hb, err1 := enc.DecodeString(parts[0])
	cb, err2 := enc.DecodeString(parts[1])
	sig, err3 := enc.DecodeString(parts[2])
	var h struct {
		Alg  string `json:"alg"`
		Kid  string `json:"kid"`
		Crit []any  `json:"crit"`
	}
	if err1 != nil || err2 != nil || err3 != nil || json.Unmarshal(hb, &h) != nil {
		return IDTokenInfo{}, fmt.Errorf("%w: malformed", ErrIDTokenRejected)
	}
	// Only ES256 with a published key: "none", HS256 (which would take
	// the public key for a shared secret) and anything else are refused
	// before any key is looked at.
	if h.Alg != "ES256" || h.Kid == "" || len(h.Crit) > 0 || len(sig) != 64 {
		return IDTokenInfo{}, fmt.Errorf("%w: algorithm %q is not ES256 with a key ID", ErrIDTokenRejected, h.Alg)
	}
	pub, err := v.key(ctx, h.Kid)
	if err != nil {
		return IDTokenInfo{}, err
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(pub, sum[:], r, s) {
		return IDTokenInfo{}, fmt.Errorf("%w: signature does not verify", ErrIDTokenRejected)
	}
	var c struct {
		Iss   string `json:"iss"`
		Sub   string `json:"sub"`
		Aud   string `json:"aud"`
		Exp   int64  `json:"exp"`
		Iat   int64  `json:"iat"`
		Nonce string `json:"nonce"`
	}
	if err := json.Unmarshal(cb, &c); err != nil {
		return IDTokenInfo{}, fmt.Errorf("%w: claims: %v", ErrIDTokenRejected, err)
	}
	switch {
	case c.Iss != idTokenIssuer:
		return IDTokenInfo{}, fmt.Errorf("%w: issuer %q", ErrIDTokenRejected, c.Iss)
	case c.Aud != v.channelID:
		return IDTokenInfo{}, fmt.Errorf("%w: issued for another channel", ErrIDTokenRejected)
	case !IsUserID(c.Sub):
		return IDTokenInfo{}, fmt.Errorf("%w: subject is not a LINE user ID", ErrIDTokenRejected)
	case c.Exp <= 0 || c.Iat <= 0 || c.Exp <= c.Iat:
		return IDTokenInfo{}, fmt.Errorf("%w: no valid lifetime", ErrIDTokenRejected)
	}
	issued, expires := time.Unix(c.Iat, 0), time.Unix(c.Exp, 0)
	switch {
	case issued.After(receivedAt.Add(IDTokenLeeway)):
		return IDTokenInfo{}, fmt.Errorf("%w: issued after the answer was received", ErrIDTokenRejected)
	case !expires.After(receivedAt.Add(-IDTokenLeeway)):
		return IDTokenInfo{}, fmt.Errorf("%w: %w before the answer was received", ErrIDTokenRejected, ErrIDTokenExpired)
	}
	return IDTokenInfo{UserID: c.Sub, Nonce: c.Nonce, IssuedAt: issued, Expires: expires}, nil
}

// key returns LINE's public key kid: from the cache while it is fresh,
// else fetched. An unknown kid refetches (LINE may have rotated), at most
// once per KeysRefetchEvery; while that limit holds, the error is
// transient so the answer is tried again rather than refused.
func (v *IDTokenVerifier) key(ctx context.Context, kid string) (*ecdsa.PublicKey, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	now := v.now()
	if k, ok := v.keys[kid]; ok && now.Before(v.until) {
		return k, nil
	}
	if v.keys != nil && now.Before(v.until) && now.Sub(v.fetched) < KeysRefetchEvery {
		return nil, fmt.Errorf("line: ID token key %q not known yet; LINE's keys were fetched moments ago, try again later", kid)
	}
	v.fetched = now
	keys, age, err := v.fetchKeys(ctx)
	if err != nil {
		return nil, err
	}
	v.keys, v.until = keys, now.Add(age)
	if k, ok := keys[kid]; ok {
		return k, nil
	}
	return nil, fmt.Errorf("%w: LINE publishes no key %q", ErrIDTokenRejected, kid)
}

// fetchKeys gets LINE's JWKS and how long it may be cached. The mutex is
// held: concurrent verifications wait for one fetch instead of each
// making their own.
func (v *IDTokenVerifier) fetchKeys(ctx context.Context) (map[string]*ecdsa.PublicKey, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.endpoint+CertsPath, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("line: ID token keys: %w", err)
	}
	res, err := v.hc.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("line: ID token keys: %w", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<16))
	if err != nil {
		return nil, 0, fmt.Errorf("line: ID token keys: read answer: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("line: ID token keys: HTTP %d", res.StatusCode)
	}
	var set struct {
		Keys []struct {
			Kty string `json:"kty"`
			Alg string `json:"alg"`
			Use string `json:"use"`
			Kid string `json:"kid"`
			Crv string `json:"crv"`
			X   string `json:"x"`
			Y   string `json:"y"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, 0, fmt.Errorf("line: ID token keys: %w", err)
	}
	keys := map[string]*ecdsa.PublicKey{}
	for _, k := range set.Keys {
		// Other kinds of key may be published for other uses; only
		// P-256 signing keys can verify an ES256 token.
		if k.Kty != "EC" || k.Crv != "P-256" || k.Kid == "" || (k.Alg != "" && k.Alg != "ES256") || (k.Use != "" && k.Use != "sig") {
			continue
		}
		x, err1 := base64.RawURLEncoding.DecodeString(k.X)
		y, err2 := base64.RawURLEncoding.DecodeString(k.Y)
		if err1 != nil || err2 != nil || len(x) != 32 || len(y) != 32 {
			continue
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
		if err != nil {
			continue // not on the curve
		}
		keys[k.Kid] = pub
	}
	return keys, maxAge(res.Header.Get("Cache-Control")), nil
}

// maxAge is Cache-Control's max-age within the cache bounds
// (keysDefaultAge if there is none).
func maxAge(cc string) time.Duration {
	for _, d := range strings.Split(cc, ",") {
		name, val, ok := strings.Cut(strings.TrimSpace(d), "=")
		if !ok || !strings.EqualFold(name, "max-age") {
			continue
		}
		n, err := strconv.Atoi(strings.Trim(val, `"`))
		if err != nil || n < 0 {
			break
		}
		return min(max(time.Duration(n)*time.Second, keysMinAge), keysMaxAge)
	}
	return keysDefaultAge
}
