package relay

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestFetchCutShortHandsEventsBack: a connection that ends while its fetch
// is being answered (the desktop was killed, or reconnected) must not leave
// the answer's events delivered to nobody, where they would wait out
// AckWait before the desktop's next connection could have them.
func TestFetchCutShortHandsEventsBack(t *testing.T) {
	ctx := context.Background()
	s, err := New(ctx, Config{DataDir: t.TempDir(), AckWait: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const tenant = "t0123456789ab"
	if _, err := s.o.ensureConsumer(ctx, tenant, s.cfg.queue()); err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"e0", "e1", "e2"} {
		if _, err := s.o.js.Publish(ctx, subjectOf(tenant, 4), []byte(b)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 100 {
		// The connection goes away at some moment of the answer.
		cut, cancel := context.WithCancel(ctx)
		time.AfterFunc(time.Duration(i%10)*50*time.Microsecond, cancel)
		msgs, err := s.fetch(cut, tenant, 10, RequiredMaxPayload)
		if err == nil {
			// Done before the cut: the connection would have sent
			// them; here they go back as its end would.
			for _, m := range msgs {
				m.Nak()
			}
		} else if !errors.Is(err, context.Canceled) || msgs != nil {
			t.Fatalf("cut fetch %d: %d events, %v", i, len(msgs), err)
		}
		cancel()
		// JetStream applies naks asynchronously: the events are back
		// within moments (AckWait is an hour here).
		got := map[string]bool{}
		for deadline := time.Now().Add(5 * time.Second); len(got) < 3 && time.Now().Before(deadline); {
			msgs, err := s.fetch(ctx, tenant, 10, RequiredMaxPayload)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range msgs {
				got[string(m.Data)] = true
				m.Nak()
			}
			if len(got) < 3 {
				time.Sleep(5 * time.Millisecond)
			}
		}
		if len(got) != 3 {
			t.Fatalf("round %d: the next fetches got %d of 3 events", i, len(got))
		}
	}
}
