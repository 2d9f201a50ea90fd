package textfold

import (
	"testing"
	"unicode/utf8"
)

// TestVariantTable is the reviewed 異体字 table: each row is a name as
// written in a customer file or a LINE profile and as a clerk types it.
// Both must fold to the same key; the rows at the end are characters that
// look alike but are different, and must stay apart.
func TestVariantTable(t *testing.T) {
	same := [][2]string{
		{"髙橋", "高橋"}, {"山﨑", "山崎"}, {"山嵜", "山崎"}, {"濵田", "浜田"}, {"濱田", "浜田"},
		{"渡邊", "渡辺"}, {"渡邉", "渡辺"}, {"齋藤", "斎藤"}, {"齊藤", "斉藤"}, {"澤田", "沢田"},
		{"大嶋", "大島"}, {"櫻井", "桜井"}, {"廣瀬", "広瀬"}, {"德永", "徳永"}, {"槇原", "槙原"},
		{"𠮷田", "吉田"}, {"冨田", "富田"}, {"舘野", "館野"}, {"國分", "国分"}, {"眞鍋", "真鍋"},
		// An ideographic variation sequence is the same character.
		{"葛\U000E0100城", "葛城"},
	}
	for _, p := range same {
		if Fold(p[0]) != Fold(p[1]) {
			t.Errorf("Fold(%q) = %q, Fold(%q) = %q: want the same key", p[0], Fold(p[0]), p[1], Fold(p[1]))
		}
	}
	apart := [][2]string{{"斉藤", "斎藤"}, {"高橋", "高梁"}, {"佐藤", "加藤"}}
	for _, p := range apart {
		if Fold(p[0]) == Fold(p[1]) {
			t.Errorf("Fold(%q) == Fold(%q): different names must not merge", p[0], p[1])
		}
	}
	// Every entry maps to a character that is itself not a key: one step
	// reaches the everyday form, whatever order the table is read in.
	for from, to := range variants {
		if _, again := variants[to]; again {
			t.Errorf("variant %c → %c, but %c is itself mapped", from, to, to)
		}
		if from == to || !utf8.ValidRune(to) {
			t.Errorf("variant %c → %c is not a change", from, to)
		}
	}
}

func TestFoldWidthKanaCase(t *testing.T) {
	cases := []struct{ a, b string }{
		{"ＬＩＮＥ", "line"}, {"ＬＩＮＥ", "LINE"}, {"Line Pay", "ｌｉｎｅｐａｙ"},
		{"ｻﾄｳ ｹﾝｲﾁ", "サトウケンイチ"}, {"さとう　けんいち", "サトウ ケンイチ"},
		{"ｶﾞｯｺｳ", "がっこう"}, {"佐藤 健一", "佐藤健一"}, {"０９０", "090"},
	}
	for _, c := range cases {
		if Fold(c.a) != Fold(c.b) {
			t.Errorf("Fold(%q) = %q, Fold(%q) = %q: want the same key", c.a, Fold(c.a), c.b, Fold(c.b))
		}
	}
	if !Contains("佐藤 健一さんからのＬＩＮＥ", "line") || !Contains("髙橋 一郎", "高橋") {
		t.Error("Contains does not fold")
	}
	if Contains("佐藤 健一", "加藤") {
		t.Error("Contains matched a different name")
	}
}

func TestWidth(t *testing.T) {
	for in, want := range map[string]string{
		"ｻﾄｳ  ｹﾝｲﾁ": "サトウ ケンイチ", "ＡＢＣ　１２３": "ABC 123", " ㈱①商事 ": "㈱①商事", "髙橋": "髙橋",
	} {
		if got := Width(in); got != want {
			t.Errorf("Width(%q) = %q, want %q", in, got, want)
		}
	}
}
