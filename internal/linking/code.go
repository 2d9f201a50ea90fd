package linking

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// Alphabet is the code alphabet: digits and capitals without the ones read
// as each other on paper or on a phone (0/O, 1/I). 32 symbols, 8 of them:
// 2^40 codes.
const Alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// CodeLen is the number of symbols in a code (shown as XXXX-XXXX).
const CodeLen = 8

// PrefillPrefix starts the chat message the letter's QR code prefills; the
// customer may also type the code alone.
const PrefillPrefix = "連携コード"

// NewCode returns a random code as XXXX-XXXX. It always holds a letter, so
// that a date or phone number typed in the chat is never taken for a code.
func NewCode() string {
	var b [CodeLen]byte
	for {
		// 256 is a multiple of 32: taking the low 5 bits is unbiased.
		if _, err := rand.Read(b[:]); err != nil {
			panic(fmt.Sprintf("linking: no randomness: %v", err))
		}
		letter := false
		for i := range b {
			b[i] = Alphabet[b[i]&31]
			letter = letter || b[i] >= 'A'
		}
		if letter {
			return string(b[:4]) + "-" + string(b[4:])
		}
	}
}

// FormatCode writes a canonical 8-symbol code as XXXX-XXXX.
func FormatCode(c string) string {
	if len(c) != CodeLen {
		return c
	}
	return c[:4] + "-" + c[4:]
}

// PrefillText is the chat message that sends code.
func PrefillText(code string) string { return PrefillPrefix + ": " + FormatCode(canonical(code)) }

// canonical drops the hyphen of a well-formed code.
func canonical(code string) string { return strings.ReplaceAll(strings.ToUpper(code), "-", "") }

// ParseMessage reports whether a chat message is a code attempt and returns
// the code in canonical form (8 symbols, no hyphen). A code attempt is the
// message alone, or after the prefilled prefix: 4+4 letters and digits,
// with or without a hyphen or space, in either case and width, holding at
// least one letter. It may contain symbols outside Alphabet (a mistyped
// code): that is still an attempt, and a wrong one.
func ParseMessage(text string) (code string, ok bool) {
	s := strings.ToUpper(strings.TrimSpace(norm.NFKC.String(text)))
	if rest, found := strings.CutPrefix(s, PrefillPrefix); found {
		s = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(rest), ":"))
	}
	var b strings.Builder
	letter := false
	for i, r := range s {
		switch {
		case r >= 'A' && r <= 'Z':
			letter = true
			b.WriteRune(r)
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case (r == '-' || r == ' ' || r == '‐' || r == '−' || r == 'ー') && b.Len() == 4 && i > 0:
			// one separator, in the middle only
			if strings.ContainsAny(s[i+len(string(r)):], "- ") {
				return "", false
			}
		default:
			return "", false
		}
	}
	if b.Len() != CodeLen || !letter {
		return "", false
	}
	return b.String(), true
}

// inAlphabet reports whether a canonical code uses only Alphabet.
func inAlphabet(code string) bool {
	for i := 0; i < len(code); i++ {
		if strings.IndexByte(Alphabet, code[i]) < 0 {
			return false
		}
	}
	return true
}

// hashCode returns the stored form of a canonical code: hex HMAC-SHA256
// under this install's salt (link_secret), read in tx.
func hashCode(ctx context.Context, tx *sql.Tx, code string) (string, error) {
	var salt []byte
	if err := tx.QueryRowContext(ctx, `SELECT salt FROM link_secret WHERE id = 1`).Scan(&salt); err != nil {
		return "", fmt.Errorf("read link code salt: %w", err)
	}
	m := hmac.New(sha256.New, salt)
	m.Write([]byte(canonical(code)))
	return hex.EncodeToString(m.Sum(nil)), nil
}
