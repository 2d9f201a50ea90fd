package linesim

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// Tests that count how often LINE accepted a retry key read Request.Accepted:
// a request whose client went away while it waited out the latency was
// never served, and one dropped after processing was.
func TestRequestRecordSaysWhatWasAccepted(t *testing.T) {
	s := startSim(t, Config{})
	u := addFollower(s, "saburo")
	push := func(ctx context.Context, key string) {
		req, _ := http.NewRequestWithContext(ctx, "POST", s.URL()+"/v2/bot/message/push", strings.NewReader(pushBody(u, "hi")))
		req.Header.Set("Authorization", "Bearer "+testToken)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Line-Retry-Key", key)
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
		}
	}
	waitRecords := func(n int) []Request {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			if rs := s.Requests(); len(rs) >= n || time.Now().After(deadline) {
				return rs
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	// Gone before it was served: not accepted, no answer.
	s.SetLatency(5 * time.Second)
	gone := uuid.NewString()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	push(ctx, gone)
	cancel()
	// The server notices the client left on its own schedule, and records
	// a request when it finishes; wait, so the records keep this order.
	if rs := waitRecords(1); len(rs) != 1 {
		t.Fatalf("%d records after the abandoned push, want 1", len(rs))
	}
	s.SetLatency(0)
	// Served (200), then the same key again (409), then dropped after
	// processing (no answer, but accepted).
	push(context.Background(), gone)
	push(context.Background(), gone)
	s.InjectFaults(EndpointPush, Fault{DropAfter: true})
	push(context.Background(), uuid.NewString())

	rs := waitRecords(4)
	if len(rs) != 4 {
		t.Fatalf("%d records, want 4: %+v", len(rs), rs)
	}
	want := []struct {
		status   int
		accepted bool
	}{{0, false}, {200, true}, {409, false}, {0, true}}
	for i, w := range want {
		if rs[i].Status != w.status || rs[i].Accepted != w.accepted {
			t.Errorf("record %d: status %d accepted %v, want %d %v", i, rs[i].Status, rs[i].Accepted, w.status, w.accepted)
		}
	}
	if d := s.Deliveries(u); len(d) != 2 {
		t.Errorf("%d deliveries, want 2 (the served push and the dropped one)", len(d))
	}
}
