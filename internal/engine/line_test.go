package engine

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"tsunagu/internal/line"
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
	msgs, err := eng.Inbox().Messages(ctx, convs[0].ID)
	if err != nil || len(msgs) != 1 || msgs[0].Kind != "image" || !msgs[0].HasContent {
		t.Fatalf("messages = %+v, %v", msgs, err)
	}
	data, typ, err := eng.Inbox().MessageContent(ctx, msgs[0].ID)
	if err != nil || string(data) != string(photo) || typ != "image/jpeg" {
		t.Fatalf("content = %q, %q, %v", data, typ, err)
	}
}
