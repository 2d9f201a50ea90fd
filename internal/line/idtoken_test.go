package line

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"tsunagu/internal/linesim"
)

func newIDTokenVerifier(t *testing.T, e *env) *IDTokenVerifier {
	t.Helper()
	v, err := NewIDTokenVerifier(IDTokenConfig{Endpoint: e.sim.URL(), ChannelID: e.sim.LoginChannelID(), Clock: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// forge builds a token with any header over genuine claims, signed with
// HMAC-SHA256 under secret (or unsigned when secret is nil).
func forge(t *testing.T, header map[string]string, genuine string, secret []byte) string {
	t.Helper()
	enc := base64.RawURLEncoding
	hb, _ := json.Marshal(header)
	signing := enc.EncodeToString(hb) + "." + strings.Split(genuine, ".")[1]
	if secret == nil {
		return signing + "."
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(m.Sum(nil))
}

// TestVerifyIDToken checks LIFF ID tokens locally against the simulator's
// published keys, with the expiry judged at the relay's receipt time: a
// token that expired before the desktop looked but was valid when the
// relay received the answer is accepted; one expired at receipt, issued
// after it, for another channel or issuer, with a tampered payload, signed
// by a key LINE does not publish, unsigned ("none") or HMAC-signed with
// the public key (HS256 confusion) is refused as ErrIDTokenRejected.
func TestVerifyIDToken(t *testing.T) {
	e := newEnv(t)
	u := e.follower("hanako")
	ctx := context.Background()
	v := newIDTokenVerifier(t, e)
	tok, err := e.sim.IssueIDToken(u, "n-1")
	if err != nil {
		t.Fatal(err)
	}
	received := e.clock.Now().Add(10 * time.Minute)
	info, err := v.VerifyIDToken(ctx, tok, received)
	if err != nil {
		t.Fatal(err)
	}
	if info.UserID != u || info.Nonce != "n-1" || !info.Expires.After(info.IssuedAt) {
		t.Fatalf("info = %+v", info)
	}
	now := e.clock.Now()
	// The desktop opens it three hours later: still the receipt time that
	// counts, not the desktop's clock.
	e.clock.Advance(3 * time.Hour)
	if _, err := v.VerifyIDToken(ctx, tok, received); err != nil {
		t.Fatalf("token valid at receipt, verified after its expiry: %v", err)
	}

	claims := func(mod func(*linesim.IDTokenClaims)) string {
		c := linesim.IDTokenClaims{Iss: linesim.IDTokenIssuer, Sub: u, Aud: e.sim.LoginChannelID(), Iat: now.Unix(), Exp: now.Add(time.Hour).Unix()}
		mod(&c)
		s, err := e.sim.SignIDToken(c)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	otherChannel := claims(func(c *linesim.IDTokenClaims) { c.Aud = "1999999999" })
	otherIssuer := claims(func(c *linesim.IDTokenClaims) { c.Iss = "https://evil.example" })
	// Another customer's claims pasted over a genuine signature.
	other := e.follower("taro")
	otherTok, _ := e.sim.IssueIDToken(other, "")
	p, q := strings.Split(tok, "."), strings.Split(otherTok, ".")
	tampered := p[0] + "." + q[1] + "." + p[2]
	// A token signed by another LINE (another simulator's key and kid).
	stranger := linesim.New(linesim.Config{AccessToken: "x", LoginChannelID: e.sim.LoginChannelID()})
	stranger.AddCustomer(linesim.Customer{UserID: u, DisplayName: "hanako", Following: true})
	foreign, err := stranger.IssueIDToken(u, "")
	if err != nil {
		t.Fatal(err)
	}
	// The stranger's signature under our kid: a known key, a wrong signature.
	var hdr map[string]string
	hb, _ := base64.RawURLEncoding.DecodeString(p[0])
	json.Unmarshal(hb, &hdr)
	fp := strings.Split(foreign, ".")
	wrongSig := p[0] + "." + fp[1] + "." + fp[2]
	// The published key's JWK used as an HMAC secret, and no signature.
	hs256 := forge(t, map[string]string{"alg": "HS256", "typ": "JWT", "kid": hdr["kid"]}, tok, []byte(hdr["kid"]))
	none := forge(t, map[string]string{"alg": "none", "typ": "JWT"}, tok, nil)
	noKid := forge(t, map[string]string{"alg": "ES256", "typ": "JWT"}, tok, nil) + p[2]

	for _, c := range []struct {
		name string
		tok  string
		at   time.Time
		exp  bool
	}{
		{"expired at receipt", tok, now.Add(time.Hour + 2*IDTokenLeeway), true},
		{"issued after receipt", tok, now.Add(-2 * IDTokenLeeway), false},
		{"other channel", otherChannel, now, false},
		{"other issuer", otherIssuer, now, false},
		{"tampered", tampered, now, false},
		{"wrong signature", wrongSig, now, false},
		{"alg HS256", hs256, now, false},
		{"alg none", none, now, false},
		{"no kid", noKid, now, false},
		{"garbage", "not.a.token", now, false},
	} {
		_, err := v.VerifyIDToken(ctx, c.tok, c.at)
		if !errors.Is(err, ErrIDTokenRejected) || errors.Is(err, ErrIDTokenExpired) != c.exp {
			t.Errorf("%s: err = %v, want rejected (expired %v)", c.name, err, c.exp)
		}
	}
	// A kid LINE does not publish: refetched once (LINE may have rotated),
	// then refused.
	e.clock.Advance(KeysRefetchEvery)
	if _, err := v.VerifyIDToken(ctx, foreign, e.clock.Now()); !errors.Is(err, ErrIDTokenRejected) {
		t.Fatalf("foreign key: %v", err)
	}
	// The channel is ours to name: a verifier for another channel refuses
	// the genuine token.
	v2, _ := NewIDTokenVerifier(IDTokenConfig{Endpoint: e.sim.URL(), ChannelID: "1999999999"})
	if _, err := v2.VerifyIDToken(ctx, tok, now); !errors.Is(err, ErrIDTokenRejected) {
		t.Fatalf("other channel's verifier: %v", err)
	}
}

// TestIDTokenKeys: LINE's keys are fetched once and cached for the
// Cache-Control max-age; a rotated key (unknown kid) refetches them, at
// most once per KeysRefetchEvery (meanwhile a transient error, so the
// answer waits rather than being refused); a retired key's tokens are
// then refused; LINE's certs endpoint unreachable is transient.
func TestIDTokenKeys(t *testing.T) {
	e := newEnv(t)
	u := e.follower("hanako")
	ctx := context.Background()
	v := newIDTokenVerifier(t, e)
	verify := func(tok string) error {
		_, err := v.VerifyIDToken(ctx, tok, e.clock.Now())
		return err
	}
	tok1, _ := e.sim.IssueIDToken(u, "")
	for range 3 {
		if err := verify(tok1); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.sim.CertsFetches(); n != 1 {
		t.Fatalf("certs fetched %d times for three tokens", n)
	}
	// Rotation keeping the old key: the new kid refetches at once (the
	// last fetch is older than the refetch limit).
	e.clock.Advance(KeysRefetchEvery)
	e.sim.RotateIDTokenKey(false)
	tok2, _ := e.sim.IssueIDToken(u, "")
	if err := verify(tok2); err != nil {
		t.Fatalf("rotated key: %v", err)
	}
	if err := verify(tok1); err != nil {
		t.Fatalf("old key still published: %v", err)
	}
	if n := e.sim.CertsFetches(); n != 2 {
		t.Fatalf("certs fetched %d times, want 2", n)
	}
	// Another rotation moments later, retiring the old keys: the refetch
	// waits (transient, not a refusal), then succeeds.
	e.sim.RotateIDTokenKey(true)
	tok3, _ := e.sim.IssueIDToken(u, "")
	if err := verify(tok3); err == nil || errors.Is(err, ErrIDTokenRejected) {
		t.Fatalf("refetch within the limit: %v, want a transient error", err)
	}
	e.clock.Advance(KeysRefetchEvery)
	if err := verify(tok3); err != nil {
		t.Fatalf("after the limit: %v", err)
	}
	// tok1's key is no longer in the cached set; after the refetch limit
	// it is looked up again and refused.
	e.clock.Advance(KeysRefetchEvery)
	if err := verify(tok1); !errors.Is(err, ErrIDTokenRejected) {
		t.Fatalf("retired key: %v", err)
	}
	fetches := e.sim.CertsFetches()
	// The cache expires after max-age: fetched again.
	e.clock.Advance(linesim.CertsMaxAge)
	tok4, _ := e.sim.IssueIDToken(u, "")
	at4 := e.clock.Now()
	verify = func(tok string) error {
		_, err := v.VerifyIDToken(ctx, tok, at4)
		return err
	}
	if err := verify(tok4); err != nil || e.sim.CertsFetches() != fetches+1 {
		t.Fatalf("after max-age: %v, fetches %d, want %d", err, e.sim.CertsFetches(), fetches+1)
	}
	// LINE unreachable with a stale cache: transient, never a refusal.
	e.clock.Advance(linesim.CertsMaxAge)
	e.sim.SetOutage(linesim.OutageRefuse)
	if err := verify(tok4); err == nil || errors.Is(err, ErrIDTokenRejected) {
		t.Fatalf("certs unreachable: %v, want a transient error", err)
	}
	e.sim.SetOutage(linesim.OutageNone)
	if err := verify(tok4); err != nil {
		t.Fatalf("certs back: %v", err)
	}
	if _, err := NewIDTokenVerifier(IDTokenConfig{Endpoint: "http://example.com", ChannelID: "1"}); err == nil {
		t.Fatal("plain http to a remote host accepted")
	}
	for cc, want := range map[string]time.Duration{"": keysDefaultAge, "public, max-age=600": 10 * time.Minute,
		"max-age=5": keysMinAge, "max-age=999999": keysMaxAge, "no-cache, max-age=x": keysDefaultAge} {
		if got := maxAge(cc); got != want {
			t.Errorf("maxAge(%q) = %v, want %v", cc, got, want)
		}
	}
}
