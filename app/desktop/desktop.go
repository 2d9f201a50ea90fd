// Package desktop runs Tsunagu's Wails window. It is the only package that
// calls the Wails runtime: the engine reaches the UI through the small
// Emitter it is given here.
package desktop

import (
	"context"
	"io/fs"
	"log/slog"
	"os"
	"os/user"
	"sync"
	"sync/atomic"

	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/runtime"

	"tsunagu/app/facade"
	"tsunagu/internal/audit"
	"tsunagu/internal/awake"
	"tsunagu/internal/datadir"
)

// Config is what main passes in.
type Config struct {
	Assets  fs.FS // the built frontend (frontend/dist)
	Version string
}

// Run opens the window and blocks until it closes.
func Run(cfg Config) error {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	dataDir, err := datadir.Default()
	if err != nil {
		return err
	}
	// A paired seat (子機) has no database: its window forwards to the primary.
	if dir, err := datadir.Existing(dataDir); err == nil && isSeatFolder(dir) {
		return runSeat(cfg, dir, logger)
	}
	var window atomic.Pointer[context.Context] // the Wails context, once the window exists
	// An update's installer is running: make way for it (facade/update.go).
	quit := func() {
		if ctx := window.Load(); ctx != nil {
			runtime.Quit(*ctx)
		}
	}
	host := facade.New(facade.Options{DataDir: dataDir, Version: cfg.Version, Logger: logger, FilePicker: dialogs{&window},
		Updates: facade.UpdateOptions{Quit: quit}, SandboxControlBy: sandboxControlBy(),
		// Branch seats: the seat port on the LAN, mDNS, the PC kept awake while seats are online.
		SeatOnLAN: true, SeatDiscovery: true, KeepAwake: awake.System()})
	ws := loadWindowState(dataDir) // windowstate.go
	var restored sync.Once         // OnDomReady runs again if the page reloads
	startState := options.Normal
	if ws.Maximised {
		startState = options.Maximised
	}

	return wails.Run(&options.App{
		Title:     "つなぐ Tsunagu",
		Width:     ws.Width, // the size of the last run (windowstate.go)
		Height:    ws.Height,
		MinWidth:  minWidth,
		MinHeight: minHeight,

		WindowStartState: startState,
		AssetServer: &assetserver.Options{
			Assets: cfg.Assets,
		},
		BackgroundColour: &options.RGBA{R: 246, G: 247, B: 249, A: 255},
		OnStartup: func(ctx context.Context) {
			window.Store(&ctx)
			// A start failure is shown by the UI through Status.
			_ = host.Start(ctx, emitter{ctx})
		},
		OnDomReady: func(ctx context.Context) { restored.Do(func() { restoreWindow(ctx, ws) }) },
		OnBeforeClose: func(ctx context.Context) bool {
			if n := host.SeatsOnline(); n > 0 && !confirmCloseWithSeats(ctx, n) {
				return true // stay open: seats are working on this PC's data
			}
			rememberWindow(ctx, dataDir, ws, logger)
			return false
		},
		OnShutdown: func(context.Context) {
			if err := host.Stop(); err != nil {
				logger.Warn("shutdown", "err", err)
			}
		},
		SingleInstanceLock: &options.SingleInstanceLock{
			UniqueId: "jp.tsunagu.desktop",
			OnSecondInstanceLaunch: func(options.SecondInstanceData) {
				// A second launch brings the running window forward instead.
				if ctx := window.Load(); ctx != nil {
					runtime.WindowUnminimise(*ctx)
					runtime.WindowShow(*ctx)
				}
			},
		},
		Bind: host.Services(),
	})
}

// SandboxControlEnv set to 1 opens the sandbox's control API (a trainer's
// scripted customers, the window test): engine/sandboxcontrol.go.
const SandboxControlEnv = "TSUNAGU_SANDBOX_CONTROL"

// sandboxControlBy is who asked for the control API, for its audit entry;
// "" when nobody did.
func sandboxControlBy() string {
	if os.Getenv(SandboxControlEnv) != "1" {
		return ""
	}
	name := "unknown"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	return audit.OSActor(name)
}

// emitter sends engine events to the frontend as Wails events.
type emitter struct{ ctx context.Context }

func (e emitter) Emit(name string, data any) { runtime.EventsEmit(e.ctx, name, data) }
