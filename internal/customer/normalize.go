package customer

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"tsunagu/internal/textfold"
)

// The canonical forms of customer values. Core-banking exports mix
// half-width katakana, full-width digits, hyphenated and bare phone numbers
// and Japanese era dates; everything is stored in one form so that search,
// deduplication and change detection compare like with like.

// NormalizeText is the stored form of customer text: textfold.Width (one
// normaliser for the whole product; searches compare textfold.Fold keys).
func NormalizeText(s string) string { return textfold.Width(s) }

// NormalizeKey applies NFKC (compatibility folding) for identifiers and
// numbers, where ① means 1 and ＡＢ means AB.
func NormalizeKey(s string) string {
	if isPlainASCII(s) {
		return strings.TrimSpace(s)
	}
	return strings.TrimSpace(norm.NFKC.String(s))
}

// NormalizeCustomerNo is the one form of a customer number, used by the
// import, the search and every number staff type (IDByNumber): NFKC, so
// full-width ＡＢ１ and ａｂ１ are AB1 and ab1, and surrounding spaces
// trimmed. Case is kept: ab1 and AB1 are two numbers. A customer number is
// the core-banking system's identifier, and full-width characters are only
// ever an input artefact (an IME), but case may be significant to the
// system that issued it; folding it could merge two real customers into
// one, which is worse than the visible second record a wrong case makes.
func NormalizeCustomerNo(s string) string { return NormalizeKey(s) }

// ErrControl: a value holds a control character (FindControl).
var ErrControl = fmt.Errorf("%w: control character", ErrInvalid)

// FindControl returns the byte index of the first control character in s
// that allow does not list, or -1. Control characters are U+0000–U+001F
// (NUL, the other C0 controls), DEL and U+0080–U+009F (C1): nothing a
// person types into a name or an address, and NUL in particular breaks
// other programs reading the data (C strings, CSV tools).
func FindControl(s, allow string) int {
	for i := 0; i < len(s); i++ {
		switch b := s[i]; {
		case b < 0x20:
			if strings.IndexByte(allow, b) < 0 {
				return i
			}
		case b == 0x7F:
			return i
		case b == 0xC2: // U+0080–U+009F are C2 80 … C2 9F in UTF-8
			if i+1 < len(s) && s[i+1] >= 0x80 && s[i+1] <= 0x9F {
				return i
			}
		}
	}
	return -1
}

// CheckText refuses text typed by staff (tags, attribute labels and
// values, products) that holds a control character other than tab and
// line breaks, which normalization folds into spaces.
func CheckText(s string) error {
	if FindControl(s, "\t\n\r") >= 0 {
		return ErrControl
	}
	return nil
}

// ToKatakana converts hiragana to katakana (kana names are katakana).
func ToKatakana(s string) string {
	if isPlainASCII(s) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r >= 'ぁ' && r <= 'ゖ' || r == 'ゝ' || r == 'ゞ' {
			return r + ('ァ' - 'ぁ')
		}
		return r
	}, s)
}

// NormalizeKana is the canonical form of a kana name.
func NormalizeKana(s string) string { return ToKatakana(NormalizeText(s)) }

// NormalizePhone returns a Japanese phone number as digits only: hyphens,
// spaces and brackets are dropped and +81 becomes 0. It must then be 10 or
// 11 digits starting with 0.
func NormalizePhone(s string) (string, error) {
	s = NormalizeKey(s)
	var b strings.Builder
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		case r == '-' || r == ' ' || r == '(' || r == ')' || r == '‐' || r == '−' || r == 'ー' || r == '―':
		default:
			return "", fmt.Errorf("%w: phone contains %q", ErrInvalid, r)
		}
	}
	d := b.String()
	if strings.HasPrefix(d, "+81") {
		d = "0" + d[3:]
	}
	if len(d) < 10 || len(d) > 11 || d[0] != '0' {
		return "", fmt.Errorf("%w: phone must be 10 or 11 digits starting with 0", ErrInvalid)
	}
	return d, nil
}

// NormalizeEmail lowercases and checks an email address. The check is
// deliberately simple (one @, a dotted domain, no spaces): the address is
// proven by sending to it, not by a regular expression.
func NormalizeEmail(s string) (string, error) {
	s = strings.ToLower(NormalizeKey(s))
	at := strings.IndexByte(s, '@')
	if at <= 0 || at != strings.LastIndexByte(s, '@') || at == len(s)-1 {
		return "", fmt.Errorf("%w: email needs one @", ErrInvalid)
	}
	domain := s[at+1:]
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return "", fmt.Errorf("%w: email domain", ErrInvalid)
	}
	for _, r := range s {
		if r <= ' ' || r > '~' || strings.ContainsRune(`,;:<>()[]\"`, r) {
			return "", fmt.Errorf("%w: email contains %q", ErrInvalid, r)
		}
	}
	return s, nil
}

