package customer

import (
	"errors"
	"testing"
)

func TestParseDate(t *testing.T) {
	tests := []struct {
		in, want string
		bad      bool
	}{
		{in: "", want: ""},
		{in: "2023-04-01", want: "2023-04-01"},
		{in: "2023/4/1", want: "2023-04-01"},
		{in: "20230401", want: "2023-04-01"},
		{in: "２０２３年４月１日", want: "2023-04-01"},
		{in: "令和5年4月1日", want: "2023-04-01"},
		{in: "令和元年5月1日", want: "2019-05-01"},
		{in: "R5.4.1", want: "2023-04-01"},
		{in: "r05/04/01", want: "2023-04-01"},
		{in: "H31/4/30", want: "2019-04-30"},
		{in: "平成元年1月8日", want: "1989-01-08"},
		{in: "昭和50年1月2日", want: "1975-01-02"},
		{in: "S64.1.7", want: "1989-01-07"},
		{in: "大正15年12月24日", want: "1926-12-24"},
		{in: "H31/5/1", bad: true},   // Heisei ended on 30 April 2019
		{in: "平成32年1月1日", bad: true}, // no such Heisei year
		{in: "令和元年4月30日", bad: true}, // before Reiwa
		{in: "S64.1.8", bad: true},
		{in: "2023-02-30", bad: true},
		{in: "2023-13-01", bad: true},
		{in: "4/1", bad: true},
		{in: "yesterday", bad: true},
		{in: "0000-01-01", bad: true},
	}
	for _, tt := range tests {
		got, err := ParseDate(tt.in)
		if tt.bad {
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("ParseDate(%q) = %q, %v; want ErrInvalid", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseDate(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestNormalizeText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダ タロウ"},
		{"ｶﾞｷﾞｸﾞｹﾞｺﾞﾊﾟﾋﾟﾌﾟ", "ガギグゲゴパピプ"},
		{"山田　太郎", "山田 太郎"},
		{"  東京都  千代田区\n１丁目 ", "東京都 千代田区 1丁目"},
		{"ＡＢＣ１２３", "ABC123"},
		{"㈱つなぐ①号", "㈱つなぐ①号"}, // kept: they are meant
		{"髙橋", "髙橋"},
	}
	for _, tt := range tests {
		if got := NormalizeText(tt.in); got != tt.want {
			t.Errorf("NormalizeText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := NormalizeKana("たかはし はなこ"); got != "タカハシ ハナコ" {
		t.Errorf("NormalizeKana = %q", got)
	}
	if got := NormalizeKey("①２３"); got != "123" {
		t.Errorf("NormalizeKey = %q", got)
	}
}

func TestNormalizeContact(t *testing.T) {
	phones := []struct {
		in, want string
		bad      bool
	}{
		{in: "03-1234-5678", want: "0312345678"},
		{in: "０９０－１２３４－５６７８", want: "09012345678"},
		{in: "(03) 1234 5678", want: "0312345678"},
		{in: "+81-90-1234-5678", want: "09012345678"},
		{in: "12345", bad: true},
		{in: "090-1234-56789", bad: true},
		{in: "tel:0312345678", bad: true},
	}
	for _, tt := range phones {
		got, err := NormalizePhone(tt.in)
		if tt.bad != (err != nil) || got != tt.want {
			t.Errorf("NormalizePhone(%q) = %q, %v", tt.in, got, err)
		}
	}
	emails := []struct {
		in, want string
		bad      bool
	}{
		{in: "Taro@Example.COM", want: "taro@example.com"},
		{in: " ｈａｎａｋｏ＠ｅｘａｍｐｌｅ．ｊｐ ", want: "hanako@example.jp"},
		{in: "foo@", bad: true},
		{in: "foo@bar", bad: true},
		{in: "a b@example.com", bad: true},
		{in: "a@b@example.com", bad: true},
		{in: "山田@example.com", bad: true},
	}
	for _, tt := range emails {
		got, err := NormalizeEmail(tt.in)
		if tt.bad != (err != nil) || got != tt.want {
			t.Errorf("NormalizeEmail(%q) = %q, %v", tt.in, got, err)
		}
	}
	postals := []struct {
		in, want string
		bad      bool
	}{
		{in: "1000001", want: "100-0001"},
		{in: "〒100-0001", want: "100-0001"},
		{in: "１００－０００１", want: "100-0001"},
		{in: "100-001", bad: true},
		{in: "ABC-DEFG", bad: true},
	}
	for _, tt := range postals {
		got, err := NormalizePostal(tt.in)
		if tt.bad != (err != nil) || got != tt.want {
			t.Errorf("NormalizePostal(%q) = %q, %v", tt.in, got, err)
		}
	}
}
