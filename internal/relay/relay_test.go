package relay_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tsunagu/internal/line"
	"tsunagu/internal/relay"
	"tsunagu/internal/relayclient"
)

// TestIntakeQueueDeliveryAck: webhooks posted while the desktop is offline
// are queued sealed; when it connects they arrive in order, their LINE
// signatures verify after opening, and once acked they leave the queue.
// The relay's files and log hold no plaintext of the message.
func TestIntakeQueueDeliveryAck(t *testing.T) {
	dir := t.TempDir()
	var logBuf syncBuffer
	tr := newRelay(t, relay.Config{DataDir: dir, Logger: slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	tn := tr.addTenant(t, "信用金庫 本店")

	const secretText = "PLAINTEXT-CANARY-定期預金の満期"
	const n = 20
	for i := range n {
		body := hookBody(i, fmt.Sprintf("%s %d", secretText, i))
		if code := post(t, tn.hook, body, sign(testSecret, body)); code != http.StatusOK {
			t.Fatalf("post %d: %d", i, code)
		}
	}
	m := scrape(t, tr.srv)
	if got := metricLine(m, `tsunagu_relay_queue_depth{tenant="`+tn.id+`"}`); !strings.HasSuffix(got, " 20") {
		t.Fatalf("queue depth: %q", got)
	}
	if got := metricLine(m, `tsunagu_relay_webhooks_queued_total{tenant="`+tn.id+`"}`); !strings.HasSuffix(got, " 20") {
		t.Fatalf("queued: %q", got)
	}
	if strings.Contains(m, "信用金庫") {
		t.Fatal("tenant name in metrics")
	}

	// Nothing on disk or in the log reads as the message.
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := os.ReadFile(p)
		if bytes.Contains(b, []byte("PLAINTEXT-CANARY")) || bytes.Contains(b, []byte("U0123456789abcdef")) {
			t.Errorf("%s holds plaintext", p)
		}
		return nil
	})
	if strings.Contains(logBuf.String(), "CANARY") {
		t.Error("log holds plaintext")
	}

	v := line.NewVerifier(testSecret)
	s := newSink()
	s.fail = func(body []byte) error {
		return nil
	}
	var verified atomic.Int64
	client, _ := runClient(t, tn.enroll, tn.keys, func(ctx context.Context, body []byte, sig string) error {
		if _, err := v.Parse(body, sig); err != nil {
			return fmt.Errorf("%w: %w", relayclient.ErrDrop, err)
		}
		verified.Add(1)
		return s.handle(ctx, body, sig)
	})
	s.wait(t, n, 10*time.Second)
	for i, b := range s.got() {
		if !strings.Contains(b, fmt.Sprintf("%s %d", secretText, i)) {
			t.Fatalf("event %d out of order: %s", i, b)
		}
	}
	if verified.Load() != n {
		t.Fatalf("verified %d", verified.Load())
	}
	eventually(t, 5*time.Second, func() bool {
		return strings.HasSuffix(metricLine(scrape(t, tr.srv), `tsunagu_relay_queue_depth{tenant="`+tn.id+`"}`), " 0")
	}, "queue to empty after acks")
	if got := metricLine(scrape(t, tr.srv), `tsunagu_relay_events_delivered_total{tenant="`+tn.id+`"}`); !strings.HasSuffix(got, " 20") {
		t.Fatalf("delivered: %q", got)
	}

	// Live: a webhook posted while connected arrives at once.
	body := hookBody(99, "live")
	start := time.Now()
	if code := post(t, tn.hook, body, sign(testSecret, body)); code != http.StatusOK {
		t.Fatal(code)
	}
	s.wait(t, 1, 5*time.Second)
	if d := time.Since(start); d > time.Second {
		t.Fatalf("live delivery took %v", d)
	}
	// The status counts an event once its handler has returned.
	eventually(t, 2*time.Second, func() bool { return client.Status().Handled == n+1 }, "handled count")
	if st := client.Status(); st.State != relayclient.StateConnected || st.LastEventAt.IsZero() || st.Dropped != 0 {
		t.Fatalf("status %+v", st)
	}
}

