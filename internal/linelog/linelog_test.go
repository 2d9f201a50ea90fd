package linelog_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"
	"tsunagu/internal/store/storetest"

	"tsunagu/internal/line"
	"tsunagu/internal/linelog"
	"tsunagu/internal/linesim"
	"tsunagu/internal/store"
)

func newDB(t *testing.T) *store.DB {
	t.Helper()
	db := storetest.New(t)
	return db
}

// allText is every stored value of every row, for checking that nothing
// sensitive is in the table whatever the column.
func allText(t *testing.T, db *sql.DB) string {
	t.Helper()
	rows, err := db.Query(`SELECT * FROM line_request_log`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var b strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			if bs, ok := v.([]byte); ok {
				v = string(bs)
			}
			fmt.Fprintf(&b, "%v\x00", v)
		}
	}
	return b.String()
}

// TestRequestsAreLogged: a push, a multicast and a failing call through a
// real client against the simulator are stored with their endpoint,
// status, request ID, retry key and duration, and the table holds no
// token, message text, user ID or URL.
func TestRequestsAreLogged(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	const (
		token = "TOKEN-MUST-NOT-BE-LOGGED-0123456789"
		body  = "ご融資の審査結果-BODY-MUST-NOT-BE-LOGGED"
	)
	sim := linesim.New(linesim.Config{AccessToken: token, ChannelSecret: "secret"})
	if err := sim.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	users := []string{linesim.NewUserID(), linesim.NewUserID()}
	for _, u := range users {
		sim.AddCustomer(linesim.Customer{UserID: u, DisplayName: "顧客", Following: true})
	}
	log := linelog.New(db, linelog.Options{Sandbox: true})
	cl, err := line.New(line.Config{Endpoint: sim.URL(), AccessToken: token, OnRequest: log.Add})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := line.Text(body)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := cl.Push(ctx, users[0], []line.Message{msg}, "11111111-1111-4111-8111-111111111111"); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Multicast(ctx, users, []line.Message{msg}, "22222222-2222-4222-8222-222222222222"); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Profile(ctx, linesim.NewUserID()); err == nil {
		t.Fatal("profile of a stranger: no error")
	}
	if err := log.Close(); err != nil {
		t.Fatal(err)
	}

	list, err := linelog.List(ctx, db.Reader(), start.Add(-time.Second), 0)
	if err != nil {
		t.Fatal(err)
	}
	want := cl.Requests()
	if len(list) != len(want) || len(list) < 3 {
		t.Fatalf("stored %d records, the client made %d: %+v", len(list), len(want), list)
	}
	for i, e := range list {
		w := want[i]
		if e.Endpoint != string(w.Endpoint) || e.Status != w.Status || e.RequestID != w.RequestID || e.RetryKey != w.RetryKey ||
			e.DurationMs != w.Duration.Milliseconds() || e.Failure != w.Failure || !e.At.Equal(time.UnixMilli(w.At.UnixMilli())) || !e.Sandbox {
			t.Errorf("row %d = %+v, want %+v", i, e, w)
		}
	}
	if list[0].Endpoint != "push" || list[0].Status != 200 || list[0].RequestID == "" || list[0].RetryKey != "11111111-1111-4111-8111-111111111111" {
		t.Errorf("push row: %+v", list[0])
	}
	if list[1].Endpoint != "multicast" || list[1].RetryKey != "22222222-2222-4222-8222-222222222222" {
		t.Errorf("multicast row: %+v", list[1])
	}
	if last := list[len(list)-1]; last.Endpoint != "profile" || last.Status != 404 || last.RetryKey != "" {
		t.Errorf("profile row: %+v", last)
	}

	stored := allText(t, db.Reader())
	for _, secret := range append([]string{token, body, sim.URL(), "Bearer", "/v2/"}, users...) {
		if strings.Contains(stored, secret) {
			t.Errorf("the request log holds %q", secret)
		}
	}
}

// TestPruneAndList: Prune deletes the rows older than the retention,
// List honours since and keeps the newest when limited, and Close writes
// what is still buffered.
func TestPruneAndList(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	log := linelog.New(db, linelog.Options{})
	for _, age := range []time.Duration{100 * 24 * time.Hour, 91 * 24 * time.Hour, 89 * 24 * time.Hour, 2 * time.Hour, time.Hour} {
		log.Add(line.RequestRecord{At: now.Add(-age), Endpoint: line.EndpointPush, Status: 200, RequestID: "req-" + age.String(),
			Duration: 30 * time.Millisecond})
	}
	log.Add(line.RequestRecord{At: now, Endpoint: line.EndpointMulticast, Failure: "timeout", Duration: 15 * time.Second})
	if err := log.Close(); err != nil {
		t.Fatal(err)
	}
	n, err := linelog.Prune(ctx, db, now.Add(-linelog.Retention))
	if err != nil || n != 2 {
		t.Fatalf("pruned %d, %v; want 2", n, err)
	}
	all, err := linelog.List(ctx, db.Reader(), time.Time{}, 0)
	if err != nil || len(all) != 4 || all[0].RequestID != "req-2136h0m0s" {
		t.Fatalf("after pruning: %+v %v", all, err)
	}
	recent, err := linelog.List(ctx, db.Reader(), now.Add(-3*time.Hour), 0)
	if err != nil || len(recent) != 3 {
		t.Fatalf("since 3h: %+v %v", recent, err)
	}
	last, err := linelog.List(ctx, db.Reader(), time.Time{}, 2)
	if err != nil || len(last) != 2 || last[0].RequestID != "req-1h0m0s" || last[1].Failure != "timeout" || last[1].Status != 0 || last[1].DurationMs != 15000 {
		t.Fatalf("newest 2: %+v %v", last, err)
	}
}

// TestBackgroundFlush: records are written without Close, within a few
// flush intervals.
func TestBackgroundFlush(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	log := linelog.New(db, linelog.Options{})
	defer log.Close()
	log.Add(line.RequestRecord{At: time.Now(), Endpoint: line.EndpointReply, Status: 200})
	deadline := time.Now().Add(10 * linelog.FlushInterval)
	for {
		list, err := linelog.List(ctx, db.Reader(), time.Time{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("not written in the background")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
