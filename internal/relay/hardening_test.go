package relay_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"tsunagu/internal/line"
	"tsunagu/internal/relay"
	"tsunagu/internal/relay/wire"
	"tsunagu/internal/relayclient"
)

// shapedJunk is a body that looks like a LINE webhook (the relay cannot
// tell otherwise: it does not hold the channel secret) padded to exactly n
// bytes.
func shapedJunk(n int) []byte {
	head := []byte(`{"destination":"Ujunk","events":[],"pad":"`)
	if n < len(head)+2 {
		return nil
	}
	b := append(head, bytes.Repeat([]byte("j"), n-len(head)-2)...)
	return append(b, '"', '}')
}

// verifying is the desktop's handler: LINE's signature check (a failure is
// dropped and acked, as the desktop does), then the sink.
func verifying(s *sink) relayclient.Handler {
	v := line.NewVerifier(testSecret)
	return func(ctx context.Context, body []byte, sig string) error {
		if _, err := v.Parse(body, sig); err != nil {
			return fmt.Errorf("%w: %w", relayclient.ErrDrop, err)
		}
		return s.handle(ctx, body, sig)
	}
}

func postChunked(t testing.TB, url string, body []byte, sig string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, io.MultiReader(bytes.NewReader(body)))
	req.ContentLength = -1
	req.Header.Set("X-Line-Signature", sig)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// TestJunkOfEverySizeNeverWedges: junk of every size up to the limit,
// interleaved with real webhooks, some queued while the desktop is away
// (so batches fill with large junk) and some while it is connected. Junk
// that is not even JSON is refused 400 and never queued; junk shaped like a
// webhook is queued (the relay cannot know) and dropped by the desktop's
// signature check. Every real webhook arrives, in order, on the first
// connection: no batch was ever too big for the desktop to read.
func TestJunkOfEverySizeNeverWedges(t *testing.T) {
	tr := newRelay(t, relay.Config{TenantRate: 1e6, TenantBurst: 1 << 20})
	tn := tr.addTenant(t, "branch")
	var sizes []int
	for n := 1; n < wire.MaxBodyBytes; n = n*3/2 + 1 {
		sizes = append(sizes, n)
	}
	sizes = append(sizes, wire.MaxBodyBytes-1, wire.MaxBodyBytes)

	real, malformed := 0, 0
	postReal := func() {
		body := hookBody(real, fmt.Sprintf("real %d", real))
		if code := post(t, tn.hook, body, sign(testSecret, body)); code != http.StatusOK {
			t.Fatalf("real webhook %d: %d", real, code)
		}
		real++
	}
	postJunk := func(n int) {
		raw := make([]byte, n)
		rand.Read(raw)
		raw[0] = 'x' // never valid JSON
		if code := post(t, tn.hook, raw, "forged"); code != http.StatusBadRequest {
			t.Fatalf("%d bytes of binary junk: %d, want 400", n, code)
		}
		malformed++
		if j := shapedJunk(n); j != nil {
			if code := post(t, tn.hook, j, "Zm9yZ2Vk"); code != http.StatusOK {
				t.Fatalf("%d bytes of webhook-shaped junk: %d, want 200 (queued)", n, code)
			}
		}
		postReal()
	}
	// Desktop away: every size, and eight more of the largest, queue up
	// (about 12 MiB: three times what one batch message may carry).
	for _, n := range sizes {
		postJunk(n)
	}
	for range 8 {
		postJunk(wire.MaxBodyBytes)
	}
	s := newSink()
	client, _ := runClient(t, tn.enroll, tn.keys, verifying(s))
	// Connected: every size again, largest first.
	for _, n := range slices.Backward(sizes) {
		postJunk(n)
	}
	s.wait(t, real, 60*time.Second)
	for i, b := range s.got() {
		if !strings.Contains(b, fmt.Sprintf(`"real %d"`, i)) {
			t.Fatalf("real webhook %d out of order: %.80s", i, b)
		}
	}
	if st := client.Status(); st.Connects != 1 {
		t.Fatalf("the desktop reconnected (%+v): a batch was refused", st)
	}
	// Over the limit: 413, by Content-Length and while reading a chunked body.
	over := shapedJunk(wire.MaxBodyBytes + 1)
	if code := post(t, tn.hook, over, "x"); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("1 MiB + 1: %d", code)
	}
	if code := postChunked(t, tn.hook, over, "x"); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("1 MiB + 1 chunked: %d", code)
	}
	eventually(t, 10*time.Second, func() bool {
		return strings.HasSuffix(metricLine(scrape(t, tr.srv), `tsunagu_relay_queue_depth{tenant="`+tn.id+`"}`), " 0")
	}, "the queue to drain")
	m := scrape(t, tr.srv)
	if got := metricLine(m, `tsunagu_relay_rejected_total{reason="malformed",tenant="`+tn.id+`"}`); !strings.HasSuffix(got, fmt.Sprintf(" %d", malformed)) {
		t.Fatalf("malformed count %q, want %d", got, malformed)
	}
	for _, reason := range []string{"rate", "unsigned", "store"} {
		if got := metricLine(m, `tsunagu_relay_rejected_total{reason="`+reason+`",tenant="`+tn.id+`"}`); got != "" {
			t.Fatalf("junk counted as %s: %s", reason, got)
		}
	}
	t.Logf("%d real webhooks among %d sizes of junk up to %d bytes; status %+v", real, len(sizes), wire.MaxBodyBytes, client.Status())
}

