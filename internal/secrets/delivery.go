package secrets

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// Keychain items of the email and SMS providers. Their non-secret settings
// (host, user, account SID, URL) are in the DB.
const (
	// ItemSMTPPassword is the SMTP server password.
	ItemSMTPPassword Item = "smtp-password"
	// ItemTwilioToken is the Twilio auth token.
	ItemTwilioToken Item = "sms-twilio-auth-token"
	// ItemSMSWebhookSecret signs requests to the generic SMS webhook.
	ItemSMSWebhookSecret Item = "sms-webhook-secret"
)

// deliveryItems are the items DeliverySecret and SetDeliverySecret accept.
var deliveryItems = map[Item]bool{ItemSMTPPassword: true, ItemTwilioToken: true, ItemSMSWebhookSecret: true}

// DeliverySecret returns one of the email/SMS credentials; its error wraps
// ErrNotFound if it was never stored.
func (s *Store) DeliverySecret(ctx context.Context, item Item) (string, error) {
	if !deliveryItems[item] {
		return "", &ItemError{Item: item, Op: "get", Err: ErrInvalid}
	}
	return s.get(ctx, item)
}

// SetDeliverySecret stores one of the email/SMS credentials, replacing the
// stored one. Surrounding spaces and line breaks are removed; an empty value
// or one with line breaks or control characters inside is refused.
func (s *Store) SetDeliverySecret(ctx context.Context, item Item, value string) error {
	if !deliveryItems[item] {
		return &ItemError{Item: item, Op: "set", Err: ErrInvalid}
	}
	// A password may hold spaces; line breaks and control characters
	// (a paste accident) may not.
	v := strings.Trim(value, " \t\r\n")
	if v == "" || strings.ContainsFunc(v, unicode.IsControl) {
		return &ItemError{Item: item, Op: "set", Err: fmt.Errorf("%w: it is empty or contains line breaks", ErrInvalid)}
	}
	return s.set(ctx, item, v)
}

// DeleteDeliverySecret removes one of the email/SMS credentials; a missing
// item is not an error.
func (s *Store) DeleteDeliverySecret(ctx context.Context, item Item) error {
	if !deliveryItems[item] {
		return &ItemError{Item: item, Op: "delete", Err: ErrInvalid}
	}
	if err := s.delete(ctx, item); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	return nil
}

// HasDeliverySecret reports whether the item is stored (the settings screen
// shows "set" without ever reading the value back to the UI).
func (s *Store) HasDeliverySecret(ctx context.Context, item Item) (bool, error) {
	_, err := s.DeliverySecret(ctx, item)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, ErrNotFound):
		return false, nil
	}
	return false, err
}
