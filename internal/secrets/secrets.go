// Package secrets keeps Tsunagu's secrets in the OS keychain (macOS Keychain,
// Windows Credential Manager, Secret Service on Linux). It is the only package
// that talks to the keychain.
//
// Every item is stored under [Service] with the account name
// installID + "/" + item, so two data folders on one machine never read or
// overwrite each other's secrets.
//
// Errors never contain a secret value: they name the item and the operation
// and wrap one of [ErrNotFound], [ErrLocked], [ErrUnavailable], [ErrExists]
// or the keychain's own error.
package secrets

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/zalando/go-keyring"
)

// Service is the keychain service name all of Tsunagu's items are stored under.
const Service = "tsunagu"

// Keyring is the subset of a keychain that Store needs. [OSKeyring] is the
// real one; tests use an in-memory fake.
//
// Get must return an error for which errors.Is(err, keyring.ErrNotFound)
// (go-keyring's) or errors.Is(err, ErrNotFound) holds when the item is absent.
type Keyring interface {
	Get(service, user string) (string, error)
	Set(service, user, password string) error
	Delete(service, user string) error
}

// OSKeyring returns the operating system's keychain.
func OSKeyring() Keyring { return osKeyring{} }

type osKeyring struct{}

func (osKeyring) Get(service, user string) (string, error) {
	return keyring.Get(service, user)
}

func (osKeyring) Set(service, user, password string) error {
	return keyring.Set(service, user, password)
}

func (osKeyring) Delete(service, user string) error {
	return keyring.Delete(service, user)
}

// Item names one secret of an install.
type Item string

const (
	// ItemDBKey is the 256-bit key of the encrypted customer database,
	// stored as 64 hex digits.
	ItemDBKey Item = "db-key"
	// ItemChannelSecret is the LINE channel secret (verifies webhook signatures).
	ItemChannelSecret Item = "line-channel-secret"
	// ItemChannelToken is the LINE channel access token (calls the Messaging API).
	ItemChannelToken Item = "line-channel-access-token"
)

var (
	// ErrNotFound means the item is not in the keychain.
	ErrNotFound = errors.New("not found in the OS keychain")
	// ErrLocked means the keychain is locked, or the user refused or
	// dismissed the unlock prompt, or this program is not allowed to read
	// the item.
	ErrLocked = errors.New("the OS keychain is locked or access was denied")
	// ErrUnavailable means there is no usable keychain at all, e.g. no
	// Secret Service is running on Linux, or the process has no user
	// session.
	ErrUnavailable = errors.New("the OS keychain is not available")
	// ErrExists means the item is already in the keychain and was left as is.
	ErrExists = errors.New("already exists in the OS keychain")
	// ErrInvalid means a value given to store was refused before it reached
	// the keychain (empty, or with spaces or line breaks inside).
	ErrInvalid = errors.New("the value is not valid")
)

// errMalformed is deliberately unexported and vague: the message must not
// echo what was found in the keychain.
var errMalformed = errors.New("the stored value is malformed")

// ItemError reports a failed keychain operation on one item. Its message
// names the item and the operation, never the value.
type ItemError struct {
	Item Item
	Op   string // "get", "set", "delete" or "create"
	Err  error
}

func (e *ItemError) Error() string {
	msg := "<nil>"
	if e.Err != nil {
		msg = e.Err.Error()
	}
	return "keychain " + e.Op + " " + string(e.Item) + ": " + msg
}

func (e *ItemError) Unwrap() error { return e.Err }

// Store reads and writes one install's secrets.
type Store struct {
	kr        Keyring
	installID string
}

// New returns a Store for the install with the given ID (see
// datadir.Dir.InstallID). The ID is validated on first use.
func New(kr Keyring, installID string) *Store {
	return &Store{kr: kr, installID: installID}
}

const dbKeyLen = 32

// DBKey returns the database key. Its error wraps ErrNotFound if there is
// none yet, ErrLocked or ErrUnavailable if the keychain cannot be read, and
// is a plain *ItemError if the stored value is not a 32-byte hex key.
func (s *Store) DBKey(ctx context.Context) ([]byte, error) {
	v, err := s.get(ctx, ItemDBKey)
	if err != nil {
		return nil, err
	}
	key, ok := decodeDBKey(v)
	if !ok {
		return nil, &ItemError{Item: ItemDBKey, Op: "get", Err: errMalformed}
	}
	return key, nil
}

