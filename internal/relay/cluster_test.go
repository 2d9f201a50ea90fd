package relay_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"tsunagu/internal/relay"
	"tsunagu/internal/relayclient"
)

// startNATS runs a nats-server with JetStream on a free loopback port.
func startNATS(t *testing.T, maxPayload int32) *server.Server {
	t.Helper()
	ns, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: filepath.Join(t.TempDir(), "js"),
		SyncAlways: true, NoLog: true, NoSigs: true, MaxPayload: maxPayload,
	})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	return ns
}

// TestExternalNATSTooSmallPayloadRefused: a NATS whose max_payload cannot
// carry a sealed body of the documented maximum is refused at start, with
// a message that says what to set, rather than answering such webhooks
// 503 forever.
func TestExternalNATSTooSmallPayloadRefused(t *testing.T) {
	ns := startNATS(t, 0) // nats-server's default, 1 MiB
	_, err := relay.New(context.Background(), relay.Config{NATSURL: ns.ClientURL()})
	if err == nil || !strings.Contains(err.Error(), "max_payload") {
		t.Fatalf("relay on a 1 MiB max_payload NATS: %v", err)
	}
}

// TestTwoRelaysOneExternalNATS: two relay instances on one external NATS
// server (as behind a load balancer). Enrolled through one, webhooks posted
// to either reach the desktop connected to the other, each exactly once.
func TestTwoRelaysOneExternalNATS(t *testing.T) {
	ns := startNATS(t, 2<<20)
	a := newRelay(t, relay.Config{NATSURL: ns.ClientURL()})
	b := newRelay(t, relay.Config{NATSURL: ns.ClientURL()})

	tn := a.addTenant(t, "branch") // enrolled through A
	hookB := strings.Replace(tn.hook, a.http.URL, b.http.URL, 1)

	s := newSink()
	en := tn.enroll
	en.RelayURL = b.http.URL // the desktop connects to B
	runClient(t, en, tn.keys, s.handle)

	const n = 10
	for i := range n {
		url := tn.hook
		if i%2 == 1 {
			url = hookB
		}
		body := hookBody(i, fmt.Sprintf("via %d", i))
		deadline := time.Now().Add(3 * time.Second)
		for {
			// B learns of the enrollment through the KV watch.
			code := post(t, url, body, sign(testSecret, body))
			if code == http.StatusOK {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("post %d: %d", i, code)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	s.wait(t, n, 10*time.Second)
	time.Sleep(300 * time.Millisecond)
	got := s.got()
	if len(got) != n {
		t.Fatalf("delivered %d, want %d exactly once", len(got), n)
	}
	seen := map[string]bool{}
	for _, g := range got {
		if seen[g] {
			t.Fatalf("delivered twice: %s", g)
		}
		seen[g] = true
	}
	// Both instances report the shared queue as empty.
	for _, r := range []*testRelay{a, b} {
		eventually(t, 3*time.Second, func() bool {
			return strings.HasSuffix(metricLine(scrape(t, r.srv), `tsunagu_relay_queue_depth{tenant="`+tn.id+`"}`), " 0")
		}, "empty queue on both instances")
	}
	// Media uploaded through one instance is served by the other.
	c, _ := relayclient.New(relayclient.Config{Enrollment: tn.enroll, Keys: tn.keys})
	u, err := c.UploadMedia(context.Background(), pngBytes(t), "image/png")
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.Get(strings.Replace(u, a.http.URL, b.http.URL, 1))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("media via the other instance: %v %v", res, err)
	}
}
