package outbox

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
	"tsunagu/internal/store/storetest"

	"tsunagu/internal/line"
	"tsunagu/internal/linesim"
	"tsunagu/internal/store"
)

const token = "outbox-test-token"

type env struct {
	db  *store.DB
	sim *linesim.Server
	cl  *line.Client
	ob  *Outbox
}

// fastRetry keeps retry waits short in tests; the policy's shape (jitter,
// growth, attempt cap) is the production one.
var fastRetry = line.RetryPolicy{MaxAttempts: 50, MinBackoff: 5 * time.Millisecond, MaxBackoff: 100 * time.Millisecond}

func newEnv(tb testing.TB, simCfg linesim.Config, lineCfg line.Config) *env {
	tb.Helper()
	ctx := context.Background()
	db := storetest.New(tb)
	simCfg.AccessToken = token
	simCfg.ChannelSecret = "secret"
	sim := linesim.New(simCfg)
	if err := sim.Start(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { sim.Close() })
	lineCfg.Endpoint, lineCfg.AccessToken = sim.URL(), token
	if lineCfg.Retry == (line.RetryPolicy{}) {
		lineCfg.Retry = fastRetry
	}
	cl, err := line.New(lineCfg)
	if err != nil {
		tb.Fatal(err)
	}
	return &env{db: db, sim: sim, cl: cl, ob: newOutbox(tb, db, cl)}
}

func newOutbox(tb testing.TB, db *store.DB, s Sender) *Outbox {
	tb.Helper()
	ob, err := New(Config{DB: db, Sender: s})
	if err != nil {
		tb.Fatal(err)
	}
	return ob
}

// customers adds n following customers (and blocked ones) to the simulator.
func (e *env) customers(n int, following bool) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = linesim.NewUserID()
		e.sim.AddCustomer(linesim.Customer{UserID: ids[i], DisplayName: "c", Following: following})
	}
	return ids
}

func text(tb testing.TB, s string) []line.Message {
	tb.Helper()
	m, err := line.Text(s)
	if err != nil {
		tb.Fatal(err)
	}
	return []line.Message{m}
}

// exactlyOnce fails unless every user got exactly the want messages.
func (e *env) exactlyOnce(t *testing.T, users []string, want int) {
	t.Helper()
	for _, u := range users {
		if got := len(e.sim.Deliveries(u)); got != want {
			t.Fatalf("user %s got %d deliveries, want %d", u, got, want)
		}
	}
}

func (e *env) requests(endpoint string) []linesim.Request {
	var out []linesim.Request
	for _, r := range e.sim.Requests() {
		if r.Endpoint == endpoint {
			out = append(out, r)
		}
	}
	return out
}

func TestMulticast1001RecipientsGoOutAsThreeChunks(t *testing.T) {
	e := newEnv(t, linesim.Config{}, line.Config{})
	users := e.customers(1001, true)
	// A duplicate is sent once.
	to := append(append([]string(nil), users...), users[7])
	ctx := context.Background()
	id, err := e.ob.Enqueue(ctx, Request{Source: "test", To: to, Messages: text(t, "定期預金満期のお知らせ")})
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.ob.Send(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want := Result{SendID: id, Status: "done", Requests: 3, Sent: 3, Recipients: 1001, SentRecipients: 1001}
	if res != want {
		t.Fatalf("result = %+v, want %+v", res, want)
	}
	reqs := e.requests(linesim.EndpointMulticast)
	if len(reqs) != 3 {
		t.Fatalf("%d multicast requests, want 3", len(reqs))
	}
	keys := map[string]bool{}
	for _, r := range reqs {
		keys[r.RetryKey] = true
	}
	if len(keys) != 3 {
		t.Fatalf("retry keys %v, want 3 distinct", keys)
	}
	e.exactlyOnce(t, users, 1)
	if d := e.sim.Deliveries(users[0])[0]; d.Via != linesim.ViaMulticast || d.Text != "定期預金満期のお知らせ" {
		t.Fatalf("delivery = %+v", d)
	}
	// Sending again finds nothing pending.
	if _, err := e.ob.Send(ctx, id); err != nil {
		t.Fatal(err)
	}
	if n := len(e.requests(linesim.EndpointMulticast)); n != 3 {
		t.Fatalf("%d multicast requests after a second Send, want 3", n)
	}
}

func TestRetryKeysAreStoredBeforeSending(t *testing.T) {
	e := newEnv(t, linesim.Config{}, line.Config{})
	users := e.customers(501, true)
	ctx := context.Background()
	id, err := e.ob.Enqueue(ctx, Request{To: users, Messages: text(t, "hi")})
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]bool{}
	rows, err := e.db.Reader().QueryContext(ctx, `SELECT retry_key FROM outbox_requests WHERE send_id = ?`, id)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k string
		rows.Scan(&k)
		stored[k] = true
	}
	rows.Close()
	if len(stored) != 2 {
		t.Fatalf("stored keys = %v, want 2", stored)
	}
	if _, err := e.ob.Send(ctx, id); err != nil {
		t.Fatal(err)
	}
	for _, r := range e.sim.Requests() {
		if !stored[r.RetryKey] {
			t.Fatalf("request with retry key %q that was not stored first", r.RetryKey)
		}
	}
}

