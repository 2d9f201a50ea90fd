package desktop

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWindowStateRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if got := loadWindowState(dir); got != defaultWindowState() {
		t.Fatalf("first run: %+v", got)
	}
	want := windowState{Width: 1500, Height: 900, X: 40, Y: 30, HasPos: true, Maximised: true}
	if err := saveWindowState(dir, want); err != nil {
		t.Fatal(err)
	}
	if got := loadWindowState(dir); got != want {
		t.Fatalf("loaded %+v, want %+v", got, want)
	}
	st, err := os.Stat(filepath.Join(dir, windowStateFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("file mode: %v %v", st, err)
	}
	if err := os.WriteFile(filepath.Join(dir, windowStateFile), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := loadWindowState(dir); got != defaultWindowState() {
		t.Fatalf("a broken file must give the defaults: %+v", got)
	}
}

func TestWindowStateFit(t *testing.T) {
	fullHD := screenArea{1920, 1080}
	tests := []struct {
		name string
		in   windowState
		area screenArea
		want windowState
	}{
		{"kept", windowState{Width: 1400, Height: 900, X: 100, Y: 50, HasPos: true}, fullHD,
			windowState{Width: 1400, Height: 900, X: 100, Y: 50, HasPos: true}},
		{"too small grows to the minimum", windowState{Width: 200, Height: 100}, fullHD,
			windowState{Width: minWidth, Height: minHeight}},
		{"zero size is the default", windowState{}, fullHD,
			windowState{Width: defaultWidth, Height: defaultHeight}},
		{"bigger than the screens shrinks", windowState{Width: 5000, Height: 3000, X: 0, Y: 0, HasPos: true}, fullHD,
			windowState{Width: 1920, Height: 1080, X: 0, Y: 0, HasPos: true}},
		{"off to the right (monitor unplugged) is centred", windowState{Width: 1400, Height: 900, X: 2500, Y: 100, HasPos: true}, fullHD,
			windowState{Width: 1400, Height: 900}},
		{"above the screen is centred", windowState{Width: 1400, Height: 900, X: 10, Y: -50, HasPos: true}, fullHD,
			windowState{Width: 1400, Height: 900}},
		{"far left is centred", windowState{Width: 1400, Height: 900, X: -1350, Y: 10, HasPos: true}, fullHD,
			windowState{Width: 1400, Height: 900}},
		{"partly left but grabbable is kept", windowState{Width: 1400, Height: 900, X: -1200, Y: 10, HasPos: true}, fullHD,
			windowState{Width: 1400, Height: 900, X: -1200, Y: 10, HasPos: true}},
		{"second monitor to the right is kept", windowState{Width: 1400, Height: 900, X: 2100, Y: 60, HasPos: true}, screenArea{3840, 1080},
			windowState{Width: 1400, Height: 900, X: 2100, Y: 60, HasPos: true}},
		{"small laptop screen", windowState{Width: 1360, Height: 860, Maximised: true}, screenArea{1280, 720},
			windowState{Width: 1280, Height: 720, Maximised: true}},
		{"absurd values are capped", windowState{Width: 1 << 30, Height: 1 << 30}, screenArea{},
			windowState{Width: maxSide, Height: maxSide}},
	}
	for _, tt := range tests {
		if got := tt.in.fit(tt.area); got != tt.want {
			t.Errorf("%s: fit(%+v, %+v) = %+v, want %+v", tt.name, tt.in, tt.area, got, tt.want)
		}
	}
}
