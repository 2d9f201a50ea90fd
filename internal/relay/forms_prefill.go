package relay

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"tsunagu/internal/relay/wire"
)

// Prefill without exposure (issue 21; wire/prefill.go). The desktop uploads
// a sealed set of values for one link (signed like a definition); the relay
// keeps the ciphertext under its random ID until it expires and serves it
// to the page at GET /f/TENANT/FORM/p/ID. It never has the key: that is in
// the link's fragment, and the box key also needs the LINE user the link
// was sent to. LINE hands a LIFF page's fragment to the endpoint once in
// ?liff.state=: the relay neither logs nor stores any query string.

// prefillRecord is what the prefill bucket holds per link.
type prefillRecord struct {
	Form    string `json:"f"`
	Blob    []byte `json:"b"`
	Expires int64  `json:"e"`
}

func prefillKey(tenant, id string) string { return tenant + "." + id }

func (s *Server) storePrefill(w http.ResponseWriter, r *http.Request, t *Tenant, p *wire.FormPrefill) {
	now := s.cfg.Clock()
	if err := p.Check(now.UnixMilli()); err != nil {
		http.Error(w, "malformed prefill", http.StatusBadRequest)
		return
	}
	if _, def := s.form(r.Context(), t.ID, p.Form); def == nil {
		http.Error(w, "unknown form", http.StatusNotFound)
		return
	}
	val, _ := json.Marshal(prefillRecord{Form: p.Form, Blob: p.Blob, Expires: p.Expires})
	ttl := time.Duration(p.Expires-now.UnixMilli())*time.Millisecond + time.Minute
	key := prefillKey(t.ID, p.ID)
	_, err := s.o.prefill.Create(r.Context(), key, val, jetstream.KeyTTL(ttl))
	if errors.Is(err, jetstream.ErrKeyExists) {
		// A retried upload of the same link is taken; another blob under
		// the same ID never replaces it.
		if e, gerr := s.o.prefill.Get(r.Context(), key); gerr == nil && bytes.Equal(e.Value(), val) {
			err = nil
		} else if gerr == nil {
			http.Error(w, "prefill exists", http.StatusConflict)
			return
		}
	}
	if err != nil {
		s.log.Warn("prefill not stored", "tenant", t.ID, "err", err)
		http.Error(w, "not stored", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handlePrefillGet serves a link's sealed values while they last. Expired,
// unknown or another form's: 404 (the page then shows the empty form).
func (s *Server) handlePrefillGet(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	t, def := s.form(r.Context(), r.PathValue("tenant"), r.PathValue("form"))
	id := r.PathValue("id")
	if def == nil || !wire.ValidToken(id) {
		http.NotFound(w, r)
		return
	}
	key := prefillKey(t.ID, id)
	e, err := s.o.prefill.Get(r.Context(), key)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	var rec prefillRecord
	if json.Unmarshal(e.Value(), &rec) != nil || rec.Form != r.PathValue("form") {
		http.NotFound(w, r)
		return
	}
	if s.cfg.Clock().UnixMilli() >= rec.Expires {
		// The key's TTL removes it too; this holds to the minute.
		if err := s.o.prefill.Purge(r.Context(), key); err != nil {
			s.log.Warn("expired prefill not removed", "tenant", t.ID, "err", err)
		}
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Write(rec.Blob)
}
