package relayclient

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"tsunagu/internal/relay/wire"
)

// dialRecorder is an HTTP client that counts the connections it opens and
// opens them only to loopback, so a refused URL can be shown to have cost no
// network traffic at all (not even a DNS lookup: the dialer gets the host
// name unresolved).
type dialRecorder struct {
	mu    sync.Mutex
	hosts []string
}

func (d *dialRecorder) client() *http.Client {
	var dialer net.Dialer
	tr := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			d.mu.Lock()
			d.hosts = append(d.hosts, addr)
			d.mu.Unlock()
			host, _, err := net.SplitHostPort(addr)
			if err != nil || !isLoopbackHost(host) {
				return nil, errors.New("test dialer: not loopback: " + addr)
			}
			return dialer.DialContext(ctx, network, addr)
		},
	}
	return &http.Client{Transport: tr}
}

func (d *dialRecorder) dials() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.hosts...)
}

// A fake relay's enrollment endpoint that counts the codes it receives.
func enrollServer(t *testing.T, got *atomic.Int64) *httptest.Server {
	t.Helper()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req wire.EnrollRequest
		if r.URL.Path != "/v1/enroll" || json.NewDecoder(r.Body).Decode(&req) != nil || req.Code == "" {
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		got.Add(1)
		json.NewEncoder(w).Encode(wire.EnrollResponse{Tenant: "t1", WebhookURL: "https://relay.example.jp/hook/t1/x"})
	}))
	t.Cleanup(hs.Close)
	return hs
}

// TestEnrollRefusesHTTPWithoutTraffic: the code is never posted over plain
// HTTP to another machine, whatever the option; the refusal happens before
// any connection (the recording dialer sees none).
func TestEnrollRefusesHTTPWithoutTraffic(t *testing.T) {
	keys, err := GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	var codes atomic.Int64
	hs := enrollServer(t, &codes) // http://127.0.0.1:PORT
	ctx := context.Background()

	refused := []string{
		"http://relay.example.jp",
		"http://relay.example.jp:443",
		"HTTP://relay.example.jp/tsunagu",
		"http://192.168.1.10:8080",
		"http://10.0.0.1",
		"http://[fe80::1]:8080",
		"http://[::]:8080",
		"http://0.0.0.0:8080",
		"http://localhost.example.jp",
		"http://127.0.0.1.nip.io",
	}
	for _, tr := range []Transport{HTTPSOnly, HTTPLoopback} {
		for _, u := range refused {
			rec := &dialRecorder{}
			_, err := Enroll(ctx, rec.client(), u, "t000000000000-CODE", keys, tr)
			if !errors.Is(err, ErrInsecureURL) {
				t.Errorf("transport %d, %s: err = %v, want ErrInsecureURL", tr, u, err)
			}
			if d := rec.dials(); len(d) != 0 {
				t.Errorf("transport %d, %s: connections made: %v", tr, u, d)
			}
		}
	}
	// Loopback over http:// only with the explicit option.
	rec := &dialRecorder{}
	if _, err := Enroll(ctx, rec.client(), hs.URL, "t000000000000-CODE", keys, HTTPSOnly); !errors.Is(err, ErrInsecureURL) || len(rec.dials()) != 0 {
		t.Fatalf("loopback http without the option: err = %v, dials %v", err, rec.dials())
	}
	if codes.Load() != 0 {
		t.Fatalf("the relay received %d code(s)", codes.Load())
	}
	en, err := Enroll(ctx, rec.client(), hs.URL, "t000000000000-CODE", keys, HTTPLoopback)
	if err != nil || en.Tenant != "t1" || codes.Load() != 1 || len(rec.dials()) != 1 {
		t.Fatalf("loopback http with the option: %+v, %v; codes %d, dials %v", en, err, codes.Load(), rec.dials())
	}
}

// A relay that redirects the enrollment elsewhere does not get the code
// sent on: a 307/308 would repeat the POST body to the new location.
func TestEnrollDoesNotFollowRedirects(t *testing.T) {
	keys, _ := GenerateKeys()
	var codes atomic.Int64
	target := enrollServer(t, &codes)
	redirector := httptest.NewServer(http.RedirectHandler(target.URL+"/v1/enroll", http.StatusTemporaryRedirect))
	defer redirector.Close()
	if _, err := Enroll(context.Background(), nil, redirector.URL, "t000000000000-CODE", keys, HTTPLoopback); err == nil {
		t.Fatal("redirected enrollment succeeded")
	}
	if codes.Load() != 0 {
		t.Fatal("the code was sent to the redirect's target")
	}
}

func TestEnrollURL(t *testing.T) {
	for _, tc := range []struct {
		in   string
		tr   Transport
		want string
	}{
		{"https://relay.example.jp/", HTTPSOnly, "https://relay.example.jp"},
		{"https://192.168.1.10:8443", HTTPSOnly, "https://192.168.1.10:8443"},
		{"http://127.0.0.1:8080", HTTPLoopback, "http://127.0.0.1:8080"},
		{"http://127.45.6.7:8080", HTTPLoopback, "http://127.45.6.7:8080"},
		{"http://[::1]:8080", HTTPLoopback, "http://[::1]:8080"},
		{"http://[::ffff:127.0.0.1]:8080", HTTPLoopback, "http://[::ffff:127.0.0.1]:8080"},
		{"http://localhost:8080", HTTPLoopback, "http://localhost:8080"},
		{"http://LOCALHOST.:8080", HTTPLoopback, "http://LOCALHOST.:8080"},
		{"http://127.0.0.1:8080", HTTPSOnly, ""},
		{"http://localhost", HTTPSOnly, ""},
		{"http://128.0.0.1", HTTPLoopback, ""},
		{"ftp://127.0.0.1", HTTPLoopback, ""},
	} {
		got, err := EnrollURL(tc.in, tc.tr)
		if got != tc.want || (err == nil) != (tc.want != "") {
			t.Errorf("EnrollURL(%q, %d) = %q, %v; want %q", tc.in, tc.tr, got, err, tc.want)
		}
	}
}
