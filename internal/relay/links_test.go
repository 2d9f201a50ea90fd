package relay_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"tsunagu/internal/relay"
	"tsunagu/internal/relay/wire"
	"tsunagu/internal/relayclient"
)

func newToken(t testing.TB) string {
	t.Helper()
	var b [24]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func get(t testing.TB, url string) (int, string, string) {
	t.Helper()
	res, err := noRedirect.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Location"), string(b)
}

// clickSink collects the clicks a desktop receives.
type clickSink struct {
	mu     sync.Mutex
	clicks []wire.Click
	hooks  int
}

func (s *clickSink) handle(_ context.Context, evs []relayclient.Event) []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ev := range evs {
		if ev.Click != nil {
			s.clicks = append(s.clicks, *ev.Click)
		} else {
			s.hooks++
		}
	}
	return make([]error, len(evs))
}

func (s *clickSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clicks)
}

// A tracked link: the desktop publishes token → URL (signed); a click is
// redirected at once and queued sealed while the desktop is off; the
// desktop receives token and time after it connects. Unknown, expired,
// malformed and other tenants' tokens get one neutral page and queue
// nothing. An unsigned or wrongly signed upload is refused.
func TestTrackedLinkRedirectsAndQueuesTheClick(t *testing.T) {
	now := time.Now()
	var cmu sync.Mutex
	clock := func() time.Time { cmu.Lock(); defer cmu.Unlock(); return now }
	tr := newRelay(t, relay.Config{Clock: clock})
	a := tr.addTenant(t, "本店")
	b := tr.addTenant(t, "支店")
	ctx := context.Background()
	client, err := relayclient.New(relayclient.Config{Enrollment: a.enroll, Keys: a.keys})
	if err != nil {
		t.Fatal(err)
	}
	tokA, tokB, tokOld := newToken(t), newToken(t), newToken(t)
	const target = "https://www.example.jp/teiki?src=line&x=1"
	exp := now.Add(time.Hour).UnixMilli()
	if err := client.PublishLinks(ctx, []wire.Link{{Token: tokA, URL: target, ExpiresAt: exp},
		{Token: tokOld, URL: target, ExpiresAt: now.Add(time.Minute).UnixMilli()}}); err != nil {
		t.Fatal(err)
	}
	clientB, _ := relayclient.New(relayclient.Config{Enrollment: b.enroll, Keys: b.keys})
	if err := clientB.PublishLinks(ctx, []wire.Link{{Token: tokB, URL: "https://b.example.jp/", ExpiresAt: exp}}); err != nil {
		t.Fatal(err)
	}
	// Someone else's key cannot publish for tenant a.
	other, _ := relayclient.GenerateKeys()
	forged, _ := relayclient.New(relayclient.Config{Enrollment: a.enroll, Keys: other})
	if err := forged.PublishLinks(ctx, []wire.Link{{Token: newToken(t), URL: "https://evil.example/", ExpiresAt: exp}}); err != relayclient.ErrUnauthorized {
		t.Fatalf("forged upload: %v", err)
	}
	res, err := http.Post(tr.http.URL+"/v1/links", "application/json", strings.NewReader(`{"links":[]}`))
	if err != nil || res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unsigned upload: %v %v", res, err)
	}

	// The desktop is off: clicks are redirected and queued.
	base := tr.http.URL + "/c/" + a.id + "/"
	for range 3 {
		if st, loc, _ := get(t, base+tokA); st != http.StatusFound || loc != target {
			t.Fatalf("click: %d %q", st, loc)
		}
	}
	// Neutral: unknown token, the other tenant's token under this tenant,
	// a malformed token, an unknown tenant, and (below) an expired link.
	_, _, neutral := get(t, base+newToken(t))
	for _, u := range []string{base + tokB, base + "x", tr.http.URL + "/c/t000000000000/" + tokA, tr.http.URL + "/c/" + b.id + "/" + tokA} {
		st, loc, body := get(t, u)
		if st != http.StatusOK || loc != "" || body != neutral {
			t.Fatalf("%s: %d %q %q", u, st, loc, body)
		}
	}
	cmu.Lock()
	now = now.Add(2 * time.Minute)
	cmu.Unlock()
	if st, loc, body := get(t, base+tokOld); st != http.StatusOK || loc != "" || body != neutral {
		t.Fatalf("expired: %d %q", st, loc)
	}
	if !strings.Contains(neutral, "ご利用いただけません") || strings.Contains(neutral, a.id) {
		t.Fatalf("neutral page: %q", neutral)
	}

	// The desktop connects: three clicks on tokA, nothing else.
	var s clickSink
	c2, _ := relayclient.New(relayclient.Config{Enrollment: a.enroll, Keys: a.keys})
	n, err := c2.DrainBatch(ctx, s.handle)
	if err != nil || n != 3 || s.count() != 3 || s.hooks != 0 {
		t.Fatalf("drained %d (%v): %d clicks, %d hooks", n, err, s.count(), s.hooks)
	}
	ids := map[string]bool{}
	for _, c := range s.clicks {
		if c.Token != tokA || c.At <= 0 || ids[c.IDHex()] {
			t.Fatalf("click %+v", c)
		}
		ids[c.IDHex()] = true
	}
	m := scrape(t, tr.srv)
	if l := metricLine(m, `tsunagu_relay_clicks_total{result="queued",tenant="`+a.id+`"}`); !strings.HasSuffix(l, " 3") {
		t.Fatalf("queued clicks: %q", l)
	}
	if l := metricLine(m, `tsunagu_relay_clicks_total{result="neutral",tenant=""}`); !strings.HasSuffix(l, " 6") {
		t.Fatalf("neutral: %q", l)
	}
	// Tenant b's desktop got nothing from a's clicks.
	var sb clickSink
	cb, _ := relayclient.New(relayclient.Config{Enrollment: b.enroll, Keys: b.keys})
	if n, err := cb.DrainBatch(ctx, sb.handle); n != 0 || err != nil {
		t.Fatalf("tenant b drained %d: %v", n, err)
	}
	// Removing the tenant removes its links: the token is neutral after.
	if err := tr.srv.Admin().RemoveTenant(ctx, b.id); err != nil {
		t.Fatal(err)
	}
	if st, _, body := get(t, tr.http.URL+"/c/"+b.id+"/"+tokB); st != 200 || body != neutral {
		t.Fatalf("removed tenant's link: %d", st)
	}
}

