package importer

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
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
// data itself, only its shape, so what the screen shows and what may reach
// a log is safe.
//
// CustomerNo and Raw are for the rejected-rows report only, which goes to
// the person who owns the file and must fix the rows: the customer number
// to find the row and the value as written. They never leave the process
// as JSON (json:"-"), and String keeps them out of formatted logs.
type Issue struct {
	Line    int    `json:"line"`    // 1-based line in the file where the row starts
	Column  string `json:"column"`  // header name ('' for the whole row)
	Value   string `json:"value"`   // masked
	Reason  string `json:"reason"`  // a Reason* code
	EndLine int    `json:"endLine"` // for ReasonColumns: the last line the row spans

	CustomerNo string `json:"-"` // the row's customer number as written ("" if none)
	Raw        string `json:"-"` // the rejected value as written
}

// String describes the issue without the customer's data (for %v in logs).
func (is Issue) String() string {
	return fmt.Sprintf("line %d column %q value %q: %s", is.Line, is.Column, is.Value, is.Reason)
}

// attach fills the report-only fields from the raw record: the value of the
// customer-number column (header customerNoHeader) and of the issue's own.
func (is *Issue) attach(fields, headers []string, customerNoHeader string) {
	for i, h := range headers {
		if i >= len(fields) {
			break
		}
		if customerNoHeader != "" && h == customerNoHeader {
			is.CustomerNo = fields[i]
		}
		if is.Column != "" && h == is.Column {
			is.Raw = fields[i]
		}
	}
}

// reportValue makes a value as written safe for a CSV cell: no invalid
// UTF-8, no control characters (a NUL or line break would break the file),
// and no formula (export.Neutralize).
func reportValue(v string) string {
	v = strings.ToValidUTF8(v, "?")
	v = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '?'
		}
		return r
	}, v)
	return export.Neutralize(v)
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

// WriteReport writes issues as CSV (UTF-8 with BOM, so Excel opens it):
// the line, the row's customer number, the column, the value as written
// and the reason. It is written for the file's owner, who fixes the rows:
// save it where the file itself may be, never to a log.
func WriteReport(w io.Writer, issues []Issue, lang string) error {
	if _, err := w.Write(utf8BOM); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	header := []string{"行", "顧客番号", "列", "値", "理由コード", "理由"}
	if lang == "en" {
		header = []string{"line", "customer number", "column", "value", "reason code", "reason"}
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, is := range issues {
		line := strconv.Itoa(is.Line)
		if is.EndLine > is.Line {
			line = fmt.Sprintf("%d-%d", is.Line, is.EndLine)
		}
		value := is.Raw
		if value == "" {
			value = is.Value // an issue made without its record (e.g. a required value: empty)
		}
		if err := cw.Write([]string{line, reportValue(is.CustomerNo), reportValue(is.Column), reportValue(value), is.Reason, ReasonText(is.Reason, lang)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
