package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"tsunagu/internal/dispatch"
	"tsunagu/internal/fielderr"
	"tsunagu/internal/msgcode"
)

// caller serves the bound services' methods over HTTP: POST
// /api/call/{method} with a JSON array of arguments.
type caller struct{ t *dispatch.Table }

func (c caller) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": msgcode.Internal})
		return
	}
	result, err := c.t.Call(r.PathValue("method"), body)
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
