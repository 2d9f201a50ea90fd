package desktop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	goruntime "runtime"
	"sync/atomic"

	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/options/windows"
	"github.com/wailsapp/wails/v2/pkg/runtime"

	"tsunagu/internal/datadir"
	"tsunagu/internal/seat/client"
	"tsunagu/internal/seat/forward"
	"tsunagu/internal/secrets"
)

// isSeatFolder: the data folder is a paired seat's (seat.json, and no
// customer database: a folder with one is a primary).
func isSeatFolder(dir datadir.Dir) bool {
	if _, err := os.Stat(dir.DBPath()); err == nil {
		return false
	}
	_, err := client.LoadPairing(dir)
	return err == nil
}

// SeatLink is bound instead of the facade's services on a seat (子機): the
// frontend's Wails transport calls Forward(method, args) for every bound
// method it does not find, so the UI is the same in both roles
// (docs/architecture.md, "The call path in the seat role").
type SeatLink struct {
	f *forward.Forwarder
}

// Forward runs the bound method on the primary, on this seat's own
// session there. Its error's text is a message code (or msgcode's JSON
// with fields), as a bound method's is.
func (s *SeatLink) Forward(method string, args []json.RawMessage) (json.RawMessage, error) {
	return s.f.Forward(context.Background(), method, args)
}

// runSeat opens the window of a seat: no engine, no database; calls and
// events go to and come from the primary over the seat's mutual TLS
// session, which reconnects by itself while the primary is away.
func runSeat(cfg Config, dir datadir.Dir, logger *slog.Logger) error {
	id, err := dir.ReadInstallID()
	if err != nil {
		return fmt.Errorf("%w: %w", client.ErrNotPaired, err)
	}
	sess, err := client.OpenSession(context.Background(), dir, secrets.New(secrets.OSKeyring(), id))
	if err != nil {
		return err
	}
	// The WebView keeps no customer data of a session: its profile (cache,
	// storage) lives in a folder of this run, removed at the end: on
	// Windows through WebView2's user data path, on Linux through
	// WebKitGTK's XDG folders (webviewEnv). WKWebView (macOS) has no such
	// option in Wails v2 (docs/security.md says what that means).
	webview, err := os.MkdirTemp("", "tsunagu-seat-webview-")
	if err != nil {
		return fmt.Errorf("the WebView's folder: %w", err)
	}
	defer removeWebview(webview, logger)
	removeStaleWebviews(webview, logger)
	for k, v := range webviewEnv(goruntime.GOOS, webview) {
		if err := os.MkdirAll(v, 0o700); err != nil {
			return fmt.Errorf("the WebView's folder: %w", err)
		}
		// Before wails.Run: GLib reads these once, at GTK's start.
		os.Setenv(k, v)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	var window atomic.Pointer[context.Context]
	// The seat's own native dialogs: an export is saved, an import read, on
	// this PC (internal/seat/forward files.go).
	link := &SeatLink{f: forward.New(sess).WithPicker(dialogs{window: &window})}
	ws := loadWindowState(dir.Path)
	return wails.Run(&options.App{
		Title:     "つなぐ Tsunagu（子機）",
		Width:     ws.Width,
		Height:    ws.Height,
		MinWidth:  minWidth,
		MinHeight: minHeight,
		AssetServer: &assetserver.Options{
			Assets: cfg.Assets,
		},
		BackgroundColour: &options.RGBA{R: 246, G: 247, B: 249, A: 255},
		OnStartup: func(wctx context.Context) {
			window.Store(&wctx)
			em := emitter{wctx}
			go func() {
				defer close(done)
				if err := sess.Run(ctx, forward.OnState(em)); err != nil {
					logger.Error("the primary refuses this seat", "err", err)
				}
			}()
			go forward.Pump(sess.Events(), em)
			go quitOnSignal(ctx, wctx)
		},
		OnShutdown: func(context.Context) {
			cancel()
			<-done
		},
		SingleInstanceLock: &options.SingleInstanceLock{
			UniqueId: "jp.tsunagu.desktop",
			OnSecondInstanceLaunch: func(options.SecondInstanceData) {
				if w := window.Load(); w != nil {
					runtime.WindowUnminimise(*w)
					runtime.WindowShow(*w)
				}
			},
		},
		Windows: &windows.Options{WebviewUserDataPath: webview},
		Bind:    []any{link},
	})
}

// webviewEnv is the environment that puts a seat window's WebView profile
// into dir on goos. Wails v2 gives WebKitGTK the default web context, whose
// storage (local storage, IndexedDB, service workers, cookies) is kept under
// $XDG_DATA_HOME/<program> and its HTTP cache under $XDG_CACHE_HOME/<program>,
// with no ephemeral option: both are pointed into this run's folder. The
// process keeps nothing else there (its data folder is resolved before; the
// keychain is reached over D-Bus). Windows uses WebviewUserDataPath instead.
func webviewEnv(goos, dir string) map[string]string {
	if goos != "linux" {
		return nil
	}
	return map[string]string{
		"XDG_DATA_HOME":  filepath.Join(dir, "data"),
		"XDG_CACHE_HOME": filepath.Join(dir, "cache"),
	}
}

// removeStaleWebviews removes WebView folders a crashed run left behind
// (siblings of this run's), so none outlives a session for long.
func removeStaleWebviews(current string, logger *slog.Logger) {
	old, err := filepath.Glob(filepath.Join(filepath.Dir(current), "tsunagu-seat-webview-*"))
	if err != nil {
		return
	}
	for _, d := range old {
		if d == current {
			continue
		}
		if err := os.RemoveAll(d); err != nil && !errors.Is(err, os.ErrNotExist) {
			logger.Warn("removing an old WebView folder", "err", err)
		}
	}
}
