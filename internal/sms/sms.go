// Package sms sends text messages through a provider: Twilio's Messages API
// or a generic HTTP webhook (for Japanese SMS aggregators that put their own
// gateway behind a small relay).
//
// A send either clearly failed (the provider refused it, or nothing reached
// it) or may have gone out (ErrUncertain): a caller must not blindly resend
// an uncertain message unless the provider deduplicates by idempotency key
// (Sender.Idempotent).
package sms

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"tsunagu/internal/fielderr"
)

// Sender sends one SMS. idempotencyKey is the caller's stored key for this
// message; providers that honour it deliver a repeated key once.
type Sender interface {
	Send(ctx context.Context, to, text, idempotencyKey string) (providerID string, err error)
}

// Idempotent is implemented by senders whose provider deduplicates
// repeated idempotency keys, so an uncertain send may be repeated.
type Idempotent interface {
	Idempotent() bool
}

// Errors.
var (
	ErrInvalid = errors.New("sms: invalid number or message")
	// ErrUncertain wraps a failure after which the message may have gone out.
	ErrUncertain = errors.New("sms: delivery uncertain")
	// ErrRefused wraps the provider's refusal (a 4xx answer).
	ErrRefused = errors.New("sms: refused by the provider")
)

// E164 converts a Japanese mobile number (digits, with or without hyphens:
// 090-1234-5678, 08012345678, +81 90 1234 5678) to E.164 (+819012345678).
// Only mobile prefixes (070, 080, 090) are accepted: a landline cannot take
// an SMS.
func E164(number string) (string, error) {
	d := strings.Map(func(r rune) rune {
		switch {
		case r >= '0' && r <= '9':
			return r
		case r >= '０' && r <= '９':
			return '0' + (r - '０')
		case r == '+':
			return r
		}
		return -1
	}, number)
	switch {
	case strings.HasPrefix(d, "+81"):
		d = "0" + d[3:]
	case strings.HasPrefix(d, "81") && len(d) == 12:
		d = "0" + d[2:]
	}
	if len(d) != 11 || !(strings.HasPrefix(d, "070") || strings.HasPrefix(d, "080") || strings.HasPrefix(d, "090")) {
		return "", fmt.Errorf("%w: not a Japanese mobile number", ErrInvalid)
	}
	return "+81" + d[1:], nil
}

// ProviderTwilio and ProviderWebhook name the adapters in the settings.
const (
	ProviderNone    = ""
	ProviderTwilio  = "twilio"
	ProviderWebhook = "webhook"
)

// Settings are the SMS provider settings stored in the DB (credentials are
// in the keychain: secrets/delivery.go).
type Settings struct {
	Provider   string `json:"provider"`   // twilio, webhook or ""
	AccountSID string `json:"accountSid"` // Twilio
	From       string `json:"from"`       // Twilio: the sending number (E.164) or Messaging Service SID (MG...)
	WebhookURL string `json:"webhookUrl"` // webhook
}

// MinWebhookSecret is the shortest signing secret of the webhook, in bytes.
const MinWebhookSecret = 16

// Validate checks the settings as the adapters will (NewTwilio,
// NewWebhook) and names every wrong field by its JSON name in Settings
// (fielderr), so that a mistake shows on the form when it is saved, not
// on the first campaign. No provider needs nothing else.
func (s Settings) Validate() error {
	var l fielderr.List
	switch s.Provider {
	case ProviderNone:
	case ProviderTwilio:
		switch sid := strings.TrimSpace(s.AccountSID); {
		case sid == "":
			l.Add("accountSid", fielderr.Required)
		case !strings.HasPrefix(sid, "AC") || len(sid) != 34:
			l.Add("accountSid", fielderr.Format)
		}
		switch from := strings.TrimSpace(s.From); {
		case from == "":
			l.Add("from", fielderr.Required)
		case !strings.HasPrefix(from, "+") && !strings.HasPrefix(from, "MG"):
			l.Add("from", fielderr.Format)
		}
	case ProviderWebhook:
		switch u, err := url.Parse(strings.TrimSpace(s.WebhookURL)); {
		case strings.TrimSpace(s.WebhookURL) == "":
			l.Add("webhookUrl", fielderr.Required)
		case err != nil || u.Host == "":
			l.Add("webhookUrl", fielderr.Format)
		case checkURL(s.WebhookURL) != nil:
			l.Add("webhookUrl", fielderr.HTTPS)
		}
	default:
		l.Add("provider", fielderr.Choose)
	}
	return l.Err(ErrInvalid)
}
