package inbox

import (
	"context"
	"testing"
)

func TestSearchCannedReplies(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, c := range []CannedReply{
		{Title: "住所変更の手続き", Body: "{氏名} 様、住所変更は窓口またはＷＥＢで承ります。"},
		{Title: "営業時間", Body: "平日 9:00〜15:00 です。ATM は別です。"},
		{Title: "ｶｰﾄﾞ紛失", Body: "至急、紛失の届出をお願いします。"},
	} {
		if _, err := f.ib.SaveCannedReply(ctx, "staff:admin", c); err != nil {
			t.Fatal(err)
		}
	}
	titles := func(q string) []string {
		list, err := f.ib.SearchCannedReplies(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, c := range list {
			out = append(out, c.Title)
		}
		return out
	}
	for _, tc := range []struct {
		q    string
		want []string
	}{
		{"", []string{"住所変更の手続き", "営業時間", "ｶｰﾄﾞ紛失"}},
		{"   ", []string{"住所変更の手続き", "営業時間", "ｶｰﾄﾞ紛失"}},
		{"住所", []string{"住所変更の手続き"}},
		{"web", []string{"住所変更の手続き"}}, // full-width ＷＥＢ in the text, any case
		{"ＡＴＭ", []string{"営業時間"}},     // full-width query, ASCII text
		{"カード", []string{"ｶｰﾄﾞ紛失"}},   // half-width kana in the title
		{"紛失　届出", []string{"ｶｰﾄﾞ紛失"}}, // two words (ideographic space), both must match
		{"紛失 営業", []string{}},
		{"振込", []string{}},
	} {
		got := titles(tc.q)
		if len(got) != len(tc.want) {
			t.Errorf("search %q = %v, want %v", tc.q, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("search %q = %v, want %v", tc.q, got, tc.want)
				break
			}
		}
	}
}