func TestSealedClickOpensOnlyWithTheKey(t *testing.T) {
	keys, _ := relayclient.GenerateKeys()
	other, _ := relayclient.GenerateKeys()
	tok := newToken(t)
	sealed, err := wire.SealClick(&keys.BoxPub, tok, 1700000000123)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte(tok)) {
		t.Fatal("token readable in the sealed click")
	}
	o, err := wire.OpenAny(&keys.BoxPub, &keys.BoxPriv, sealed)
	if err != nil || o.Click == nil || o.Click.Token != tok || o.Click.At != 1700000000123 || o.Body != nil {
		t.Fatalf("opened %+v %v", o, err)
	}
	if _, err := wire.OpenAny(&other.BoxPub, &other.BoxPriv, sealed); err != wire.ErrOpen {
		t.Fatalf("other key: %v", err)
	}
	// A webhook envelope still opens as one; old desktops (wire.Open)
	// refuse a click as a malformed envelope (dropped, not stored).
	hook, _ := wire.Seal(&keys.BoxPub, []byte(`{"events":[]}`), "sig")
	if o, err := wire.OpenAny(&keys.BoxPub, &keys.BoxPriv, hook); err != nil || o.Click != nil || string(o.Body) != `{"events":[]}` || o.Signature != "sig" {
		t.Fatalf("webhook: %+v %v", o, err)
	}
	if _, _, err := wire.Open(&keys.BoxPub, &keys.BoxPriv, sealed); err != wire.ErrEnvelope {
		t.Fatalf("old open of a click: %v", err)
	}
	if _, err := wire.SealClick(&keys.BoxPub, "short", 1); err == nil {
		t.Fatal("sealed a malformed token")
	}
}

// getFrom is get with an X-Forwarded-For header (as a proxy sets it).
func getFrom(t testing.TB, url, xff string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("X-Forwarded-For", xff)
	res, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode, res.Header.Get("Location")
}

