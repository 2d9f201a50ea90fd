package relay

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"tsunagu/internal/relay/wire"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// handleHook is LINE's webhook endpoint. It answers 200 only after the
// sealed event is in JetStream (fsynced on the embedded server; replicated
// on a cluster): from then on the event survives a crash of this process.
//
// The checks run cheapest and least tenant-specific first; the body is read
// (within BodyTimeout) before the tenant's rate limit is consulted, so a
// slow or junk poster does not spend the tokens of the real webhooks, and
// its failures are counted as what they are (timeout, malformed), not as
// rate limiting.
func (s *Server) handleHook(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id, token := r.PathValue("tenant"), r.PathValue("token")
	valid := func(t *Tenant) bool { return usable(t) && equalHash(t.TokenHash, token) }
	t := s.tenant(r.Context(), id, valid)
	if !valid(t) {
		// One label value for every unknown path: a scanner must not
		// be able to grow the metrics.
		s.metrics.rejected.WithLabelValues("", "unknown").Inc()
		http.NotFound(w, r)
		return
	}
	s.metrics.received.WithLabelValues(id).Inc()
	reject := func(reason string, code int, msg string) {
		s.metrics.rejected.WithLabelValues(id, reason).Inc()
		http.Error(w, msg, code)
	}
	if r.ContentLength > s.cfg.MaxBody {
		reject("too_large", http.StatusRequestEntityTooLarge, "request body too large")
		return
	}
	// A deadline for the whole body bounds what a slow client costs (a
	// goroutine and a connection slot for at most BodyTimeout).
	http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.cfg.BodyTimeout))
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			reject("too_large", http.StatusRequestEntityTooLarge, "request body too large")
			return
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			reject("timeout", http.StatusRequestTimeout, "request body too slow")
			return
		}
		http.Error(w, "could not read request body", http.StatusBadRequest)
		return
	}
	sig := r.Header.Get("X-Line-Signature")
	if sig == "" || len(sig) > 256 {
		// LINE always signs; the desktop would drop it anyway.
		reject("unsigned", http.StatusBadRequest, "missing x-line-signature")
		return
	}
	if checkWebhookShape(body) != nil {
		reject("malformed", http.StatusBadRequest, "not a LINE webhook body")
		return
	}
	if !s.limiter(id).Allow() {
		w.Header().Set("Retry-After", "1")
		reject("rate", http.StatusTooManyRequests, "too many requests")
		return
	}
	sealed, err := wire.Seal(t.boxKey(), body, sig)
	clear(body)
	if err != nil {
		reject("seal", http.StatusInternalServerError, "could not seal")
		return
	}
	reason, err := s.admit(r.Context(), id, len(sealed))
	if reason == "" {
		_, err = s.o.js.Publish(r.Context(), subjectOf(id, len(sealed)), sealed)
		if err != nil {
			reason = "store"
			if strings.Contains(err.Error(), "maximum messages per subject") {
				reason = "queue_full"
			}
		}
	}
	if reason != "" {
		if err != nil {
			s.log.Warn("webhook not queued", "tenant", id, "reason", reason, "err", err)
		}
		// LINE redelivers later (if redelivery is on).
		reject(reason, http.StatusServiceUnavailable, "not queued, retry")
		return
	}
	// Wake the instance holding the tenant's connection (best effort: it
	// also polls).
	s.nc.Publish(wakeSubjectOf(id), nil)
	s.metrics.queued.WithLabelValues(id).Inc()
	s.metrics.ackSeconds.Observe(time.Since(start).Seconds())
	w.WriteHeader(http.StatusOK)
}

// handleEnroll redeems an enrollment code for the desktop's public keys and
// returns the webhook URL to set on the LINE channel.
func (s *Server) handleEnroll(w http.ResponseWriter, r *http.Request) {
	var req wire.EnrollRequest
	http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.cfg.BodyTimeout))
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10)).Decode(&req); err != nil {
		http.Error(w, "malformed request", http.StatusBadRequest)
		return
	}
	id, token, err := enroll(r.Context(), s.o.tenants, req, s.cfg.Clock())
	switch {
	case errors.Is(err, ErrBadCode), errors.Is(err, ErrTenantDisabled):
		s.metrics.rejected.WithLabelValues("", "enroll").Inc()
		http.Error(w, "enrollment code is wrong, used or expired", http.StatusForbidden)
		return
	case errors.Is(err, ErrBadKey):
		http.Error(w, "keys have the wrong size", http.StatusBadRequest)
		return
	case err != nil:
		s.log.Error("enrollment failed", "err", err)
		http.Error(w, "enrollment failed", http.StatusInternalServerError)
		return
	}
	s.log.Info("tenant enrolled", "tenant", id)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(wire.EnrollResponse{Tenant: id, WebhookURL: s.publicBase(r) + "/hook/" + id + "/" + token})
}
