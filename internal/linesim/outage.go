package linesim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// The outage drill: faults of the whole API host (and its content host,
// which the simulator serves on the same address), switchable while the
// simulator runs, as a branch PC sees a LINE outage or a strict proxy.
// Webhooks still flow (LINE, or the relay, still delivers them); only the
// app's calls to LINE fail.

// Outage modes (SetOutage).
const (
	OutageNone = ""
	// OutageRefuse: nothing listens; connections are refused at once.
	OutageRefuse = "refuse"
	// OutageReset: connections are accepted and reset straight away.
	OutageReset = "reset"
	// OutageBlackhole: connections are accepted and never answered; the
	// client waits until its own timeout.
	OutageBlackhole = "blackhole"
)

// ErrBadOutage is returned for an unknown outage mode.
var ErrBadOutage = errors.New("linesim: unknown outage mode")

// outageState is the simulator's connection-level faults.
type outageState struct {
	mu    sync.Mutex
	mode  string
	addr  string       // the API's address, to listen again after a refusal
	ln    net.Listener // the current listener (nil while refusing)
	conns map[net.Conn]bool
	held  []net.Conn // blackholed connections
}

// SetOutage switches the API host's outage mode (an Outage* constant);
// OutageNone ends it. Connections open when it starts are cut, so a client
// with idle keep-alive connections sees the outage at once.
func (s *Server) SetOutage(mode string) error {
	switch mode {
	case OutageNone, OutageRefuse, OutageReset, OutageBlackhole:
	default:
		return fmt.Errorf("%w: %q", ErrBadOutage, mode)
	}
	s.mu.Lock()
	srv := s.srv
	s.mu.Unlock()
	o := &s.outage
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.mode == mode {
		return nil
	}
	prev := o.mode
	o.mode = mode
	for c := range o.conns {
		resetConn(c)
	}
	clear(o.conns)
	if mode != OutageBlackhole {
		for _, c := range o.held {
			resetConn(c)
		}
		o.held = nil
	}
	switch {
	case mode == OutageRefuse && o.ln != nil:
		o.ln.Close() // Serve returns; connects are refused
		o.ln = nil
	case prev == OutageRefuse && srv != nil:
		var err error
		// The same address: the client's endpoint does not change. A
		// port taken meanwhile is retried briefly.
		for i := 0; i < 50; i++ {
			var ln net.Listener
			if ln, err = net.Listen("tcp", o.addr); err == nil {
				o.ln = &faultListener{Listener: ln, s: s}
				go func() { _ = srv.Serve(o.ln) }()
				return nil
			}
			time.Sleep(20 * time.Millisecond)
		}
		return fmt.Errorf("linesim: listen again on %s: %w", o.addr, err)
	}
	return nil
}

// Outage returns the current outage mode.
func (s *Server) Outage() string {
	s.outage.mu.Lock()
	defer s.outage.mu.Unlock()
	return s.outage.mode
}

// SetSlow makes the API answer every request after d (0: at once), as LINE
// does in a brownout. It is SetLatency under the drill's name.
func (s *Server) SetSlow(d time.Duration) { s.SetLatency(d) }

// ExpireContent makes the content of the given messages unavailable, as
// LINE does once it deletes what users sent: the content endpoint answers
// 404.
func (s *Server) ExpireContent(messageIDs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range messageIDs {
		s.expired[id] = true
	}
}

// SetContentExpired makes all content unavailable (true) or available
// again, except messages expired one by one (false).
func (s *Server) SetContentExpired(all bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.allExpired = all
}

// contentExpiredLocked reports whether LINE no longer has the content.
func (s *Server) contentExpiredLocked(id string) bool { return s.allExpired || s.expired[id] }

// faultListener applies the outage mode to new connections and tracks the
// served ones, so that an outage can cut them.
type faultListener struct {
	net.Listener
	s *Server
}

func (l *faultListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		o := &l.s.outage
		o.mu.Lock()
		switch o.mode {
		case OutageReset, OutageRefuse:
			o.mu.Unlock()
			resetConn(c)
			continue
		case OutageBlackhole:
			o.held = append(o.held, c)
			o.mu.Unlock()
			continue
		}
		if o.conns == nil {
			o.conns = map[net.Conn]bool{}
		}
		o.conns[c] = true
		o.mu.Unlock()
		return &trackedConn{Conn: c, o: o}, nil
	}
}

// trackedConn forgets itself when closed.
type trackedConn struct {
	net.Conn
	o    *outageState
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.o.mu.Lock()
		delete(c.o.conns, c.Conn)
		c.o.mu.Unlock()
	})
	return c.Conn.Close()
}

