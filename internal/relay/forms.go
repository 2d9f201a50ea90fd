package relay

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"tsunagu/internal/relay/formpage"
	"tsunagu/internal/relay/postal"
	"tsunagu/internal/relay/wire"
)

// Web forms (issue 21). The desktop publishes a form's definition (signed,
// no customer data; wire.FormDef) and the relay serves it:
//
//	GET  /f/TENANT/FORM           the page (HTML with its script inlined)
//	GET  /f/TENANT/FORM/def.json  the definition
//	POST /f/TENANT/FORM           a submission, sealed in the phone
//	GET  /postal/123              postal codes starting 123 (address lookup)
//
// A submission is queued unchanged, like a sealed webhook: the relay cannot
// open it and never sees an answer. Unknown forms and tenants get 404.

// DefaultLIFFSDK is where the page loads LINE's LIFF SDK from.
const DefaultLIFFSDK = "https://static.line-scdn.net/liff/edge/2/sdk.js"

// formRecord is what the forms bucket holds per form: the definition as the
// desktop signed it.
type formRecord struct {
	Def json.RawMessage `json:"d"`
}

func formKey(tenant, id string) string { return tenant + "." + id }

func (s *Server) handleFormUpload(w http.ResponseWriter, r *http.Request) {
	t, body, ok := s.signedBody(w, r, wire.PurposeForm, wire.MaxFormUpload, wire.FormStatement)
	if !ok {
		return
	}
	var up wire.FormUpload
	if err := json.Unmarshal(body, &up); err != nil {
		http.Error(w, "malformed form", http.StatusBadRequest)
		return
	}
	switch {
	case up.Remove != "":
		if !wire.ValidToken(up.Remove) {
			http.Error(w, "malformed form", http.StatusBadRequest)
			return
		}
		if err := s.o.forms.Purge(r.Context(), formKey(t.ID, up.Remove)); err != nil {
			s.log.Warn("form not removed", "tenant", t.ID, "err", err)
			http.Error(w, "not removed", http.StatusServiceUnavailable)
			return
		}
	case up.Prefill != nil:
		s.storePrefill(w, r, t, up.Prefill)
		return
	case up.Form != nil:
		// The key answers are sealed to must be the tenant's own: a
		// definition can never send answers anywhere else.
		if err := up.Form.Check(); err != nil || !bytes.Equal(up.Form.BoxKey, t.BoxKey) {
			http.Error(w, "malformed form", http.StatusBadRequest)
			return
		}
		def, _ := json.Marshal(up.Form) // re-encoded: only the known fields are served
		val, _ := json.Marshal(formRecord{Def: def})
		if _, err := s.o.forms.Put(r.Context(), formKey(t.ID, up.Form.ID), val); err != nil {
			s.log.Warn("form not stored", "tenant", t.ID, "err", err)
			http.Error(w, "not stored", http.StatusServiceUnavailable)
			return
		}
	default:
		http.Error(w, "malformed form", http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// form returns a usable tenant's published form, or nil.
func (s *Server) form(ctx context.Context, tenant, id string) (*Tenant, json.RawMessage) {
	t := s.tenant(ctx, tenant, nil)
	if !usable(t) || !wire.ValidToken(id) {
		return nil, nil
	}
	e, err := s.o.forms.Get(ctx, formKey(tenant, id))
	if err != nil {
		return nil, nil
	}
	var rec formRecord
	if json.Unmarshal(e.Value(), &rec) != nil || len(rec.Def) == 0 {
		return nil, nil
	}
	return t, rec.Def
}

func (s *Server) handleFormDef(w http.ResponseWriter, r *http.Request) {
	_, def := s.form(r.Context(), r.PathValue("tenant"), r.PathValue("form"))
	if def == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(def)
}

func (s *Server) handleFormPage(w http.ResponseWriter, r *http.Request) {
	_, def := s.form(r.Context(), r.PathValue("tenant"), r.PathValue("form"))
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if def == nil {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, neutralPage)
		return
	}
	page := s.formPage()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Security-Policy", page.csp)
	w.Header().Set("Vary", "Accept-Encoding")
	// Compressed once at start: a slow phone gets 20 KB instead of 53.
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(page.gz)
		return
	}
	w.Write(page.html)
}

// formPageHTML is the page with its script and styles inlined (one request
// on a slow phone), and the policy allowing exactly them and the LIFF SDK.
type formPageHTML struct {
	html []byte
	gz   []byte // html, gzipped
	csp  string
}

func (s *Server) formPage() formPageHTML {
	s.pageOnce.Do(func() { s.page = inlinePage(s.cfg.LIFFSDK, "フォーム", formpage.Script(), formpage.Style()) })
	return s.page
}

// inlinePage is a LIFF page with its script and styles inlined (one
// request on a slow phone), gzipped once, and the policy allowing exactly
// them and the LIFF SDK (the form page and the booking page).
func inlinePage(sdk, title string, js, css []byte) formPageHTML {
	jsSum, cssSum := sha256.Sum256(js), sha256.Sum256(css)
	var b strings.Builder
	b.WriteString(`<!doctype html><html lang="ja"><head><meta charset="utf-8">` +
		`<meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex">` +
		`<title>` + html.EscapeString(title) + `</title><style>`)
	b.Write(css)
	b.WriteString(`</style></head><body><main id="app" aria-live="polite"><p class="loading">読み込み中…</p></main>`)
	fmt.Fprintf(&b, `<script src="%s"></script><script>`, html.EscapeString(sdk))
	b.Write(js)
	b.WriteString(`</script></body></html>`)
	origin := sdk
	if i := strings.Index(sdk[min(len(sdk), len("https://")):], "/"); i >= 0 {
		origin = sdk[:len("https://")+i]
	}
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write([]byte(b.String()))
	zw.Close()
	return formPageHTML{html: []byte(b.String()), gz: gz.Bytes(), csp: fmt.Sprintf(
		"default-src 'none'; script-src 'sha256-%s' %s; style-src 'sha256-%s'; connect-src 'self' https://api.line.me https://access.line.me %s; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
		base64.StdEncoding.EncodeToString(jsSum[:]), origin, base64.StdEncoding.EncodeToString(cssSum[:]), origin)}
}

// handleFormSubmit queues a sealed submission. The per-address limit
// (ClickRatePerClient, shared with clicks) bounds what one phone or
// script can queue; over it the answer is 429 and the page asks to try
// again. The publish is awaited (fsynced) before 202: unlike a click, a
// lost submission is a customer's lost answers.
func (s *Server) handleFormSubmit(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	w.Header().Set("Cache-Control", "no-store")
	t, def := s.form(r.Context(), r.PathValue("tenant"), r.PathValue("form"))
	if def == nil {
		s.metrics.forms.WithLabelValues("", "unknown").Inc()
		http.NotFound(w, r)
		return
	}
	if r.ContentLength > wire.MaxSubmission {
		s.metrics.forms.WithLabelValues(t.ID, "too_large").Inc()
		http.Error(w, "too large", http.StatusRequestEntityTooLarge)
		return
	}
	http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.cfg.BodyTimeout))
	sealed, err := io.ReadAll(http.MaxBytesReader(w, r.Body, wire.MaxSubmission))
	if err != nil {
		s.metrics.forms.WithLabelValues(t.ID, "too_large").Inc()
		http.Error(w, "too large or could not read body", http.StatusRequestEntityTooLarge)
		return
	}
	if len(sealed) <= 48 { // an anonymous box's ephemeral key and tag
		s.metrics.forms.WithLabelValues(t.ID, "malformed").Inc()
		http.Error(w, "malformed", http.StatusBadRequest)
		return
	}
	if !s.clickClients.allow(s.clickClient(r), s.cfg.Clock()) || !s.limiter(t.ID).Allow() {
		s.metrics.forms.WithLabelValues(t.ID, "rate").Inc()
		w.Header().Set("Retry-After", "2")
		http.Error(w, "too many requests", http.StatusTooManyRequests)
		return
	}
	if !s.queueSealed(w, r, t, sealed, nil, "form submission", func(reason string) { s.metrics.forms.WithLabelValues(t.ID, reason).Inc() }) {
		return
	}
	s.metrics.forms.WithLabelValues(t.ID, "queued").Inc()
	s.metrics.formSecs.Observe(time.Since(start).Seconds())
	w.WriteHeader(http.StatusAccepted)
}

