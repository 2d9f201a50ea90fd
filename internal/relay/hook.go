package relay

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"tsunagu/internal/relay/wire"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// handleHook is LINE's webhook endpoint. It answers 200 only after the
// sealed event is in JetStream (fsynced on the embedded server; replicated
// on a cluster): from then on the event survives a crash of this process.
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
	if !s.limiter(id).Allow() {
		s.metrics.rejected.WithLabelValues(id, "rate").Inc()
		w.Header().Set("Retry-After", "1")
		http.Error(w, "too many requests", http.StatusTooManyRequests)
		return
	}
	if r.ContentLength > s.cfg.MaxBody {
		s.metrics.rejected.WithLabelValues(id, "too_large").Inc()
		http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			s.metrics.rejected.WithLabelValues(id, "too_large").Inc()
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "could not read request body", http.StatusBadRequest)
		return
	}
	sig := r.Header.Get("X-Line-Signature")
	if sig == "" || len(sig) > 256 {
		// LINE always signs; the desktop would drop it anyway.
		s.metrics.rejected.WithLabelValues(id, "unsigned").Inc()
		http.Error(w, "missing x-line-signature", http.StatusBadRequest)
		return
	}
	sealed, err := wire.Seal(t.boxKey(), body, sig)
	clear(body)
	if err != nil {
		s.metrics.rejected.WithLabelValues(id, "seal").Inc()
		http.Error(w, "could not seal", http.StatusInternalServerError)
		return
	}
	if _, err := s.o.js.Publish(r.Context(), subjectOf(id), sealed); err != nil {
		reason := "store"
		if strings.Contains(err.Error(), "maximum messages per subject") {
			reason = "queue_full"
		}
		s.metrics.rejected.WithLabelValues(id, reason).Inc()
		s.log.Warn("webhook not queued", "tenant", id, "reason", reason, "err", err)
		http.Error(w, "not queued, retry", http.StatusServiceUnavailable)
		return
	}
	s.metrics.queued.WithLabelValues(id).Inc()
	s.metrics.ackSeconds.Observe(time.Since(start).Seconds())
	w.WriteHeader(http.StatusOK)
}

// handleEnroll redeems an enrollment code for the desktop's public keys and
// returns the webhook URL to set on the LINE channel.
func (s *Server) handleEnroll(w http.ResponseWriter, r *http.Request) {
	var req wire.EnrollRequest
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
