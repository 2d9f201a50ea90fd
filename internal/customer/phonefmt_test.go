package customer

import "testing"

func TestFormatPhone(t *testing.T) {
	for in, want := range map[string]string{
		"0423831791":      "042-383-1791", // 府中: a 3-digit area code
		"0429231234":      "04-2923-1234", // 所沢: 04 with a 4-digit exchange
		"0312345678":      "03-1234-5678",
		"0154321234":      "0154-32-1234", // a 4-digit area code
		"01267-2-1234":    "01267-2-1234", // 5-digit area code, as written
		"09012345678":     "090-1234-5678",
		"05012345678":     "050-1234-5678",
		"0120123456":      "0120-123-456",
		"+81 3 1234 5678": "03-1234-5678",
		"０４２３８３１７９１":      "042-383-1791", // full width
		"0111234567":      "0111234567",   // not a number in the plan: as stored
		"12345":           "12345",        // not a phone number at all
		"":                "",
	} {
		if got := FormatPhone(in); got != want {
			t.Errorf("FormatPhone(%q) = %q, want %q", in, got, want)
		}
	}
}
