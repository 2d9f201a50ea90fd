// Package wire is what the relay and the desktop share: the sealed-event
// envelope, the authentication statement each side signs or checks, and
// the JSON messages of the delivery connection. It is small on purpose:
// the desktop links it without linking the relay's NATS server.
package wire

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/crypto/nacl/box"
)

// KeySize is the size of an X25519 key.
const KeySize = 32

// Size limits shared by the relay and the desktop. The relay refuses a
// body over MaxBodyBytes at intake, so no sealed event is ever larger than
// MaxEventBytes, and it cuts every batch so that its JSON message is at
// most MaxBatchBytes; the desktop's read limit is ReadLimit. A batch the
// relay sends is therefore always one the desktop can read: an oversized
// message would be refused, the connection reset and the same batch sent
// again forever, with every real message behind it stuck.
const (
	// MaxBodyBytes is the largest webhook body a relay accepts (LINE's are
	// a few KiB); the relay's --max-body may lower it, never raise it.
	MaxBodyBytes = 1 << 20
	// SealOverhead is the most Seal adds to a body: the envelope's version
	// byte, the signature's length (uvarint, at most 2 bytes for 256) and
	// the signature, and the box's ephemeral key and tag.
	SealOverhead = 1 + 2 + maxSignature + box.AnonymousOverhead
	// MaxEventBytes bounds one sealed event.
	MaxEventBytes = MaxBodyBytes + SealOverhead
	// MaxBatchBytes bounds one batch message as sent (JSON, events in
	// base64).
	MaxBatchBytes = 4 << 20
	// ReadLimit is the desktop's WebSocket read limit: every batch fits.
	ReadLimit = MaxBatchBytes

	// eventFrameBytes bounds the JSON around one event's base64 in a batch
	// ({"seq":…,"receivedAt":…,"sealed":"…","redelivery":true,"hold":"…",
	// "slot":"…"}, and a comma);
	// batchFrameBytes bounds the rest of a batch message.
	eventFrameBytes = 320
	batchFrameBytes = 256
	// BatchBudget is what the events of one batch may take, by
	// EventWireBytes.
	BatchBudget = MaxBatchBytes - batchFrameBytes
)

// A batch of one largest event must fit: this constant does not compile
// (it overflows uint) if someone changes the limits so that it does not.
const _ = uint(BatchBudget - ((MaxEventBytes+2)/3*4 + eventFrameBytes))

// EventWireBytes bounds what an event of sealedLen sealed bytes takes in a
// batch message.
func EventWireBytes(sealedLen int) int { return (sealedLen+2)/3*4 + eventFrameBytes }

// Errors of Open.
var (
	// ErrOpen means the sealed event was not sealed to this key, or was
	// altered: the relay or someone on the way tampered with it.
	ErrOpen = errors.New("relay: sealed event does not open with this key")
	// ErrEnvelope means the box opened but its content is not an envelope.
	ErrEnvelope = errors.New("relay: malformed envelope")
)

// envelopeVersion is the first byte of an opened box. A new layout gets a
// new number; the desktop refuses ones it does not know.
const envelopeVersion = 1

// maxSignature bounds the x-line-signature kept in an envelope (LINE's is
// 44 base64 characters).
const maxSignature = 256

// Seal seals a webhook's raw body and its x-line-signature header to the
// desktop's X25519 public key with an anonymous NaCl box (an ephemeral
// X25519 key per event, XSalsa20-Poly1305). Only the holder of the private
// key can open it; the relay cannot, once Seal returns.
func Seal(recipient *[KeySize]byte, body []byte, signature string) ([]byte, error) {
	if len(signature) > maxSignature {
		return nil, fmt.Errorf("relay: signature header of %d bytes is too long", len(signature))
	}
	msg := make([]byte, 0, 1+binary.MaxVarintLen64+len(signature)+len(body))
	msg = append(msg, envelopeVersion)
	msg = binary.AppendUvarint(msg, uint64(len(signature)))
	msg = append(msg, signature...)
	msg = append(msg, body...)
	out, err := box.SealAnonymous(nil, msg, recipient, rand.Reader)
	clear(msg)
	if err != nil {
		return nil, fmt.Errorf("relay: seal: %w", err)
	}
	return out, nil
}

// Open opens what Seal sealed and returns the raw body and signature header.
func Open(pub, priv *[KeySize]byte, sealed []byte) (body []byte, signature string, err error) {
	msg, ok := box.OpenAnonymous(nil, sealed, pub, priv)
	if !ok {
		return nil, "", ErrOpen
	}
	return openEnvelope(msg)
}

