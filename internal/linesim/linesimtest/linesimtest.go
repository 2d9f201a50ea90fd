// Package linesimtest starts the LINE simulator for a test, with the real
// SDK client (internal/line) pointed at it and, for tests that receive
// webhooks, the real signature verifier in front of the test's handler.
//
// Import it from _test.go files only (and not from internal/line's own
// tests, which it would import back).
package linesimtest

import (
	"context"
	"net/http/httptest"
	"testing"

	"tsunagu/internal/line"
	"tsunagu/internal/linesim"
)

// Sim is a simulator started for one test, and the real client on it.
type Sim struct {
	*linesim.Server
	Client *line.Client
	secret string
}

// Start starts a simulator with cfg (its channel secret and access token
// are the test's) until the test ends, and the real client on it: client
// gives the client's other settings (retry policy, ...); its endpoint and
// access token are the simulator's.
func Start(tb testing.TB, cfg linesim.Config, client line.Config) *Sim {
	tb.Helper()
	srv := linesim.New(cfg)
	if err := srv.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { srv.Close() })
	client.Endpoint, client.AccessToken = srv.URL(), cfg.AccessToken
	cl, err := line.New(client)
	if err != nil {
		tb.Fatal(err)
	}
	return &Sim{Server: srv, Client: cl, secret: cfg.ChannelSecret}
}

// ServeWebhook serves sink behind the real signature verifier (with the
// simulator's channel secret) on loopback until the test ends, makes it
// the simulator's webhook, and returns its URL.
func (s *Sim) ServeWebhook(tb testing.TB, sink func(context.Context, *line.Webhook) error) string {
	tb.Helper()
	srv := httptest.NewServer(line.NewVerifier(s.secret).Handler(sink))
	tb.Cleanup(srv.Close)
	s.SetWebhookURL(srv.URL)
	return srv.URL
}
