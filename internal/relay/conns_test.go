package relay_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"tsunagu/internal/relay"
)

// from dials the address from a given loopback source address (all of
// 127/8 is the loopback on Linux), as a distinct client.
func from(src, addr string) (net.Conn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 2 * time.Second}
	return d.Dial("tcp", addr)
}

// request sends one HTTP/1.1 request on a new connection from src and
// returns the status and how long the answer took.
func request(t *testing.T, src, addr, method, path, body string) (int, time.Duration) {
	t.Helper()
	c, err := from(src, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	fmt.Fprintf(c, "%s %s HTTP/1.1\r\nHost: relay\r\nX-Line-Signature: s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", method, path, len(body), body)
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0, time.Since(start)
	}
	io.Copy(io.Discard, res.Body)
	return res.StatusCode, time.Since(start)
}

// TestConnectionLimits: one address over its share is answered 503 at
// once while other addresses are served; with every slot taken, webhooks
// get a quick 503 and /healthz still answers 200 from the shed path; a
// client cannot hold more than its share of the shed path either.
func TestConnectionLimits(t *testing.T) {
	tr := newRelay(t, relay.Config{})
	tn := tr.addTenant(t, "branch")
	path := strings.TrimPrefix(tn.hook, tr.http.URL)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: tr.srv.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go hs.Serve(tr.srv.LimitListener(ln, relay.ConnLimits{MaxConns: 20, MaxPerClient: 5}))
	t.Cleanup(func() { hs.Close() })
	addr := ln.Addr().String()
	body := string(hookBody(1, "x"))

	var idle []net.Conn
	t.Cleanup(func() {
		for _, c := range idle {
			c.Close()
		}
	})
	hold := func(src string, n int) {
		for range n {
			c, err := from(src, addr)
			if err != nil {
				t.Fatal(err)
			}
			idle = append(idle, c)
		}
	}
	// openConns waits until the listener holds n connections (accepted
	// ones, and closed ones given back).
	openConns := func(n int) {
		t.Helper()
		eventually(t, 5*time.Second, func() bool {
			return strings.HasSuffix(metricLine(scrape(t, tr.srv), "tsunagu_relay_open_connections "), fmt.Sprintf(" %d", n))
		}, fmt.Sprintf("%d open connections", n))
	}
	// 127.0.0.2 takes its 5; its sixth is shed at once.
	hold("127.0.0.2", 5)
	openConns(5)
	if code, d := request(t, "127.0.0.2", addr, "POST", path, body); code != 503 || d > time.Second {
		t.Fatalf("over the per-client bound: %d after %v", code, d)
	}
	if code, _ := request(t, "127.0.0.3", addr, "POST", path, body); code != 200 {
		t.Fatalf("another client: %d", code)
	}
	// Every slot taken (5 × 4 addresses): webhooks 503 at once, health 200.
	openConns(5)
	hold("127.0.0.4", 5)
	hold("127.0.0.5", 5)
	hold("127.0.0.6", 5)
	openConns(20)
	if code, d := request(t, "127.0.0.3", addr, "POST", path, body); code != 503 || d > time.Second {
		t.Fatalf("over the total bound: %d after %v", code, d)
	}
	if code, d := request(t, "127.0.0.3", addr, "GET", "/healthz", ""); code != 200 || d > time.Second {
		t.Fatalf("healthz over the total bound: %d after %v", code, d)
	}
	// A client that keeps shed connections silent holds at most two shed
	// slots: its third is closed at once, and the health probe still
	// answers.
	hold("127.0.0.7", 2)
	time.Sleep(100 * time.Millisecond)
	c, err := from("127.0.0.7", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil || strings.Contains(err.Error(), "timeout") {
		t.Fatalf("third silent shed connection not closed at once: %v", err)
	}
	c.Close()
	if code, _ := request(t, "127.0.0.8", addr, "GET", "/healthz", ""); code != 200 {
		t.Fatalf("healthz with shed slots held: %d", code)
	}
	// Slots come back when connections close.
	for _, c := range idle[:5] {
		c.Close()
	}
	eventually(t, 3*time.Second, func() bool {
		code, _ := request(t, "127.0.0.3", addr, "POST", path, body)
		return code == 200
	}, "a webhook accepted once slots are free")
	m := scrape(t, tr.srv)
	for _, reason := range []string{"per_client", "total"} {
		if metricLine(m, `tsunagu_relay_connections_shed_total{reason="`+reason+`"}`) == "" {
			t.Errorf("shed %s not counted", reason)
		}
	}
}
