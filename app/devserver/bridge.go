package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"sync"
)

// caller dispatches HTTP calls to the exported methods of one bound object,
// with the same rules as Wails bindings: JSON arguments in order, and a
// result, an error, or both.
type caller struct {
	target  reflect.Value
	methods map[string]reflect.Method
}

var errorType = reflect.TypeFor[error]()

func newCaller(obj any) *caller {
	v := reflect.ValueOf(obj)
	c := &caller{target: v, methods: map[string]reflect.Method{}}
	for i := 0; i < v.Type().NumMethod(); i++ {
		m := v.Type().Method(i)
		c.methods[m.Name] = m
	}
	return c
}

func (c *caller) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m, ok := c.methods[r.PathValue("method")]
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "errors.notFound"})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "errors.internal"})
		return
	}
	args, err := decodeArgs(m.Type, body)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "errors.internal", "detail": err.Error()})
		return
	}
	out := m.Func.Call(append([]reflect.Value{c.target}, args...))
	var result any
	for _, v := range out {
		if v.Type().Implements(errorType) {
			if !v.IsNil() {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": v.Interface().(error).Error()})
				return
			}
			continue
		}
		result = v.Interface()
	}
	writeJSON(w, http.StatusOK, result)
}

// decodeArgs reads a JSON array into the method's parameter types (after the
// receiver).
func decodeArgs(mt reflect.Type, body []byte) ([]reflect.Value, error) {
	var raw []json.RawMessage
	if len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, &raw); err != nil {
			return nil, fmt.Errorf("arguments must be a JSON array: %w", err)
		}
	}
	want := mt.NumIn() - 1
	if len(raw) != want {
		return nil, fmt.Errorf("want %d arguments, got %d", want, len(raw))
	}
	args := make([]reflect.Value, want)
	for i := range want {
		p := reflect.New(mt.In(i + 1))
		if err := json.Unmarshal(raw[i], p.Interface()); err != nil {
			return nil, fmt.Errorf("argument %d: %w", i+1, err)
		}
		args[i] = p.Elem()
	}
	return args, nil
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
