package line

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"
)

// RequestLogSize is how many attempts Client.Requests remembers.
const RequestLogSize = 1000

// RequestRecord is one HTTP attempt in the request log. It holds no
// message content, token or user ID: the path is not kept, only the
// endpoint's name.
type RequestRecord struct {
	At        time.Time
	Endpoint  Endpoint
	Method    string
	Status    int    // 0 if no answer came
	RequestID string // x-line-request-id
	RetryKey  string // X-Line-Retry-Key sent, if any
	Duration  time.Duration
	Failure   string // "timeout", "canceled" or "connection" when no answer came
}

type requestLog struct {
	hook func(RequestRecord)

	mu    sync.Mutex
	ring  []RequestRecord
	start int
}

func newRequestLog(hook func(RequestRecord)) *requestLog {
	return &requestLog{hook: hook, ring: make([]RequestRecord, 0, RequestLogSize)}
}

func (l *requestLog) add(r RequestRecord) {
	l.mu.Lock()
	if len(l.ring) < RequestLogSize {
		l.ring = append(l.ring, r)
	} else {
		l.ring[l.start] = r
		l.start = (l.start + 1) % RequestLogSize
	}
	l.mu.Unlock()
	if l.hook != nil {
		l.hook(r)
	}
}

func (l *requestLog) snapshot() []RequestRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]RequestRecord, 0, len(l.ring))
	out = append(out, l.ring[l.start:]...)
	return append(out, l.ring[:l.start]...)
}

// logTransport records every attempt that goes through the client.
type logTransport struct {
	next http.RoundTripper // nil: http.DefaultTransport
	log  *requestLog
}

func (t *logTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	next := t.next
	if next == nil {
		next = http.DefaultTransport
	}
	start := time.Now()
	ep, _ := req.Context().Value(endpointKey{}).(Endpoint)
	res, err := next.RoundTrip(req)
	r := RequestRecord{
		At:       start,
		Endpoint: ep,
		Method:   req.Method,
		RetryKey: req.Header.Get("X-Line-Retry-Key"),
		Duration: time.Since(start),
	}
	switch {
	case res != nil:
		r.Status = res.StatusCode
		r.RequestID = res.Header.Get("X-Line-Request-Id")
	case errors.Is(req.Context().Err(), context.DeadlineExceeded):
		r.Failure = "timeout"
	case req.Context().Err() != nil:
		r.Failure = "canceled"
	default:
		r.Failure = "connection"
	}
	t.log.add(r)
	return res, err
}
