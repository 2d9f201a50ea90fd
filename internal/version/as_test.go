package version

import "testing"

func TestInfoAs(t *testing.T) {
	base := Info{Version: "v1.0.0", Numeric: "1.0.0.0", GoVersion: "go1"}
	for _, tt := range []struct{ v, version, numeric string }{
		{"", "v1.0.0", "1.0.0.0"},
		{"v1.4.0-3-gabcdef0", "v1.4.0-3-gabcdef0", "1.4.0.3"},
		{"test", "test", ""},
	} {
		got := base.As(tt.v)
		if got.Version != tt.version || got.Numeric != tt.numeric || got.GoVersion != "go1" {
			t.Errorf("As(%q) = %+v", tt.v, got)
		}
	}
}
