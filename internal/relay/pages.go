package relay

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"time"

	"github.com/nats-io/nats.go"

	"tsunagu/internal/relay/wire"
)

// The paths the LIFF pages share (forms.go, booking.go): a desktop's
// signed upload of what a page shows, and a box sealed in a phone queued
// like a webhook.

// signedBody reads a signed upload of a usable tenant (the challenge
// nonce redeemed, the signature over purpose and statement(body)
// verified); it answers the refusal itself.
func (s *Server) signedBody(w http.ResponseWriter, r *http.Request, purpose string, limit int64, statement func([]byte) []byte) (*Tenant, []byte, bool) {
	t := s.tenant(r.Context(), r.Header.Get(wire.HeaderTenant), usable)
	if !usable(t) {
		s.metrics.rejected.WithLabelValues("", "auth").Inc()
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return nil, nil, false
	}
	if r.ContentLength > limit {
		http.Error(w, "too large", http.StatusRequestEntityTooLarge)
		return nil, nil, false
	}
	http.NewResponseController(w).SetReadDeadline(time.Now().Add(mediaBodyTimeout))
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		http.Error(w, "too large or could not read body", http.StatusRequestEntityTooLarge)
		return nil, nil, false
	}
	nonce, err1 := base64.StdEncoding.DecodeString(r.Header.Get(wire.HeaderNonce))
	sig, err2 := base64.StdEncoding.DecodeString(r.Header.Get(wire.HeaderSignature))
	if err1 != nil || err2 != nil || !s.redeemNonce(r.Context(), nonce) ||
		!wire.Verify(t.AuthKey, purpose, t.ID, nonce, statement(body), sig) {
		s.metrics.rejected.WithLabelValues("", "auth").Inc()
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return nil, nil, false
	}
	return t, body, true
}

// queueSealed puts a box sealed in a phone on the tenant's queue (form
// answers and booking requests: same stream, quotas and delivery as
// webhooks) and waits for the fsync; it answers a refusal itself and
// counts it with count(reason). hdr (nil: none) goes beside the box.
func (s *Server) queueSealed(w http.ResponseWriter, r *http.Request, t *Tenant, sealed []byte, hdr nats.Header, what string, count func(reason string)) bool {
	if reason, err := s.admit(r.Context(), t.ID, len(sealed)); reason != "" {
		if err != nil {
			s.log.Warn(what+" not admitted", "tenant", t.ID, "err", err)
		}
		count(reason)
		w.Header().Set("Retry-After", "5")
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return false
	}
	pctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	m := nats.NewMsg(subjectOf(t.ID, len(sealed)))
	m.Data = sealed
	for k, v := range hdr {
		m.Header[k] = v
	}
	_, err := s.o.js.PublishMsg(pctx, m)
	cancel()
	if err != nil {
		s.log.Warn(what+" not queued", "tenant", t.ID, "err", err)
		count("store")
		w.Header().Set("Retry-After", "5")
		http.Error(w, "not stored", http.StatusServiceUnavailable)
		return false
	}
	s.nc.Publish(wakeSubjectOf(t.ID), nil)
	return true
}
