package line

import (
	"errors"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxTextLength is the longest text message LINE accepts, in UTF-16 code
// units: LINE counts a character outside the Basic Multilingual Plane (most
// emoji) as two.
const MaxTextLength = 5000

// Errors returned by ValidateText, so callers can show their own wording.
var (
	ErrTextEmpty   = errors.New("line: text is empty")
	ErrTextTooLong = errors.New("line: text is too long")
)

// ValidateText reports whether LINE would accept text as the text of a text
// message: not empty, valid UTF-8, and at most MaxTextLength UTF-16 code
// units. Checking before sending turns LINE's 400 into an error the caller
// can show while the message is still being written.
func ValidateText(text string) error {
	if text == "" {
		return ErrTextEmpty
	}
	if !utf8.ValidString(text) {
		// JSON encoding would silently turn the bad bytes into U+FFFD, so
		// the customer would receive something other than what was stored.
		return errors.New("line: text is not valid UTF-8")
	}
	if n := TextLength(text); n > MaxTextLength {
		return fmt.Errorf("%w: %d UTF-16 code units, at most %d", ErrTextTooLong, n, MaxTextLength)
	}
	return nil
}

// TextLength returns the length of text as LINE counts it: UTF-16 code
// units, so a surrogate pair counts as two.
func TextLength(text string) int {
	n := 0
	for _, r := range text {
		n += utf16.RuneLen(r)
	}
	return n
}
