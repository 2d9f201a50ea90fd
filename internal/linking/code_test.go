package linking

import (
	"strings"
	"testing"
)

func TestParseMessage(t *testing.T) {
	for _, tc := range []struct {
		in   string
		code string
		ok   bool
	}{
		{"ABCD-EFGH", "ABCDEFGH", true},
		{"abcd-efgh", "ABCDEFGH", true},
		{"ABCDEFGH", "ABCDEFGH", true},
		{" ABCD EFGH ", "ABCDEFGH", true},
		{"ＡＢＣＤ－ＥＦＧＨ", "ABCDEFGH", true},
		{"連携コード: WXYZ-2345", "WXYZ2345", true},
		{"連携コード：wxyz2345", "WXYZ2345", true},
		{"連携コード WXYZ-2345", "WXYZ2345", true},
		{"ABCD-EFG1", "ABCDEFG1", true}, // mistyped: an attempt, and a wrong one
		{"19800401", "", false},         // a date, not a code
		{"0901-2345", "", false},
		{"ABCD-EFGHJ", "", false},
		{"AB-CDEFGH", "", false},
		{"ABCD--EFGH", "", false},
		{"ABCD-EF-GH", "", false},
		{"コードはABCD-EFGHです", "", false},
		{"こんにちは", "", false},
		{"", "", false},
	} {
		code, ok := ParseMessage(tc.in)
		if code != tc.code || ok != tc.ok {
			t.Errorf("ParseMessage(%q) = %q, %v; want %q, %v", tc.in, code, ok, tc.code, tc.ok)
		}
	}
}

func TestNewCode(t *testing.T) {
	seen := map[string]bool{}
	for range 2000 {
		c := NewCode()
		if len(c) != 9 || c[4] != '-' {
			t.Fatalf("code %q is not XXXX-XXXX", c)
		}
		canon, ok := ParseMessage(c)
		if !ok || !inAlphabet(canon) || strings.ContainsAny(canon, "0O1I") {
			t.Fatalf("code %q: parsed %q %v", c, canon, ok)
		}
		if seen[c] {
			t.Fatalf("code %q twice in 2000", c)
		}
		seen[c] = true
	}
	if PrefillText("abcd-efgh") != "連携コード: ABCD-EFGH" {
		t.Fatal(PrefillText("abcd-efgh"))
	}
}
