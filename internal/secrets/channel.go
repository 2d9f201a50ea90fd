package secrets

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"unicode"
	"unicode/utf8"

	"tsunagu/internal/fielderr"
)

// Channel holds the LINE Messaging API credentials of the bank's official
// account.
//
// Its String, GoString, Format, MarshalJSON and LogValue methods redact the
// values, so printing or logging a Channel (or an exported field holding one)
// does not leak them. fmt cannot call methods on unexported struct fields, so
// never keep a Channel in an unexported field of something that gets printed.
type Channel struct {
	Secret      string
	AccessToken string
}

// TokenHint shows enough of the access token for staff to recognise which
// token is configured: its first and last 4 characters, or "***" if it is
// too short to reveal anything safely.
func (c Channel) TokenHint() string { return hint(c.AccessToken) }

func hint(v string) string {
	const show, minLen = 4, 16
	if utf8.RuneCountInString(v) < minLen {
		return "***"
	}
	r := []rune(v)
	return string(r[:show]) + "…" + string(r[len(r)-show:])
}

// String returns a redacted description, e.g. "Channel{secret:***, token:abcd…wxyz}".
func (c Channel) String() string {
	secret, token := "<empty>", "<empty>"
	if c.Secret != "" {
		secret = "***"
	}
	if c.AccessToken != "" {
		token = c.TokenHint()
	}
	return "Channel{secret:" + secret + ", token:" + token + "}"
}

// GoString is String, so %#v redacts too.
func (c Channel) GoString() string { return c.String() }

// Format makes every fmt verb (%v, %+v, %#v, %s, %q, %x, ...) print String.
func (c Channel) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }

// MarshalJSON redacts: credentials must never reach the UI or a JSON log.
func (c Channel) MarshalJSON() ([]byte, error) { return json.Marshal(c.String()) }

// LogValue redacts for log/slog.
func (c Channel) LogValue() slog.Value { return slog.StringValue(c.String()) }

// Channel returns the stored LINE credentials. If either item is missing it
// returns an *ItemError naming the missing item and wrapping ErrNotFound.
func (s *Store) Channel(ctx context.Context) (Channel, error) {
	secret, err := s.get(ctx, ItemChannelSecret)
	if err != nil {
		return Channel{}, err
	}
	token, err := s.get(ctx, ItemChannelToken)
	if err != nil {
		return Channel{}, err
	}
	return Channel{Secret: secret, AccessToken: token}, nil
}

// HasChannel reports whether both LINE credentials are stored.
func (s *Store) HasChannel(ctx context.Context) (bool, error) {
	_, err := s.Channel(ctx)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, ErrNotFound):
		return false, nil
	default:
		return false, err
	}
}

// SetChannel stores both LINE credentials, replacing any stored ones.
// Leading and trailing spaces and line breaks (common when pasting from the
// LINE Developers console) are removed; empty values and values with
// whitespace inside are rejected.
//
// If storing the token fails after the secret was stored, the previous
// secret is put back, so Channel never pairs a new secret with an old token.
func (s *Store) SetChannel(ctx context.Context, c Channel) error {
	secret, secretErr := cleanCredential(ItemChannelSecret, c.Secret)
	token, tokenErr := cleanCredential(ItemChannelToken, c.AccessToken)
	if secretErr != nil || tokenErr != nil {
		// Both wrong fields at once, by SaveChannel's argument names; the
		// values themselves are never part of the error.
		var l fielderr.List
		if code := credentialCode(c.Secret); code != "" {
			l.Add("secret", code)
		}
		if code := credentialCode(c.AccessToken); code != "" {
			l.Add("accessToken", code)
		}
		return l.Err(cmp.Or(secretErr, tokenErr))
	}

	prev, prevErr := s.get(ctx, ItemChannelSecret)
	if prevErr != nil && !errors.Is(prevErr, ErrNotFound) {
		return prevErr
	}
	if err := s.set(ctx, ItemChannelSecret, secret); err != nil {
		return err
	}
	if err := s.set(ctx, ItemChannelToken, token); err != nil {
		// Undo even if ctx was cancelled: a half-written pair is worse
		// than a late return.
		undoCtx := context.WithoutCancel(ctx)
		var undoErr error
		if prevErr == nil {
			undoErr = s.set(undoCtx, ItemChannelSecret, prev)
		} else {
			undoErr = s.delete(undoCtx, ItemChannelSecret)
		}
		if undoErr != nil {
			return errors.Join(err, fmt.Errorf("restore previous channel secret: %w", undoErr))
		}
		return err
	}
	return nil
}

// DeleteChannel removes both LINE credentials. Items that are already gone
// are not an error.
func (s *Store) DeleteChannel(ctx context.Context) error {
	var errs []error
	for _, item := range []Item{ItemChannelSecret, ItemChannelToken} {
		if err := s.delete(ctx, item); err != nil && !errors.Is(err, ErrNotFound) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// credentialCode is what is wrong with a credential as typed (a fielderr
// code), "" if nothing.
func credentialCode(v string) string {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return fielderr.Required
	case strings.ContainsFunc(v, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		return fielderr.NoSpaces
	}
	return ""
}

func cleanCredential(item Item, v string) (string, error) {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return "", &ItemError{Item: item, Op: "set", Err: fmt.Errorf("%w: it is empty", ErrInvalid)}
	case strings.ContainsFunc(v, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		return "", &ItemError{Item: item, Op: "set", Err: fmt.Errorf("%w: it contains spaces or line breaks", ErrInvalid)}
	}
	return v, nil
}
