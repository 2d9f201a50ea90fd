package engine

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"tsunagu/internal/inbox"
	"tsunagu/internal/line"
	"tsunagu/internal/linelog"
	"tsunagu/internal/outbox"
	"tsunagu/internal/secrets/secretstest"
)

// TestSandboxOutboxResumesAtStart: a multicast stored but not sent (the app
// quit, or crashed, right after enqueueing it) goes out at the next start,
// once to each customer, with the retry keys stored before.
func TestSandboxOutboxResumesAtStart(t *testing.T) {
	kr := secretstest.Keyring(t)
	dir := filepath.Join(t.TempDir(), "data")
	secretstest.CleanupDataDir(t, kr, dir)
	ctx := context.Background()

	eng, err := Start(ctx, Options{DataDir: dir, Keyring: kr})
	if err != nil {
		t.Fatal(err)
	}
	var to []string
	for _, c := range eng.Sim().Customers() {
		to = append(to, c.UserID)
	}
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}
	// The send is left pending by an engine that cannot send (as after a
	// crash between enqueue and send): a running sandbox engine's own
	// start-up resume could otherwise send it before the restart.
	eng, err = Open(ctx, dir, kr)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := line.Text("年末年始の営業時間のお知らせ")
	if err != nil {
		t.Fatal(err)
	}
	id, err := eng.Outbox().Enqueue(ctx, outbox.Request{Source: "test", To: to, Messages: []line.Message{msg}})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}

	eng, err = Start(ctx, Options{DataDir: dir, Keyring: kr})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := eng.Outbox().Status(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if res.Status == "done" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("send still %+v after restart", res)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, u := range to {
		if d := eng.Sim().Deliveries(u); len(d) != 1 || d[0].Via != "multicast" {
			t.Fatalf("deliveries to %s = %+v, want one multicast", u, d)
		}
	}
}

// TestSandboxImageIsDownloaded: a photo a simulated customer sends is
// fetched through the content API and kept in the encrypted DB.
func TestSandboxImageIsDownloaded(t *testing.T) {
	kr := secretstest.Keyring(t)
	dir := filepath.Join(t.TempDir(), "data")
	secretstest.CleanupDataDir(t, kr, dir)
	ctx := context.Background()
	eng, err := Start(ctx, Options{DataDir: dir, Keyring: kr})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	u := eng.Sim().Customers()[0].UserID
	photo := []byte("\xff\xd8\xff\xe0 a JPEG of a passbook page")
	if _, _, err := eng.Sim().SendImage(ctx, u, photo, "image/jpeg"); err != nil {
		t.Fatal(err)
	}
	convs, err := eng.Inbox().Conversations(ctx)
	if err != nil || len(convs) != 1 {
		t.Fatalf("conversations = %+v, %v", convs, err)
	}
	// Stored before the webhook was answered, fetched by the background
	// fetcher right after.
	var msgs []inbox.Message
	eventually(t, 10*time.Second, "photo fetched", func() bool {
		msgs, err = eng.Inbox().Messages(ctx, convs[0].ID)
		return err == nil && len(msgs) == 1 && msgs[0].HasContent
	})
	if err != nil || len(msgs) != 1 || msgs[0].Kind != "image" || !msgs[0].HasContent || msgs[0].Fetch != "" {
		t.Fatalf("messages = %+v, %v", msgs, err)
	}
	data, typ, err := eng.Inbox().MessageContent(ctx, msgs[0].ID)
	if err != nil || string(data) != string(photo) || typ != "image/jpeg" {
		t.Fatalf("content = %q, %q, %v", data, typ, err)
	}
}

// TestRequestLogIsPersisted: the engine's LINE client writes every attempt
// to the request log in the DB (marked as the sandbox's), written at the
// latest when the engine closes, and rows past the retention are pruned at
// start.
func TestRequestLogIsPersisted(t *testing.T) {
	kr := secretstest.Keyring(t)
	dir := filepath.Join(t.TempDir(), "data")
	secretstest.CleanupDataDir(t, kr, dir)
	ctx := context.Background()

	eng, err := Start(ctx, Options{DataDir: dir, Keyring: kr})
	if err != nil {
		t.Fatal(err)
	}
	var to []string
	for _, c := range eng.Sim().Customers() {
		to = append(to, c.UserID)
	}
	msg, err := line.Text("窓口営業時間のお知らせ-NOT-IN-THE-LOG")
	if err != nil {
		t.Fatal(err)
	}
	if res, err := eng.Outbox().Submit(ctx, outbox.Request{Source: "test", To: to, Messages: []line.Message{msg}}); err != nil || res.Status != "done" {
		t.Fatalf("submit: %+v %v", res, err)
	}
	// A row older than the retention, as if left from long ago.
	old := time.Now().Add(-linelog.Retention - time.Hour).UnixMilli()
	if _, err := eng.DB().Writer().Exec(`INSERT INTO line_request_log (at, endpoint, status) VALUES (?, 'push', 200)`, old); err != nil {
		t.Fatal(err)
	}
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}
	made := len(eng.Line().Requests())

	eng, err = Open(ctx, dir, kr)
	if err != nil {
		t.Fatal(err)
	}
	list, err := linelog.List(ctx, eng.DB().Reader(), time.Now().Add(-time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	var multicast bool
	for _, e := range list {
		if !e.Sandbox {
			t.Errorf("sandbox attempt not marked: %+v", e)
		}
		multicast = multicast || e.Endpoint == "multicast" && e.Status == 200 && e.RetryKey != "" && e.RequestID != ""
	}
	if len(list) != made || !multicast {
		t.Fatalf("logged %d attempts (multicast %v), the client made %d: %+v", len(list), multicast, made, list)
	}
	eng.Close()

	eng, err = Start(ctx, Options{DataDir: dir, Keyring: kr})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	var n int
	eng.DB().Reader().QueryRow(`SELECT count(*) FROM line_request_log WHERE at = ?`, old).Scan(&n)
	if n != 0 {
		t.Fatal("a row past the retention survived the start")
	}
}
