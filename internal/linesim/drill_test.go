package linesim_test

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"testing"
	"time"

	"tsunagu/internal/line"
	"tsunagu/internal/linesim"
	"tsunagu/internal/linesim/linesimtest"
)

// The drill panel's one step: a bad mode or delay changes nothing; a good
// one sets both, and "" with 0 ends the drill.
func TestDrill(t *testing.T) {
	ctx := context.Background()
	s := linesimtest.Start(t, linesim.Config{ChannelSecret: "s", AccessToken: "tok"},
		line.Config{Retry: line.RetryPolicy{MaxAttempts: 1}, AttemptTimeout: 5 * time.Second})
	u := linesim.NewUserID()
	s.AddCustomer(linesim.Customer{UserID: u, DisplayName: "花子", Following: true})
	for _, bad := range []struct {
		mode string
		slow time.Duration
	}{{"meteor", 0}, {linesim.OutageRefuse, -time.Millisecond}, {linesim.OutageRefuse, linesim.MaxSlow + time.Millisecond}} {
		if err := s.Drill(bad.mode, bad.slow); !errors.Is(err, linesim.ErrBadOutage) {
			t.Errorf("Drill(%q, %v): %v", bad.mode, bad.slow, err)
		}
		if s.Outage() != linesim.OutageNone {
			t.Fatalf("a refused drill changed the mode to %q", s.Outage())
		}
	}
	if err := s.Drill(linesim.OutageRefuse, 0); err != nil || s.Outage() != linesim.OutageRefuse {
		t.Fatalf("refuse: %q %v", s.Outage(), err)
	}
	const slow = 150 * time.Millisecond
	if err := s.Drill(linesim.OutageNone, slow); err != nil || s.Outage() != linesim.OutageNone {
		t.Fatalf("slow: %q %v", s.Outage(), err)
	}
	start := time.Now()
	if _, err := s.Client.Profile(ctx, u); err != nil || time.Since(start) < slow {
		t.Fatalf("slow answer after %v: %v", time.Since(start), err)
	}
	if err := s.Drill(linesim.OutageNone, 0); err != nil {
		t.Fatal(err)
	}
}

func TestSamplePhoto(t *testing.T) {
	img, err := png.Decode(bytes.NewReader(linesim.SamplePhoto()))
	if err != nil || img.Bounds().Dx() != 96 || img.Bounds().Dy() != 64 {
		t.Fatalf("sample photo: %v %v", img, err)
	}
}
