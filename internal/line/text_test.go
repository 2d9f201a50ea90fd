package line

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateText(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		wantErr error // nil: valid; errAny: some other error
	}{
		{"empty", "", ErrTextEmpty},
		{"one char", "a", nil},
		{"5000 ASCII", strings.Repeat("a", 5000), nil},
		{"5001 ASCII", strings.Repeat("a", 5001), ErrTextTooLong},
		{"5000 kana (3 bytes each in UTF-8)", strings.Repeat("あ", 5000), nil},
		{"5001 kana", strings.Repeat("あ", 5001), ErrTextTooLong},
		{"4998 + emoji = 5000 units", strings.Repeat("a", 4998) + "😀", nil},
		{"4999 + emoji = 5001 units", strings.Repeat("a", 4999) + "😀", ErrTextTooLong},
		{"2500 emoji = 5000 units", strings.Repeat("😀", 2500), nil},
		{"2501 emoji", strings.Repeat("😀", 2501), ErrTextTooLong},
		{"BMP symbol counts once", strings.Repeat("☎", 5000), nil},
		{"invalid UTF-8", "abc\xff", errAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateText(tt.text)
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("ValidateText = %v, want nil", err)
			case tt.wantErr == errAny:
				if err == nil || errors.Is(err, ErrTextEmpty) || errors.Is(err, ErrTextTooLong) {
					t.Fatalf("ValidateText = %v, want an encoding error", err)
				}
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Fatalf("ValidateText = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

var errAny = errors.New("any error")

func TestTextLength(t *testing.T) {
	tests := []struct {
		text string
		want int
	}{
		{"", 0},
		{"hello", 5},
		{"こんにちは", 5},
		{"😀", 2},
		{"👨‍👩‍👧", 8}, // three surrogate pairs joined by two ZWJs
		{"\r\n", 2},
	}
	for _, tt := range tests {
		if got := TextLength(tt.text); got != tt.want {
			t.Errorf("TextLength(%q) = %d, want %d", tt.text, got, tt.want)
		}
	}
}
