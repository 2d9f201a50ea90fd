package mail

import (
	"errors"
	"reflect"
	"testing"

	"tsunagu/internal/fielderr"
)

// The settings form marks the wrong fields (issue 19 item 6): Validate
// names each by its JSON name in Settings, all at once.
func TestValidateNamesWrongFields(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   Settings
		want []fielderr.FieldError
	}{
		{"valid", Settings{Host: "smtp.example.jp", Port: 587, TLS: TLSStartTLS, From: "info@example.jp"}, nil},
		{"loopback in clear", Settings{Host: "127.0.0.1", Port: 25, TLS: TLSNone, From: "info@example.jp"}, nil},
		{"empty", Settings{}, []fielderr.FieldError{{Field: "host", Code: fielderr.Required}, {Field: "port", Code: fielderr.Format},
			{Field: "tls", Code: fielderr.Choose}, {Field: "from", Code: fielderr.Required}}},
		{"typos", Settings{Host: "smtp example.jp", Port: 70000, TLS: TLSImplicit, From: "info at example.jp"}, []fielderr.FieldError{
			{Field: "host", Code: fielderr.Format}, {Field: "port", Code: fielderr.Format}, {Field: "from", Code: fielderr.Format}}},
		{"remote in clear", Settings{Host: "smtp.example.jp", Port: 25, TLS: TLSNone, From: "info@example.jp"}, []fielderr.FieldError{{Field: "tls", Code: fielderr.Loopback}}},
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
