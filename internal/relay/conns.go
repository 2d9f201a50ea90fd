package relay

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// ConnLimits bound the TCP connections of the public listener, so that slow
// or idle clients (slowloris, slow chunked bodies) cannot use up the file
// descriptors: beyond a bound a connection is answered 503 at once and
// closed.
type ConnLimits struct {
	// MaxConns bounds the connections open at once [8192]. Keep it below
	// the process's file limit, with room for NATS's own files.
	MaxConns int
	// MaxPerClient bounds one client address's connections (IPv6: its
	// /64); 0: no bound (behind a proxy every connection comes from the
	// proxy, which must bound clients itself). LINE delivers from a few
	// addresses for every tenant at once, so keep it well above LINE's
	// concurrency.
	MaxPerClient int
	// TLS, if the listener is served with TLS above it, is used to answer
	// shed connections.
	TLS *tls.Config
}

const (
	// shedSlots bounds the shed connections being answered at once, and
	// shedPerClient one address's share of them, so a slow client cannot
	// hold the slots a load balancer's health probe needs.
	shedSlots     = 64
	shedPerClient = 2
	// shedTimeout bounds the reading of a shed connection's request.
	shedTimeout = 2 * time.Second
)

// LimitListener wraps the public listener with lim. A connection over a
// bound is answered outside the HTTP server by a small separate admission
// (shedSlots): GET /healthz gets the real health answer, anything else 503
// with Retry-After, and the connection closes; if even that is full, it is
// closed at once.
func (s *Server) LimitListener(ln net.Listener, lim ConnLimits) net.Listener {
	if lim.MaxConns <= 0 {
		lim.MaxConns = 8192
	}
	return &limitListener{Listener: ln, s: s, lim: lim, perClient: map[netip.Prefix]int{},
		shedding: map[netip.Prefix]int{}, shed: make(chan struct{}, shedSlots)}
}

type limitListener struct {
	net.Listener
	s   *Server
	lim ConnLimits

	mu        sync.Mutex
	total     int
	perClient map[netip.Prefix]int
	shedding  map[netip.Prefix]int
	shed      chan struct{}
}

// clientKey is what the per-client bound counts: the IPv4 address, or the
// IPv6 /64 (one subscriber's usual allocation).
func clientKey(addr net.Addr) netip.Prefix {
	ap, err := netip.ParseAddrPort(addr.String())
	if err != nil {
		return netip.Prefix{}
	}
	ip := ap.Addr().Unmap()
	bits := 32
	if ip.Is6() {
		bits = 64
	}
	p, _ := ip.Prefix(bits)
	return p
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		key := clientKey(c.RemoteAddr())
		reason := ""
		l.mu.Lock()
		switch {
		case l.total >= l.lim.MaxConns:
			reason = "total"
		case l.lim.MaxPerClient > 0 && l.perClient[key] >= l.lim.MaxPerClient:
			reason = "per_client"
		default:
			l.total++
			l.perClient[key]++
		}
		l.mu.Unlock()
		if reason == "" {
			l.s.metrics.openConns.Inc()
			return &limitedConn{Conn: c, release: func() { l.release(key) }}, nil
		}
		l.s.metrics.shed.WithLabelValues(reason).Inc()
		l.answerShed(c, key)
	}
}

func (l *limitListener) release(key netip.Prefix) {
	l.mu.Lock()
	l.total--
	if l.perClient[key]--; l.perClient[key] <= 0 {
		delete(l.perClient, key)
	}
	l.mu.Unlock()
	l.s.metrics.openConns.Dec()
}

// answerShed answers a connection over the bounds, in the background, if a
// shed slot (and this client's share of them) is free; else it closes it.
func (l *limitListener) answerShed(c net.Conn, key netip.Prefix) {
	l.mu.Lock()
	ok := l.shedding[key] < shedPerClient
	if ok {
		select {
		case l.shed <- struct{}{}:
			l.shedding[key]++
		default:
			ok = false
		}
	}
	l.mu.Unlock()
	if !ok {
		c.Close()
		return
	}
	go func() {
		defer func() {
			l.mu.Lock()
			if l.shedding[key]--; l.shedding[key] <= 0 {
				delete(l.shedding, key)
			}
			<-l.shed
			l.mu.Unlock()
		}()
		defer c.Close()
		c.SetDeadline(time.Now().Add(shedTimeout))
		if l.lim.TLS != nil {
			tc := tls.Server(c, l.lim.TLS)
			if tc.Handshake() != nil {
				return
			}
			c = tc
		}
		req, err := http.ReadRequest(bufio.NewReaderSize(c, 4096))
		if err != nil {
			return
		}
		code, text := http.StatusServiceUnavailable, "busy, retry\n"
		if req.Method == http.MethodGet && req.URL.Path == "/healthz" {
			ctx, cancel := context.WithTimeout(context.Background(), shedTimeout)
			if err := l.s.healthy(ctx); err != nil {
				text = err.Error() + "\n"
			} else {
				code, text = http.StatusOK, "ok\n"
			}
			cancel()
		}
		fmt.Fprintf(c, "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nRetry-After: 1\r\nConnection: close\r\n\r\n%s",
			code, http.StatusText(code), len(text), text)
	}()
}

// limitedConn gives its slot back when closed (also after a WebSocket
// hijack, which keeps this conn).
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
