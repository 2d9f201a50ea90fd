package wire

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"

	"golang.org/x/crypto/nacl/box"
)

// Tracked links. The desktop publishes, per recipient and link, a random
// token and the target URL (nothing else: no LINE user ID, customer ID or
// name); the relay answers GET /c/TENANT/TOKEN with a redirect to the target
// and queues the click sealed to the desktop's key, in the same queue as the
// webhooks. A click envelope carries the token, the time and a random click
// ID (so a redelivered click is stored once); nothing about the person who
// clicked (no IP address, no user agent).

// clickVersion is the first byte of an opened click box (webhooks: 1).
const clickVersion = 2

// TokenLen is the length of a link token: 32 base64url characters of 24
// random bytes (192 bits), unguessable.
const TokenLen = 32

// ClickIDLen is the size of a click's random ID.
const ClickIDLen = 16

// PurposeLinks is the statement purpose of a link upload.
const PurposeLinks = "links"

// MaxLinksPerUpload bounds one POST /v1/links.
const MaxLinksPerUpload = 5000

// MaxLinkURL bounds a target URL (LINE's own URI action limit is 1000).
const MaxLinkURL = 2000

// Click is one opened click.
type Click struct {
	ID    [ClickIDLen]byte
	Token string
	At    int64 // unix ms, when the relay answered the redirect
}

// IDHex is the click ID as text (the desktop stores it to ignore
// redeliveries).
func (c Click) IDHex() string { return hex.EncodeToString(c.ID[:]) }

// ValidToken reports whether s has a token's shape (base64url, TokenLen).
func ValidToken(s string) bool {
	if len(s) != TokenLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// LinkKey is where the relay stores a token's target: a hash of tenant and
// token, so the relay's files do not hold the tokens that the messages do.
func LinkKey(tenant, token string) string {
	sum := sha256.Sum256([]byte("tsunagu-link-v1\x00" + tenant + "\x00" + token))
	return tenant + "." + hex.EncodeToString(sum[:20])
}

// SealClick seals a click (token, time, a fresh random ID) to the desktop's
// X25519 key.
func SealClick(recipient *[KeySize]byte, token string, at int64) ([]byte, error) {
	if !ValidToken(token) {
		return nil, fmt.Errorf("relay: not a link token")
	}
	msg := make([]byte, 0, 1+ClickIDLen+8+len(token))
	msg = append(msg, clickVersion)
	var id [ClickIDLen]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, fmt.Errorf("relay: click id: %w", err)
	}
	msg = append(msg, id[:]...)
	msg = binary.BigEndian.AppendUint64(msg, uint64(at))
	msg = append(msg, token...)
	out, err := box.SealAnonymous(nil, msg, recipient, rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("relay: seal click: %w", err)
	}
	return out, nil
}

// Opened is one opened queue entry: a webhook (Body, Signature), a click
// or a route visit.
type Opened struct {
	Body      []byte
	Signature string
	Click     *Click
	Visit     *Click
	Form      *FormSubmission
	Booking   *BookingRequest
}

// OpenAny opens a sealed webhook, click, visit or form submission.
func OpenAny(pub, priv *[KeySize]byte, sealed []byte) (Opened, error) {
	msg, ok := box.OpenAnonymous(nil, sealed, pub, priv)
	if !ok {
		return Opened{}, ErrOpen
	}
	if len(msg) >= 1 && (msg[0] == clickVersion || msg[0] == visitVersion) {
		if len(msg) != 1+ClickIDLen+8+TokenLen {
			return Opened{}, ErrEnvelope
		}
		c := &Click{}
		copy(c.ID[:], msg[1:])
		c.At = int64(binary.BigEndian.Uint64(msg[1+ClickIDLen:]))
		c.Token = string(msg[1+ClickIDLen+8:])
		if !ValidToken(c.Token) {
			return Opened{}, ErrEnvelope
		}
		if msg[0] == visitVersion {
			return Opened{Visit: c}, nil // a route visit: the same fields
		}
		return Opened{Click: c}, nil
	}
	if len(msg) >= 1 && msg[0] == formVersion {
		f, err := openForm(msg)
		clear(msg)
		if err != nil {
			return Opened{}, err
		}
		return Opened{Form: f}, nil
	}
	if len(msg) >= 1 && msg[0] == bookingVersion {
		b, err := openBooking(msg)
		clear(msg)
		if err != nil {
			return Opened{}, err
		}
		return Opened{Booking: b}, nil
	}
	body, sig, err := openEnvelope(msg)
	if err != nil {
		return Opened{}, err
	}
	return Opened{Body: body, Signature: sig}, nil
}

// Link is one token's target, as the desktop publishes it.
type Link struct {
	Token     string `json:"token"`
	URL       string `json:"url"`
	ExpiresAt int64  `json:"expiresAt"` // unix ms; after it the relay shows the neutral page
}

// LinksRequest is the body of POST /v1/links (signed like a media upload,
// the statement's extra data being LinksStatement(body)).
type LinksRequest struct {
	Links []Link `json:"links"`
}

// LinksStatement is the extra data a link upload's signature covers.
func LinksStatement(body []byte) []byte {
	sum := sha256.Sum256(body)
	return sum[:]
}