func TestTimeoutAfterAcceptanceDeliversOnce(t *testing.T) {
	for _, fault := range []linesim.Fault{
		{TimeoutAfterAccept: true},
		{DropAfter: true},
		{DropBefore: true},
		{Status: 500},
		{Status: 503},
	} {
		t.Run(faultName(fault), func(t *testing.T) {
			e := newEnv(t, linesim.Config{}, line.Config{AttemptTimeout: 300 * time.Millisecond})
			users := e.customers(1, true)
			e.sim.InjectFaults(linesim.EndpointPush, fault)
			ctx := context.Background()
			id, err := e.ob.Enqueue(ctx, Request{To: users, Messages: text(t, "ご予約を承りました")})
			if err != nil {
				t.Fatal(err)
			}
			res, err := e.ob.Send(ctx, id)
			if err != nil || res.Status != "done" {
				t.Fatalf("Send = %+v, %v", res, err)
			}
			e.exactlyOnce(t, users, 1)
			reqs := e.requests(linesim.EndpointPush)
			if len(reqs) != 2 {
				t.Fatalf("%d push requests, want the faulty one and one retry", len(reqs))
			}
			if reqs[0].RetryKey != reqs[1].RetryKey || reqs[0].BodySHA256 != reqs[1].BodySHA256 {
				t.Fatalf("retry differs from the first request: %+v", reqs)
			}
			accepted := fault.TimeoutAfterAccept || fault.DropAfter
			var status int
			var acceptedID string
			e.db.Reader().QueryRow(`SELECT http_status, accepted_request_id FROM outbox_requests WHERE send_id = ?`, id).Scan(&status, &acceptedID)
			if accepted && (status != 409 || acceptedID == "") {
				t.Fatalf("stored status %d, accepted ID %q; want 409 with the accepted request", status, acceptedID)
			}
			if !accepted && (status != 200 || acceptedID != "") {
				t.Fatalf("stored status %d, accepted ID %q; want 200", status, acceptedID)
			}
		})
	}
}

func faultName(f linesim.Fault) string {
	switch {
	case f.TimeoutAfterAccept:
		return "timeout after accept"
	case f.DropAfter:
		return "dropped after accept"
	case f.DropBefore:
		return "dropped before"
	}
	return "status " + http3(f.Status)
}

func http3(n int) string {
	return string(rune('0'+n/100)) + string(rune('0'+n/10%10)) + string(rune('0'+n%10))
}

