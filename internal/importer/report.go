package importer

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"unicode"

	"tsunagu/internal/export"
)

// Reasons a row is rejected. The UI translates them (import.reason.*); the
// CLI report carries the code and the Japanese and English text.
const (
	ReasonRequired  = "required"  // an empty customer number or name
	ReasonDate      = "date"      // not a date, or outside its era
	ReasonPhone     = "phone"     // not a Japanese phone number
	ReasonEmail     = "email"     // not an email address
	ReasonPostal    = "postal"    // not a 7-digit postal code
	ReasonGender    = "gender"    // not a known gender code
	ReasonConsent   = "consent"   // not a yes/no
	ReasonDuplicate = "duplicate" // the customer number appeared earlier in the file
	ReasonColumns   = "columns"   // the row has a different number of columns than the header (often broken quoting)
	ReasonTooLong   = "tooLong"   // a value longer than MaxFieldRunes
	ReasonEncoding  = "encoding"  // bytes that are not valid in the file's encoding
	// ReasonEncodingMixed: the line is UTF-8 in a Shift_JIS or EUC-JP file
	// (codec.go): decoded, it would be mojibake.
	ReasonEncodingMixed = "encodingMixed"
	// ReasonQuote: a quote opened on this line is never closed within the
	// rules for values spanning lines (csvread.go); the lines after it are
	// read as rows of their own.
	ReasonQuote   = "quote"
	ReasonControl = "control" // NUL or another control character (tab and, in addresses, line breaks excepted)
	// ReasonBirthFuture: a birth date after today (by the import's clock).
	ReasonBirthFuture = "birthFuture"
)

var reasonText = map[string][2]string{
	ReasonRequired:  {"必須の項目が空です", "a required value is empty"},
	ReasonDate:      {"日付として読めません（和暦は元号の期間内のみ）", "not a date (era dates must fall within the era)"},
	ReasonPhone:     {"電話番号として読めません（0から始まる10〜11桁）", "not a phone number (10 or 11 digits starting with 0)"},
	ReasonEmail:     {"メールアドレスとして読めません", "not an email address"},
	ReasonPostal:    {"郵便番号として読めません（7桁）", "not a postal code (7 digits)"},
	ReasonGender:    {"性別の値が不明です", "unknown gender value"},
	ReasonConsent:   {"同意の値が不明です（1/0、可/否 など）", "unknown consent value (1/0, yes/no ...)"},
	ReasonDuplicate: {"同じ顧客番号がファイル内で先に出ています", "the customer number appeared earlier in the file"},
	ReasonColumns:   {"列の数が見出しと違います（引用符の崩れなど）", "the number of columns differs from the header (e.g. broken quoting)"},
	ReasonTooLong:   {"値が長すぎます", "the value is too long"},
	ReasonEncoding:  {"文字コードとして読めない文字があります", "contains bytes invalid in the file's encoding"},
	ReasonEncodingMixed: {"この行だけ文字コードが違います（UTF-8 が混ざっています）",
		"this line is in another encoding (UTF-8 inside a Shift_JIS/EUC-JP file)"},
	ReasonQuote: {"引用符（\"）が閉じられていません（この行を飛ばし、次の行から読み直しました）",
		"a quote (\") is never closed (this line was skipped; reading went on with the next line)"},
	ReasonControl:     {"制御文字（NUL など）が含まれています", "contains a control character (NUL etc.)"},
	ReasonBirthFuture: {"生年月日が未来の日付です", "the birth date is in the future"},
}

// ReasonText returns the message for a reason code in "ja" or "en".
func ReasonText(code, lang string) string {
	t, ok := reasonText[code]
	if !ok {
		return code
	}
	if lang == "en" {
		return t[1]
	}
	return t[0]
}

// Issue is one rejected value. Value is masked: it never holds the customer
// data itself, only its shape, so reports can be mailed and logged.
type Issue struct {
	Line    int    `json:"line"`    // 1-based line in the file where the row starts
	Column  string `json:"column"`  // header name ('' for the whole row)
	Value   string `json:"value"`   // masked
	Reason  string `json:"reason"`  // a Reason* code
	EndLine int    `json:"endLine"` // for ReasonColumns: the last line the row spans
}

// Mask keeps a value's shape and hides its content: letters, digits and
// kana become '*', control characters '?', punctuation stays, and only the first (and from six
// characters on the last) character is shown. "090-1234-5678" →
// "0**-****-***8"; a single character is hidden.
func Mask(v string) string {
	r := []rune(v)
	if len(r) > 40 {
		r = append(r[:39], '…')
	}
	for i, c := range r {
		if i == 0 && len(r) > 1 || i == len(r)-1 && len(r) >= 6 || c == '…' {
			continue
		}
		if unicode.IsLetter(c) || unicode.IsDigit(c) || unicode.Is(unicode.Han, c) {
			r[i] = '*'
		} else if unicode.IsControl(c) {
			r[i] = '?' // never a NUL or a line break in a report
		}
	}
	return string(r)
}

// WriteReport writes issues as CSV (UTF-8 with BOM, so Excel opens it).
func WriteReport(w io.Writer, issues []Issue, lang string) error {
	if _, err := w.Write(utf8BOM); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	header := []string{"行", "列", "値（伏せ字）", "理由コード", "理由"}
	if lang == "en" {
		header = []string{"line", "column", "value (masked)", "reason code", "reason"}
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, is := range issues {
		line := strconv.Itoa(is.Line)
		if is.EndLine > is.Line {
			line = fmt.Sprintf("%d-%d", is.Line, is.EndLine)
		}
		if err := cw.Write([]string{line, export.Neutralize(is.Column), export.Neutralize(is.Value), is.Reason, ReasonText(is.Reason, lang)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
