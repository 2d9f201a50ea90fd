package linesim

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// LINE Login ID tokens, as a LIFF page gets them (liff.getIDToken). The
// simulator signs its tokens with its own ES256 keys (LIFF's tokens are
// ES256, with a kid) and publishes them as LINE does, a JWKS at
// GET https://api.line.me/oauth2/v2.1/certs, which the desktop verifies
// tokens against; keys can be rotated. It also answers
// POST https://api.line.me/oauth2/v2.1/verify with LINE's field names,
// status codes and error bodies.

// IDTokenIssuer is the iss of every LINE ID token.
const IDTokenIssuer = "https://access.line.me"

// DefaultLoginChannelID is the LINE Login channel ID tokens are issued for
// when Config.LoginChannelID is empty.
const DefaultLoginChannelID = "1657000000"

// IDTokenTTL is how long an issued ID token is valid (LINE: one hour).
const IDTokenTTL = time.Hour

// VerifyPath is the LINE Login endpoint that verifies an ID token.
const VerifyPath = "/oauth2/v2.1/verify"

// LINE's error descriptions for a refused ID token (error "invalid_request").
const (
	msgIDTokenInvalid  = "Invalid IdToken."
	msgIDTokenExpired  = "IdToken expired."
	msgIDTokenAudience = "Invalid IdToken Audience."
	msgIDTokenNonce    = "Invalid IdToken Nonce."
	msgIDTokenSubject  = "Invalid IdToken Subject Identifier."
)

// loginState is the LINE Login side of the simulator. Its keys change
// only through RotateIDTokenKey, under Server.mu.
type loginState struct {
	channelID    string
	keys         []loginKey // the first signs; all are published at CertsPath
	certsFetches int
}

// loginKey is one ES256 signing key and its JWK key ID.
type loginKey struct {
	kid string
	key *ecdsa.PrivateKey
}

func newLoginKey() loginKey {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		// crypto/rand does not fail on the platforms Go supports.
		panic(fmt.Sprintf("linesim: ID token key: %v", err))
	}
	kid := make([]byte, 8)
	rand.Read(kid)
	return loginKey{kid: fmt.Sprintf("%x", kid), key: key}
}

func newLoginState(channelID string) loginState {
	if channelID == "" {
		channelID = DefaultLoginChannelID
	}
	return loginState{channelID: channelID, keys: []loginKey{newLoginKey()}}
}

// CertsPath is LINE Login's JWKS (the public keys ID tokens are signed
// with), as https://api.line.me/oauth2/v2.1/certs serves it.
const CertsPath = "/oauth2/v2.1/certs"

// CertsMaxAge is the Cache-Control max-age the simulator's JWKS is served
// with.
const CertsMaxAge = time.Hour

// RotateIDTokenKey makes a new key sign ID tokens from now on and returns
// its key ID. The old keys stay published (tokens already issued still
// verify), as a provider rotates, unless retire is set: then only the new
// key is published and tokens signed before no longer verify.
func (s *Server) RotateIDTokenKey(retire bool) string {
	k := newLoginKey()
	s.mu.Lock()
	defer s.mu.Unlock()
	if retire {
		s.login.keys = []loginKey{k}
	} else {
		s.login.keys = append([]loginKey{k}, s.login.keys...)
	}
	return k.kid
}

// CertsFetches is how often the JWKS was fetched (a verifier's cache is
// tested by it).
func (s *Server) CertsFetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.login.certsFetches
}

// handleCerts is GET /oauth2/v2.1/certs: every published key as an EC
// P-256 JWK.
func (s *Server) handleCerts(w http.ResponseWriter, _ *http.Request) {
	type jwk struct {
		Kty string `json:"kty"`
		Alg string `json:"alg"`
		Use string `json:"use"`
		Kid string `json:"kid"`
		Crv string `json:"crv"`
		X   string `json:"x"`
		Y   string `json:"y"`
	}
	s.mu.Lock()
	s.login.certsFetches++
	keys := make([]jwk, 0, len(s.login.keys))
	for _, k := range s.login.keys {
		pt, err := k.key.PublicKey.Bytes() // 0x04 || X || Y
		if err != nil {
			continue
		}
		enc := base64.RawURLEncoding
		keys = append(keys, jwk{Kty: "EC", Alg: "ES256", Use: "sig", Kid: k.kid, Crv: "P-256",
			X: enc.EncodeToString(pt[1:33]), Y: enc.EncodeToString(pt[33:])})
	}
	s.mu.Unlock()
	w.Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d", int(CertsMaxAge/time.Second)))
	writeJSON(w, http.StatusOK, map[string]any{"keys": keys})
}