func TestUncertainRequestStaysPendingAndResumesWithTheSameKey(t *testing.T) {
	// One attempt only: the request is accepted, the answer is lost, and
	// the app "crashes" before it can retry.
	e := newEnv(t, linesim.Config{}, line.Config{Retry: line.RetryPolicy{MaxAttempts: 1}})
	users := e.customers(600, true)
	e.sim.InjectFaults(linesim.EndpointMulticast, linesim.Fault{DropAfter: true})
	ctx := context.Background()
	id, err := e.ob.Enqueue(ctx, Request{To: users, Messages: text(t, "hi")})
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.ob.Send(ctx, id)
	if err == nil || res.Status != "pending" || res.Pending != 1 || res.Sent != 1 {
		t.Fatalf("Send = %+v, %v; want one chunk pending", res, err)
	}
	// A restart: a new client and outbox over the same DB.
	cl, err := line.New(line.Config{Endpoint: e.sim.URL(), AccessToken: token, Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	if err := newOutbox(t, e.db, cl).Resume(ctx); err != nil {
		t.Fatal(err)
	}
	if res, _ := e.ob.Status(ctx, id); res.Status != "done" {
		t.Fatalf("after resume: %+v", res)
	}
	e.exactlyOnce(t, users, 1)
	reqs := e.requests(linesim.EndpointMulticast)
	if len(reqs) != 3 || reqs[2].Status != 409 || reqs[2].BodySHA256 != reqs[0].BodySHA256 && reqs[2].BodySHA256 != reqs[1].BodySHA256 {
		t.Fatalf("requests = %+v; want the resend answered 409, byte-identical", reqs)
	}
}

func TestRateLimitStormFinishesWithoutLosingAChunk(t *testing.T) {
	// LINE (the simulator) allows 10 multicasts a second; the client
	// thinks it may send 200, so most of its requests meet a 429.
	e := newEnv(t, linesim.Config{RateLimits: map[string]float64{linesim.EndpointMulticast: 10}}, line.Config{})
	users := e.customers(20*500, true)
	ctx := context.Background()
	id, err := e.ob.Enqueue(ctx, Request{To: users, Messages: text(t, "hi")})
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.ob.Send(ctx, id)
	if err != nil || res.Status != "done" || res.Sent != 20 {
		t.Fatalf("Send = %+v, %v", res, err)
	}
	limited := 0
	for _, r := range e.requests(linesim.EndpointMulticast) {
		if r.Status == 429 {
			limited++
		}
	}
	if limited == 0 {
		t.Fatal("no request met a 429: the test does not test a storm")
	}
	e.exactlyOnce(t, users, 1)
}

func TestBlockedAndUnknownUsersAreSkippedSilently(t *testing.T) {
	e := newEnv(t, linesim.Config{}, line.Config{})
	following := e.customers(3, true)
	blocked := e.customers(2, false)
	unknown := linesim.NewUserID()
	ctx := context.Background()
	id, err := e.ob.Enqueue(ctx, Request{To: append(append(append([]string{}, following...), blocked...), unknown), Messages: text(t, "hi")})
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.ob.Send(ctx, id)
	if err != nil || res.Status != "done" {
		t.Fatalf("Send = %+v, %v", res, err)
	}
	e.exactlyOnce(t, following, 1)
	e.exactlyOnce(t, blocked, 0)
}

func TestMonthlyLimitIsAHardStop(t *testing.T) {
	e := newEnv(t, linesim.Config{MonthlyQuota: 700}, line.Config{})
	users := e.customers(1500, true)
	ctx := context.Background()
	req := Request{To: append(users, users[0]), Messages: text(t, "hi")}
	if req.Cost() != 1500 {
		t.Fatalf("Cost = %d, want 1500", req.Cost())
	}
	if err := e.cl.CheckQuota(ctx, req.Cost()); !errors.Is(err, line.ErrQuotaExceeded) {
		t.Fatalf("CheckQuota = %v, want ErrQuotaExceeded", err)
	}
	id, err := e.ob.Enqueue(ctx, Request{To: users, Messages: text(t, "hi")})
	if err != nil {
		t.Fatal(err)
	}
	// One worker: chunks go one after another, so the first fits and the
	// second meets the limit.
	ob, _ := New(Config{DB: e.db, Sender: e.cl, Workers: 1})
	res, err := ob.Send(ctx, id)
	if !errors.Is(err, line.ErrMonthlyLimit) {
		t.Fatalf("Send = %v, want ErrMonthlyLimit", err)
	}
	if res.Sent != 1 || res.Pending != 2 || res.Status != "pending" {
		t.Fatalf("result = %+v", res)
	}
	if n := len(e.requests(linesim.EndpointMulticast)); n != 2 {
		t.Fatalf("%d multicast requests; the monthly limit must stop the send, not be retried", n)
	}
	if used := e.sim.Used(); used != 500 {
		t.Fatalf("quota used = %d, want 500", used)
	}
}

func TestFinalErrorIsNotRetried(t *testing.T) {
	e := newEnv(t, linesim.Config{}, line.Config{})
	// An ID LINE does not know: push answers 400.
	ctx := context.Background()
	id, err := e.ob.Enqueue(ctx, Request{To: []string{linesim.NewUserID()}, Messages: text(t, "hi")})
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.ob.Send(ctx, id)
	var apiErr *line.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 400 || res.Status != "failed" {
		t.Fatalf("Send = %+v, %v; want a final 400", res, err)
	}
	var msg string
	e.db.Reader().QueryRow(`SELECT error FROM outbox_requests WHERE send_id = ?`, id).Scan(&msg)
	if !strings.Contains(msg, "Failed to send messages") {
		t.Fatalf("stored error %q, want LINE's message", msg)
	}
	if n := len(e.requests(linesim.EndpointPush)); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
	if err := e.ob.Resume(ctx); err != nil {
		t.Fatalf("Resume = %v; a failed send is not pending", err)
	}
}

func TestEnqueueRejects(t *testing.T) {
	e := newEnv(t, linesim.Config{}, line.Config{})
	ctx := context.Background()
	six := append(text(t, "1"), text(t, "2")[0], text(t, "3")[0], text(t, "4")[0], text(t, "5")[0], text(t, "6")[0])
	for _, tt := range []struct {
		name string
		req  Request
		want error
	}{
		{"no recipients", Request{Messages: text(t, "hi")}, ErrNoRecipients},
		{"malformed ID", Request{To: []string{"hanako"}, Messages: text(t, "hi")}, nil},
		{"no messages", Request{To: []string{linesim.NewUserID()}}, line.ErrInvalidMessage},
		{"six messages", Request{To: []string{linesim.NewUserID()}, Messages: six}, line.ErrInvalidMessage},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.ob.Enqueue(ctx, tt.req)
			if err == nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Enqueue = %v, want %v", err, tt.want)
			}
		})
	}
	var n int
	e.db.Reader().QueryRow(`SELECT COUNT(*) FROM outbox_sends`).Scan(&n)
	if n != 0 {
		t.Fatalf("%d sends stored", n)
	}
}

