package seat

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"time"
)

// CodeValidity is how long a seat code can be used.
const CodeValidity = 10 * time.Minute

// codeEncoding is Crockford's base32 (as the recovery code): no I, L, O or
// U, so a code read from the screen is unambiguous.
var codeEncoding = base32.NewEncoding("0123456789ABCDEFGHJKMNPQRSTVWXYZ").WithPadding(base32.NoPadding)

// codeLen: 10 characters are 50 bits (2 groups of 5). Single use, 10
// minutes and at most 5 wrong tries a minute make guessing hopeless, while
// a person can still type it.
const codeLen = 10

// Errors of pairing. They are what the seat is told, too.
var (
	ErrCodeWrong   = errors.New("the seat code is not right: check it, or ask the administrator for a new one")
	ErrCodeUsed    = errors.New("the seat code was already used: ask the administrator for a new one")
	ErrCodeExpired = errors.New("the seat code has expired (codes are valid for 10 minutes): ask the administrator for a new one")
	// ErrPairingPaused: too many wrong codes in a short time.
	ErrPairingPaused = errors.New("too many wrong seat codes: the primary accepts none for a minute")
)

// NewCode returns a fresh seat code, e.g. "7KQ2M-XH4PB".
func NewCode() (string, error) {
	b := make([]byte, 7)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate seat code: %w", err)
	}
	s := codeEncoding.EncodeToString(b)[:codeLen]
	return s[:5] + "-" + s[5:], nil
}

// HashCode is what the primary stores of a code: its SHA-256 over the
// normalised form. A copy of the database lists no usable code (and every
// code is dead 10 minutes after it was issued anyway). The error is
// ErrCodeWrong for text that cannot be a code.
func HashCode(code string) ([]byte, error) {
	s := strings.Map(func(r rune) rune {
		switch r {
		case '-', ' ', '\t', '\n', '\r', '　':
			return -1
		case 'O':
			return '0'
		case 'I', 'L':
			return '1'
		}
		return r
	}, strings.ToUpper(code))
	if len(s) != codeLen {
		return nil, ErrCodeWrong
	}
	for _, r := range s {
		if !strings.ContainsRune("0123456789ABCDEFGHJKMNPQRSTVWXYZ", r) {
			return nil, ErrCodeWrong
		}
	}
	h := sha256.Sum256([]byte("tsunagu seat code v1\x00" + s))
	return h[:], nil
}