// NormalizePostal returns a postal code as 123-4567.
func NormalizePostal(s string) (string, error) {
	s = strings.TrimPrefix(NormalizeKey(s), "〒")
	d := make([]byte, 0, 7)
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			d = append(d, byte(r))
		case r == '-' || r == ' ' || r == '−' || r == 'ー':
		default:
			return "", fmt.Errorf("%w: postal code contains %q", ErrInvalid, r)
		}
	}
	if len(d) != 7 {
		return "", fmt.Errorf("%w: postal code must have 7 digits", ErrInvalid)
	}
	return string(d[:3]) + "-" + string(d[3:]), nil
}

// NormalizeGender maps the usual codes to male, female, other or ”.
func NormalizeGender(s string) (string, error) {
	switch strings.ToLower(NormalizeKey(s)) {
	case "":
		return "", nil
	case "男", "男性", "m", "male", "1":
		return "male", nil
	case "女", "女性", "f", "female", "2":
		return "female", nil
	case "その他", "other", "3":
		return "other", nil
	case "不明", "0", "9", "-", "unknown":
		return "", nil
	}
	return "", fmt.Errorf("%w: gender", ErrInvalid)
}

// era is a Japanese era: its names and its first and last day.
type era struct {
	kanji, letter string
	first, last   time.Time
}

func day(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }

var eras = []era{
	{"令和", "R", day(2019, 5, 1), day(9999, 12, 31)},
	{"平成", "H", day(1989, 1, 8), day(2019, 4, 30)},
	{"昭和", "S", day(1926, 12, 25), day(1989, 1, 7)},
	{"大正", "T", day(1912, 7, 30), day(1926, 12, 24)},
	{"明治", "M", day(1868, 1, 25), day(1912, 7, 29)},
}

// ParseDate reads the date forms found in Japanese exports and returns
// YYYY-MM-DD: 2023-04-01, 2023/4/1, 20230401, 2023年4月1日, and era dates
// 令和5年4月1日, 令和元年, R5.4.1, R05/04/01, H31/4/30, S50-1-1. An era date
// outside its era (平成32年) is refused rather than guessed.
func ParseDate(s string) (string, error) {
	s = NormalizeKey(s)
	if s == "" {
		return "", nil
	}
	var e *era
	for i := range eras {
		switch {
		case strings.HasPrefix(s, eras[i].kanji):
			e, s = &eras[i], s[len(eras[i].kanji):]
		case len(s) > 1 && strings.EqualFold(s[:1], eras[i].letter) && s[1] >= '0' && s[1] <= '9':
			e, s = &eras[i], s[1:]
		}
		if e != nil {
			break
		}
	}
	if e != nil && strings.HasPrefix(s, "元") {
		s = "1" + s[len("元"):]
	}
	parts := splitDate(s)
	if len(parts) == 1 && e == nil && len(parts[0]) == 8 {
		parts = []string{parts[0][:4], parts[0][4:6], parts[0][6:]}
	}
	if len(parts) != 3 {
		return "", fmt.Errorf("%w: date format", ErrInvalid)
	}
	var n [3]int
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || v <= 0 {
			return "", fmt.Errorf("%w: date format", ErrInvalid)
		}
		n[i] = v
	}
	y := n[0]
	if e != nil {
		y = e.first.Year() + n[0] - 1
	} else if y < 1800 || y > 2200 {
		return "", fmt.Errorf("%w: year", ErrInvalid)
	}
	t := day(y, n[1], n[2])
	if t.Year() != y || int(t.Month()) != n[1] || t.Day() != n[2] {
		return "", fmt.Errorf("%w: no such day", ErrInvalid)
	}
	if e != nil && (t.Before(e.first) || t.After(e.last)) {
		return "", fmt.Errorf("%w: date outside its era", ErrInvalid)
	}
	return t.Format("2006-01-02"), nil
}

// splitDate splits on the usual separators, including 年, 月 and 日.
func splitDate(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return r == '-' || r == '/' || r == '.' || r == '年' || r == '月' || r == '日' || r == ' '
	})
}

func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
