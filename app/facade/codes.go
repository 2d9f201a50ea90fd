package facade

import (
	"errors"
	"strings"

	"tsunagu/internal/engine"
	"tsunagu/internal/inbox"
	"tsunagu/internal/line"
	"tsunagu/internal/linesim"
	"tsunagu/internal/secrets"
	"tsunagu/internal/store"
)

// Message codes the frontend translates (frontend/src/i18n). Raw Go errors
// never reach the screen.
const (
	codeNotFound            = "errors.notFound"
	codeEmptyMessage        = "errors.emptyMessage"
	codeMessageTooLong      = "errors.messageTooLong"
	codeSendFailed          = "errors.sendFailed"
	codeUnreachable         = "errors.unreachable"
	codeChannelInvalid      = "errors.channelInvalid"
	codeKeychainLocked      = "errors.keychainLocked"
	codeKeychainUnavailable = "errors.keychainUnavailable"
	codeNotSandbox          = "errors.notSandbox"
	codeNotStarted          = "errors.notStarted"
	codeDBWrongKey          = "errors.dbWrongKey"
	codeDBPlaintext         = "errors.dbPlaintext"
	codeDBKeyMissing        = "errors.dbKeyMissing"
	codeDBTooNew            = "errors.dbTooNew"
	codeNotRetrying         = "errors.notRetrying"
	codeInternal            = "errors.internal"
)

// Code maps an error to the message code shown to staff.
func Code(err error) string {
	var apiErr *line.APIError
	switch {
	case err == nil:
		return ""
	case strings.HasPrefix(err.Error(), "errors.") && !strings.Contains(err.Error(), " "):
		return err.Error() // already a code
	case errors.Is(err, inbox.ErrNotFound), errors.Is(err, linesim.ErrUnknownCustomer):
		return codeNotFound
	case errors.Is(err, inbox.ErrEmpty):
		return codeEmptyMessage
	case errors.Is(err, inbox.ErrTooLong):
		return codeMessageTooLong
	case errors.Is(err, inbox.ErrUnreachable), errors.Is(err, line.ErrUnreachable):
		return codeUnreachable
	case errors.Is(err, inbox.ErrNotRetrying):
		return codeNotRetrying
	case lineCode(err) != "":
		return lineCode(err)
	case errors.As(err, &apiErr):
		return codeSendFailed
	case errors.Is(err, secrets.ErrLocked):
		return codeKeychainLocked
	case errors.Is(err, secrets.ErrUnavailable):
		return codeKeychainUnavailable
	case errors.Is(err, secrets.ErrInvalid):
		return codeChannelInvalid
	case errors.Is(err, secrets.ErrNotFound), errors.Is(err, engine.ErrKeyMissing):
		return codeDBKeyMissing
	case errors.Is(err, store.ErrWrongKey):
		return codeDBWrongKey
	case errors.Is(err, store.ErrPlaintext), errors.Is(err, store.ErrNotEncrypted):
		return codeDBPlaintext
	case errors.Is(err, store.ErrTooNew):
		return codeDBTooNew
	}
	if c := securityCode(err); c != "" {
		return c
	}
	if c := linkingCode(err); c != "" {
		return c
	}
	if c := customerCode(err); c != "" {
		return c
	}
	if c := campaignCode(err); c != "" { // campaigns.go
		return c
	}
	if c := surveyCode(err); c != "" { // surveys.go
		return c
	}
	if c := richMenuCode(err); c != "" { // richmenus.go
		return c
	}
	if c := inboxCode(err); c != "" {
		return c
	}
	return codeInternal
}