// TestExactlyMaxBodyAccepted: a webhook of exactly the documented maximum
// (1 MiB) is queued and arrives intact with a valid signature; one byte
// more is 413.
func TestExactlyMaxBodyAccepted(t *testing.T) {
	tr := newRelay(t, relay.Config{})
	tn := tr.addTenant(t, "branch")
	small := hookBody(1, "")
	text := strings.Repeat("あ", (wire.MaxBodyBytes-len(small))/3)
	body := hookBody(1, text)
	body = hookBody(1, text+strings.Repeat("a", wire.MaxBodyBytes-len(body)))
	if len(body) != wire.MaxBodyBytes {
		t.Fatalf("test body is %d bytes", len(body))
	}
	if code := post(t, tn.hook, body, sign(testSecret, body)); code != http.StatusOK {
		t.Fatalf("exactly 1 MiB: %d", code)
	}
	if code := postChunked(t, tn.hook, body, sign(testSecret, body)); code != http.StatusOK {
		t.Fatalf("exactly 1 MiB, chunked: %d", code)
	}
	over := append(bytes.Clone(body[:len(body)-2]), ` }`...)
	over = append(over, ' ')
	if code := post(t, tn.hook, over, sign(testSecret, over)); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("1 MiB + 1: %d", code)
	}
	s := newSink()
	runClient(t, tn.enroll, tn.keys, verifying(s))
	s.wait(t, 2, 20*time.Second)
	for _, got := range s.got() {
		if got != string(body) {
			t.Fatal("the 1 MiB body changed on the way")
		}
	}
}

