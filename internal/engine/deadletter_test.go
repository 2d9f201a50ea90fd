package engine

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"tsunagu/internal/linesim"
	"tsunagu/internal/relay"
	"tsunagu/internal/relay/relaytest"
	"tsunagu/internal/relayclient"
	"tsunagu/internal/secrets"
	"tsunagu/internal/secrets/secretstest"
)

const dlSecret, dlToken = "0123456789abcdef0123456789abcdef", "deadletter-e2e-access-token-012345"

// liveRelayEngine is a live-mode engine enrolled with an in-process relay
// on loopback, and the LINE simulator with one customer.
type liveRelayEngine struct {
	eng     *Engine
	sim     *linesim.Server
	cust    linesim.Customer
	hookURL string
	opts    Options // to start the engine again after Close
}

func newLiveRelayEngine(t *testing.T) *liveRelayEngine {
	return newRelayEnv(t, secretstest.Keyring(t), relay.Config{}, nil, "")
}

// newRelayEnv builds a liveRelayEngine on keychain kr with relay settings
// rcfg. lineEndpoint "" means the simulator; anything else is where the
// engine's LINE API calls go (a dead loopback port for an outage).
func newRelayEnv(t testing.TB, kr secrets.Keyring, rcfg relay.Config, em interface{ Emit(string, any) }, lineEndpoint string) *liveRelayEngine {
	t.Helper()
	ctx := context.Background()
	rs := relaytest.Start(t, rcfg)
	code := rs.Tenant(t, "本店")
	sim, cust, dir := liveFolder(t, kr, dlSecret, dlToken, "佐藤 一郎")
	if lineEndpoint == "" {
		lineEndpoint = sim.URL()
	}
	opts := Options{DataDir: dir, Keyring: kr, LineEndpoint: lineEndpoint}
	if em != nil {
		opts.Emitter = em
	}
	eng, err := Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	l := &liveRelayEngine{eng: eng, sim: sim, cust: cust, opts: opts}
	t.Cleanup(func() { l.eng.Close() })
	en, err := eng.RelayEnroll(ctx, "staff:admin", rs.URL, code, relayclient.HTTPLoopback)
	if err != nil {
		t.Fatal(err)
	}
	sim.SetWebhookURL(en.WebhookURL)
	l.hookURL = en.WebhookURL
	return l
}

// liveFolder is a LINE simulator with one following customer (name) and an
// initialised data folder whose keychain kr holds that channel's secret and
// token: what a live office has before the engine starts.
func liveFolder(t testing.TB, kr secrets.Keyring, secret, token, name string) (*linesim.Server, linesim.Customer, string) {
	t.Helper()
	ctx := context.Background()
	sim := linesim.New(linesim.Config{ChannelSecret: secret, AccessToken: token})
	if err := sim.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	cust := linesim.Customer{UserID: linesim.NewUserID(), DisplayName: name, Language: "ja", Following: true}
	sim.AddCustomer(cust)
	dir := filepath.Join(t.TempDir(), "data")
	secretstest.CleanupDataDir(t, kr, dir)
	res, err := Init(ctx, dir, kr)
	if err != nil {
		t.Fatal(err)
	}
	if err := secrets.New(kr, res.InstallID).SetChannel(ctx, secrets.Channel{Secret: secret, AccessToken: token}); err != nil {
		t.Fatal(err)
	}
	return sim, cust, dir
}

