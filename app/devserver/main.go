// Command tsunagu-devserver serves the frontend and the bound facade over
// HTTP on loopback, so the real UI can run in a browser against the real
// engine: the UI tests drive it with headless Chromium, and developers can
// use browser devtools. It is not shipped to branches.
//
// Calls: POST /api/call/<Method> with a JSON array of arguments; answers the
// JSON result, or {"error": "<message code>"} with status 400. Events:
// Server-Sent Events at GET /api/events. With --movable-clock (UI tests),
// POST /api/test/clock moves the app's clock forward.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"tsunagu/app/facade"
	"tsunagu/internal/auth"
	"tsunagu/internal/clock"
	"tsunagu/internal/datadir"
	"tsunagu/internal/relayclient"
	"tsunagu/internal/version"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "tsunagu-devserver:", err)
		os.Exit(1)
	}
}

// run is the program with its arguments (the process test of branch seats
// runs it in a child of the test binary).
func run(ctx context.Context, args []string) error {
	flag := flag.NewFlagSet("tsunagu-devserver", flag.ContinueOnError)
	def, _ := datadir.Default()
	dataDir := flag.String("data-dir", def, "data folder (default: $TSUNAGU_DATA_DIR or the per-user folder)")
	listen := flag.String("listen", "127.0.0.1:34115", "loopback address to serve on")
	static := flag.String("static", "frontend/dist", "built frontend to serve")
	picker := presetPicker{}
	flag.StringVar(&picker.open, "pick-file", "", "path the file-open dialog answers (none: cancelled; the import wizard also takes a typed path)")
	flag.StringVar(&picker.dir, "pick-dir", "", "folder the folder dialog answers (the backup folder; none: cancelled)")
	flag.StringVar(&picker.saveDir, "save-dir", os.TempDir(), "folder the file-save dialog answers with (export, import report)")
	appVersion := flag.String("app-version", version.Version, "the version the bridge reports (UI tests of the update check)")
	updatePolicy := flag.String("update-policy", "", "an update policy file for UI tests (update.ReadPolicyFile, unprotected); the installer is never run, its path is printed as UPDATE-LAUNCH")
	movable := flag.Bool("movable-clock", false, "UI tests: the app's clock can be moved forward with POST /api/test/clock {\"advanceSeconds\":N} (a reminder's send time, the idle lock) instead of waiting")
	ahead := flag.Duration("clock-ahead", 0, "with --movable-clock: start this far ahead (a restarted devserver keeps the time its test had moved to)")
	seatListen := flag.String("seat-listen", "", "on a primary: open the seat port on this LAN or loopback address (port 0: a free one); prints SEATS <address> <fingerprint>")
	cheapKDF := flag.Bool("cheap-kdf", false, "UI tests: staff passwords and recovery codes use argon2id at 1 MiB and 1 pass (the Go tests' cost) instead of the shipped 64 MiB and 3 passes; hashes carry their parameters")
	seatRole := flag.Bool("seat", false, "play a seat (子機): --data-dir is a paired seat folder (tsunagu-cli seat pair); calls and events are forwarded to its primary, no database is opened")
	if err := flag.Parse(args); err != nil {
		return err
	}

	host, _, err := net.SplitHostPort(*listen)
	if err != nil {
		return fmt.Errorf("--listen: %w", err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		// One session is shared by every browser that reaches it, and
		// there is no CSRF or TLS: never off this machine.
		return fmt.Errorf("--listen must be a loopback address, not %q", host)
	}

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	events := newBroker()
	var clk *clock.Movable
	var now func() time.Time // nil: time.Now
	if *movable {
		clk = clock.NewMovable(time.Now)
		clk.Advance(*ahead)
		now = clk.Now
	}
	mux := http.NewServeMux()
	mux.Handle("GET /api/events", events)
	mux.Handle("/", seatEntry(http.FileServer(http.Dir(*static))))
	if *seatRole {
		if *seatListen != "" {
			return fmt.Errorf("--seat and --seat-listen: a seat does not accept seats")
		}
		stopSeat, err := startSeat(ctx, *dataDir, events, mux, picker, logger)
		if err != nil {
			return err
		}
		defer stopSeat()
		return serve(ctx, *listen, mux, events)
	}
	var authParams auth.Params // zero: the shipped auth.DefaultParams
	if *cheapKDF {
		// Every UI test file signs in, creates staff and issues a recovery
		// code several times; at the shipped cost each costs ~0.5 CPU-s on
		// a loaded 2-core CI. Same code path, smaller memory and passes;
		// the shipped parameters are pinned by internal/auth's
		// TestProductionParams and exercised by the CLI and window tests.
		authParams = auth.Params{Time: 1, Memory: 1024, Threads: 1, KeyLen: 32, SaltLen: 16}
	}
	h := facade.New(facade.Options{DataDir: *dataDir, Version: *appVersion, Logger: logger, FilePicker: picker, Clock: now,
		Updates: devUpdates(*updatePolicy), AuthParams: authParams,
		// A development tool: the UI tests' relay runs on loopback
		// without TLS. The desktop app accepts https:// only.
		RelayTransport: relayclient.HTTPLoopback, SeatListen: *seatListen})
	// A start failure is reported through Status, as in the desktop app.
	_ = h.Start(ctx, events)
	defer h.Stop()
	if *seatListen != "" {
		sl := h.SeatListener()
		if sl.Addr == "" {
			return fmt.Errorf("--seat-listen %s: the seat port did not open (see the log above)", *seatListen)
		}
		fmt.Printf("SEATS %s %s\n", sl.Addr, sl.Fingerprint)
	}

	calls, err := newCaller(h)
	if err != nil {
		return err
	}
	mux.Handle("POST /api/call/{method}", calls)
	if clk != nil {
		mux.Handle("POST /api/test/clock", moveClock(clk, h))
	}
	return serve(ctx, *listen, mux, events)
}

// serve answers on listen (loopback) until ctx ends.
func serve(ctx context.Context, listen string, mux *http.ServeMux, events *broker) error {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		events.close()
		srv.Shutdown(sctx)
	}()
	fmt.Printf("LISTEN http://%s\n", ln.Addr())
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}