// IDTokenClaims are an ID token's claims as LINE issues them (and as the
// verify endpoint answers them).
type IDTokenClaims struct {
	Iss     string   `json:"iss"`
	Sub     string   `json:"sub"`
	Aud     string   `json:"aud"`
	Exp     int64    `json:"exp"`
	Iat     int64    `json:"iat"`
	Nonce   string   `json:"nonce,omitempty"`
	Amr     []string `json:"amr"`
	Name    string   `json:"name,omitempty"`
	Picture string   `json:"picture,omitempty"`
}

// LoginChannelID is the LINE Login channel ID the simulator issues ID
// tokens for (their aud).
func (s *Server) LoginChannelID() string { return s.login.channelID }

// IssueIDToken returns an ID token for a simulated customer, as LIFF's
// getIDToken gives it to a page opened in LINE: signed, for the login
// channel, valid for IDTokenTTL from the simulator's clock.
func (s *Server) IssueIDToken(userID, nonce string) (string, error) {
	s.mu.Lock()
	c, ok := s.customers[userID]
	var name, pic string
	if ok {
		name, pic = c.DisplayName, c.PictureURL
	}
	s.mu.Unlock()
	if !ok {
		return "", ErrUnknownCustomer
	}
	now := s.now()
	return s.SignIDToken(IDTokenClaims{
		Iss: IDTokenIssuer, Sub: userID, Aud: s.login.channelID,
		Iat: now.Unix(), Exp: now.Add(IDTokenTTL).Unix(),
		Nonce: nonce, Amr: []string{"linesso"}, Name: name, Picture: pic,
	})
}

// SignIDToken signs arbitrary claims with the simulator's key: tests make
// expired tokens or tokens for another channel with it.
func (s *Server) SignIDToken(c IDTokenClaims) (string, error) {
	s.mu.Lock()
	k := s.login.keys[0]
	s.mu.Unlock()
	header, _ := json.Marshal(map[string]string{"typ": "JWT", "alg": "ES256", "kid": k.kid})
	claims, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("linesim: ID token claims: %w", err)
	}
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString(header) + "." + enc.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signing))
	r, sv, err := ecdsa.Sign(rand.Reader, k.key, sum[:])
	if err != nil {
		return "", fmt.Errorf("linesim: sign ID token: %w", err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	sv.FillBytes(sig[32:])
	return signing + "." + enc.EncodeToString(sig), nil
}

var errBadIDToken = errors.New(msgIDTokenInvalid)

// parseIDToken checks the signature and returns the claims.
func (s *Server) parseIDToken(tok string) (IDTokenClaims, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return IDTokenClaims{}, errBadIDToken
	}
	enc := base64.RawURLEncoding
	var header struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	hb, err1 := enc.DecodeString(parts[0])
	cb, err2 := enc.DecodeString(parts[1])
	sig, err3 := enc.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || len(sig) != 64 ||
		json.Unmarshal(hb, &header) != nil || header.Alg != "ES256" {
		return IDTokenClaims{}, errBadIDToken
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	r, sv := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	var pub *ecdsa.PublicKey
	s.mu.Lock()
	for _, k := range s.login.keys {
		if k.kid == header.Kid {
			pub = &k.key.PublicKey
		}
	}
	s.mu.Unlock()
	if pub == nil || !ecdsa.Verify(pub, sum[:], r, sv) {
		return IDTokenClaims{}, errBadIDToken
	}
	var c IDTokenClaims
	if json.Unmarshal(cb, &c) != nil {
		return IDTokenClaims{}, errBadIDToken
	}
	return c, nil
}

type loginError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// handleVerifyIDToken is POST /oauth2/v2.1/verify (form-encoded id_token,
// client_id, optional nonce and user_id). It needs no bearer token: LINE
// Login's verify endpoint is public.
func (s *Server) handleVerifyIDToken(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	r.Body = http.MaxBytesReader(w, r.Body, 1<<16)
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, loginError{"invalid_request", "malformed request"})
		return
	}
	tok, clientID := r.PostForm.Get("id_token"), r.PostForm.Get("client_id")
	if tok == "" {
		writeJSON(w, http.StatusBadRequest, loginError{"invalid_request", "id_token is required"})
		return
	}
	if clientID == "" {
		writeJSON(w, http.StatusBadRequest, loginError{"invalid_request", "client_id is required"})
		return
	}
	c, err := s.parseIDToken(tok)
	switch {
	case err != nil || c.Iss != IDTokenIssuer:
		writeJSON(w, http.StatusBadRequest, loginError{"invalid_request", msgIDTokenInvalid})
	case c.Exp <= s.now().Unix():
		writeJSON(w, http.StatusBadRequest, loginError{"invalid_request", msgIDTokenExpired})
	case c.Aud != clientID:
		writeJSON(w, http.StatusBadRequest, loginError{"invalid_request", msgIDTokenAudience})
	case r.PostForm.Has("nonce") && r.PostForm.Get("nonce") != c.Nonce:
		writeJSON(w, http.StatusBadRequest, loginError{"invalid_request", msgIDTokenNonce})
	case r.PostForm.Has("user_id") && r.PostForm.Get("user_id") != c.Sub:
		writeJSON(w, http.StatusBadRequest, loginError{"invalid_request", msgIDTokenSubject})
	default:
		writeJSON(w, http.StatusOK, c)
	}
}

