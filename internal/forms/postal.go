package forms

import (
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Postal-code and birth-date answers (issue 21, second slice). The page
// looks the address up from the relay's postal-code table and lets the
// customer correct every field, so the desktop checks the shape, not that
// the address matches the code (Japan Post's table changes monthly).

// Parts of a postal answer.
const (
	PostalCode     = "code"     // 7 digits
	PostalPref     = "pref"     // one of the 47 prefectures
	PostalCity     = "city"     // 市区町村
	PostalTown     = "town"     // 町域・番地
	PostalBuilding = "building" // 建物名・部屋番号 (optional)
)

// Prefectures in JIS order (the page offers these).
var Prefectures = []string{"北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県", "栃木県", "群馬県", "埼玉県", "千葉県", "東京都", "神奈川県",
	"新潟県", "富山県", "石川県", "福井県", "山梨県", "長野県", "岐阜県", "静岡県", "愛知県", "三重県", "滋賀県", "京都府", "大阪府", "兵庫県", "奈良県", "和歌山県",
	"鳥取県", "島根県", "岡山県", "広島県", "山口県", "徳島県", "香川県", "愛媛県", "高知県", "福岡県", "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県", "鹿児島県", "沖縄県"}

var postalRe = regexp.MustCompile(`^\d{7}$`)

// checkPostal reads a postal answer: nothing at all (ok, empty), or code,
// prefecture, city and town all given (building optional).
func checkPostal(raw any) (map[string]string, bool) {
	m, ok := raw.(map[string]any)
	if !ok {
		s, isText := raw.(string) // the page's blank
		return map[string]string{}, raw == nil || (isText && strings.TrimSpace(s) == "")
	}
	out := map[string]string{}
	for k, v := range m {
		s, ok := v.(string)
		if !ok {
			return nil, false
		}
		switch k {
		case PostalCode, PostalPref, PostalCity, PostalTown, PostalBuilding:
		default:
			return nil, false
		}
		if s = strings.TrimSpace(s); s != "" {
			if !utf8.ValidString(s) || utf8.RuneCountInString(s) > 100 {
				return nil, false
			}
			out[k] = s
		}
	}
	if len(out) == 0 {
		return out, true
	}
	if !postalRe.MatchString(out[PostalCode]) || !contains(Prefectures, out[PostalPref]) || out[PostalCity] == "" || out[PostalTown] == "" {
		return nil, false
	}
	return out, true
}

// postalText is a postal answer on one line: 〒100-0001 東京都千代田区千代田1-1 ビル.
func postalText(a map[string]string) string {
	code := a[PostalCode]
	if len(code) == 7 {
		code = code[:3] + "-" + code[3:]
	}
	addr := a[PostalPref] + a[PostalCity] + a[PostalTown]
	if b := a[PostalBuilding]; b != "" {
		addr += " " + b
	}
	return "〒" + code + " " + addr
}

// checkBirth reports whether s is a YYYY-MM-DD birth date: a real day, from
// 1900 and not after the day the answer was received (the page turns 和暦
// into this form).
func checkBirth(s string, at time.Time) bool {
	d, err := time.Parse("2006-01-02", s)
	if err != nil || !dateRe.MatchString(s) || d.Year() < 1900 {
		return false
	}
	// A day's grace: the phone's calendar day may be ahead of UTC.
	return !d.After(at.Add(24 * time.Hour))
}