// deleteTenantForms removes a removed tenant's forms and prefill values.
func (o *jsObjects) deleteTenantForms(ctx context.Context, tenant string) error {
	for _, b := range []string{formsBucket, prefillBucket} {
		st, err := o.js.Stream(ctx, "KV_"+b)
		if err != nil {
			if errors.Is(err, jetstream.ErrStreamNotFound) {
				continue
			}
			return err
		}
		if err := st.Purge(ctx, jetstream.WithPurgeSubject("$KV."+b+"."+tenant+".*")); err != nil {
			return err
		}
	}
	return nil
}

// postalTable is the postal-code table, read on the first lookup (a relay
// that serves no form with a postal question never reads it).
type postalTable struct {
	once sync.Once
	t    *postal.Table
	err  error
}

// handlePostal serves the postal codes starting with three digits, for a
// form page's address lookup: public data (Japan Post's KEN_ALL), cached
// by the phone for a day. It learns which area a phone asks about, as any
// address lookup would; nothing is logged.
func (s *Server) handlePostal(w http.ResponseWriter, r *http.Request) {
	p := r.PathValue("prefix")
	if len(p) != 3 || strings.Trim(p, "0123456789") != "" {
		http.NotFound(w, r)
		return
	}
	s.postal.once.Do(func() { s.postal.t, s.postal.err = postal.Load() })
	if s.postal.err != nil {
		s.log.Error("postal-code table unreadable", "err", s.postal.err)
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	c, ok := s.postal.t.Chunk(p)
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Vary", "Accept-Encoding")
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(c.Gz)
		return
	}
	w.Write(c.JSON)
}
