package sms

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"tsunagu/internal/fielderr"
)

// The SMS settings are checked when saved, as the adapters will check
// them when sending (issue 19 item 6), each wrong field by its JSON name.
func TestSettingsValidateNamesWrongFields(t *testing.T) {
	sid := "AC" + strings.Repeat("0", 32)
	for _, tt := range []struct {
		name string
		in   Settings
		want []fielderr.FieldError
	}{
		{"none", Settings{}, nil},
		{"twilio", Settings{Provider: ProviderTwilio, AccountSID: sid, From: "+815012345678"}, nil},
		{"twilio service", Settings{Provider: ProviderTwilio, AccountSID: sid, From: "MG123"}, nil},
		{"webhook", Settings{Provider: ProviderWebhook, WebhookURL: "https://sms.example.jp/send"}, nil},
		{"webhook on loopback", Settings{Provider: ProviderWebhook, WebhookURL: "http://127.0.0.1:8080/send"}, nil},
		{"twilio empty", Settings{Provider: ProviderTwilio}, []fielderr.FieldError{{Field: "accountSid", Code: fielderr.Required}, {Field: "from", Code: fielderr.Required}}},
		{"twilio typos", Settings{Provider: ProviderTwilio, AccountSID: "XY123", From: "090-1234-5678"}, []fielderr.FieldError{{Field: "accountSid", Code: fielderr.Format}, {Field: "from", Code: fielderr.Format}}},
		{"webhook empty", Settings{Provider: ProviderWebhook}, []fielderr.FieldError{{Field: "webhookUrl", Code: fielderr.Required}}},
		{"webhook in clear", Settings{Provider: ProviderWebhook, WebhookURL: "http://sms.example.jp/send"}, []fielderr.FieldError{{Field: "webhookUrl", Code: fielderr.HTTPS}}},
		{"webhook not a URL", Settings{Provider: ProviderWebhook, WebhookURL: "sms.example.jp"}, []fielderr.FieldError{{Field: "webhookUrl", Code: fielderr.Format}}},
		{"unknown provider", Settings{Provider: "fax"}, []fielderr.FieldError{{Field: "provider", Code: fielderr.Choose}}},
	} {
		err := tt.in.Validate()
		if got := fielderr.Fields(err); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: fields %+v, want %+v", tt.name, got, tt.want)
		}
		if (err != nil) != (tt.want != nil) || err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}
