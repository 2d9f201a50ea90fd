package facade

import (
	"errors"
	"fmt"
	"testing"

	"tsunagu/internal/engine"
	"tsunagu/internal/inbox"
	"tsunagu/internal/line"
	"tsunagu/internal/linesim"
	"tsunagu/internal/secrets"
	"tsunagu/internal/store"
)

func TestCode(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("reply to conversation 3: %w", err) }
	tests := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{errors.New(codeNotSandbox), codeNotSandbox},
		{wrap(inbox.ErrNotFound), codeNotFound},
		{wrap(linesim.ErrUnknownCustomer), codeNotFound},
		{wrap(inbox.ErrEmpty), codeEmptyMessage},
		{wrap(inbox.ErrTooLong), codeMessageTooLong},
		{wrap(inbox.ErrUnreachable), codeUnreachable},
		{wrap(line.ErrUnreachable), codeUnreachable},
		{wrap(&line.APIError{Status: 500, Message: "boom"}), codeSendFailed},
		{wrap(engine.ErrKeyMissing), codeDBKeyMissing},
		{wrap(store.ErrWrongKey), codeDBWrongKey},
		{wrap(store.ErrPlaintext), codeDBPlaintext},
		{wrap(store.ErrTooNew), codeDBTooNew},
		{wrap(secrets.ErrLocked), codeKeychainLocked},
		{wrap(secrets.ErrUnavailable), codeKeychainUnavailable},
		{wrap(&secrets.ItemError{Item: secrets.ItemChannelToken, Op: "set", Err: secrets.ErrInvalid}), codeChannelInvalid},
		{errors.New("errors.with spaces is not a code"), codeInternal},
		{errors.New("something else"), codeInternal},
	}
	for _, tt := range tests {
		if got := Code(tt.err); got != tt.want {
			t.Errorf("Code(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