// TestByteQuota: a tenant whose undelivered events reach its byte quota
// gets 503 while another tenant is served; once its desktop has taken the
// events, it is accepted again (the accounting follows the acks).
func TestByteQuota(t *testing.T) {
	const quota = 1 << 20
	tr := newRelay(t, relay.Config{MaxQueuedBytesPerTenant: quota})
	a := tr.addTenant(t, "a")
	b := tr.addTenant(t, "b")
	body := shapedJunk(100 << 10)
	sig := sign(testSecret, body)
	accepted := 0
	for {
		code := post(t, a.hook, body, sig)
		if code == http.StatusServiceUnavailable {
			break
		}
		if code != http.StatusOK || accepted > quota/(100<<10) {
			t.Fatalf("post %d: %d (quota never enforced?)", accepted, code)
		}
		accepted++
		if code := post(t, b.hook, hookBody(accepted, "b"), sign(testSecret, hookBody(accepted, "b"))); code != http.StatusOK {
			t.Fatalf("tenant b while a fills up: %d", code)
		}
	}
	// 100 KiB bodies are counted as 112 KiB each: 9 fit in 1 MiB.
	if accepted != 9 {
		t.Fatalf("%d bodies of 100 KiB accepted under a 1 MiB quota, want 9", accepted)
	}
	for i := range 5 {
		if code := post(t, a.hook, body, sig); code != http.StatusServiceUnavailable {
			t.Fatalf("over quota, post %d: %d", i, code)
		}
		if code := post(t, b.hook, hookBody(100+i, "b"), sign(testSecret, hookBody(100+i, "b"))); code != http.StatusOK {
			t.Fatalf("tenant b while a is over quota: %d", code)
		}
	}
	m := scrape(t, tr.srv)
	if got := metricLine(m, `tsunagu_relay_rejected_total{reason="quota",tenant="`+a.id+`"}`); !strings.HasSuffix(got, " 6") {
		t.Fatalf("quota rejections: %q", got)
	}
	if got := metricLine(m, `tsunagu_relay_queue_bytes{tenant="`+a.id+`"}`); !strings.HasSuffix(got, " 1.032192e+06") { // 9 × 112 KiB
		t.Fatalf("queued bytes: %q", got)
	}
	list, _ := tr.srv.Admin().ListTenants(context.Background())
	for _, ti := range list {
		if ti.ID == a.id && (ti.Queued != 9 || ti.QueuedBytes != 9*112<<10) {
			t.Fatalf("tenant list: %+v", ti)
		}
	}
	// The desktop takes them; the quota frees up.
	c, _ := relayclient.New(relayclient.Config{Enrollment: a.enroll, Keys: a.keys})
	if n, err := c.Drain(context.Background(), newSink().handle); err != nil || n != 9 {
		t.Fatalf("drain: %d %v", n, err)
	}
	eventually(t, 5*time.Second, func() bool { return post(t, a.hook, body, sig) == http.StatusOK }, "tenant a accepted again")
}