// TestRejections: unknown tenant or token 404 (counted), oversized body
// 413, unsigned 400.
func TestRejections(t *testing.T) {
	tr := newRelay(t, relay.Config{MaxBody: 4096})
	tn := tr.addTenant(t, "branch")
	body := hookBody(1, "x")
	sig := sign(testSecret, body)
	base := tr.http.URL
	cases := []struct {
		name string
		url  string
		body []byte
		sig  string
		want int
	}{
		{"unknown tenant", base + "/hook/t000000000000/" + strings.Repeat("A", 43), body, sig, 404},
		{"malformed tenant", base + "/hook/..%2f/abc", body, sig, 404},
		{"wrong token", tn.hook[:len(tn.hook)-4] + "AAAA", body, sig, 404},
		{"no token", base + "/hook/" + tn.id + "/", body, sig, 404},
		{"oversize", tn.hook, bytes.Repeat([]byte("x"), 5000), sig, 413},
		{"unsigned", tn.hook, body, "", 400},
		{"ok", tn.hook, body, sig, 200},
	}
	for _, tc := range cases {
		if got := post(t, tc.url, tc.body, tc.sig); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
	// Oversize without a Content-Length (chunked) is refused while reading.
	req, _ := http.NewRequest(http.MethodPost, tn.hook, io.MultiReader(bytes.NewReader(bytes.Repeat([]byte("y"), 8000))))
	req.Header.Set("X-Line-Signature", sig)
	req.ContentLength = -1
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 413 {
		t.Errorf("chunked oversize: %d", res.StatusCode)
	}
	m := scrape(t, tr.srv)
	for prefix, want := range map[string]string{
		`tsunagu_relay_rejected_total{reason="unknown",tenant=""}`:                " 3", // "no token" never reaches the handler
		`tsunagu_relay_rejected_total{reason="too_large",tenant="` + tn.id + `"}`: " 2",
		`tsunagu_relay_rejected_total{reason="unsigned",tenant="` + tn.id + `"}`:  " 1",
		`tsunagu_relay_webhooks_queued_total{tenant="` + tn.id + `"}`:             " 1",
	} {
		if got := metricLine(m, prefix); !strings.HasSuffix(got, want) {
			t.Errorf("metric %s: %q, want%s", prefix, got, want)
		}
	}
	if !strings.Contains(m, "tsunagu_relay_webhook_ack_seconds_bucket") || !strings.Contains(m, "tsunagu_relay_queue_oldest_age_seconds{tenant=\""+tn.id+"\"}") {
		t.Error("ack latency or queue age missing from metrics")
	}
	// Health.
	res, err = http.Get(base + "/healthz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", res, err)
	}
}

// TestFloodedTenantDoesNotStarveOthers: one tenant posting far over its
// rate gets 429s, while another tenant's webhooks are all answered 200
// quickly at the same time.
func TestFloodedTenantDoesNotStarveOthers(t *testing.T) {
	tr := newRelay(t, relay.Config{TenantRate: 50, TenantBurst: 50})
	flood := tr.addTenant(t, "flooded")
	calm := tr.addTenant(t, "calm")

	stop := make(chan struct{})
	var floodOK, flood429 atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			body := hookBody(1, "flood")
			sig := sign(testSecret, body)
			for i := 0; i < 400; i++ {
				select {
				case <-stop:
					return
				default:
				}
				switch post(t, flood.hook, body, sig) {
				case 200:
					floodOK.Add(1)
				case 429:
					flood429.Add(1)
				}
			}
		})
	}
	time.Sleep(100 * time.Millisecond)
	var worst time.Duration
	for i := range 30 {
		body := hookBody(i, "calm")
		start := time.Now()
		if code := post(t, calm.hook, body, sign(testSecret, body)); code != 200 {
			t.Fatalf("calm tenant answered %d during the flood", code)
		}
		worst = max(worst, time.Since(start))
	}
	close(stop)
	wg.Wait()
	t.Logf("flood: %d accepted, %d refused; calm tenant worst ack %v", floodOK.Load(), flood429.Load(), worst)
	if flood429.Load() == 0 {
		t.Fatal("flooded tenant was never rate-limited")
	}
	if worst > time.Second {
		t.Fatalf("calm tenant waited %v", worst)
	}
	m := scrape(t, tr.srv)
	if got := metricLine(m, `tsunagu_relay_rejected_total{reason="rate",tenant="`+flood.id+`"}`); got == "" {
		t.Fatal("rate rejections not counted")
	}
	if got := metricLine(m, `tsunagu_relay_rejected_total{reason="rate",tenant="`+calm.id+`"}`); got != "" {
		t.Fatalf("calm tenant rate-limited: %s", got)
	}
}

// TestQueueCap: a tenant whose desktop is away for long stops at its cap
// (503, so LINE retries later) without touching other tenants.
func TestQueueCap(t *testing.T) {
	tr := newRelay(t, relay.Config{MaxQueuedPerTenant: 5})
	a := tr.addTenant(t, "a")
	b := tr.addTenant(t, "b")
	body := hookBody(1, "x")
	sig := sign(testSecret, body)
	for i := range 5 {
		if code := post(t, a.hook, body, sig); code != 200 {
			t.Fatalf("post %d: %d", i, code)
		}
	}
	if code := post(t, a.hook, body, sig); code != http.StatusServiceUnavailable {
		t.Fatalf("over the cap: %d", code)
	}
	if code := post(t, b.hook, body, sig); code != 200 {
		t.Fatalf("other tenant: %d", code)
	}
}

