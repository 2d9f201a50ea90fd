package wire

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"

	"golang.org/x/crypto/nacl/box"
)

// Inflow routes. A route's QR code holds https://RELAY/r/TENANT/TOKEN; the
// desktop publishes the token → target (LINE's add-friend URL or a page)
// like a tracked link (POST /v1/links). A visit is queued like a click,
// sealed to the desktop's key: version 3, a random visit ID, the time and
// the token; nothing about the person (no address, no user agent).

// visitVersion is the first byte of an opened visit box (clicks: 2).
const visitVersion = 3

// SealVisit seals a route visit (token, time, a fresh random ID) to the
// desktop's X25519 key. It opens as Opened.Visit.
func SealVisit(recipient *[KeySize]byte, token string, at int64) ([]byte, error) {
	if !ValidToken(token) {
		return nil, fmt.Errorf("relay: not a route token")
	}
	msg := make([]byte, 0, 1+ClickIDLen+8+len(token))
	msg = append(msg, visitVersion)
	var id [ClickIDLen]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, fmt.Errorf("relay: visit id: %w", err)
	}
	msg = append(msg, id[:]...)
	msg = binary.BigEndian.AppendUint64(msg, uint64(at))
	msg = append(msg, token...)
	out, err := box.SealAnonymous(nil, msg, recipient, rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("relay: seal visit: %w", err)
	}
	return out, nil
}
