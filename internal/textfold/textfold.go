// Package textfold is the one text normaliser of Tsunagu: the width folding
// stored values get (Width) and the search key every search compares
// (Fold). Customer search, the inbox search (messages, LINE names, linked
// customers' names), the link name check and the canned-reply picker all
// use Fold, in Go and, through the SQL function store registers
// (tsunagu_fold), inside SQLite: a query and the value it is compared with
// are always folded by the same code.
package textfold

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"
)

// SQLFunc is the name of Fold inside SQLite (registered on every
// connection by package store).
const SQLFunc = "tsunagu_fold"

// Width folds character widths the way Japanese staff expect: half-width
// katakana become full-width (ｶﾞ → ガ), full-width ASCII and the
// ideographic space become ASCII, then runs of spaces collapse. Unlike NFKC
// it keeps characters such as ① and ㈱, which appear in names and addresses
// on purpose. It is the stored form of customer text.
func Width(s string) string {
	if isPlainASCII(s) {
		return collapseSpaces(s)
	}
	return collapseSpaces(norm.NFC.String(width.Fold.String(s)))
}

// Fold is the search key of s: Width, then hiragana as katakana, the common
// 異体字 of names as their everyday form (variants), ASCII lower case, and
// no spaces or variation selectors. 「さとう　健一」, 「ｻﾄｳ健一」 and
// 「サトウ 健一」 fold alike; so do 髙橋 and 高橋, ＬＩＮＥ and line.
// A key is for comparing only: it is never shown.
func Fold(s string) string {
	if isPlainASCII(s) {
		var b strings.Builder
		b.Grow(len(s))
		for i := 0; i < len(s); i++ {
			c := s[i]
			switch {
			case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f':
			case c >= 'A' && c <= 'Z':
				b.WriteByte(c + 'a' - 'A')
			default:
				b.WriteByte(c)
			}
		}
		return b.String()
	}
	if !plainJapanese(s) {
		s = norm.NFC.String(width.Fold.String(s))
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
		case r >= 0xFE00 && r <= 0xFE0F, r >= 0xE0100 && r <= 0xE01EF:
			// Variation selectors (IVS) pick a glyph of the same character.
		case r >= 'ぁ' && r <= 'ゖ', r == 'ゝ', r == 'ゞ':
			b.WriteRune(r + ('ァ' - 'ぁ'))
		case r >= 'A' && r <= 'Z':
			b.WriteRune(r + 'a' - 'A')
		default:
			if v, ok := variants[r]; ok {
				r = v
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Contains reports whether the folded text holds the folded query.
func Contains(text, query string) bool {
	return strings.Contains(Fold(text), Fold(query))
}

// variants maps the 異体字 (variant and traditional forms) common in
// Japanese names to the form staff type. Reviewed one by one: each pair is
// one character in two shapes, so a name written either way is the same
// name (山﨑 is 山崎, 髙橋 is 高橋). Different characters that people
// confuse are not merged: 斉 (齊) and 斎 (齋) are two characters, and 斉藤
// and 斎藤 two surnames, so 齊藤 finds 斉藤 and 齋藤 finds 斎藤.
var variants = map[rune]rune{
	'髙': '高', // はしごだか
	'﨑': '崎', // たつさき (U+FA11)
	'嵜': '崎',
	'濵': '浜',
	'濱': '浜',
	'邊': '辺',
	'邉': '辺',
	'齋': '斎',
	'齊': '斉',
	'澤': '沢',
	'嶋': '島',
	'嶌': '島',
	'櫻': '桜',
	'廣': '広',
	'德': '徳',
	'槇': '槙',
	'𠮷': '吉', // つちよし (U+20BB7)
	'國': '国',
	'澁': '渋',
	'瀨': '瀬',
	'冨': '富',
	'舘': '館',
	'渕': '淵',
	'埜': '野',
	'峯': '峰',
	'嶽': '岳',
	'藪': '薮',
	'檜': '桧',
	'萬': '万',
	'眞': '真',
	'惠': '恵',
	'榮': '栄',
	'壽': '寿',
	'實': '実',
	'藏': '蔵',
	'龍': '竜',
	'黑': '黒',
	'關': '関',
	'增': '増',
	'條': '条',
	'亞': '亜',
	'會': '会',
	'學': '学',
	'圓': '円',
	'淺': '浅',
	'總': '総',
	'驛': '駅',
}

// plainJapanese reports whether width folding and NFC would leave s as it
// is: ASCII, full-width hiragana and katakana (no combining sound marks) and
// unified ideographs only, the usual shape of a name. Search folds every
// row's name, so the common case skips both passes.
func plainJapanese(s string) bool {
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf:
		case r >= 0x3041 && r <= 0x3096, r >= 0x309D && r <= 0x309F, r >= 0x30A1 && r <= 0x30FF:
		case r >= 0x4E00 && r <= 0x9FFF:
		case r == 0x3000:
		default:
			return false
		}
	}
	return true
}

func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// collapseSpaces trims s and turns every run of whitespace into one space.
func collapseSpaces(s string) string {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "  ") && !strings.ContainsAny(s, "\t\r\n") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}
