package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"

	"tsunagu/internal/datadir"
	"tsunagu/internal/msgcode"
	"tsunagu/internal/seat/client"
	"tsunagu/internal/seat/forward"
	"tsunagu/internal/secrets"
)

// startSeat plays a seat (子機, issue 18): the browser gets the same
// /api/call and /api/events as from a primary's bridge, but every call is
// forwarded over the seat's mutual TLS session to its primary and the
// primary's events come back the same way. No database is opened: a seat
// folder holds only its install ID and seat.json. It returns the function
// that stops the session. picker is the seat's own file dialogs (the
// preset paths, as the primary's bridge has): a seat's export is written
// into --save-dir by this process, an import read from --pick-file.
func startSeat(ctx context.Context, dataDir string, events *broker, mux *http.ServeMux, picker forward.Picker, logger *slog.Logger) (func(), error) {
	dir, err := datadir.Existing(dataDir)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(dir.DBPath()); err == nil {
		return nil, fmt.Errorf("%s holds a customer database, so it is a primary, not a seat", dir.Path)
	}
	id, err := dir.ReadInstallID()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", client.ErrNotPaired, err)
	}
	sess, err := client.OpenSession(ctx, dir, secrets.New(secrets.OSKeyring(), id))
	if err != nil {
		return nil, err
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		onState := forward.OnState(events)
		err := sess.Run(sctx, func(st client.State, why error) {
			logger.Info("seat connection", "state", st, "why", why)
			onState(st, why)
		})
		if err != nil {
			logger.Error("the primary refuses this seat", "err", err)
		}
	}()
	pumped := make(chan struct{})
	go func() {
		defer close(pumped)
		forward.Pump(sess.Events(), events)
	}()
	mux.Handle("POST /api/call/{method}", seatCaller{forward.New(sess).WithPicker(picker), logger})
	return func() {
		cancel()
		<-done
		<-pumped
	}, nil
}

// seatCaller answers /api/call/{method} by forwarding it.
type seatCaller struct {
	f   *forward.Forwarder
	log *slog.Logger
}

func (c seatCaller) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": msgcode.Internal})
		return
	}
	res, err := c.f.Call(r.Context(), r.PathValue("method"), body)
	if err != nil {
		var fe *forward.Error
		if !errors.As(err, &fe) {
			fe = &forward.Error{Code: msgcode.Internal}
		}
		if errors.Unwrap(fe) != nil {
			c.log.Warn("forwarded call failed", "method", r.PathValue("method"), "code", fe.Code, "err", errors.Unwrap(fe))
		}
		out := struct {
			Error  string          `json:"error"`
			Fields json.RawMessage `json:"fields,omitempty"`
		}{fe.Code, fe.Fields}
		writeJSON(w, http.StatusBadRequest, out)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	w.Write(res)
}
