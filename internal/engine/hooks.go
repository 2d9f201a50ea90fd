package engine

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"sync"
	"time"

	"tsunagu/internal/automation"
	"tsunagu/internal/autoreply"
	"tsunagu/internal/inbox"
	"tsunagu/internal/line"
)

// inboxHooks are the features that act on incoming 1:1 events, in order:
// linking first (a consumed link code reaches no other hook), then the
// keyword and away auto-replies.
func (e *Engine) inboxHooks() []inbox.Hook {
	hooks := []inbox.Hook{e.linkingHook() /* linking: first */, automation.NewHook() /* welcome series: stop on reply */, e.surveyHook() /* surveys: answers consumed */, e.AutoReply()}
	return append(hooks, e.routeHooks()... /* inflow routes: follows only (routes.go) */)
}

// AutoReply is the keyword and away auto-reply service. Like Linking it
// keeps everything in the DB, so a fresh value per call is as good as a
// kept one.
func (e *Engine) AutoReply() *autoreply.Service {
	svc, _ := autoreply.New(autoreply.Config{DB: e.db, Clock: e.clock}) // fails only without a DB
	return svc
}

// mediaHost is where image replies are put for LINE to fetch: in sandbox
// mode a loopback HTTPS server of the engine's own (the simulator, like
// LINE, accepts only https URLs); in live mode the webhook relay (relay.go),
// and without an enrolled relay image replies fail with
// inbox.ErrNoMediaHost.
// stickerImageBase is where the conversation's sticker images come from:
// the simulator in the sandbox (loopback, so no test reaches the
// internet), else LINE's sticker CDN.
func (e *Engine) stickerImageBase() string {
	if e.sim != nil {
		return e.sim.StickerImageBase()
	}
	return line.StickerImageBase
}

func (e *Engine) mediaHost() inbox.MediaHost {
	if !e.sandbox {
		return relayMedia{e}
	}
	if e.media == nil {
		m, err := newSandboxMedia()
		if err != nil {
			e.log.Warn("sandbox image host did not start; image replies are off", "err", err)
			return nil
		}
		e.media = m
	}
	return e.media
}

// relayMedia puts images on the enrolled webhook relay.
type relayMedia struct{ e *Engine }

func (r relayMedia) UploadMedia(ctx context.Context, data []byte, contentType string) (string, error) {
	url, err := r.e.RelayUploadMedia(ctx, data, contentType)
	if errors.Is(err, ErrRelayNotEnrolled) {
		return "", fmt.Errorf("%w: %w", inbox.ErrNoMediaHost, err)
	}
	return url, err
}

// sandboxMedia serves uploaded images over HTTPS on loopback, with a
// self-signed certificate made at start, under unguessable paths. It keeps
// only the most recent maxSandboxMedia files, in memory.
type sandboxMedia struct {
	srv  *http.Server
	base string

	mu    sync.Mutex
	files map[string]sandboxFile
	order []string
}

type sandboxFile struct {
	data []byte
	typ  string
}

const maxSandboxMedia = 64

func newSandboxMedia() (*sandboxMedia, error) {
	cert, err := selfSigned()
	if err != nil {
		return nil, err
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	if err != nil {
		return nil, fmt.Errorf("sandbox image host: %w", err)
	}
	m := &sandboxMedia{base: "https://" + ln.Addr().String() + "/media/", files: map[string]sandboxFile{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /media/{id}", m.serve)
	m.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go m.srv.Serve(ln)
	return m, nil
}

// UploadMedia implements inbox.MediaHost.
func (m *sandboxMedia) UploadMedia(_ context.Context, data []byte, contentType string) (string, error) {
	id := randomHex(16)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.files[id] = sandboxFile{data: data, typ: contentType}
	m.order = append(m.order, id)
	for len(m.order) > maxSandboxMedia {
		delete(m.files, m.order[0])
		m.order = m.order[1:]
	}
	return m.base + id, nil
}

func (m *sandboxMedia) serve(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	f, ok := m.files[r.PathValue("id")]
	m.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", f.typ)
	w.Write(f.data)
}

// Close stops the server.
func (m *sandboxMedia) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return m.srv.Shutdown(ctx)
}

// selfSigned makes a throwaway certificate for 127.0.0.1.
func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "Tsunagu sandbox " + hex.EncodeToString(serial.Bytes())},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, errors.Join(errors.New("sandbox certificate"), err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