// post sends body to the relay as LINE would, signed with secret.
func (l *liveRelayEngine) post(t testing.TB, body []byte, secret string) {
	t.Helper()
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	req, _ := http.NewRequest(http.MethodPost, l.hookURL, bytes.NewReader(body))
	req.Header.Set("X-Line-Signature", base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	r, err := http.DefaultClient.Do(req)
	if err != nil || r.StatusCode != http.StatusOK {
		t.Fatalf("post: %v %v", r, err)
	}
	r.Body.Close()
}

func textEventJSON(id, user, text string) string {
	return fmt.Sprintf(`{"type":"message","mode":"active","timestamp":%d,"webhookEventId":%q,"deliveryContext":{"isRedelivery":false},
		"replyToken":"rt-%s","source":{"type":"user","userId":%q},"message":{"type":"text","id":"m-%s","quoteToken":"q","text":%q}}`,
		time.Now().UnixMilli(), id, id, user, id, text)
}

// A LINE-signed body with a malformed event between good ones, then more
// messages: the good ones are stored, the bad one is a dead letter, and
// the relay's queue drains (nothing waits behind the bad event).
func TestRelayMalformedEventBecomesDeadLetter(t *testing.T) {
	l := newLiveRelayEngine(t)
	ctx := context.Background()
	u := l.cust.UserID
	bad := `{"type":"message","mode":"active","timestamp":"yesterday","webhookEventId":"01POISON","source":{"type":"user","userId":"` + u + `"},"message":{"type":"text","id":"x","text":"秘密"}}`
	l.post(t, []byte(`{"destination":"Ubot","events":[`+textEventJSON("01G1", u, "一通目")+`,`+bad+`,`+textEventJSON("01G2", u, "二通目")+`]}`), dlSecret)
	for _, m := range []string{"三通目", "四通目"} {
		if _, err := l.sim.SendText(ctx, u, m); err != nil {
			t.Fatal(err)
		}
	}
	conv := waitConversation(t, l.eng, u, 1)
	waitConversationMessages(t, l.eng, conv.ID, 4)
	msgs, _ := l.eng.Inbox().Messages(ctx, conv.ID)
	for i, want := range []string{"一通目", "二通目", "三通目", "四通目"} {
		if msgs[i].Body != want {
			t.Fatalf("message %d = %q, want %q", i, msgs[i].Body, want)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := l.eng.RelayStatus()
		if st.DeadLetters == 1 && st.Pending == 0 && st.Handled == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status %+v, want 1 dead letter, 3 handled, nothing pending", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
	list, err := l.eng.Inbox().DeadLetters(ctx, false)
	if err != nil || len(list) != 1 || list[0].Kind != "message" {
		t.Fatalf("dead letters %+v %v", list, err)
	}
}

// What the desktop drops is reported for what it is: a webhook-shaped body
// with a wrong signature is forged, anything else is junk. Neither is
// stored, both are acked.
func TestRelayBatchTellsJunkFromForged(t *testing.T) {
	l := newLiveRelayEngine(t)
	ctx := context.Background()
	u := l.cust.UserID
	good := []byte(`{"destination":"Ubot","events":[` + textEventJSON("01OK", u, "こんにちは") + `]}`)
	mac := hmac.New(sha256.New, []byte(dlSecret))
	mac.Write(good)
	goodSig := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	deep := bytes.Repeat([]byte("["), 20000)
	events := []relayclient.Event{
		{Body: []byte("GET / HTTP/1.1"), Signature: "x"},
		{Body: deep, Signature: "x"},
		{Body: good, Signature: "AAAA" + goodSig[4:]},
		{Body: good, Signature: goodSig},
	}
	out := l.eng.relayBatch(ctx, events)
	for i, want := range []string{"junk", "junk", "forged", ""} {
		switch {
		case want == "" && out[i] != nil:
			t.Fatalf("event %d: %v, want stored", i, out[i])
		case want != "" && (out[i] == nil || !bytes.Contains([]byte(out[i].Error()), []byte(want))):
			t.Fatalf("event %d: %v, want dropped as %s", i, out[i], want)
		}
	}
	st := l.eng.RelayStatus()
	if st.Junk != 2 || st.Forged != 1 {
		t.Fatalf("status %+v, want junk 2, forged 1", st)
	}
	conv := waitConversation(t, l.eng, u, 1)
	if msgs, _ := l.eng.Inbox().Messages(ctx, conv.ID); len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
}
