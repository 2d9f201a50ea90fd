package facade

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tsunagu/internal/auth"
	"tsunagu/internal/inbox"
	"tsunagu/internal/secrets/secretstest"
)

// stamps records when each inbox:changed event was emitted on the primary
// (the window's emitter, called just before the seats' Publish).
type stamps struct {
	mu sync.Mutex
	at []time.Time
}

func (s *stamps) Emit(name string, _ any) {
	if name != inbox.EventChanged {
		return
	}
	s.mu.Lock()
	s.at = append(s.at, time.Now())
	s.mu.Unlock()
}

func (s *stamps) get(i int) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i >= len(s.at) {
		return time.Time{}, false
	}
	return s.at[i], true
}

// Benchmark_seats: 20 seats on loopback mutual TLS, in this process, each
// signed in as its own operator and opening the inbox's first page and a
// conversation in a loop (through the forwarder, as a seat's UI does) while
// the simulator sends 50 messages a second for 10 s. call: one forwarded
// call, seat to primary and back; event: an inbox:changed from its emission
// on the primary to its arrival at a seat's UI emitter. Targets: call p99
// < 30 ms, event p99 < 500 ms (the ratios are to them). Also printed: the
// same calls made directly on a seat's client under the same load (direct,
// what the link adds is the difference) and one seat's calls alone before
// the load (idle).
func Benchmark_seats(b *testing.B) {
	const n, rate, seconds = 20, 50, 10
	kr := secretstest.Keyring(b)
	dir := filepath.Join(b.TempDir(), "data")
	st := &stamps{}
	h := New(Options{DataDir: dir, Keyring: kr, Version: "bench", AuthParams: testParams, SeatListen: "127.0.0.1:0"})
	if err := h.Start(context.Background(), st); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Stop() })
	window := h.App()
	if _, err := (&SessionService{window}).CreateFirstAdmin("admin", "支店長", testAdminPW); err != nil {
		b.Fatal(err)
	}
	sims, err := (&SandboxService{window}).SandboxCustomers()
	if err != nil || len(sims) == 0 {
		b.Fatalf("sandbox: %v", err)
	}
	// A conversation to open before the load starts.
	if err := (&SandboxService{window}).SandboxSend(sims[0].UserID, "はじめまして"); err != nil {
		b.Fatal(err)
	}

	var mu sync.Mutex
	var calls, direct, events []float64 // ms
	seats := make([]*testSeatPC, n)
	counted := make([]atomic.Int64, n) // inbox:changed seen by each seat since the start
	var started atomic.Bool
	base := 0 // inbox:changed emitted before the start
	for i := range n {
		login := fmt.Sprintf("teller%02d", i)
		if _, err := addStaff(window, auth.NewStaff{Login: login, DisplayName: login, Role: auth.RoleOperator, Password: "operator password 1"}); err != nil {
			b.Fatal(err)
		}
		seats[i] = connectSeatHooked(b, h, fmt.Sprintf("窓口%d", i+1), func(name string) {
			if name != inbox.EventChanged || !started.Load() {
				return
			}
			at := time.Now()
			k := base + int(counted[i].Add(1)) - 1
			if sent, ok := st.get(k); ok {
				mu.Lock()
				events = append(events, float64(at.Sub(sent).Microseconds())/1000)
				mu.Unlock()
			}
		})
		if err := seats[i].call(b, nil, "SignIn", login, "operator password 1"); err != nil {
			b.Fatal(err)
		}
	}
	var page inbox.ListPage
	if err := seats[0].call(b, &page, "ConversationPage", inbox.ListQuery{}); err != nil || len(page.Conversations) == 0 {
		b.Fatalf("first page: %+v %v", page, err)
	}
	conv := page.Conversations[0].ID
	// One seat alone, before the load: the link's own latency.
	var idle []float64
	for range 200 {
		t0 := time.Now()
		if err := seats[0].call(b, nil, "ConversationPage", inbox.ListQuery{}); err != nil {
			b.Fatal(err)
		}
		idle = append(idle, float64(time.Since(t0).Microseconds())/1000)
	}

	st.mu.Lock()
	base = len(st.at)
	st.mu.Unlock()
	started.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	h.app.seatCalls.mu.Lock()
	tables := make([]*seatClient, 0, n)
	for _, sc := range h.app.seatCalls.clients {
		tables = append(tables, sc)
	}
	h.app.seatCalls.mu.Unlock()
	for si, s := range seats {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// The same calls on a seat's client without the link, under the
			// same load: what the link adds is the difference.
			own := tables[si%len(tables)].table
			for ctx.Err() == nil {
				for _, c := range []struct{ m, args string }{{"ConversationPage", `[{}]`}, {"MessagePage", fmt.Sprintf("[%d,0]", conv)}} {
					t0 := time.Now()
					if _, err := own.Call(c.m, []byte(c.args)); err != nil {
						b.Errorf("direct %s: %v", c.m, err)
						return
					}
					mu.Lock()
					direct = append(direct, float64(time.Since(t0).Microseconds())/1000)
					mu.Unlock()
				}
				for _, c := range []struct {
					m    string
					args []any
				}{{"ConversationPage", []any{inbox.ListQuery{}}}, {"MessagePage", []any{conv, int64(0)}}} {
					t0 := time.Now()
					if err := s.call(b, nil, c.m, c.args...); err != nil {
						b.Errorf("%s: %v", c.m, err)
						return
					}
					mu.Lock()
					calls = append(calls, float64(time.Since(t0).Microseconds())/1000)
					mu.Unlock()
				}
			}
		}()
	}
	tick := time.NewTicker(time.Second / rate)
	sent := 0
	for range rate * seconds {
		<-tick.C
		if err := (&SandboxService{window}).SandboxSend(sims[sent%len(sims)].UserID, fmt.Sprintf("メッセージ %d", sent)); err != nil {
			b.Fatal(err)
		}
		sent++
	}
	tick.Stop()
	cancel()
	wg.Wait()
	// Let the last events arrive (each seat has had every emitted one, or
	// the deadline passes and the count says how many are missing).
	st.mu.Lock()
	want := len(st.at) - base
	st.mu.Unlock()
	deadline := time.Now().Add(30 * time.Second)
	for i := range counted {
		for int(counted[i].Load()) < want && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
	}
	missing := 0
	for i := range counted {
		missing += max(0, want-int(counted[i].Load()))
	}
	mu.Lock()
	defer mu.Unlock()
	cp99, ep99 := p99(calls), p99(events)
	fmt.Printf("BENCH seats n=%d call_p99_ms=%.1f event_p99_ms=%.1f call_p50_ms=%.1f event_p50_ms=%.1f direct_p99_ms=%.1f direct_p50_ms=%.1f idle_call_p99_ms=%.1f idle_call_p50_ms=%.1f calls=%d events=%d sent=%d missing_events=%d ratio_call=%.3f ratio_event=%.3f\n",
		n, cp99, ep99, pct(calls, 50), pct(events, 50), p99(direct), pct(direct, 50), p99(idle), pct(idle, 50), len(calls), len(events), sent, missing, cp99/30, ep99/500)
}

func p99(v []float64) float64 { return pct(v, 99) }

func pct(v []float64, p int) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}
