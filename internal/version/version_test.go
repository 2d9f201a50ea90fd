package version

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{"1.2.3", "1.2.3.0", false},
		{"v1.2.3", "1.2.3.0", false},
		{"1.2.3.4", "1.2.3.4", false},
		{"v0.1.0-5-gabcdef0", "0.1.0.5", false},
		{"v0.1.0-5-gabcdef0-dirty", "0.1.0.5", false},
		{"v2.0.0-dirty", "2.0.0.0", false},
		{"65535.0.0", "65535.0.0.0", false},
		{"dev", "", true},
		{"936a079", "", true},
		{"936a079-dirty", "", true},
		{"1.2", "", true},
		{"1.2.3.4.5", "", true},
		{"1.02.3", "", true},
		{"65536.0.0", "", true},
		{"1.2.3-rc1", "", true},
		{"1.2.3.4-5-gabc", "", true},
		{"-1.2.3", "", true},
		{"", "", true},
	}
	for _, tt := range tests {
		n, err := Parse(tt.in)
		if tt.wantErr {
			if err == nil {
				t.Errorf("Parse(%q) = %v, want an error", tt.in, n)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if n.String() != tt.want {
			t.Errorf("Parse(%q) = %s, want %s", tt.in, n, tt.want)
		}
	}
}

func TestCompare(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1.2.3", "1.2.3.0", 0},
		{"1.2.3", "1.2.4", -1},
		{"1.10.0", "1.9.9", 1},
		{"v1.2.3-2-gabc", "1.2.3", 1},
		{"v1.2.3-2-gabc", "1.2.4", -1},
		{"2.0.0", "1.65535.65535.65535", 1},
	}
	for _, tt := range tests {
		if got := MustParse(tt.a).Compare(MustParse(tt.b)); got != tt.want {
			t.Errorf("Compare(%s, %s) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestGetString(t *testing.T) {
	info := Get()
	if info.GoVersion == "" || info.OS == "" {
		t.Fatalf("Get() = %+v: Go version and OS must be filled", info)
	}
	s := info.String()
	for _, want := range []string{"Tsunagu " + info.Version, "commit:", "go:"} {
		if !strings.Contains(s, want) {
			t.Errorf("String() = %q, missing %q", s, want)
		}
	}
}
