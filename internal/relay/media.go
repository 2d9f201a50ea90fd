package relay

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"tsunagu/internal/relay/wire"
)

// Media: LINE fetches image messages from an HTTPS URL, and a branch has
// no server, so the desktop uploads the image here (signed like the
// delivery connection) and sends LINE the returned unguessable URL. It is
// the one thing the relay stores unsealed, for MediaTTL at most.

// handleChallenge issues a single-use nonce for a signed HTTP request. It
// lives in a KV bucket with a TTL, so it can be redeemed at any instance.
func (s *Server) handleChallenge(w http.ResponseWriter, r *http.Request) {
	if !s.challenges.Allow() {
		s.metrics.rejected.WithLabelValues("", "rate").Inc()
		w.Header().Set("Retry-After", "1")
		http.Error(w, "too many requests", http.StatusTooManyRequests)
		return
	}
	nonce := make([]byte, 32)
	rand.Read(nonce)
	if _, err := s.o.nonces.Create(r.Context(), base64.RawURLEncoding.EncodeToString(nonce), []byte{1}); err != nil {
		http.Error(w, "challenge unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(wire.Challenge{Nonce: nonce})
}

// redeemNonce deletes the nonce if it exists; false if it never existed,
// expired, or was already used.
func (s *Server) redeemNonce(ctx context.Context, nonce []byte) bool {
	if len(nonce) != 32 {
		return false
	}
	key := base64.RawURLEncoding.EncodeToString(nonce)
	e, err := s.o.nonces.Get(ctx, key)
	if err != nil {
		return false
	}
	return s.o.nonces.Purge(ctx, key, jetstream.LastRevision(e.Revision())) == nil
}

// mediaBodyTimeout bounds reading an uploaded image (10 MiB at 1 Mbit/s
// takes 84 s).
const mediaBodyTimeout = 3 * time.Minute

func (s *Server) handleMediaUpload(w http.ResponseWriter, r *http.Request) {
	id := r.Header.Get(wire.HeaderTenant)
	t := s.tenant(r.Context(), id, usable)
	if !usable(t) {
		s.metrics.rejected.WithLabelValues("", "auth").Inc()
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	ct := r.Header.Get("Content-Type")
	if ct != "image/jpeg" && ct != "image/png" {
		http.Error(w, "only image/jpeg and image/png", http.StatusUnsupportedMediaType)
		return
	}
	if r.ContentLength > s.cfg.MaxMedia {
		http.Error(w, "image too large", http.StatusRequestEntityTooLarge)
		return
	}
	// A branch's uplink may be slow; still, no upload holds a connection
	// for ever (the server itself sets no body timeout).
	http.NewResponseController(w).SetReadDeadline(time.Now().Add(mediaBodyTimeout))
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxMedia))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			http.Error(w, "image too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "could not read body", http.StatusBadRequest)
		return
	}
	nonce, err1 := base64.StdEncoding.DecodeString(r.Header.Get(wire.HeaderNonce))
	sig, err2 := base64.StdEncoding.DecodeString(r.Header.Get(wire.HeaderSignature))
	if err1 != nil || err2 != nil || !s.redeemNonce(r.Context(), nonce) ||
		!wire.Verify(t.AuthKey, wire.PurposeMedia, t.ID, nonce, wire.MediaStatement(data, ct), sig) {
		s.metrics.rejected.WithLabelValues("", "auth").Inc()
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	// What is served must be what it claims to be: LINE and phones
	// render it as an image.
	if http.DetectContentType(data) != ct {
		http.Error(w, "content does not match its type", http.StatusUnsupportedMediaType)
		return
	}
	if !s.limiter(t.ID).Allow() {
		s.metrics.rejected.WithLabelValues(t.ID, "rate").Inc()
		http.Error(w, "too many requests", http.StatusTooManyRequests)
		return
	}
	raw := make([]byte, 16)
	rand.Read(raw)
	objID := base64.RawURLEncoding.EncodeToString(raw)
	_, err = s.o.media.Put(r.Context(), jetstream.ObjectMeta{
		Name:    t.ID + "/" + objID,
		Headers: map[string][]string{"Content-Type": {ct}},
	}, bytes.NewReader(data))
	if err != nil {
		s.log.Warn("media not stored", "tenant", t.ID, "err", err)
		http.Error(w, "not stored", http.StatusServiceUnavailable)
		return
	}
	s.metrics.media.WithLabelValues(t.ID).Inc()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(wire.MediaResponse{
		URL:       s.publicBase(r) + "/media/" + t.ID + "/" + objID,
		ExpiresAt: s.cfg.Clock().Add(s.cfg.MediaTTL).UnixMilli(),
	})
}

func (s *Server) handleMediaGet(w http.ResponseWriter, r *http.Request) {
	id, objID := r.PathValue("tenant"), r.PathValue("id")
	raw, err := base64.RawURLEncoding.DecodeString(objID)
	if !validTenantID(id) || err != nil || len(raw) != 16 {
		http.NotFound(w, r)
		return
	}
	t := s.tenant(r.Context(), id, nil)
	if t == nil || t.Disabled {
		http.NotFound(w, r)
		return
	}
	res, err := s.o.media.Get(r.Context(), id+"/"+objID)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer res.Close()
	info, err := res.Info()
	if err != nil || info.ModTime.Add(s.cfg.MediaTTL).Before(s.cfg.Clock()) {
		http.NotFound(w, r)
		return
	}
	ct := info.Headers.Get("Content-Type")
	if ct != "image/jpeg" && ct != "image/png" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "private, max-age=86400")
	w.Header().Set("Content-Length", itoa(info.Size))
	io.Copy(w, res)
}

func itoa(n uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

// deleteTenantMedia removes a removed tenant's images.
func (o *jsObjects) deleteTenantMedia(ctx context.Context, tenant string) error {
	list, err := o.media.List(ctx)
	if errors.Is(err, jetstream.ErrNoObjectsFound) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, obj := range list {
		if strings.HasPrefix(obj.Name, tenant+"/") {
			if err := o.media.Delete(ctx, obj.Name); err != nil {
				return err
			}
		}
	}
	return nil
}