// LIFFSDKPath serves the simulator's stand-in for LINE's LIFF SDK
// (https://static.line-scdn.net/liff/edge/2/sdk.js): the part a Tsunagu
// form page uses (init, isInClient, getIDToken, closeWindow). The relay's
// Config.LIFFSDK points pages at it in tests.
const LIFFSDKPath = "/liff/sdk.js"

// liffShim is that stand-in. "Inside LINE" is a page opened through
// LIFFURL: LINE's app hands a LIFF page its credentials in the URL
// fragment, and so does the simulator (linesim_id_token); the shim removes
// that at once, as LIFF does, keeping the rest. A LIFF URL's own query and
// fragment reach the endpoint in ?liff.state= (LINE's primary redirect)
// and are put back when liff.init() runs (its secondary redirect), which
// is when a page may read them. Without a token the page is "outside LINE"
// (isInClient false, no ID token).
const liffShim = `(function(){
var p=new URLSearchParams(location.hash.slice(1)),t=p.get('linesim_id_token');
p.delete('linesim_id_token');var rest=p.toString();
if(t)history.replaceState(null,'',location.pathname+location.search+(rest?'#'+rest:''));
window.liff={
init:function(o){if(!o||!o.liffId)return Promise.reject(new Error('liffId is necessary for liff.init()'));
var q=new URLSearchParams(location.search),st=q.get('liff.state');
if(st!==null){q.delete('liff.state');var qs=q.toString();history.replaceState(null,'',location.pathname+(qs?'?'+qs:'')+st)}
return Promise.resolve()},
isInClient:function(){return !!t},
isLoggedIn:function(){return !!t},
getIDToken:function(){return t||null},
closeWindow:function(){}
};})();`

func handleLIFFSDK(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write([]byte(liffShim))
}

// LIFFURL is pageURL as LINE opens it for a customer inside the LINE app:
// with a fresh ID token (nonce "") for the login channel in the fragment,
// which the stand-in SDK hands to the page. A pageURL with a fragment is
// taken as a LIFF URL's path, query and fragment: they travel as LINE
// carries them, in ?liff.state= of the first request (so the endpoint's
// server sees them once), and the stand-in's liff.init() puts them back.
func (s *Server) LIFFURL(userID, pageURL string) (string, error) {
	tok, err := s.IssueIDToken(userID, "")
	if err != nil {
		return "", err
	}
	if base, frag, ok := strings.Cut(pageURL, "#"); ok {
		base, query, _ := strings.Cut(base, "?")
		state := "#" + frag
		if query != "" {
			state = "?" + query + state
		}
		return base + "?liff.state=" + url.QueryEscape(state) + "#linesim_id_token=" + tok, nil
	}
	return pageURL + "#linesim_id_token=" + tok, nil
}
