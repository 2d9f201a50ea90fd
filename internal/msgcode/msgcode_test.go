package msgcode

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"testing"

	"tsunagu/internal/campaign"
	"tsunagu/internal/engine"
	"tsunagu/internal/fielderr"
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

// A validation failure reaches the UI as its code plus the wrong fields, in
// one wire form: the bare code without fields, the JSON with them.
func TestForCarriesFields(t *testing.T) {
	err := fmt.Errorf("save campaign 3: %w", fielderr.Under("content", fielderr.New(campaign.ErrInvalid, "email.subject", fielderr.Required)))
	e := For(err)
	if e.Code != CampaignInvalid || len(e.Fields) != 1 || e.Fields[0].Field != "content.email.subject" || e.Fields[0].Code != fielderr.Required {
		t.Fatalf("For = %+v", e)
	}
	var back struct {
		Code   string                `json:"code"`
		Fields []fielderr.FieldError `json:"fields"`
	}
	if err := json.Unmarshal([]byte(e.Error()), &back); err != nil || back.Code != CampaignInvalid || len(back.Fields) != 1 {
		t.Errorf("wire form %q: %+v, %v", e.Error(), back, err)
	}
	if Code(e) != CampaignInvalid {
		t.Errorf("Code of the UI error = %q", Code(e))
	}
	// Without fields the wire form stays the bare code.
	if got := For(fmt.Errorf("x: %w", inbox.ErrEmpty)).Error(); got != EmptyMessage {
		t.Errorf("plain error's wire form %q", got)
	}
	if For(nil) != nil {
		t.Error("For(nil) != nil")
	}
}

// The field codes are registry codes, so the frontend's catalog test covers them.
func TestFieldCodesAreRegistered(t *testing.T) {
	codes := map[string]bool{}
	for _, c := range Codes() {
		codes[c] = true
	}
	for _, c := range fielderr.Codes() {
		if !codes[c] {
			t.Errorf("field code %q is not in Codes()", c)
		}
	}
}
