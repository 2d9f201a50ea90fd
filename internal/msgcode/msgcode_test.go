package msgcode

import (
	"errors"
	"fmt"
	"regexp"
	"testing"

	"tsunagu/internal/engine"
	"tsunagu/internal/inbox"
	"tsunagu/internal/line"
	"tsunagu/internal/linesim"
	"tsunagu/internal/recovery"
	"tsunagu/internal/secrets"
	"tsunagu/internal/store"
	"tsunagu/internal/survey"
	"tsunagu/internal/update"
)

func TestCode(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("reply to conversation 3: %w", err) }
	tests := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{New(NotSandbox), NotSandbox},
		{wrap(inbox.ErrNotFound), NotFound},
		{wrap(linesim.ErrUnknownCustomer), NotFound},
		{wrap(inbox.ErrEmpty), EmptyMessage},
		{wrap(inbox.ErrTooLong), MessageTooLong},
		{wrap(inbox.ErrUnreachable), Unreachable},
		{wrap(line.ErrUnreachable), Unreachable},
		{wrap(&line.APIError{Status: 500, Message: "boom"}), SendFailed},
		{wrap(engine.ErrKeyMissing), DBKeyMissing},
		{wrap(store.ErrWrongKey), DBWrongKey},
		{wrap(store.ErrPlaintext), DBPlaintext},
		{wrap(store.ErrTooNew), DBTooNew},
		{wrap(secrets.ErrLocked), KeychainLocked},
		{wrap(recovery.ErrBadCode), RecoveryBadCode},
		{wrap(recovery.ErrNoFile), RecoveryNoFile},
		{fmt.Errorf("%w: %w", engine.ErrKeyPresent, &secrets.ItemError{Item: secrets.ItemDBKey, Op: "create", Err: secrets.ErrExists}), RecoveryKeyPresent},
		{wrap(secrets.ErrUnavailable), KeychainUnavailable},
		{wrap(&secrets.ItemError{Item: secrets.ItemChannelToken, Op: "set", Err: secrets.ErrInvalid}), ChannelInvalid},
		{wrap(survey.ErrNotSent), SendFailed},
		{wrap(engine.ErrTestSendFailed), TestSendFailed},
		{wrap(update.ErrNoOffer), UpdateNoOffer},
		{errors.New("errors.with spaces is not a code"), Internal},
		{errors.New("something else"), Internal},
	}
	for _, tt := range tests {
		if got := Code(tt.err); got != tt.want {
			t.Errorf("Code(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

// Every code is a catalog key: errors.x or update.errors.x, no spaces.
func TestCodesAreKeys(t *testing.T) {
	for _, c := range Codes() {
		if !regexp.MustCompile(`^(errors|update\.errors)\.[a-zA-Z]+$`).MatchString(c) {
			t.Errorf("code %q is not a catalog key", c)
		}
	}
}
