package secrets

import (
	"context"
	"encoding/hex"
	"errors"
)

// Items used by recovery and key rotation.
const (
	// ItemDBKeyNext is a new database key during a key rotation: it is
	// stored before anything is encrypted with it, so an interrupted
	// rotation can always be finished or undone.
	ItemDBKeyNext Item = "db-key-next"
	// ItemDBKeyPrevious is the key before the last rotation, kept so that
	// backups made before it can still be restored on this computer.
	ItemDBKeyPrevious Item = "db-key-previous"
)

// ImportDBKey stores a database key recovered from a recovery code or taken
// from another install (backup restore). Like CreateDBKey it never replaces
// a stored key: it fails with ErrExists if there is one.
func (s *Store) ImportDBKey(ctx context.Context, key []byte) error {
	if len(key) != dbKeyLen {
		return &ItemError{Item: ItemDBKey, Op: "create", Err: ErrInvalid}
	}
	_, err := s.get(ctx, ItemDBKey)
	switch {
	case err == nil:
		return &ItemError{Item: ItemDBKey, Op: "create", Err: ErrExists}
	case !errors.Is(err, ErrNotFound):
		return err
	}
	enc := hex.EncodeToString(key)
	if err := s.set(ctx, ItemDBKey, enc); err != nil {
		return err
	}
	got, err := s.get(ctx, ItemDBKey)
	if err != nil {
		return err
	}
	if got != enc {
		return &ItemError{Item: ItemDBKey, Op: "create", Err: ErrExists}
	}
	return nil
}

// KeyOf returns one of the key items (db-key, db-key-next, db-key-previous).
func (s *Store) KeyOf(ctx context.Context, item Item) ([]byte, error) {
	v, err := s.get(ctx, item)
	if err != nil {
		return nil, err
	}
	key, ok := decodeDBKey(v)
	if !ok {
		return nil, &ItemError{Item: item, Op: "get", Err: errMalformed}
	}
	return key, nil
}

// SetNextDBKey stores the new key of a rotation (replacing an unused one
// from an earlier, abandoned attempt).
func (s *Store) SetNextDBKey(ctx context.Context, key []byte) error {
	if len(key) != dbKeyLen {
		return &ItemError{Item: ItemDBKeyNext, Op: "set", Err: ErrInvalid}
	}
	return s.set(ctx, ItemDBKeyNext, hex.EncodeToString(key))
}

// PromoteNextDBKey finishes a rotation once the database is encrypted with
// the next key: the current key becomes the previous one, the next key the
// current one, and the next item is removed. Each step is idempotent, so a
// crash between them is finished by calling it again.
func (s *Store) PromoteNextDBKey(ctx context.Context) error {
	next, err := s.get(ctx, ItemDBKeyNext)
	if errors.Is(err, ErrNotFound) {
		return nil // already promoted
	}
	if err != nil {
		return err
	}
	cur, err := s.get(ctx, ItemDBKey)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if err == nil && cur != next {
		if err := s.set(ctx, ItemDBKeyPrevious, cur); err != nil {
			return err
		}
	}
	if err := s.set(ctx, ItemDBKey, next); err != nil {
		return err
	}
	if err := s.delete(ctx, ItemDBKeyNext); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	return nil
}

// DropNextDBKey removes an unused next key (a rotation that is rolled back).
func (s *Store) DropNextDBKey(ctx context.Context) error {
	if err := s.delete(ctx, ItemDBKeyNext); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	return nil
}