// openEnvelope reads an opened webhook envelope.
func openEnvelope(msg []byte) (body []byte, signature string, err error) {
	if len(msg) < 2 || msg[0] != envelopeVersion {
		return nil, "", ErrEnvelope
	}
	n, w := binary.Uvarint(msg[1:])
	if w <= 0 || n > maxSignature || uint64(len(msg)-1-w) < n {
		return nil, "", ErrEnvelope
	}
	rest := msg[1+w:]
	return rest[n:], string(rest[:n]), nil
}

// GenerateBoxKey makes the desktop's X25519 key pair.
func GenerateBoxKey() (pub, priv *[KeySize]byte, err error) {
	return box.GenerateKey(rand.Reader)
}

// Statement purposes: a signature made for one cannot be replayed as
// another.
const (
	PurposeConnect = "connect"
	PurposeMedia   = "media"
)

// AuthStatement is the exact byte string the desktop signs with its Ed25519
// auth key to prove who it is: a fixed context, the purpose, the tenant, the
// relay's single-use nonce and, for an upload, the SHA-256 of what it
// uploads. No static secret ever crosses the wire.
func AuthStatement(purpose, tenant string, nonce []byte, extra []byte) []byte {
	out := []byte("tsunagu-relay-auth-v1\x00" + purpose + "\x00" + tenant + "\x00")
	out = binary.AppendUvarint(out, uint64(len(nonce)))
	out = append(out, nonce...)
	out = append(out, extra...)
	return out
}

// Verify checks an auth signature.
func Verify(pub ed25519.PublicKey, purpose, tenant string, nonce, extra, sig []byte) bool {
	if len(pub) != ed25519.PublicKeySize || len(nonce) < 16 {
		return false
	}
	return ed25519.Verify(pub, AuthStatement(purpose, tenant, nonce, extra), sig)
}

// MediaStatement is the extra data an upload signature covers: the
// SHA-256 of the bytes and the declared type.
func MediaStatement(data []byte, contentType string) []byte {
	sum := sha256.Sum256(data)
	return append(sum[:], contentType...)
}

// Delivery connection messages, JSON over one WebSocket. The relay speaks
// first (Challenge); the desktop answers with Auth; then the relay sends
// Batches and the desktop Acks the sequence numbers it has stored.
type (
	// Msg is every message on the connection; Type says which fields count.
	Msg struct {
		Type string `json:"type"` // challenge | auth | ready | batch | ack | error

		Nonce []byte `json:"nonce,omitempty"` // challenge

		Tenant    string `json:"tenant,omitempty"` // auth
		Signature []byte `json:"sig,omitempty"`    // auth

		Pending uint64  `json:"pending,omitempty"` // ready, batch: events still queued after this
		Events  []Event `json:"events,omitempty"`  // batch

		Seqs []uint64 `json:"seqs,omitempty"` // ack

		Error string `json:"error,omitempty"` // error
	}
	// Event is one sealed webhook.
	Event struct {
		Seq        uint64 `json:"seq"`        // the queue's sequence number; ack with it
		ReceivedAt int64  `json:"receivedAt"` // when the relay answered LINE, Unix ms
		Sealed     []byte `json:"sealed"`
		Redelivery bool   `json:"redelivery,omitempty"`
		// Hold and Slot: a booking request's place at the relay, queued
		// beside its box, outside the seal (ValidHoldID, ValidSlotKey),
		// so that a box the desktop cannot open still gets its place
		// released (docs/booking.md).
		Hold string `json:"hold,omitempty"`
		Slot string `json:"slot,omitempty"`
	}
)

// Enrollment request and answer (POST /v1/enroll).
type (
	EnrollRequest struct {
		Code    string `json:"code"`
		BoxKey  []byte `json:"boxKey"`  // X25519 public key, events are sealed to it
		AuthKey []byte `json:"authKey"` // Ed25519 public key, connections are signed with it
	}
	EnrollResponse struct {
		Tenant     string `json:"tenant"`
		WebhookURL string `json:"webhookUrl"`
	}
	// Challenge is the answer of GET /v1/challenge, for HTTP requests
	// (media upload) that cannot use the connection's in-band challenge.
	Challenge struct {
		Nonce []byte `json:"nonce"`
	}
	// MediaResponse is the answer of POST /v1/media.
	MediaResponse struct {
		URL       string `json:"url"`
		ExpiresAt int64  `json:"expiresAt"` // Unix ms
	}
)

// HTTP headers of an authenticated upload.
const (
	HeaderTenant    = "X-Tsunagu-Tenant"
	HeaderNonce     = "X-Tsunagu-Nonce"     // base64 (std) of the challenge nonce
	HeaderSignature = "X-Tsunagu-Signature" // base64 (std) of the Ed25519 signature
)
