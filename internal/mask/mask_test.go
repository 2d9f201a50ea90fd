package mask

import "testing"

func TestMask(t *testing.T) {
	tests := []struct {
		name string
		fn   func(string) string
		in   string
		want string
	}{
		{"name", Name, "山田 花子", Placeholder},
		{"empty name", Name, "", ""},
		{"phone", Phone, "090-1234-5678", "*********78"},
		{"full-width hyphens only keep digits", Phone, "03(1234)5601", "********01"},
		{"short phone", Phone, "12345", Placeholder},
		{"empty phone", Phone, "", ""},
		{"email", Email, "hanako@example.jp", Placeholder + "@" + Placeholder + ".jp"},
		{"email long top level", Email, "hanako@example.museum", Placeholder},
		{"not an email", Email, "hanako.example", Placeholder},
		{"empty email", Email, "", ""},
		{"body", Body, "口座番号は1234567です", Placeholder},
		{"empty body", Body, "", ""},
		{"account", Account, "0123456", "*****56"},
		{"short account", Account, "123", Placeholder},
		{"empty account", Account, "", ""},
	}
	for _, tt := range tests {
		if got := tt.fn(tt.in); got != tt.want {
			t.Errorf("%s: %q → %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}
