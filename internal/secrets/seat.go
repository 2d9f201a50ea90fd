package secrets

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
)

const (
	// ItemPrimaryTLSKey is the Ed25519 seed of a primary's long-lived TLS
	// certificate for the branch's seats, as 64 hex digits. Seats pin its
	// public key: replacing it unpairs every seat.
	ItemPrimaryTLSKey Item = "seat-primary-key"
	// ItemSeatKey is the Ed25519 seed a seat proves itself to its primary
	// with, as 64 hex digits. The primary pins its public key.
	ItemSeatKey Item = "seat-key"
)

// SeatKey is an Ed25519 private key kept for the seat connection (either
// role). Printing or logging it shows nothing secret.
type SeatKey struct{ seed [ed25519.SeedSize]byte }

// NewSeatKey generates a fresh key (not stored).
func NewSeatKey() (SeatKey, error) {
	var k SeatKey
	if _, err := rand.Read(k.seed[:]); err != nil {
		return SeatKey{}, fmt.Errorf("generate seat key: %w", err)
	}
	return k, nil
}

// PrivateKey is the key for crypto/tls and crypto/x509.
func (k SeatKey) PrivateKey() ed25519.PrivateKey { return ed25519.NewKeyFromSeed(k.seed[:]) }

func (SeatKey) String() string                 { return "SeatKey{***}" }
func (k SeatKey) GoString() string             { return k.String() }
func (k SeatKey) Format(f fmt.State, _ rune)   { _, _ = io.WriteString(f, k.String()) }
func (k SeatKey) MarshalJSON() ([]byte, error) { return json.Marshal(k.String()) }
func (k SeatKey) LogValue() slog.Value         { return slog.StringValue(k.String()) }

// PrimaryTLSKey returns the primary's TLS key, creating and storing one on
// first use. It never replaces a stored key (even a malformed one: that is
// reported), since every paired seat pins it.
func (s *Store) PrimaryTLSKey(ctx context.Context) (SeatKey, error) {
	k, err := s.seatKey(ctx, ItemPrimaryTLSKey)
	if !errors.Is(err, ErrNotFound) {
		return k, err
	}
	if k, err = NewSeatKey(); err != nil {
		return SeatKey{}, err
	}
	enc := hex.EncodeToString(k.seed[:])
	if err := s.set(ctx, ItemPrimaryTLSKey, enc); err != nil {
		return SeatKey{}, err
	}
	// Read back, as CreateDBKey does: another process may have raced us, and
	// only the stored key is the primary's identity.
	return s.seatKey(ctx, ItemPrimaryTLSKey)
}

// SeatKey returns this seat's key; the error wraps ErrNotFound if this data
// folder was never paired.
func (s *Store) SeatKey(ctx context.Context) (SeatKey, error) { return s.seatKey(ctx, ItemSeatKey) }

// SetSeatKey stores this seat's key, replacing a previous pairing's.
func (s *Store) SetSeatKey(ctx context.Context, k SeatKey) error {
	if k.seed == ([ed25519.SeedSize]byte{}) {
		return &ItemError{Item: ItemSeatKey, Op: "set", Err: fmt.Errorf("%w: it is empty", ErrInvalid)}
	}
	return s.set(ctx, ItemSeatKey, hex.EncodeToString(k.seed[:]))
}

// DeleteSeatKey removes this seat's key; a missing item is not an error.
func (s *Store) DeleteSeatKey(ctx context.Context) error {
	if err := s.delete(ctx, ItemSeatKey); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	return nil
}

func (s *Store) seatKey(ctx context.Context, item Item) (SeatKey, error) {
	v, err := s.get(ctx, item)
	if err != nil {
		return SeatKey{}, err
	}
	b, ok := decodeDBKey(v) // the same 32-byte hex shape
	if !ok {
		return SeatKey{}, &ItemError{Item: item, Op: "get", Err: errMalformed}
	}
	var k SeatKey
	copy(k.seed[:], b)
	clear(b)
	return k, nil
}
