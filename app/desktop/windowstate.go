package desktop

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// windowStateFile keeps the window's size, position and maximised state
// between runs, in the user's data folder. It holds nothing secret.
const windowStateFile = "window-state.json"

// Window limits: the defaults of a first run, the smallest usable window
// (also options.App's MinWidth/MinHeight) and a sanity cap against a
// corrupted file.
const (
	defaultWidth  = 1360
	defaultHeight = 860
	minWidth      = 1024
	minHeight     = 640
	maxSide       = 16384
	// onScreen is how much of the window must stay on a screen for a saved
	// position to be used: enough to grab the title bar.
	onScreen = 120
)

// windowState is the saved state. X and Y are only meaningful with HasPos.
type windowState struct {
	Width     int  `json:"width"`
	Height    int  `json:"height"`
	X         int  `json:"x"`
	Y         int  `json:"y"`
	HasPos    bool `json:"hasPos"`
	Maximised bool `json:"maximised"`
}

// screenArea is the logical size of the screens side by side (Wails v2
// reports sizes, not positions, so a saved position is trusted only inside
// this box from the primary screen's top-left corner).
type screenArea struct{ Width, Height int }

func defaultWindowState() windowState {
	return windowState{Width: defaultWidth, Height: defaultHeight}
}

// loadWindowState reads the saved state, or the defaults if there is none
// or it is unreadable (a broken file must never keep the app from opening).
func loadWindowState(dir string) windowState {
	b, err := os.ReadFile(filepath.Join(dir, windowStateFile))
	if err != nil {
		return defaultWindowState()
	}
	var s windowState
	if err := json.Unmarshal(b, &s); err != nil {
		return defaultWindowState()
	}
	return s.clampSize()
}

// clampSize keeps the size between the minimum and a sane maximum.
func (s windowState) clampSize() windowState {
	if s.Width == 0 && s.Height == 0 {
		s.Width, s.Height = defaultWidth, defaultHeight
	}
	s.Width = min(max(s.Width, minWidth), maxSide)
	s.Height = min(max(s.Height, minHeight), maxSide)
	return s
}

// fit adapts the state to the screens now attached: the size shrinks to
// the screen area, and a position that would leave the window (mostly)
// off-screen — a monitor was unplugged — is dropped, so it opens centred.
func (s windowState) fit(area screenArea) windowState {
	s = s.clampSize()
	if area.Width <= 0 || area.Height <= 0 {
		return s
	}
	s.Width = max(min(s.Width, area.Width), min(minWidth, area.Width))
	s.Height = max(min(s.Height, area.Height), min(minHeight, area.Height))
	if s.HasPos {
		if s.X+s.Width < onScreen || s.X > area.Width-onScreen || s.Y < 0 || s.Y > area.Height-onScreen {
			s.HasPos, s.X, s.Y = false, 0, 0
		}
	}
	return s
}

// saveWindowState writes the state atomically (owner-only).
func saveWindowState(dir string, s windowState) error {
	if dir == "" {
		return errors.New("no data folder")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("save window state: %w", err)
	}
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".window-state-*")
	if err != nil {
		return fmt.Errorf("save window state: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("save window state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save window state: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, windowStateFile)); err != nil {
		return fmt.Errorf("save window state: %w", err)
	}
	return nil
}
