package linesim

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math"
	"net/http"
	"time"
)

// Endpoint names, for RateLimits, InjectFaults and Request.
const (
	EndpointPush       = "push"
	EndpointReply      = "reply"
	EndpointMulticast  = "multicast"
	EndpointProfile    = "profile"
	EndpointQuota      = "quota"
	EndpointValidate   = "validate"
	EndpointContent    = "content"
	EndpointLinkToken  = "linkToken"
	EndpointRichMenu   = "richMenu"
	EndpointMarkAsRead = "markAsRead"
	EndpointLoading    = "loading"
	// EndpointMarkAsReadByToken is POST /v2/bot/chat/markAsRead.
	EndpointMarkAsReadByToken = "markAsReadByToken"
)

// DefaultRateLimits are LINE's published limits in requests per second.
var DefaultRateLimits = map[string]float64{
	EndpointPush:       2000,
	EndpointReply:      2000,
	EndpointMulticast:  200,
	EndpointProfile:    2000,
	EndpointQuota:      2000,
	EndpointValidate:   2000,
	EndpointContent:    2000,
	EndpointLinkToken:  2000,
	EndpointRichMenu:   2000,
	EndpointMarkAsRead: 2000,
	EndpointLoading:    2000,
	// Not among LINE's published figures: the "other APIs" limit.
	EndpointMarkAsReadByToken: 2000,
	// LINE's table: 60 requests per hour for each statistics endpoint.
	EndpointInsightUnit:        60.0 / 3600,
	EndpointInsightFollowers:   60.0 / 3600,
	EndpointInsightDelivery:    60.0 / 3600,
	EndpointInsightDemographic: 60.0 / 3600,
	// Not in LINE's table: "other API endpoints".
	EndpointAggregationUnit: 2000,
}

// Fault is one misbehaviour, injected into the next request to an endpoint.
// Exactly one field should be set.
type Fault struct {
	// Status answers with this status and LINE's error body for it (500,
	// 502, 503, 429) without processing the request.
	Status int
	// DropBefore closes the connection without processing or answering.
	DropBefore bool
	// DropAfter processes the request (a send is delivered and its retry
	// key remembered) and then closes the connection without answering.
	DropAfter bool
	// TimeoutAfterAccept processes the request and then withholds the
	// answer until the client gives up (or a minute passes), so that only
	// a retry with the same retry key can learn the outcome (409).
	TimeoutAfterAccept bool
}

// Request is one API request as the simulator saw it. BodySHA256 lets a
// test check that a retry was byte-identical.
type Request struct {
	Endpoint   string
	RetryKey   string
	BodySHA256 string
	Status     int // 0: no answer (dropped or timed out)
	Fault      bool
	// Accepted: the endpoint ran and succeeded (2xx), whether or not the
	// client got the answer (a drop or a timeout after accepting). A
	// request whose client went away before it was served is not.
	Accepted bool
	At       time.Time
}

// InjectFaults queues faults for endpoint: each of the next requests to it
// (after authentication) suffers one, in order.
func (s *Server) InjectFaults(endpoint string, faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[endpoint] = append(s.faults[endpoint], faults...)
}

// SetLatency delays every API answer by d from now on.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// SetRateLimit sets an endpoint's limit in requests per second; 0 removes it.
func (s *Server) SetRateLimit(endpoint string, perSecond float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if perSecond <= 0 {
		delete(s.limits, endpoint)
		return
	}
	s.limits[endpoint] = newWindow(perSecond)
}

// SetMonthlyQuota sets the monthly message limit (0: none) and how many
// messages count as already sent this month.
func (s *Server) SetMonthlyQuota(limit, used int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.quota, s.used = limit, used
}

// Requests returns every API request seen, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// window is a token bucket holding one second of requests: it allows the
// limit in any one-second burst, and the limit per second on average. A
// limit under one request a second is one LINE states per hour (60 an hour
// for the insight endpoints): it counts the requests of the trailing hour
// instead.
type window struct {
	rate   float64
	tokens float64
	last   time.Time

	perHour int         // > 0: at most this many in any hour
	log     []time.Time // the trailing hour's requests, oldest first
}