// resetConn closes c with a TCP reset rather than an orderly close.
func resetConn(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

// closeOutage releases blackholed connections at Close.
func (s *Server) closeOutage() {
	o := &s.outage
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, c := range o.held {
		c.Close()
	}
	o.held = nil
	if o.ln != nil && o.mode == OutageRefuse {
		o.ln.Close()
	}
}

// --- the drill's control API ---

// ControlHandler serves the outage drill over HTTP, for tools and the
// sandbox (it is not part of LINE's API and needs no token):
//
//	GET  /outage                 {"mode": "...", "slowMs": n}
//	POST /outage                 {"mode": "refuse"|"reset"|"blackhole"|"", "slowMs": n}
//	POST /content/expire         {"messageIds": ["..."]} or {"all": true|false}
//	POST /interact               {"userId": "U…", "ref": "<request or message ID>",
//	                              "kind": "open"|"click"|"play", "url": "...", "percent": n}
//	POST /insight/delay          {"ms": n}: LINE's aggregation delay (insight.go)
//	GET  /customers              [{"userId": "U…", "displayName": "...", "following": true}]
//	POST /liff/open              {"userId": "U…", "url": "..."} -> {"url": "...#linesim_id_token=…"}:
//	                             a LIFF page as LINE opens it for that customer (login.go)
func (s *Server) ControlHandler() http.Handler {
	mux := http.NewServeMux()
	type outageBody struct {
		Mode   string `json:"mode"`
		SlowMs int64  `json:"slowMs"`
	}
	mux.HandleFunc("GET /outage", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		slow := s.latency
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, outageBody{Mode: s.Outage(), SlowMs: slow.Milliseconds()})
	})
	mux.HandleFunc("POST /outage", func(w http.ResponseWriter, r *http.Request) {
		var b outageBody
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&b); err != nil || b.SlowMs < 0 {
			writeError(w, http.StatusBadRequest, errorBody{Message: "bad outage request"})
			return
		}
		if err := s.SetOutage(b.Mode); err != nil {
			writeError(w, http.StatusBadRequest, errorBody{Message: err.Error()})
			return
		}
		s.SetSlow(time.Duration(b.SlowMs) * time.Millisecond)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /content/expire", func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			MessageIDs []string `json:"messageIds"`
			All        *bool    `json:"all"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&b); err != nil {
			writeError(w, http.StatusBadRequest, errorBody{Message: "bad expire request"})
			return
		}
		s.ExpireContent(b.MessageIDs...)
		if b.All != nil {
			s.SetContentExpired(*b.All)
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /interact", func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			UserID  string `json:"userId"`
			Ref     string `json:"ref"`
			Kind    string `json:"kind"`
			URL     string `json:"url"`
			Percent int    `json:"percent"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&b); err != nil {
			writeError(w, http.StatusBadRequest, errorBody{Message: "bad interaction"})
			return
		}
		var err error
		switch b.Kind {
		case "open":
			err = s.OpenMessage(b.UserID, b.Ref)
		case "click":
			err = s.ClickURL(b.UserID, b.Ref, b.URL)
		case "play":
			err = s.PlayMedia(b.UserID, b.Ref, b.Percent)
		default:
			err = fmt.Errorf("linesim: unknown interaction %q", b.Kind)
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, errorBody{Message: err.Error()})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /insight/delay", func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			Ms *int64 `json:"ms"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&b); err != nil || b.Ms == nil || *b.Ms < 0 {
			writeError(w, http.StatusBadRequest, errorBody{Message: "bad delay"})
			return
		}
		s.SetInsightDelay(time.Duration(*b.Ms) * time.Millisecond)
		w.WriteHeader(http.StatusNoContent)
	})
	type customerBody struct {
		UserID      string `json:"userId"`
		DisplayName string `json:"displayName"`
		Following   bool   `json:"following"`
	}
	mux.HandleFunc("POST /liff/open", func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			UserID string `json:"userId"`
			URL    string `json:"url"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&b); err != nil || b.URL == "" {
			writeError(w, http.StatusBadRequest, errorBody{Message: "bad LIFF open request"})
			return
		}
		u, err := s.LIFFURL(b.UserID, b.URL)
		if err != nil {
			writeError(w, http.StatusBadRequest, errorBody{Message: err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"url": u})
	})
	mux.HandleFunc("GET /customers", func(w http.ResponseWriter, r *http.Request) {
		out := []customerBody{}
		for _, c := range s.Customers() {
			out = append(out, customerBody{UserID: c.UserID, DisplayName: c.DisplayName, Following: c.Following})
		}
		writeJSON(w, http.StatusOK, out)
	})
	return mux
}

// ServeControl serves ControlHandler on a free loopback port until ctx
// ends and returns its base URL. The API host's outages do not reach it.
func (s *Server) ServeControl(ctx context.Context) (string, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("linesim: control listener: %w", err)
	}
	srv := &http.Server{Handler: s.ControlHandler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	return "http://" + ln.Addr().String(), nil
}
