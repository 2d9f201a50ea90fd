package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"tsunagu/app/facade"
	"tsunagu/internal/clock"
	"tsunagu/internal/dispatch"
	"tsunagu/internal/fielderr"
	"tsunagu/internal/msgcode"
)

// caller serves the bound services' methods over HTTP: POST
// /api/call/{method} with a JSON array of arguments. A browser that opened
// the app with ?seat=NAME (a cookie) plays a seat PC (issue 18): its own
// facade.Client, so its own sign-in, beside the window's and other seats'.
type caller struct {
	window    *dispatch.Table
	newClient func(seat string) *facade.Client

	mu    sync.Mutex
	seats map[string]*dispatch.Table
}

// seatCookie holds the seat name a browser plays (set by ?seat=NAME).
const seatCookie = "tsunagu_seat"

func newCaller(h *facade.Host) (*caller, error) {
	t, err := dispatch.New(h.Services()...)
	if err != nil {
		return nil, err
	}
	return &caller{window: t, newClient: h.NewClient, seats: map[string]*dispatch.Table{}}, nil
}

// table is the methods of the client the request comes from.
func (c *caller) table(r *http.Request) (*dispatch.Table, error) {
	ck, err := r.Cookie(seatCookie)
	if err != nil || ck.Value == "" {
		return c.window, nil
	}
	seat, err := url.QueryUnescape(ck.Value)
	if err != nil || seat == "" {
		return c.window, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.seats[seat]; ok {
		return t, nil
	}
	t, err := dispatch.New(c.newClient(seat).Services()...)
	if err != nil {
		return nil, err
	}
	c.seats[seat] = t
	return t, nil
}

// seatEntry sets or clears the seat cookie on a page load with ?seat=.
func seatEntry(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" && r.URL.Query().Has("seat") {
			http.SetCookie(w, &http.Cookie{Name: seatCookie, Value: url.QueryEscape(r.URL.Query().Get("seat")), Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
		}
		next.ServeHTTP(w, r)
	})
}

func (c *caller) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": msgcode.Internal})
		return
	}
	t, err := c.table(r)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": msgcode.Internal})
		return
	}
	result, err := t.Call(r.PathValue("method"), body)
	switch {
	case errors.Is(err, dispatch.ErrNoMethod):
		writeJSON(w, http.StatusNotFound, map[string]string{"error": msgcode.NotFound})
	case errors.Is(err, dispatch.ErrBadArgs):
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": msgcode.Internal, "detail": err.Error()})
	case err != nil:
		// The bound methods reject with a msgcode.Error; its fields travel
		// as JSON beside the code, as the UI's HTTP transport reads them.
		body := struct {
			Error  string                `json:"error"`
			Fields []fielderr.FieldError `json:"fields,omitempty"`
		}{Error: err.Error()}
		var ue *msgcode.Error
		if errors.As(err, &ue) {
			body.Error, body.Fields = ue.Code, ue.Fields
		}
		writeJSON(w, http.StatusBadRequest, body)
	default:
		writeJSON(w, http.StatusOK, result)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// broker fans events out to Server-Sent Event clients; it is the bridge's
// counterpart of Wails' EventsEmit.
type broker struct {
	mu      sync.Mutex
	clients map[chan []byte]struct{}
	closed  bool
}

func newBroker() *broker { return &broker{clients: map[chan []byte]struct{}{}} }

// Emit implements inbox.Emitter.
func (b *broker) Emit(name string, data any) {
	payload, err := json.Marshal(data)
	if err != nil {
		return
	}
	msg := fmt.Appendf(nil, "event: %s\ndata: %s\n\n", name, payload)
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.clients {
		select {
		case ch <- msg:
		default: // a stalled client misses events rather than blocking the engine
		}
	}
}

func (b *broker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	ch := make(chan []byte, 64)
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.clients[ch] = struct{}{}
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		delete(b.clients, ch)
		b.mu.Unlock()
	}()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ": connected\n\n")
	fl.Flush()
	for {
		select {
		case <-r.Context().Done():
			return
		case msg, ok := <-ch:
			if !ok {
				return
			}
			w.Write(msg)
			fl.Flush()
		}
	}
}

func (b *broker) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for ch := range b.clients {
		close(ch)
		delete(b.clients, ch)
	}
}

// moveClock moves the app's clock forward by {"advanceSeconds":N} and runs
// what waits for a time (the automation scheduler) at once; it answers the
// app's time now.
func moveClock(clk *clock.Movable, h *facade.Host) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			AdvanceSeconds int64 `json:"advanceSeconds"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<10)).Decode(&body); err != nil || body.AdvanceSeconds <= 0 {
			http.Error(w, `want {"advanceSeconds": N} with N > 0`, http.StatusBadRequest)
			return
		}
		clk.Advance(time.Duration(body.AdvanceSeconds) * time.Second)
		h.ClockMoved()
		writeJSON(w, http.StatusOK, map[string]int64{"now": clk.Now().UnixMilli()})
	})
}