func newWindow(rate float64) *window {
	if rate < 1 {
		return &window{rate: rate, perHour: max(1, int(math.Round(rate*3600)))}
	}
	return &window{rate: rate, tokens: max(rate, 1)}
}

// allow takes a token if there is one. Called with s.mu held.
func (w *window) allow(now time.Time) bool {
	if w.perHour > 0 {
		i := 0
		for i < len(w.log) && !w.log[i].After(now.Add(-time.Hour)) {
			i++
		}
		w.log = w.log[i:]
		if len(w.log) >= w.perHour {
			return false
		}
		w.log = append(w.log, now)
		return true
	}
	if !w.last.IsZero() {
		w.tokens = min(max(w.rate, 1), w.tokens+now.Sub(w.last).Seconds()*w.rate)
	}
	w.last = now
	if w.tokens < 1 {
		return false
	}
	w.tokens--
	return true
}

// recorder buffers an endpoint's answer so that a fault can withhold it
// after the request was processed.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

// serveFaulty runs an authenticated request through rate limiting, fault
// injection and latency, and records it.
func (s *Server) serveFaulty(w http.ResponseWriter, r *http.Request, ep endpoint, reqID string) {
	// Read the body once so it can be hashed and still be served.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, errorBody{Message: msgTooLarge})
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	sum := sha256.Sum256(body)
	rec := Request{Endpoint: ep.name, RetryKey: r.Header.Get("X-Line-Retry-Key"), BodySHA256: hex.EncodeToString(sum[:]), At: s.now()}

	s.mu.Lock()
	latency := s.latency
	var fault *Fault
	if q := s.faults[ep.name]; len(q) > 0 {
		f := q[0]
		fault = &f
		s.faults[ep.name] = q[1:]
	}
	limited := false
	if fault == nil {
		if win := s.limits[ep.name]; win != nil && !win.allow(time.Now()) {
			limited = true
		}
	}
	s.mu.Unlock()

	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-r.Context().Done():
			t.Stop()
			s.record(rec)
			return
		case <-t.C:
		}
	}

	switch {
	case limited:
		rec.Status = http.StatusTooManyRequests
		s.record(rec)
		writeError(w, http.StatusTooManyRequests, errorBody{Message: msgRateLimited})
		return
	case fault != nil && fault.Status != 0:
		rec.Status, rec.Fault = fault.Status, true
		s.record(rec)
		msg := msgInternal
		if fault.Status == http.StatusTooManyRequests {
			msg = msgRateLimited
		}
		writeError(w, fault.Status, errorBody{Message: msg})
		return
	case fault != nil && fault.DropBefore:
		rec.Fault = true
		s.record(rec)
		drop(w)
		return
	}

	out := &recorder{header: w.Header()}
	ep.serve(out, r, reqID)
	rec.Accepted = out.status == 0 || out.status/100 == 2
	switch {
	case fault != nil && fault.DropAfter:
		rec.Fault = true
		s.record(rec)
		drop(w)
		return
	case fault != nil && fault.TimeoutAfterAccept:
		rec.Fault = true
		s.record(rec)
		t := time.NewTimer(time.Minute)
		defer t.Stop()
		select {
		case <-r.Context().Done():
		case <-t.C:
		}
		drop(w)
		return
	}
	rec.Status = out.status
	if rec.Status == 0 {
		rec.Status = http.StatusOK
	}
	s.record(rec)
	w.WriteHeader(rec.Status)
	w.Write(out.body.Bytes())
}

// maxRequests bounds the request record, so a long sandbox session does not
// grow without end.
const maxRequests = 10000

func (s *Server) record(r Request) {
	s.mu.Lock()
	if len(s.requests) >= maxRequests {
		s.requests = append(s.requests[:0], s.requests[len(s.requests)-maxRequests/2:]...)
	}
	s.requests = append(s.requests, r)
	s.mu.Unlock()
}

// drop closes the connection without an answer, as a crashed server or a
// broken network path would.
func drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	// Without a hijackable connection, aborting the handler makes
	// net/http close it.
	panic(http.ErrAbortHandler)
}