// TestPoisonEventDeadLettered: an event the desktop fails on every time is
// moved to the dead letters after MaxDeliveries deliveries; the events
// behind it arrive in order, each handled once (they are not charged for
// the poison's attempts); it can be listed and replayed.
func TestPoisonEventDeadLettered(t *testing.T) {
	tr := newRelay(t, relay.Config{MaxDeliveries: 3})
	tn := tr.addTenant(t, "branch")
	texts := []string{"good0", "poison", "good1", "good2", "good3", "good4"}
	for i, txt := range texts {
		body := hookBody(i, txt)
		if code := post(t, tn.hook, body, sign(testSecret, body)); code != 200 {
			t.Fatal(code)
		}
	}
	var poisonTries atomic.Int64
	var refuse atomic.Bool
	refuse.Store(true)
	handled := map[string]int{}
	s := newSink()
	s.fail = func(body []byte) error {
		if strings.Contains(string(body), `"poison"`) && refuse.Load() {
			poisonTries.Add(1)
			return errTransient
		}
		return nil
	}
	runClient(t, tn.enroll, tn.keys, s.handle)
	s.wait(t, 5, 20*time.Second)
	for _, b := range s.got() {
		for _, txt := range texts {
			if strings.Contains(b, `"`+txt+`"`) {
				handled[txt]++
			}
		}
	}
	got := s.got()
	for i, want := range []string{"good0", "good1", "good2", "good3", "good4"} {
		if !strings.Contains(got[i], `"`+want+`"`) {
			t.Fatalf("event %d is not %s: order broken", i, want)
		}
		if handled[want] != 1 {
			t.Fatalf("%s handled %d times", want, handled[want])
		}
	}
	if n := poisonTries.Load(); n != 3 {
		t.Fatalf("poison tried %d times, want MaxDeliveries = 3", n)
	}
	admin := tr.srv.Admin()
	ctx := context.Background()
	var dead []relay.DeadLetter
	eventually(t, 5*time.Second, func() bool {
		dead, _ = admin.DeadLetters(ctx, tn.id)
		return len(dead) == 1
	}, "one dead letter")
	if d := dead[0]; d.Reason != "deliveries" || d.Deliveries != 3 || d.EventSeq == 0 || d.Bytes == 0 || d.ReceivedAt.IsZero() {
		t.Fatalf("dead letter %+v", d)
	}
	m := scrape(t, tr.srv)
	if got := metricLine(m, `tsunagu_relay_dead_lettered_total{reason="deliveries",tenant="`+tn.id+`"}`); !strings.HasSuffix(got, " 1") {
		t.Fatalf("dead-lettered metric %q", got)
	}
	if got := metricLine(m, `tsunagu_relay_dead_letters{tenant="`+tn.id+`"}`); !strings.HasSuffix(got, " 1") {
		t.Fatalf("dead letters gauge %q", got)
	}
	eventually(t, 5*time.Second, func() bool {
		return strings.HasSuffix(metricLine(scrape(t, tr.srv), `tsunagu_relay_queue_depth{tenant="`+tn.id+`"}`), " 0")
	}, "the queue to drain")
	// Replayed while the desktop still refuses it: dead again, with the
	// time the relay first received it (a form answer's ID token is
	// judged at that time), not the replay's.
	first := dead[0].ReceivedAt
	if n, err := admin.ReplayDeadLetters(ctx, tn.id, []uint64{dead[0].ID}); err != nil || n != 1 {
		t.Fatalf("replay: %d %v", n, err)
	}
	eventually(t, 20*time.Second, func() bool {
		dead, _ = admin.DeadLetters(ctx, tn.id)
		return len(dead) == 1 && dead[0].Deliveries == 3 && poisonTries.Load() == 6
	}, "dead again after three more deliveries")
	if !dead[0].ReceivedAt.Equal(first) {
		t.Fatalf("replayed dead letter received at %v, first received at %v", dead[0].ReceivedAt, first)
	}
	// Fixed desktop: replay it; it arrives and leaves the dead letters.
	refuse.Store(false)
	if n, err := admin.ReplayDeadLetters(ctx, tn.id, []uint64{dead[0].ID}); err != nil || n != 1 {
		t.Fatalf("replay: %d %v", n, err)
	}
	s.wait(t, 1, 10*time.Second)
	if last := s.got()[5]; !strings.Contains(last, `"poison"`) {
		t.Fatalf("replayed event: %.80s", last)
	}
	if dead, _ := admin.DeadLetters(ctx, tn.id); len(dead) != 0 {
		t.Fatalf("still dead: %+v", dead)
	}
	if _, err := admin.ReplayDeadLetters(ctx, tn.id, []uint64{dead[0].ID}); err == nil {
		t.Fatal("replaying a dead letter twice succeeded")
	}
}

// TestSlowBodyIsATimeoutNotRateLimiting: a body that trickles in is cut at
// BodyTimeout (408) and counted as a timeout; it spends none of the
// tenant's rate, so the real webhook after it is taken.
func TestSlowBodyIsATimeoutNotRateLimiting(t *testing.T) {
	tr := newRelay(t, relay.Config{BodyTimeout: 300 * time.Millisecond, TenantRate: 1, TenantBurst: 1})
	tn := tr.addTenant(t, "branch")
	path := strings.TrimPrefix(tn.hook, tr.http.URL)
	for range 3 {
		c, err := net.Dial("tcp", strings.TrimPrefix(tr.http.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nX-Line-Signature: s\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\n", path)
		start := time.Now()
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		c.Close()
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != http.StatusRequestTimeout || time.Since(start) > 3*time.Second {
			t.Fatalf("slow body: %d after %v", res.StatusCode, time.Since(start))
		}
	}
	body := hookBody(1, "real")
	if code := post(t, tn.hook, body, sign(testSecret, body)); code != 200 {
		t.Fatalf("real webhook after slow bodies: %d", code)
	}
	m := scrape(t, tr.srv)
	if got := metricLine(m, `tsunagu_relay_rejected_total{reason="timeout",tenant="`+tn.id+`"}`); !strings.HasSuffix(got, " 3") {
		t.Fatalf("timeouts: %q", got)
	}
	if got := metricLine(m, `tsunagu_relay_rejected_total{reason="rate",tenant="`+tn.id+`"}`); got != "" {
		t.Fatalf("slow bodies counted as rate limiting: %s", got)
	}
}
