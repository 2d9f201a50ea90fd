package linesim_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"tsunagu/internal/line"
	"tsunagu/internal/linesim"
	"tsunagu/internal/linesim/linesimtest"
)

// The outage drill through LINE's SDK: each mode fails the way a real
// outage does, is switched while the simulator runs, and ends cleanly.
func TestOutageModes(t *testing.T) {
	ctx := context.Background()
	s := linesimtest.Start(t, linesim.Config{ChannelSecret: "s", AccessToken: "tok"},
		line.Config{Retry: line.RetryPolicy{MaxAttempts: 1}, AttemptTimeout: 300 * time.Millisecond})
	u := linesim.NewUserID()
	s.AddCustomer(linesim.Customer{UserID: u, DisplayName: "花子", Following: true})
	if _, err := s.Client.Profile(ctx, u); err != nil {
		t.Fatal(err) // a keep-alive connection is now open
	}
	for _, tt := range []struct {
		mode  string
		check func(error) bool
	}{
		{linesim.OutageRefuse, func(err error) bool {
			var op *net.OpError
			return errors.As(err, &op) && op.Op == "dial"
		}},
		{linesim.OutageReset, func(err error) bool { return err != nil && !errors.Is(err, context.DeadlineExceeded) }},
		{linesim.OutageBlackhole, func(err error) bool { return errors.Is(err, context.DeadlineExceeded) }},
	} {
		t.Run(tt.mode, func(t *testing.T) {
			if err := s.SetOutage(tt.mode); err != nil {
				t.Fatal(err)
			}
			if s.Outage() != tt.mode {
				t.Fatalf("mode = %q", s.Outage())
			}
			before := len(s.Requests())
			for range 2 { // the idle connection was cut too
				_, err := s.Client.Profile(ctx, u)
				if !tt.check(err) {
					t.Fatalf("profile during %s: %v", tt.mode, err)
				}
			}
			if n := len(s.Requests()) - before; n != 0 {
				t.Fatalf("%d requests reached the API during the outage", n)
			}
			if err := s.SetOutage(linesim.OutageNone); err != nil {
				t.Fatal(err)
			}
			if p, err := s.Client.Profile(ctx, u); err != nil || p.DisplayName != "花子" {
				t.Fatalf("after the outage: %+v %v", p, err)
			}
		})
	}
	if err := s.SetOutage("flood"); !errors.Is(err, linesim.ErrBadOutage) {
		t.Fatalf("unknown mode: %v", err)
	}
}

func TestSlowAndExpiredContent(t *testing.T) {
	ctx := context.Background()
	s := linesimtest.Start(t, linesim.Config{ChannelSecret: "s", AccessToken: "tok"},
		line.Config{Retry: line.RetryPolicy{MaxAttempts: 1}, AttemptTimeout: 200 * time.Millisecond})
	u := linesim.NewUserID()
	s.AddCustomer(linesim.Customer{UserID: u, DisplayName: "花子", Following: true})
	s.ServeWebhook(t, func(context.Context, *line.Webhook) error { return nil })
	_, m1, err := s.SendImage(ctx, u, []byte("\x89PNG one"), "image/png")
	if err != nil {
		t.Fatal(err)
	}
	_, m2, err := s.SendImage(ctx, u, []byte("\x89PNG two"), "image/png")
	if err != nil {
		t.Fatal(err)
	}

	s.SetSlow(time.Second)
	if _, _, err := s.Client.Content(ctx, m1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow API: %v", err)
	}
	s.SetSlow(0)

	s.ExpireContent(m1)
	var apiErr *line.APIError
	if _, _, err := s.Client.Content(ctx, m1); !errors.As(err, &apiErr) || apiErr.Status != http.StatusNotFound {
		t.Fatalf("expired content: %v", err)
	}
	if data, _, err := s.Client.Content(ctx, m2); err != nil || string(data) != "\x89PNG two" {
		t.Fatalf("other content: %q %v", data, err)
	}
	s.SetContentExpired(true)
	if _, _, err := s.Client.Content(ctx, m2); !errors.As(err, &apiErr) || apiErr.Status != http.StatusNotFound {
		t.Fatalf("all expired: %v", err)
	}
	s.SetContentExpired(false)
	if _, _, err := s.Client.Content(ctx, m2); err != nil {
		t.Fatalf("back: %v", err)
	}
	if _, _, err := s.Client.Content(ctx, m1); err == nil {
		t.Fatal("a message expired by itself stays expired")
	}
}

// The drill's control API switches the same faults over HTTP.
func TestOutageControlAPI(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := linesimtest.Start(t, linesim.Config{ChannelSecret: "s", AccessToken: "tok"},
		line.Config{Retry: line.RetryPolicy{MaxAttempts: 1}, AttemptTimeout: time.Second})
	base, err := s.ServeControl(ctx)
	if err != nil {
		t.Fatal(err)
	}
	post := func(path, body string) int {
		t.Helper()
		res, err := http.Post(base+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if st := post("/outage", `{"mode":"refuse"}`); st != http.StatusNoContent || s.Outage() != linesim.OutageRefuse {
		t.Fatalf("refuse: %d %q", st, s.Outage())
	}
	if _, err := s.Client.Quota(ctx); err == nil {
		t.Fatal("API answered during the outage")
	}
	if st := post("/outage", `{"mode":"","slowMs":10}`); st != http.StatusNoContent || s.Outage() != linesim.OutageNone {
		t.Fatalf("end: %d", st)
	}
	if _, err := s.Client.Quota(ctx); err != nil {
		t.Fatalf("after: %v", err)
	}
	if st := post("/outage", `{"mode":"meteor"}`); st != http.StatusBadRequest {
		t.Fatalf("bad mode: %d", st)
	}
	if st := post("/content/expire", `{"all":true}`); st != http.StatusNoContent {
		t.Fatalf("expire: %d", st)
	}
}
