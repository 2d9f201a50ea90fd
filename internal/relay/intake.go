package relay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"time"
)

// maxJSONDepth bounds the nesting of a webhook body. LINE's deepest events
// nest about six levels; hostile nesting is refused before any parse.
const maxJSONDepth = 32

var errMalformed = errors.New("relay: not a LINE webhook body")

// checkWebhookShape refuses a body that cannot be a LINE webhook: not one
// JSON object, no "events" array, a "destination" that is not a string.
// The relay does not hold the channel secret, so this is all it can tell;
// it keeps obvious junk out of the queue. The cost is linear and bounded:
// a nesting scan first (so hostile nesting never reaches the decoder), then
// syntax, then only the two top-level fields are looked at (as raw bytes,
// never unmarshalled into interface values).
func checkWebhookShape(body []byte) error {
	if !shallowJSON(body, maxJSONDepth) || !json.Valid(body) {
		return errMalformed
	}
	b := bytes.TrimLeft(body, " \t\r\n")
	if len(b) == 0 || b[0] != '{' {
		return errMalformed
	}
	var top struct {
		Destination json.RawMessage `json:"destination"`
		Events      json.RawMessage `json:"events"`
	}
	if err := json.Unmarshal(b, &top); err != nil {
		return errMalformed
	}
	if len(top.Events) == 0 || top.Events[0] != '[' {
		return errMalformed
	}
	if len(top.Destination) > 0 && top.Destination[0] != '"' {
		return errMalformed
	}
	return nil
}

// shallowJSON reports whether no object or array in b nests deeper than
// max. It only tracks strings and brackets; syntax is json.Valid's job.
func shallowJSON(b []byte, max int) bool {
	depth := 0
	inString, escaped := false, false
	for _, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			if depth > max {
				return false
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return true
}

// sizeClass is the size an event of n sealed bytes is counted as in the
// per-tenant byte quota: the smallest of 1 KiB, 1.25 KiB, 1.5 KiB, 1.75 KiB,
// 2 KiB, 2.5 KiB, … (four steps per doubling) that holds it, so at most 25%
// over the true size. Each event is published on the subject
// hooks.TENANT.CLASS, and JetStream's per-subject message counts then give
// every instance the tenant's queued bytes (count × class, summed) without
// a counter that could drift: acks, expiry, purges and other instances are
// all accounted for by JetStream itself.
func sizeClass(n int) int64 {
	for e := uint(8); ; e++ { // 4<<8 = 1 KiB
		for q := int64(4); q < 8; q++ {
			if b := q << e; int64(n) <= b {
				return b
			}
		}
	}
}

// usageSnapshot is a tenant's queue as last read from JetStream, plus what
// this instance queued since.
type usageSnapshot struct {
	at time.Time
	u  queueUsage
}

// usageTTL is how long a snapshot is trusted while the tenant is below half
// of both caps; nearer the caps every webhook reads JetStream afresh, so
// several instances together overshoot a cap by at most the webhooks in
// flight at that moment.
const usageTTL = time.Second

// admit reserves room for one event of sealedLen bytes in the tenant's
// queue, or returns the metric reason of the cap it would exceed
// ("queue_full": events, "quota": bytes).
func (s *Server) admit(ctx context.Context, id string, sealedLen int) (string, error) {
	size := sizeClass(sealedLen)
	maxN, maxB := s.cfg.MaxQueuedPerTenant, s.cfg.MaxQueuedBytesPerTenant
	now := time.Now()
	s.umu.Lock()
	snap := s.usage[id]
	fresh := snap != nil && now.Sub(snap.at) < usageTTL &&
		2*(snap.u.Count+1) <= maxN && 2*(snap.u.Bytes+size) <= maxB
	s.umu.Unlock()
	if !fresh {
		u, err := s.o.tenantUsage(ctx, id)
		if err != nil {
			return "store", err
		}
		snap = &usageSnapshot{at: now, u: u}
		s.umu.Lock()
		s.usage[id] = snap
		s.umu.Unlock()
	}
	s.umu.Lock()
	defer s.umu.Unlock()
	switch {
	case snap.u.Count+1 > maxN:
		return "queue_full", nil
	case snap.u.Bytes+size > maxB:
		return "quota", nil
	}
	snap.u.Count++
	snap.u.Bytes += size
	return "", nil
}
