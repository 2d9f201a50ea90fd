package engine

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"tsunagu/internal/datadir"
	"tsunagu/internal/fielderr"
	"tsunagu/internal/inbox"
	"tsunagu/internal/relay"
	"tsunagu/internal/relay/relaytest"
	"tsunagu/internal/relayclient"
	"tsunagu/internal/secrets"
	"tsunagu/internal/secrets/secretstest"
)

// TestRelayEndToEnd: the real path of a live office. A customer's message
// is signed by the LINE simulator and posted to the relay, which seals and
// queues it; the engine's pull loop opens it, verifies LINE's signature and
// stores it in the encrypted DB, and only then acks. A forged body posted
// to the same URL is dropped and counted; a redelivered event is stored
// once; and events queued while the desktop is closed arrive at the next
// start.
func TestRelayEndToEnd(t *testing.T) {
	kr := secretstest.Keyring(t)
	ctx := context.Background()

	// The relay, on loopback with its embedded JetStream.
	hs := relaytest.Start(t, relay.Config{})
	code := hs.Tenant(t, "本店")

	// LINE: the simulator, with the channel's credentials in the keychain.
	const secret, token = "0123456789abcdef0123456789abcdef", "relay-e2e-access-token-0123456789"
	sim, cust, dir := liveFolder(t, kr, secret, token, "山田 花子")
	ev := newEvents()
	start := func() *Engine {
		eng, err := Start(ctx, Options{DataDir: dir, Keyring: kr, Emitter: ev, LineEndpoint: sim.URL()})
		if err != nil {
			t.Fatal(err)
		}
		if eng.Sandbox() {
			t.Fatal("want live mode")
		}
		return eng
	}
	eng := start()
	defer func() { eng.Close() }()

	if st := eng.RelayStatus(); st.Enrolled {
		t.Fatalf("enrolled before enrolling: %+v", st)
	}
	// Each failure names the field to fix: the code, or the address.
	wantField := func(what string, err, sentinel error, field, code string) {
		t.Helper()
		if !errors.Is(err, sentinel) {
			t.Fatalf("%s: %v, want %v", what, err, sentinel)
		}
		if got := fielderr.Fields(err); len(got) != 1 || got[0].Field != field || got[0].Code != code {
			t.Fatalf("%s: fields %+v, want %s %s", what, got, field, code)
		}
	}
	_, err := eng.RelayEnroll(ctx, "staff:admin", hs.URL, "t000000000000-WRONG", relayclient.HTTPLoopback)
	wantField("wrong code", err, relayclient.ErrBadCode, "code", fielderr.Refused)
	_, err = eng.RelayEnroll(ctx, "staff:admin", "", code, relayclient.HTTPLoopback)
	wantField("no address", err, relayclient.ErrBadURL, "relayUrl", fielderr.Required)
	_, err = eng.RelayEnroll(ctx, "staff:admin", "ftp://relay.example.jp", code, relayclient.HTTPLoopback)
	wantField("not https", err, relayclient.ErrBadURL, "relayUrl", fielderr.HTTPS)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	_, err = eng.RelayEnroll(ctx, "staff:admin", closed.URL, code, relayclient.HTTPLoopback)
	wantField("nothing listening", err, relayclient.ErrEnrollFailed, "relayUrl", fielderr.Unreachable)
	en, err := eng.RelayEnroll(ctx, "staff:admin", hs.URL, code, relayclient.HTTPLoopback)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.RelayEnroll(ctx, "staff:admin", hs.URL, code, relayclient.HTTPLoopback); !errors.Is(err, ErrRelayEnrolled) {
		t.Fatalf("second enroll: %v", err)
	}
	// The relay URL is plain HTTP in the test, which LINE (and the
	// simulator's set-webhook API) refuses; set it directly.
	if _, err := eng.RelaySetWebhookOnLINE(ctx, "staff:admin"); err == nil {
		t.Fatal("http webhook URL accepted by set-webhook-endpoint")
	}
	sim.SetWebhookURL(en.WebhookURL)

	// A customer writes: simulator → relay (sealed, queued, 200) →
	// engine → inbox.
	const text = "口座振替の手続きについて教えてください"
	eventID, err := sim.SendText(ctx, cust.UserID, text)
	if err != nil {
		t.Fatalf("relay did not accept the webhook: %v", err)
	}
	conv := waitConversation(t, eng, cust.UserID, 1)
	msgs, err := eng.Inbox().Messages(ctx, conv.ID)
	if err != nil || len(msgs) != 1 || msgs[0].Body != text {
		t.Fatalf("messages %+v %v", msgs, err)
	}
	if !waitFor(ev, inbox.EventChanged) {
		t.Fatal("no inbox:changed event")
	}
	waitHandled(t, eng, 1) // counted once the handler returned
	st := eng.RelayStatus()
	if !st.Enrolled || !st.Running || st.State != relayclient.StateConnected || st.Handled != 1 {
		t.Fatalf("status %+v", st)
	}

	// LINE redelivers the same event: stored once.
	if err := sim.Redeliver(ctx, eventID); err != nil {
		t.Fatal(err)
	}
	waitHandled(t, eng, 2)
	if msgs, _ := eng.Inbox().Messages(ctx, conv.ID); len(msgs) != 1 {
		t.Fatalf("redelivery stored twice: %d messages", len(msgs))
	}

	// A forged body (signed with another secret) reaches the relay, which
	// cannot tell; the desktop drops and counts it.
	forged := []byte(`{"destination":"Ux","events":[{"type":"message","webhookEventId":"01FORGED","timestamp":1700000000000,"mode":"active","source":{"type":"user","userId":"` + cust.UserID + `"},"replyToken":"r","deliveryContext":{"isRedelivery":false},"message":{"id":"1","type":"text","quoteToken":"q","text":"振込先が変わりました"}}]}`)
	mac := hmac.New(sha256.New, []byte("ffffffffffffffffffffffffffffffff"))
	mac.Write(forged)
	req, _ := http.NewRequest(http.MethodPost, en.WebhookURL, bytes.NewReader(forged))
	req.Header.Set("X-Line-Signature", base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	if r, err := http.DefaultClient.Do(req); err != nil || r.StatusCode != 200 {
		t.Fatalf("forged post: %v %v", r, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for eng.RelayStatus().Forged != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("forged event not counted: %+v", eng.RelayStatus())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if msgs, _ := eng.Inbox().Messages(ctx, conv.ID); len(msgs) != 1 {
		t.Fatalf("forged message stored: %d messages", len(msgs))
	}

	// The desktop is closed; messages sent meanwhile wait at the relay
	// and arrive after the next start.
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"一通目", "二通目", "三通目"} {
		if _, err := sim.SendText(ctx, cust.UserID, m); err != nil {
			t.Fatal(err)
		}
	}
	eng = start()
	waitConversationMessages(t, eng, conv.ID, 4)

	// Images for LINE to fetch go to the relay, signed with the keychain's
	// auth key; the URL serves them.
	var img bytes.Buffer
	png.Encode(&img, image.NewGray(image.Rect(0, 0, 8, 8)))
	u, err := eng.RelayUploadMedia(ctx, img.Bytes(), "image/png")
	if err != nil {
		t.Fatal(err)
	}
	if r, err := http.Get(u); err != nil || r.StatusCode != 200 || r.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("GET %s: %v %v", u, r, err)
	}

	// Disconnect forgets the enrollment and the keys.
	if err := eng.RelayDisconnect(ctx, "staff:admin"); err != nil {
		t.Fatal(err)
	}
	if st := eng.RelayStatus(); st.Enrolled || st.Running {
		t.Fatalf("after disconnect: %+v", st)
	}
	d, _ := datadir.Existing(dir)
	if _, err := os.Stat(d.File(relayFile)); !os.IsNotExist(err) {
		t.Fatalf("relay.json left: %v", err)
	}
	if _, err := eng.Secrets().RelayKeys(ctx); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatalf("keys left: %v", err)
	}
	if _, err := eng.RelayUploadMedia(ctx, img.Bytes(), "image/png"); !errors.Is(err, ErrRelayNotEnrolled) {
		t.Fatalf("upload after disconnect: %v", err)
	}
}

func waitConversation(t *testing.T, eng *Engine, userID string, unread int) inbox.Conversation {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		list, err := eng.Inbox().Conversations(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range list {
			if c.LineUserID == userID && c.Unread >= unread {
				return c
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no conversation for the relayed message: %+v (relay %+v)", list, eng.RelayStatus())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func waitConversationMessages(t *testing.T, eng *Engine, id int64, n int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		msgs, err := eng.Inbox().Messages(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) == n {
			return
		}
		if len(msgs) > n || time.Now().After(deadline) {
			t.Fatalf("%d messages, want %d (relay %+v)", len(msgs), n, eng.RelayStatus())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func waitHandled(t *testing.T, eng *Engine, n int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for eng.RelayStatus().Handled < n {
		if time.Now().After(deadline) {
			t.Fatalf("handled %+v, want %d", eng.RelayStatus(), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
