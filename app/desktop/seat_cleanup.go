package desktop

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/wailsapp/wails/v2/pkg/runtime"
)

// quitOnSignal closes the seat window when the OS ends the session (SIGTERM
// at logout or shutdown, SIGHUP, Ctrl-C), as closing it does: without this
// the process would die without runSeat's deferred clean-up, and this run's
// WebView folder (its cache and storage) would stay until the next start.
// It returns when ctx ends (the window closed otherwise).
func quitOnSignal(ctx, window context.Context) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGHUP, os.Interrupt)
	defer signal.Stop(sig)
	select {
	case <-sig:
		runtime.Quit(window)
	case <-ctx.Done():
	}
}

// removeWebview removes the run's WebView folder once the WebView's own
// processes have let go of it. WebKitGTK's network and web processes
// (children of this one) outlive the closed window for a moment and may
// still write their storage into the folder, recreating what was removed;
// WebView2's processes keep its files open for a moment. So the children
// are ended first (endWebviewProcesses) and the removal is tried until it
// holds, for up to 10 s; a folder left after that is removed at the next
// start (removeStaleWebviews).
func removeWebview(dir string, logger *slog.Logger) {
	endWebviewProcesses(5 * time.Second)
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := os.RemoveAll(dir)
		if err == nil {
			if _, err = os.Stat(dir); errors.Is(err, os.ErrNotExist) {
				return
			}
		}
		if time.Now().After(deadline) {
			logger.Warn("the WebView's folder could not be removed; the next start removes it", "err", err)
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}
