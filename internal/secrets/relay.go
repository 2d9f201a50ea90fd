package secrets

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
)

const (
	// ItemRelayBoxKey is the X25519 private key that opens the events the
	// webhook relay sealed to this install, as 64 hex digits.
	ItemRelayBoxKey Item = "relay-box-key"
	// ItemRelayAuthKey is the Ed25519 seed this install signs its relay
	// connections and uploads with, as 64 hex digits.
	ItemRelayAuthKey Item = "relay-auth-key"
)

// RelayKeys are the install's private relay keys. The public halves are
// derived from them. Printing or logging RelayKeys shows nothing secret.
type RelayKeys struct {
	Box      [32]byte // X25519 private key
	AuthSeed [32]byte // Ed25519 seed
}

// NewRelayKeys generates a fresh pair of relay keys (not stored).
func NewRelayKeys() (RelayKeys, error) {
	var k RelayKeys
	if _, err := rand.Read(k.Box[:]); err != nil {
		return RelayKeys{}, err
	}
	if _, err := rand.Read(k.AuthSeed[:]); err != nil {
		return RelayKeys{}, err
	}
	return k, nil
}

func (RelayKeys) String() string                 { return "RelayKeys{***}" }
func (k RelayKeys) GoString() string             { return k.String() }
func (k RelayKeys) Format(f fmt.State, _ rune)   { _, _ = io.WriteString(f, k.String()) }
func (k RelayKeys) MarshalJSON() ([]byte, error) { return json.Marshal(k.String()) }
func (k RelayKeys) LogValue() slog.Value         { return slog.StringValue(k.String()) }

// RelayKeys returns the stored relay keys; the error wraps ErrNotFound if
// this install has not enrolled with a relay.
func (s *Store) RelayKeys(ctx context.Context) (RelayKeys, error) {
	var k RelayKeys
	for _, it := range []struct {
		item Item
		dst  []byte
	}{{ItemRelayBoxKey, k.Box[:]}, {ItemRelayAuthKey, k.AuthSeed[:]}} {
		v, err := s.get(ctx, it.item)
		if err != nil {
			return RelayKeys{}, err
		}
		b, ok := decodeDBKey(v) // the same 32-byte hex shape
		if !ok {
			return RelayKeys{}, &ItemError{Item: it.item, Op: "get", Err: errMalformed}
		}
		copy(it.dst, b)
		clear(b)
	}
	return k, nil
}

// SetRelayKeys stores the relay keys, replacing any stored ones (a new
// enrollment makes new keys). If the second write fails the first is
// removed, so a box key never pairs with another enrollment's auth key.
func (s *Store) SetRelayKeys(ctx context.Context, k RelayKeys) error {
	if k.Box == ([32]byte{}) || k.AuthSeed == ([32]byte{}) {
		return &ItemError{Item: ItemRelayBoxKey, Op: "set", Err: fmt.Errorf("%w: it is empty", ErrInvalid)}
	}
	if err := s.set(ctx, ItemRelayBoxKey, hex.EncodeToString(k.Box[:])); err != nil {
		return err
	}
	if err := s.set(ctx, ItemRelayAuthKey, hex.EncodeToString(k.AuthSeed[:])); err != nil {
		if undo := s.delete(context.WithoutCancel(ctx), ItemRelayBoxKey); undo != nil && !errors.Is(undo, ErrNotFound) {
			return errors.Join(err, undo)
		}
		return err
	}
	return nil
}

// DeleteRelayKeys removes the relay keys; missing items are not an error.
func (s *Store) DeleteRelayKeys(ctx context.Context) error {
	var errs []error
	for _, item := range []Item{ItemRelayBoxKey, ItemRelayAuthKey} {
		if err := s.delete(ctx, item); err != nil && !errors.Is(err, ErrNotFound) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