// TestUnackedRedeliveredAfterReconnect: the desktop's handler fails (its
// DB was busy, or it crashed before acking); the event is not acked, the
// connection resets, and the same event comes again, first, in order.
func TestUnackedRedeliveredAfterReconnect(t *testing.T) {
	tr := newRelay(t, relay.Config{})
	tn := tr.addTenant(t, "branch")
	for i := range 3 {
		body := hookBody(i, fmt.Sprintf("m%d", i))
		post(t, tn.hook, body, sign(testSecret, body))
	}
	var attempts atomic.Int64
	s := newSink()
	s.fail = func(body []byte) error {
		if strings.Contains(string(body), `"m1"`) && attempts.Add(1) <= 2 {
			return errTransient
		}
		return nil
	}
	client, _ := runClient(t, tn.enroll, tn.keys, s.handle)
	s.wait(t, 3, 10*time.Second)
	got := s.got()
	for i, b := range got {
		if !strings.Contains(b, fmt.Sprintf(`"m%d"`, i)) {
			t.Fatalf("order after redelivery: %v", got)
		}
	}
	if attempts.Load() != 3 {
		t.Fatalf("m1 attempted %d times, want 3", attempts.Load())
	}
	if st := client.Status(); st.Connects < 3 {
		t.Fatalf("want reconnects, status %+v", st)
	}
}

// TestDesktopCrashBeforeAck: a desktop that received a batch and vanished
// without acking (the process died) gets it again on its next connection.
func TestDesktopCrashBeforeAck(t *testing.T) {
	tr := newRelay(t, relay.Config{})
	tn := tr.addTenant(t, "branch")
	body := hookBody(7, "crash")
	if code := post(t, tn.hook, body, sign(testSecret, body)); code != 200 {
		t.Fatalf("post: %d", code)
	}

	got := make(chan struct{})
	var once sync.Once
	crashed, crash := context.WithCancel(context.Background())
	first, _ := relayclient.New(relayclient.Config{Enrollment: tn.enroll, Keys: tn.keys})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		first.Run(crashed, func(ctx context.Context, _ []byte, _ string) error {
			once.Do(func() { close(got) })
			<-ctx.Done() // dies mid-handler: never returns nil
			return ctx.Err()
		})
	}()
	select {
	case <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("the first desktop never got the event")
	}
	crash()
	<-stopped

	s := newSink()
	runClient(t, tn.enroll, tn.keys, s.handle)
	s.wait(t, 1, 10*time.Second)
	if !strings.Contains(s.got()[0], "crash") {
		t.Fatal("wrong event")
	}
}

// TestWrongClientKeyRefused: a desktop with keys other than the enrolled
// ones cannot connect, nor upload; a removed tenant's desktop neither.
func TestWrongClientKeyRefused(t *testing.T) {
	tr := newRelay(t, relay.Config{})
	tn := tr.addTenant(t, "branch")
	other, _ := relayclient.GenerateKeys()
	c, err := relayclient.New(relayclient.Config{Enrollment: tn.enroll, Keys: other})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Drain(context.Background(), newSink().handle); !errors.Is(err, relayclient.ErrUnauthorized) {
		t.Fatalf("wrong key: %v", err)
	}
	if _, err := c.UploadMedia(context.Background(), pngBytes(t), "image/png"); !errors.Is(err, relayclient.ErrUnauthorized) {
		t.Fatalf("upload with wrong key: %v", err)
	}
	if !strings.HasSuffix(metricLine(scrape(t, tr.srv), `tsunagu_relay_rejected_total{reason="auth",tenant=""}`), " 2") {
		t.Fatal("auth rejections not counted")
	}
	// The enrolled keys work; the code cannot be used twice.
	good, _ := relayclient.New(relayclient.Config{Enrollment: tn.enroll, Keys: tn.keys})
	if _, err := good.Drain(context.Background(), newSink().handle); err != nil {
		t.Fatalf("right key: %v", err)
	}
	// Disabled: webhooks 404, connections refused; enabled again: back.
	admin := tr.srv.Admin()
	if err := admin.SetDisabled(context.Background(), tn.id, true); err != nil {
		t.Fatal(err)
	}
	body := hookBody(1, "x")
	eventually(t, 2*time.Second, func() bool { return post(t, tn.hook, body, sign(testSecret, body)) == 404 }, "disabled tenant 404")
	if _, err := good.Drain(context.Background(), newSink().handle); !errors.Is(err, relayclient.ErrUnauthorized) {
		t.Fatalf("disabled tenant connected: %v", err)
	}
	admin.SetDisabled(context.Background(), tn.id, false)
	eventually(t, 2*time.Second, func() bool { return post(t, tn.hook, body, sign(testSecret, body)) == 200 }, "re-enabled tenant 200")
	// Removed: gone for good.
	if err := admin.RemoveTenant(context.Background(), tn.id); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Second, func() bool { return post(t, tn.hook, body, sign(testSecret, body)) == 404 }, "removed tenant 404")
	list, _ := admin.ListTenants(context.Background())
	if len(list) != 0 {
		t.Fatalf("removed tenant still listed: %+v", list)
	}
}