// The per-address click limit: past an address's burst a click is still
// redirected but not queued (client_limited). Behind a proxy the address
// is the last X-Forwarded-For entry, so an entry the client put in front
// changes nothing; an IPv6 /64 is one address. Other addresses keep their
// own allowance.
func TestClickLimitPerClient(t *testing.T) {
	now := time.Now()
	tr := newRelay(t, relay.Config{Clock: func() time.Time { return now }, // a still clock: no refill
		ClickRatePerClient: 1, ClickBurstPerClient: 2, TrustForwardedFor: true})
	a := tr.addTenant(t, "本店")
	ctx := context.Background()
	client, _ := relayclient.New(relayclient.Config{Enrollment: a.enroll, Keys: a.keys})
	tok := newToken(t)
	const target = "https://www.example.jp/teiki"
	if err := client.PublishLinks(ctx, []wire.Link{{Token: tok, URL: target, ExpiresAt: now.Add(time.Hour).UnixMilli()}}); err != nil {
		t.Fatal(err)
	}
	u := tr.http.URL + "/c/" + a.id + "/" + tok
	for i, xff := range []string{
		"198.51.100.1", "198.51.100.1", "198.51.100.1", // queued, queued, limited
		"203.0.113.9, 198.51.100.1",                                  // the client's own entry in front: still limited
		"198.51.100.2",                                               // another address: queued
		"2001:db8:1:2::1", "2001:db8:1:2::ffff", "2001:db8:1:2:3::1", // one /64: queued, queued, limited
	} {
		if st, loc := getFrom(t, u, xff); st != http.StatusFound || loc != target {
			t.Fatalf("click %d from %s: %d %q", i, xff, st, loc)
		}
	}
	m := scrape(t, tr.srv)
	if l := metricLine(m, `tsunagu_relay_clicks_total{result="queued",tenant="`+a.id+`"}`); !strings.HasSuffix(l, " 5") {
		t.Fatalf("queued: %q", l)
	}
	if l := metricLine(m, `tsunagu_relay_clicks_total{result="client_limited",tenant="`+a.id+`"}`); !strings.HasSuffix(l, " 3") {
		t.Fatalf("client_limited: %q", l)
	}
	var s clickSink
	if n, err := client.DrainBatch(ctx, s.handle); err != nil || n != 5 {
		t.Fatalf("drained %d: %v", n, err)
	}
}

// Without TrustForwardedFor the header is the client's to invent: the
// connection's address counts.
func TestClickLimitIgnoresForwardedForWithoutAProxy(t *testing.T) {
	now := time.Now()
	tr := newRelay(t, relay.Config{Clock: func() time.Time { return now }, ClickRatePerClient: 1, ClickBurstPerClient: 1})
	a := tr.addTenant(t, "本店")
	client, _ := relayclient.New(relayclient.Config{Enrollment: a.enroll, Keys: a.keys})
	tok := newToken(t)
	if err := client.PublishLinks(context.Background(), []wire.Link{{Token: tok, URL: "https://www.example.jp/", ExpiresAt: now.Add(time.Hour).UnixMilli()}}); err != nil {
		t.Fatal(err)
	}
	u := tr.http.URL + "/c/" + a.id + "/" + tok
	getFrom(t, u, "198.51.100.1")
	getFrom(t, u, "198.51.100.2")
	m := scrape(t, tr.srv)
	if l := metricLine(m, `tsunagu_relay_clicks_total{result="client_limited",tenant="`+a.id+`"}`); !strings.HasSuffix(l, " 1") {
		t.Fatalf("client_limited: %q", l)
	}
}

// The link lifetime cap: a link published with an expiry past LinkTTL
// redirects until now+LinkTTL, then gets the neutral page; one within the
// cap keeps its own expiry.
func TestLinkLifetimeCap(t *testing.T) {
	now := time.Now()
	var cmu sync.Mutex
	clock := func() time.Time { cmu.Lock(); defer cmu.Unlock(); return now }
	tr := newRelay(t, relay.Config{Clock: clock, LinkTTL: 48 * time.Hour})
	a := tr.addTenant(t, "本店")
	client, _ := relayclient.New(relayclient.Config{Enrollment: a.enroll, Keys: a.keys})
	long, short := newToken(t), newToken(t)
	const target = "https://www.example.jp/"
	if err := client.PublishLinks(context.Background(), []wire.Link{
		{Token: long, URL: target, ExpiresAt: now.Add(180 * 24 * time.Hour).UnixMilli()},
		{Token: short, URL: target, ExpiresAt: now.Add(24 * time.Hour).UnixMilli()},
	}); err != nil {
		t.Fatal(err)
	}
	at := func(d time.Duration, tok string) int {
		cmu.Lock()
		saved := now
		now = now.Add(d)
		cmu.Unlock()
		defer func() { cmu.Lock(); now = saved; cmu.Unlock() }()
		st, _, _ := get(t, tr.http.URL+"/c/"+a.id+"/"+tok)
		return st
	}
	if st := at(47*time.Hour, long); st != http.StatusFound {
		t.Fatalf("long link within the cap: %d", st)
	}
	if st := at(49*time.Hour, long); st != http.StatusOK {
		t.Fatalf("long link past the cap: %d, want the neutral page", st)
	}
	if st, st2 := at(23*time.Hour, short), at(25*time.Hour, short); st != http.StatusFound || st2 != http.StatusOK {
		t.Fatalf("short link: %d then %d", st, st2)
	}
}
