package engine

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"tsunagu/internal/audit"
)

// SandboxControlFile is the file in the data folder that says where the
// sandbox's control API listens and with which token (SandboxControlInfo),
// while a window opened it (Options.SandboxControlBy).
const SandboxControlFile = "sandbox-control.json"

// SandboxControlInfo is the content of SandboxControlFile.
type SandboxControlInfo struct {
	URL   string `json:"url"`   // http://127.0.0.1:PORT
	Token string `json:"token"` // sent as "Authorization: Bearer TOKEN"
}

// startSandboxControl serves the simulator's control API (the outage drill,
// linesim.Server.ControlHandler) and POST /send (a simulated customer sends
// text, as from the phone panel) on a free loopback port, so a trainer can
// script customers from a terminal, and the window test can make a customer
// write while the window is in the background. Sandbox mode only: no real
// customer is reachable through it. Each request needs the token, which is
// only in a file of the data folder readable by its owner (the same OS user
// that holds the DB key), and opening it is audited (sandbox.control).
func (e *Engine) startSandboxControl(ctx context.Context, actor string, opts Options) error {
	token := randomHex(32)
	mux := http.NewServeMux()
	mux.Handle("/", e.sim.ControlHandler())
	mux.HandleFunc("POST /send", func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			UserID string `json:"userId"`
			Text   string `json:"text"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&b); err != nil {
			http.Error(w, `{"message":"bad send request"}`, http.StatusBadRequest)
			return
		}
		// The signed webhook is delivered and stored before the answer.
		id, err := e.sim.SendText(r.Context(), b.UserID, b.Text)
		if err != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]string{"message": err.Error()})
			return
		}
		if opts.Emitter != nil {
			opts.Emitter.Emit(EventSandboxPhone, SandboxPhoneEvent{UserID: b.UserID})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"eventId": id})
	})
	want := []byte("Bearer " + token)
	guarded := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			http.Error(w, `{"message":"missing or wrong token"}`, http.StatusUnauthorized)
			return
		}
		mux.ServeHTTP(w, r)
	})
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("sandbox control listener: %w", err)
	}
	info := SandboxControlInfo{URL: "http://" + ln.Addr().String(), Token: token}
	if err := e.recordChange(ctx, actor, audit.ActionSandboxControl, "", nil); err != nil {
		ln.Close()
		return err
	}
	data, err := json.Marshal(info)
	if err != nil {
		ln.Close()
		return fmt.Errorf("sandbox control file: %w", err)
	}
	path := e.dir.File(SandboxControlFile)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		ln.Close()
		return fmt.Errorf("sandbox control file: %w", err)
	}
	// WriteFile keeps the mode of a file left by a crashed run.
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return fmt.Errorf("sandbox control file: %w", err)
	}
	e.ctlSrv = &http.Server{Handler: guarded, ReadHeaderTimeout: 5 * time.Second}
	go e.ctlSrv.Serve(ln)
	return nil
}

// closeSandboxControl stops the control API and removes its file.
func (e *Engine) closeSandboxControl() error {
	if e.ctlSrv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	err := e.ctlSrv.Shutdown(ctx)
	if rm := os.Remove(e.dir.File(SandboxControlFile)); rm != nil && !errors.Is(rm, os.ErrNotExist) {
		err = errors.Join(err, fmt.Errorf("sandbox control file: %w", rm))
	}
	e.ctlSrv = nil
	return err
}