func TestUncertainRequestIsNotResentAfterTheRetryKeyExpires(t *testing.T) {
	e := newEnv(t, linesim.Config{}, line.Config{Retry: line.RetryPolicy{MaxAttempts: 1}})
	users := e.customers(1, true)
	e.sim.InjectFaults(linesim.EndpointPush, linesim.Fault{DropAfter: true})
	ctx := context.Background()
	id, err := e.ob.Enqueue(ctx, Request{To: users, Messages: text(t, "hi")})
	if err != nil {
		t.Fatal(err)
	}
	if res, _ := e.ob.Send(ctx, id); res.Status != "pending" {
		t.Fatalf("Send = %+v, want pending", res)
	}
	// A day later LINE has forgotten the key: a resend could deliver a
	// second copy, so the request is given up instead.
	later := time.Now().Add(RetryKeyWindow + time.Minute)
	ob, err := New(Config{DB: e.db, Sender: e.cl, Clock: func() time.Time { return later }})
	if err != nil {
		t.Fatal(err)
	}
	if err := ob.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	res, _ := ob.Status(ctx, id)
	var msg string
	e.db.Reader().QueryRow(`SELECT error FROM outbox_requests WHERE send_id = ?`, id).Scan(&msg)
	if res.Status != "failed" || msg != ErrExpired.Error() {
		t.Fatalf("after a day: %+v, error %q", res, msg)
	}
	if n := len(e.requests(linesim.EndpointPush)); n != 1 {
		t.Fatalf("%d push requests, want only the first", n)
	}
	e.exactlyOnce(t, users, 1)
}

func TestSubmitStoresKeysThenSends(t *testing.T) {
	e := newEnv(t, linesim.Config{}, line.Config{})
	users := e.customers(1001, true)
	ctx := context.Background()
	res, err := e.ob.Submit(ctx, Request{Source: "test", To: users, Messages: text(t, "hi")})
	if err != nil || res.Status != "done" || res.Requests != 3 || res.SentRecipients != 1001 {
		t.Fatalf("Submit = %+v, %v", res, err)
	}
	rows, err := e.db.Reader().QueryContext(ctx, `SELECT retry_key, first_tried_at IS NOT NULL, status FROM outbox_requests WHERE send_id = ?`, res.SendID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	stored := map[string]bool{}
	for rows.Next() {
		var (
			key    string
			tried  bool
			status string
		)
		if err := rows.Scan(&key, &tried, &status); err != nil {
			t.Fatal(err)
		}
		if !tried || status != "sent" {
			t.Fatalf("request %s: tried %v, status %s", key, tried, status)
		}
		stored[key] = true
	}
	for _, r := range e.requests(linesim.EndpointMulticast) {
		if !stored[r.RetryKey] {
			t.Fatalf("sent retry key %s was not stored", r.RetryKey)
		}
	}
	e.exactlyOnce(t, users, 1)
}
