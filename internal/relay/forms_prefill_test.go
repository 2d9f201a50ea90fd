package relay_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"tsunagu/internal/relay"
	"tsunagu/internal/relay/wire"
	"tsunagu/internal/relayclient"
)

// Prefill: the desktop uploads one link's sealed values (signed); the relay
// serves them to the form's page until they expire, then 404 and gone; a
// retried upload of the same blob is taken, another blob under the same ID
// is not; unknown forms, other tenants' forms and forged uploads are
// refused; the relay's files hold neither the key nor a value.
func TestPrefillStoreServeExpire(t *testing.T) {
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	dir := t.TempDir()
	var logBuf syncBuffer
	tr := newRelay(t, relay.Config{DataDir: dir, Clock: clock, Logger: slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	a := tr.addTenant(t, "本店")
	b := tr.addTenant(t, "支店")
	ctx := context.Background()
	client, _ := relayclient.New(relayclient.Config{Enrollment: a.enroll, Keys: a.keys})
	form := newToken(t)
	if err := client.PublishForm(ctx, testFormDef(form)); err != nil {
		t.Fatal(err)
	}
	key := make([]byte, wire.PrefillKeySize)
	rand.Read(key)
	const user, secret = "U0123456789abcdef0123456789abcdef", "東京都千代田区丸の内ＱＱＱ７７"
	blob, err := wire.SealPrefill(key, user, form, map[string]any{"q1": secret})
	if err != nil {
		t.Fatal(err)
	}
	id := newToken(t)
	p := wire.FormPrefill{Form: form, ID: id, Blob: blob, Expires: now.Add(7 * 24 * time.Hour).UnixMilli()}
	if err := client.PublishPrefill(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := client.PublishPrefill(ctx, p); err != nil {
		t.Fatalf("a retried upload of the same blob: %v", err)
	}
	other := p
	other.Blob = append([]byte(nil), blob...)
	other.Blob[30] ^= 1
	if err := client.PublishPrefill(ctx, other); err == nil {
		t.Fatal("another blob replaced a link's")
	}
	url := client.FormURL(form) + "/p/" + id
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	got := new(bytes.Buffer)
	got.ReadFrom(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !bytes.Equal(got.Bytes(), blob) || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("prefill: %d %q", res.StatusCode, res.Header.Get("Cache-Control"))
	}
	vals, err := wire.OpenPrefill(key, user, form, got.Bytes())
	if err != nil || vals["q1"] != secret {
		t.Fatalf("opened: %v %v", vals, err)
	}
	if _, err := wire.OpenPrefill(key, "U1111111111111111111111111111111f", form, got.Bytes()); err == nil {
		t.Fatal("another LINE user opened the values")
	}

	// Refused: a forged signature, an unknown form, another tenant's
	// form, an expiry past the longest allowed or already past.
	forgedKeys, _ := relayclient.GenerateKeys()
	forged, _ := relayclient.New(relayclient.Config{Enrollment: a.enroll, Keys: forgedKeys})
	p2 := p
	p2.ID = newToken(t)
	if err := forged.PublishPrefill(ctx, p2); err != relayclient.ErrUnauthorized {
		t.Fatalf("forged: %v", err)
	}
	clientB, _ := relayclient.New(relayclient.Config{Enrollment: b.enroll, Keys: b.keys})
	if err := clientB.PublishPrefill(ctx, p2); err == nil {
		t.Fatal("another tenant's prefill for a's form taken")
	}
	for _, bad := range []wire.FormPrefill{
		{Form: newToken(t), ID: newToken(t), Blob: blob, Expires: p.Expires},
		{Form: form, ID: newToken(t), Blob: blob, Expires: now.Add(31 * 24 * time.Hour).UnixMilli()},
		{Form: form, ID: newToken(t), Blob: blob, Expires: now.Add(-time.Minute).UnixMilli()},
		{Form: form, ID: "short", Blob: blob, Expires: p.Expires},
	} {
		if err := client.PublishPrefill(ctx, bad); err == nil {
			t.Fatalf("taken: %+v", bad)
		}
	}
	for _, u := range []string{client.FormURL(form) + "/p/" + newToken(t), clientB.FormURL(newToken(t)) + "/p/" + id,
		tr.http.URL + "/f/" + b.id + "/" + form + "/p/" + id} {
		if st, _, _ := get(t, u); st != http.StatusNotFound {
			t.Fatalf("%s: %d", u, st)
		}
	}

	// Opened with a query as LINE's primary redirect carries it
	// (?liff.state= holding the fragment): nothing of it is kept.
	if st, _, _ := get(t, client.FormURL(form)+"?p="+id+"&liff.state=%23"+wire.PrefillFragment(key)); st != http.StatusOK {
		t.Fatalf("page with liff.state: %d", st)
	}

	// Past its expiry: 404, and removed.
	mu.Lock()
	now = now.Add(7*24*time.Hour + time.Second)
	mu.Unlock()
	if st, _, _ := get(t, url); st != http.StatusNotFound {
		t.Fatalf("expired prefill: %d", st)
	}
	mu.Lock()
	now = now.Add(-8 * 24 * time.Hour)
	mu.Unlock()
	if st, _, _ := get(t, url); st != http.StatusNotFound {
		t.Fatalf("expired prefill served again after removal: %d", st)
	}

	tr.srv.Close()
	keyText := wire.PrefillFragment(key)[2:]
	filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return nil
		}
		data, _ := os.ReadFile(path)
		if bytes.Contains(data, []byte(secret)) || bytes.Contains(data, key) || bytes.Contains(data, []byte(keyText)) {
			t.Errorf("%s holds the prefill value or key", path)
		}
		return nil
	})
	if l := logBuf.String(); strings.Contains(l, keyText) || strings.Contains(l, secret) || strings.Contains(l, id) {
		t.Errorf("the log holds the prefill key, a value or the link's ID: %s", l)
	}
}
