//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"tsunagu/internal/relayclient"
)

func signed(body []byte) string {
	mac := hmac.New(sha256.New, []byte("secret"))
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func webhook(i int, text string) []byte {
	return fmt.Appendf(nil, `{"destination":"U1","events":[{"type":"message","webhookEventId":"E%06d","message":{"type":"text","text":%q}}]}`, i, text)
}

// enrollTenant adds a tenant through the CLI (reaching the running relay
// through its admin file) and enrolls fresh keys with the code.
func enrollTenant(t *testing.T, bin, dir, base string) (relayclient.Enrollment, relayclient.Keys) {
	t.Helper()
	out := relayCmd(t, bin, "tenant", "add", "支店", "--data-dir", dir)
	code := regexp.MustCompile(`code[^:]*: (\S+)`).FindStringSubmatch(out)
	if code == nil {
		t.Fatalf("no code in %q", out)
	}
	keys, _ := relayclient.GenerateKeys()
	en, err := relayclient.Enroll(context.Background(), nil, base, code[1], keys, relayclient.HTTPLoopback)
	if err != nil {
		t.Fatal(err)
	}
	return en, keys
}

func postHook(t *testing.T, hc *http.Client, url string, body []byte) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("X-Line-Signature", signed(body))
	res, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

func scrapeMetric(t *testing.T, addr, prefix string) (float64, bool) {
	t.Helper()
	res, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	for l := range strings.Lines(string(b)) {
		if strings.HasPrefix(l, prefix) {
			f := strings.Fields(l)
			v, err := strconv.ParseFloat(f[len(f)-1], 64)
			return v, err == nil
		}
	}
	return 0, false
}

// TestTwoRelaysOnOneHost: two `serve` processes with their own data
// folders on one machine both work. Each embedded NATS listens on a free
// port (not 4222) named in its admin file, and the tenant commands reach
// each running relay through it.
func TestTwoRelaysOnOneHost(t *testing.T) {
	bin := buildRelay(t)
	urls := map[string]bool{}
	for i := range 2 {
		dir := t.TempDir()
		p := runRelay(t, bin, dir, "--metrics-listen", "127.0.0.1:0")
		var ai adminInfo
		data, err := os.ReadFile(filepath.Join(dir, adminFile))
		if err != nil || json.Unmarshal(data, &ai) != nil {
			t.Fatalf("relay %d admin file: %v %s", i, err, data)
		}
		if strings.HasSuffix(ai.URL, ":4222") || urls[ai.URL] {
			t.Fatalf("relay %d embedded NATS on %s (others: %v)", i, ai.URL, urls)
		}
		urls[ai.URL] = true
		nc, err := nats.Connect(ai.URL, nats.Token(ai.Token), nats.Timeout(2*time.Second))
		if err != nil {
			t.Fatalf("relay %d admin URL %s does not reach its NATS: %v", i, ai.URL, err)
		}
		nc.Close()
		en, keys := enrollTenant(t, bin, dir, p.base)
		for j := range 3 {
			if code := postHook(t, http.DefaultClient, en.WebhookURL, webhook(j, fmt.Sprintf("relay %d", i))); code != 200 {
				t.Fatalf("relay %d post %d: %d", i, j, code)
			}
		}
		c, _ := relayclient.New(relayclient.Config{Enrollment: en, Keys: keys})
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		n, err := c.Drain(ctx, func(context.Context, []byte, string) error { return nil })
		cancel()
		if err != nil || n != 3 {
			t.Fatalf("relay %d drained %d: %v", i, n, err)
		}
	}
}

// TestDeadLettersCommand: an event the desktop keeps failing on moves to
// the dead letters after --max-deliveries; the events behind it arrive;
// `tenant deadletters` lists it and --replay puts it back.
func TestDeadLettersCommand(t *testing.T) {
	bin := buildRelay(t)
	dir := t.TempDir()
	p := runRelay(t, bin, dir, "--max-deliveries", "2")
	en, keys := enrollTenant(t, bin, dir, p.base)
	for i, txt := range []string{"a", "poison", "b"} {
		if code := postHook(t, http.DefaultClient, en.WebhookURL, webhook(i, txt)); code != 200 {
			t.Fatal(code)
		}
	}
	var mu sync.Mutex
	var got []string
	c, _ := relayclient.New(relayclient.Config{Enrollment: en, Keys: keys, MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Run(ctx, func(_ context.Context, body []byte, _ string) error {
			if bytes.Contains(body, []byte(`"poison"`)) {
				return fmt.Errorf("cannot store it")
			}
			mu.Lock()
			got = append(got, string(body))
			mu.Unlock()
			return nil
		})
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of 2 events behind the poison arrived", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
	tenant := en.Tenant
	var dead []map[string]any
	if err := json.Unmarshal([]byte(relayCmd(t, bin, "tenant", "deadletters", tenant, "--json", "--data-dir", dir)), &dead); err != nil || len(dead) != 1 {
		t.Fatalf("deadletters: %v %v", dead, err)
	}
	if dead[0]["reason"] != "deliveries" || dead[0]["deliveries"] != 2.0 {
		t.Fatalf("dead letter %v", dead[0])
	}
	if out := relayCmd(t, bin, "tenant", "deadletters", tenant, "--replay", "--data-dir", dir); !strings.Contains(out, "1 dead letter") {
		t.Fatalf("replay: %s", out)
	}
	var replayed string
	dctx, dcancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer dcancel()
	if n, err := c.Drain(dctx, func(_ context.Context, body []byte, _ string) error { replayed = string(body); return nil }); err != nil || n != 1 || !strings.Contains(replayed, "poison") {
		t.Fatalf("after replay: %d %v %q", n, err, replayed)
	}
	if out := relayCmd(t, bin, "tenant", "list", "--data-dir", dir); !regexp.MustCompile(`(?m)^` + tenant + `.*\s0\s+0\s+\S+$`).MatchString(out) {
		t.Fatalf("tenant list after replay (queued, bytes, dead): %s", out)
	}
}

// TestSlowClientsDoNotStarveWebhooks: 5,000 slow clients hold connections
// to a relay process (half trickling headers, half trickling chunked bodies
// to the tenant's own webhook URL) for several seconds; meanwhile another
// client's webhooks are acknowledged within 100 ms at the 99th percentile,
// /healthz answers every time, the slow bodies count as timeouts and not
// as the tenant's rate limiting, and every real webhook reaches the desktop.
func TestSlowClientsDoNotStarveWebhooks(t *testing.T) {
	const slow, addrs = 5000, 50 // 100 connections from each of 50 addresses
	var rl syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl)
	rl.Cur = rl.Max
	syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
	if rl.Cur < slow+1000 {
		t.Skipf("needs %d open files, the hard limit is %d", slow+1000, rl.Max)
	}
	bin := buildRelay(t)
	dir := t.TempDir()
	p := runRelay(t, bin, dir, "--metrics-listen", "127.0.0.1:0", "--max-conns", "6000",
		"--max-conns-per-client", "128", "--body-timeout", "6s", "--header-timeout", "5s")
	en, keys := enrollTenant(t, bin, dir, p.base)
	addr := strings.TrimPrefix(p.base, "http://")
	path := strings.TrimPrefix(en.WebhookURL, p.base)

	// The slow clients run in a process of their own (testdata/slowclients,
	// built without the race detector), so that their 5,000 goroutines do
	// not share a scheduler with the client whose latency is measured.
	genBin := filepath.Join(t.TempDir(), "slowclients")
	if out, err := exec.Command("go", "build", "-o", genBin, "./testdata/slowclients").CombinedOutput(); err != nil {
		t.Fatalf("build the slow-client generator: %v\n%s", err, out)
	}
	gen := exec.Command(genBin, addr, path, strconv.Itoa(slow), strconv.Itoa(addrs))
	genIn, _ := gen.StdinPipe()
	genOut, _ := gen.StdoutPipe()
	if err := gen.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gen.Process.Kill(); gen.Wait() })
	var open atomic.Int64
	go func() {
		sc := bufio.NewScanner(genOut)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "open "); ok {
				n, _ := strconv.ParseInt(v, 10, 64)
				open.Store(n)
			}
		}
	}()
	for deadline := time.Now().Add(30 * time.Second); open.Load() < slow*9/10; {
		if time.Now().After(deadline) {
			t.Fatalf("only %d slow clients connected", open.Load())
		}
		time.Sleep(50 * time.Millisecond)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()

	// The other client: 50 webhooks/s for 10 s (500, so that p99 is not
	// just the second-worst), and a health probe every 250 ms, while the
	// slow clients come and go.
	hc := &http.Client{Timeout: 5 * time.Second}
	const n = 500
	var lat []time.Duration
	var healthFail atomic.Int64
	var probes atomic.Int64
	hdone := make(chan struct{})
	go func() {
		defer close(hdone)
		tk := time.NewTicker(250 * time.Millisecond)
		defer tk.Stop()
		hcl := &http.Client{Timeout: time.Second}
		for ctx.Err() == nil {
			res, err := hcl.Get(p.base + "/healthz")
			probes.Add(1)
			if err != nil || res.StatusCode != 200 {
				healthFail.Add(1)
			}
			if err == nil {
				res.Body.Close()
			}
			select {
			case <-ctx.Done():
			case <-tk.C:
			}
		}
	}()
	peak := 0.0
	start := time.Now()
	for i := range n {
		time.Sleep(time.Until(start.Add(time.Duration(i) * 20 * time.Millisecond)))
		t0 := time.Now()
		if code := postHook(t, hc, en.WebhookURL, webhook(i, fmt.Sprintf("real %d", i))); code != 200 {
			t.Fatalf("webhook %d under slow-client load: %d", i, code)
		}
		lat = append(lat, time.Since(t0))
		if i%100 == 0 {
			if v, ok := scrapeMetric(t, p.metrics, "tsunagu_relay_open_connections"); ok {
				peak = max(peak, v)
			}
		}
	}
	heldOpen := open.Load()
	stop()
	<-hdone
	genIn.Close() // the generator stops
	gen.Wait()

	slices.Sort(lat)
	p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
	timeouts, _ := scrapeMetric(t, p.metrics, `tsunagu_relay_rejected_total{reason="timeout",tenant="`+en.Tenant+`"}`)
	// The relay's own view (receipt to 200), to tell its time from the
	// machine's scheduling of this test process.
	in100, _ := scrapeMetric(t, p.metrics, `tsunagu_relay_webhook_ack_seconds_bucket{le="0.1"}`)
	all, _ := scrapeMetric(t, p.metrics, `tsunagu_relay_webhook_ack_seconds_count`)
	t.Logf("slow clients: %d open at the end, relay peak %.0f connections; webhook ack p50 %v p99 %v max %v (relay side: %.0f of %.0f within 100 ms); health %d/%d failed; %.0f slow bodies timed out",
		heldOpen, peak, p50, p99, lat[len(lat)-1], in100, all, healthFail.Load(), probes.Load(), timeouts)
	if peak < slow*8/10 {
		t.Fatalf("the relay held only %.0f connections at most: the load did not reach it", peak)
	}
	if p99 > 100*time.Millisecond {
		t.Fatalf("webhook ack p99 %v under slow-client load, want < 100 ms", p99)
	}
	if healthFail.Load() > 0 || probes.Load() < 20 {
		t.Fatalf("/healthz failed %d of %d times", healthFail.Load(), probes.Load())
	}
	if timeouts == 0 {
		t.Fatal("no slow body was cut by the body timeout")
	}
	if v, ok := scrapeMetric(t, p.metrics, `tsunagu_relay_rejected_total{reason="rate",tenant="`+en.Tenant+`"}`); ok {
		t.Fatalf("slow clients counted as the tenant's rate limiting: %v", v)
	}
	c, _ := relayclient.New(relayclient.Config{Enrollment: en, Keys: keys})
	var got []string
	dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.Drain(dctx, func(_ context.Context, body []byte, _ string) error { got = append(got, string(body)); return nil }); err != nil || len(got) != n {
		t.Fatalf("desktop got %d of %d webhooks: %v", len(got), n, err)
	}
	for i, b := range got {
		if !strings.Contains(b, fmt.Sprintf(`"real %d"`, i)) {
			t.Fatalf("webhook %d out of order", i)
		}
	}
}
