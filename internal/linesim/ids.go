package linesim

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/google/uuid"
)

// NewUserID returns a random user ID in LINE's format, "U" followed by 32
// lowercase hex digits.
func NewUserID() string {
	var b [16]byte
	rand.Read(b[:])
	return "U" + hex.EncodeToString(b[:])
}

// Sign returns the x-line-signature LINE sends with body: the base64 of the
// HMAC-SHA256 of the raw body keyed with the channel secret.
func Sign(channelSecret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(channelSecret))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// crockford is the Crockford base32 alphabet ULIDs use.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// newEventID returns a webhookEventId: LINE uses ULIDs, 26 characters that
// encode a 48-bit millisecond time and 80 random bits.
func newEventID(t time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(t.UnixMilli())<<16)
	rand.Read(b[6:])
	// 128 bits as 26 base32 digits, most significant first: the first
	// digit holds the top 3 bits (2 padding bits above them).
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	var out [26]byte
	for i := 25; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}

// newRequestID returns an x-line-request-id; LINE's are UUIDs.
func newRequestID() string { return uuid.NewString() }

// newReplyToken returns an opaque single-use reply token.
func newReplyToken() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// newReadToken returns an opaque markAsReadToken for a customer's message.
func newReadToken() string {
	var b [24]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// newQuoteToken returns an opaque quote token for a message.
func newQuoteToken() string {
	var b [48]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// firstMessageID picks where message IDs start. LINE's are 18-digit
// decimal numbers; a random start keeps two simulators from handing out the
// same IDs.
func firstMessageID() uint64 {
	var b [8]byte
	rand.Read(b[:])
	return 500_000_000_000_000_000 + binary.BigEndian.Uint64(b[:])%100_000_000_000_000_000
}

func isUserID(id string) bool {
	if len(id) != 33 || id[0] != 'U' {
		return false
	}
	return isLowerHex(id[1:])
}

// isRecipientID reports whether id has the form of a push target: a user
// (U), group (C) or room (R) ID.
func isRecipientID(id string) bool {
	if len(id) != 33 || (id[0] != 'U' && id[0] != 'C' && id[0] != 'R') {
		return false
	}
	return isLowerHex(id[1:])
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// isRetryKey reports whether k is a hyphenated hex UUID, the only form LINE
// accepts in X-Line-Retry-Key.
func isRetryKey(k string) bool {
	if len(k) != 36 {
		return false
	}
	_, err := uuid.Parse(k)
	return err == nil
}

// utf16Len counts text as LINE does: in UTF-16 code units.
func utf16Len(text string) int {
	n := 0
	for _, r := range text {
		n += utf16.RuneLen(r)
	}
	return n
}

// newLinkToken returns a link token: 32 random characters, like LINE's.
func newLinkToken() string { return strings.ReplaceAll(uuid.NewString(), "-", "") }