func TestEnrollmentCode(t *testing.T) {
	tr := newRelay(t, relay.Config{})
	ctx := context.Background()
	info, code, err := tr.srv.Admin().AddTenant(ctx, "branch")
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := relayclient.GenerateKeys()
	last := "A"
	if code[len(code)-1] == 'A' {
		last = "B"
	}
	bad := code[:len(code)-1] + last
	for name, c := range map[string]string{"wrong": bad, "empty": "", "no tenant": "t000000000000-AAAA"} {
		if _, err := relayclient.Enroll(ctx, nil, tr.http.URL, c, keys, relayclient.HTTPLoopback); !errors.Is(err, relayclient.ErrBadCode) {
			t.Errorf("%s code: %v", name, err)
		}
	}
	// Lower case and spaces, as typed from paper, are fine.
	en, err := relayclient.Enroll(ctx, nil, tr.http.URL, " "+strings.ToLower(strings.ReplaceAll(code, "-", " - "))+"\n", keys, relayclient.HTTPLoopback)
	if err != nil {
		t.Fatalf("typed code: %v", err)
	}
	if en.Tenant != info.ID {
		t.Fatal(en)
	}
	if _, err := relayclient.Enroll(ctx, nil, tr.http.URL, code, keys, relayclient.HTTPLoopback); !errors.Is(err, relayclient.ErrBadCode) {
		t.Fatalf("code reused: %v", err)
	}
	list, _ := tr.srv.Admin().ListTenants(ctx)
	if len(list) != 1 || !list[0].Enrolled || list[0].Name != "branch" {
		t.Fatalf("list %+v", list)
	}
	// A new code re-enrolls (a replaced PC): new keys, new webhook token.
	code2, err := tr.srv.Admin().ReissueCode(ctx, info.ID)
	if err != nil {
		t.Fatal(err)
	}
	keys2, _ := relayclient.GenerateKeys()
	en2, err := relayclient.Enroll(ctx, nil, tr.http.URL, code2, keys2, relayclient.HTTPLoopback)
	if err != nil || en2.WebhookURL == en.WebhookURL {
		t.Fatalf("re-enroll: %v %v", en2, err)
	}
	body := hookBody(1, "x")
	eventually(t, 2*time.Second, func() bool { return post(t, en.WebhookURL, body, "s") == 404 }, "old token refused")
}

// TestMedia: an enrolled desktop uploads an image and gets an unguessable
// URL that serves it; wrong types, sizes and replayed challenges are
// refused; after the TTL it is gone.
func TestMedia(t *testing.T) {
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	tr := newRelay(t, relay.Config{MaxMedia: 64 << 10, Clock: clock})
	tn := tr.addTenant(t, "branch")
	c, _ := relayclient.New(relayclient.Config{Enrollment: tn.enroll, Keys: tn.keys})
	ctx := context.Background()
	img := pngBytes(t)
	u, err := c.UploadMedia(ctx, img, "image/png")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u, tr.http.URL+"/media/"+tn.id+"/") || len(u)-len(tr.http.URL+"/media/"+tn.id+"/") < 22 {
		t.Fatalf("media URL %s", u)
	}
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !bytes.Equal(got, img) || res.Header.Get("Content-Type") != "image/png" || res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("GET media: %d %s", res.StatusCode, res.Header)
	}
	if _, err := c.UploadMedia(ctx, []byte("<html>"), "image/png"); err == nil {
		t.Error("HTML uploaded as PNG")
	}
	if _, err := c.UploadMedia(ctx, img, "image/gif"); err == nil {
		t.Error("GIF accepted")
	}
	big := append(bytes.Clone(img), make([]byte, 70<<10)...)
	if _, err := c.UploadMedia(ctx, big, "image/png"); err == nil || !strings.Contains(err.Error(), "413") {
		t.Errorf("oversize: %v", err)
	}
	if res, _ := http.Get(tr.http.URL + "/media/" + tn.id + "/AAAAAAAAAAAAAAAAAAAAAA"); res.StatusCode != 404 {
		t.Errorf("guessed id: %d", res.StatusCode)
	}
	mu.Lock()
	now = now.Add(7*24*time.Hour + time.Minute)
	mu.Unlock()
	if res, _ := http.Get(u); res.StatusCode != 404 {
		t.Errorf("expired media served: %d", res.StatusCode)
	}
}

func pngBytes(t *testing.T) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
