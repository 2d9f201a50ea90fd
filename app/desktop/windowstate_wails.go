package desktop

import (
	"context"
	"log/slog"

	"github.com/wailsapp/wails/v2/pkg/runtime"
)

// restoreWindow applies the saved size and position once the window exists,
// fitted to the screens attached now. Maximised is applied by
// options.App.WindowStartState.
func restoreWindow(ctx context.Context, s windowState) {
	area := screenArea{}
	if screens, err := runtime.ScreenGetAll(ctx); err == nil {
		for _, sc := range screens {
			area.Width += sc.Size.Width
			area.Height = max(area.Height, sc.Size.Height)
		}
	}
	s = s.fit(area)
	if s.Maximised {
		return
	}
	runtime.WindowSetSize(ctx, s.Width, s.Height)
	if s.HasPos {
		runtime.WindowSetPosition(ctx, s.X, s.Y)
	} else {
		runtime.WindowCenter(ctx)
	}
}

// rememberWindow saves the window's state as it closes. A maximised or
// minimised window keeps the last normal size and position, so that
// un-maximising after the next start restores a sensible window.
func rememberWindow(ctx context.Context, dir string, last windowState, logger *slog.Logger) {
	s := last
	s.Maximised = runtime.WindowIsMaximised(ctx)
	if !s.Maximised && !runtime.WindowIsMinimised(ctx) && !runtime.WindowIsFullscreen(ctx) {
		s.Width, s.Height = runtime.WindowGetSize(ctx)
		s.X, s.Y = runtime.WindowGetPosition(ctx)
		s.HasPos = true
	}
	if err := saveWindowState(dir, s.clampSize()); err != nil {
		logger.Warn("window state", "err", err)
	}
}
