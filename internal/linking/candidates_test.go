package linking

import "testing"

// The LINE name is compared with the customer's name and kana as search
// keys: 異体字, widths and kana are no mismatch; another name is.
func TestNameMatches(t *testing.T) {
	for _, tt := range []struct {
		display, name, kana string
		want                bool
	}{
		{"山﨑 花子", "山崎 花子", "ヤマサキ ハナコ", true},
		{"髙橋", "高橋 一郎", "タカハシ イチロウ", true},
		{"けんいち", "佐藤 健一", "サトウ ケンイチ", true},
		{"ｻﾄｳｹﾝｲﾁ", "佐藤 健一", "サトウ ケンイチ", true},
		{"佐藤健一🍀", "佐藤 健一", "", true},
		{"健一", "佐藤 健一", "", true},
		{"Ken", "佐藤 健一", "サトウ ケンイチ", false},
		{"鈴木 一郎", "佐藤 健一", "サトウ ケンイチ", false},
		{"高橋", "高梁 一郎", "タカハシ イチロウ", false}, // kanji differ; the kana is not the display
		{"", "佐藤 健一", "", true},
	} {
		if got := NameMatches(tt.display, tt.name, tt.kana); got != tt.want {
			t.Errorf("NameMatches(%q, %q, %q) = %v, want %v", tt.display, tt.name, tt.kana, got, tt.want)
		}
	}
}

func TestLastDigits(t *testing.T) {
	for in, want := range map[string]string{"09012345678": "5678", "03-1111-2222": "2222", "12": "12", "": ""} {
		if got := lastDigits(in, 4); got != want {
			t.Errorf("lastDigits(%q) = %q, want %q", in, got, want)
		}
	}
}