// CreateDBKey generates a new random database key, stores it and returns it.
//
// It never replaces a key that is already stored: if there is one (even a
// malformed one) it returns an error wrapping ErrExists, and if it cannot tell
// whether there is one (e.g. the keychain is locked) it returns that error
// and stores nothing. Losing the key means losing the database.
//
// After any other error a key may or may not have been stored (e.g. ctx
// ended after the write): calling CreateDBKey again then reports ErrExists,
// and DBKey returns the key.
//
// The keychains offer no atomic create-if-absent. The key is read back after
// writing, which catches most races, but two processes setting up the same
// data folder at the same moment could still both believe they succeeded:
// callers must make sure only one process does (a single-instance lock).
func (s *Store) CreateDBKey(ctx context.Context) ([]byte, error) {
	_, err := s.get(ctx, ItemDBKey)
	switch {
	case err == nil:
		return nil, &ItemError{Item: ItemDBKey, Op: "create", Err: ErrExists}
	case !errors.Is(err, ErrNotFound):
		return nil, err
	}

	key := make([]byte, dbKeyLen)
	if _, err := rand.Read(key); err != nil {
		return nil, &ItemError{Item: ItemDBKey, Op: "create", Err: fmt.Errorf("generate key: %w", err)}
	}
	enc := hex.EncodeToString(key)
	if err := s.set(ctx, ItemDBKey, enc); err != nil {
		return nil, err
	}

	// Read back what the keychain actually holds: if another writer raced
	// us, only the key that is stored now may be used, and it is not ours.
	got, err := s.get(ctx, ItemDBKey)
	if err != nil {
		return nil, err
	}
	if got != enc {
		return nil, &ItemError{Item: ItemDBKey, Op: "create", Err: ErrExists}
	}
	return key, nil
}

func decodeDBKey(v string) ([]byte, bool) {
	// Not hex.DecodeString's error: it quotes the offending character.
	if len(v) != 2*dbKeyLen {
		return nil, false
	}
	key, err := hex.DecodeString(v)
	if err != nil {
		return nil, false
	}
	return key, true
}

// account is the keychain account name of an item of this install.
func (s *Store) account(item Item) (string, error) {
	if s.installID == "" || strings.ContainsAny(s.installID, "/\\") || strings.TrimSpace(s.installID) != s.installID {
		return "", errors.New("invalid install ID")
	}
	return s.installID + "/" + string(item), nil
}

func (s *Store) get(ctx context.Context, item Item) (string, error) {
	acct, err := s.account(item)
	if err != nil {
		return "", &ItemError{Item: item, Op: "get", Err: err}
	}
	v, err := getContext(ctx, s.kr, Service, acct)
	if err != nil {
		return "", &ItemError{Item: item, Op: "get", Err: classify(err)}
	}
	return v, nil
}

func (s *Store) set(ctx context.Context, item Item, value string) error {
	acct, err := s.account(item)
	if err != nil {
		return &ItemError{Item: item, Op: "set", Err: err}
	}
	if err := ctx.Err(); err != nil {
		return &ItemError{Item: item, Op: "set", Err: err}
	}
	// Not abandoned once started (see get): a write that lands after the
	// caller gave up would leave the keychain in a state nobody knows of.
	if err := s.kr.Set(Service, acct, value); err != nil {
		return &ItemError{Item: item, Op: "set", Err: classify(err)}
	}
	return nil
}

func (s *Store) delete(ctx context.Context, item Item) error {
	acct, err := s.account(item)
	if err != nil {
		return &ItemError{Item: item, Op: "delete", Err: err}
	}
	if err := ctx.Err(); err != nil {
		return &ItemError{Item: item, Op: "delete", Err: err}
	}
	if err := s.kr.Delete(Service, acct); err != nil {
		return &ItemError{Item: item, Op: "delete", Err: classify(err)}
	}
	return nil
}

// getContext runs a keychain read but stops waiting for it when ctx is done.
// Keychain calls take no context and can block indefinitely (the Secret
// Service waits for the user to answer an unlock prompt), and the UI must be
// able to give up. The abandoned read finishes in the background and its
// result is dropped, which is harmless for a read. Writes are never
// abandoned this way.
func getContext(ctx context.Context, kr Keyring, service, user string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	type result struct {
		v   string
		err error
	}
	done := make(chan result, 1) // buffered: the goroutine never blocks on send
	go func() {
		v, err := kr.Get(service, user)
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}
