// Package relaytest runs an in-process webhook relay on loopback for the
// tests of its clients (the engine's pull loop, the CLI's enroll and sync):
// one set-up instead of a copy in each test.
package relaytest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"tsunagu/internal/relay"
)

// Relay is a running relay and its loopback HTTP address.
type Relay struct {
	*relay.Server
	URL string
}

// Start runs a relay with cfg (DataDir defaults to a temporary folder) on
// a free loopback port, served through wrap if given (to watch requests);
// it stops when the test ends.
func Start(t testing.TB, cfg relay.Config, wrap ...func(http.Handler) http.Handler) *Relay {
	t.Helper()
	if cfg.DataDir == "" && cfg.NATSURL == "" {
		cfg.DataDir = t.TempDir()
	}
	rs, err := relay.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := rs.Handler()
	for _, w := range wrap {
		h = w(h)
	}
	hs := httptest.NewServer(h)
	t.Cleanup(func() { hs.CloseClientConnections(); hs.Close(); rs.Close() })
	return &Relay{Server: rs, URL: hs.URL}
}

// Tenant adds a tenant and returns its one-time enrollment code.
func (r *Relay) Tenant(t testing.TB, name string) string {
	t.Helper()
	_, code, err := r.Admin().AddTenant(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return code
}
