// Package mask hides personal data from the roles that may see that
// something exists and how much (counts, kinds, times, states) but not who
// or what: auth.Role.Masked, the agency role. These are the placeholders;
// each feature masks its own types with them (customer.Card.Masked, the
// inbox's masked views, linking's), so no screen can forget a field.
package mask

import (
	"strings"
	"unicode/utf8"
)

// Placeholder is shown instead of personal data.
const Placeholder = "＊＊＊"

// Name hides a person's name (or any short personal value); empty stays
// empty, so a masked role still sees whether there was one.
func Name(s string) string {
	if s == "" {
		return ""
	}
	return Placeholder
}

// Phone keeps only the last two digits: enough to tell two numbers apart
// in a count, not to call anyone.
func Phone(s string) string {
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
	if len(digits) < 6 {
		return Name(s)
	}
	return strings.Repeat("*", len(digits)-2) + digits[len(digits)-2:]
}

// Account hides an account number but its last two characters, like Phone:
// a masked role can tell a customer's two deposits apart, not name either
// to a teller or a fraudster.
func Account(s string) string {
	r := []rune(strings.TrimSpace(s))
	if len(r) < 6 {
		return Name(s)
	}
	return strings.Repeat("*", len(r)-2) + string(r[len(r)-2:])
}

// Email keeps only the domain's top level (e.g. "＊＊＊@＊＊＊.jp").
func Email(s string) string {
	if s == "" {
		return ""
	}
	if i := strings.LastIndexByte(s, '.'); i > 0 && strings.Contains(s, "@") && utf8.RuneCountInString(s[i:]) <= 5 {
		return Placeholder + "@" + Placeholder + s[i:]
	}
	return Placeholder
}

// Body hides a message body or free text but keeps whether there was one.
func Body(s string) string { return Name(s) }
