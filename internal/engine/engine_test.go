package engine

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"tsunagu/internal/audit"
	"tsunagu/internal/datadir"
	"tsunagu/internal/inbox"
	"tsunagu/internal/secrets"
	"tsunagu/internal/secrets/secretstest"
	"tsunagu/internal/store"
)

type events struct {
	mu    sync.Mutex
	names []string
	ch    chan string
}

func newEvents() *events { return &events{ch: make(chan string, 256)} }

func (e *events) Emit(name string, _ any) {
	e.mu.Lock()
	e.names = append(e.names, name)
	e.mu.Unlock()
	select {
	case e.ch <- name:
	default:
	}
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestSandboxEndToEnd: a simulated customer sends a LINE message, the
// simulator posts a signed webhook, the engine verifies it with the SDK and
// stores it in the encrypted DB, staff reply, and the simulator records the
// reply (reply token) and a later push (retry key) to the right customer.
func TestSandboxEndToEnd(t *testing.T) {
	kr := secretstest.Keyring(t)
	dir := filepath.Join(t.TempDir(), "data")
	secretstest.CleanupDataDir(t, kr, dir)
	ctx := context.Background()
	clk := &clock{t: time.Now()}
	ev := newEvents()

	eng, err := Start(ctx, Options{DataDir: dir, Keyring: kr, Emitter: ev, Clock: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	if !eng.Sandbox() || eng.Sim() == nil {
		t.Fatal("no channel in the keychain: want sandbox mode")
	}
	customers := eng.Sim().Customers()
	if len(customers) < 3 {
		t.Fatalf("want seeded simulated customers, got %d", len(customers))
	}
	cust := customers[0]

	const question = "定期預金の満期について教えてください"
	if _, err := eng.Sim().SendText(ctx, cust.UserID, question); err != nil {
		t.Fatal(err)
	}
	// The message is stored before the webhook is answered; the profile
	// follows from the background fetcher.
	var list []inbox.Conversation
	eventually(t, 10*time.Second, "profile fetched", func() bool {
		var err error
		list, err = eng.Inbox().Conversations(ctx)
		return err == nil && len(list) == 1 && list[0].DisplayName != ""
	})
	if len(list) != 1 || list[0].LineUserID != cust.UserID || list[0].Unread != 1 || list[0].DisplayName != cust.DisplayName {
		t.Fatalf("conversations = %+v", list)
	}
	conv := list[0]
	if !waitFor(ev, inbox.EventChanged) {
		t.Fatal("no inbox:changed event")
	}

	// First answer: the fresh reply token.
	const answer = "お問い合わせありがとうございます。満期日は通帳に記載されております。"
	m, err := eng.Inbox().Reply(ctx, conv.ID, inbox.Actor{Audit: audit.StaffActor("tanaka"), Name: "窓口 田中"}, answer)
	if err != nil {
		t.Fatal(err)
	}
	if m.Status != "sent" || m.Via != "reply" {
		t.Fatalf("reply = %+v", m)
	}
	// Second answer, two minutes later: the token is used and stale: a push.
	clk.Add(2 * time.Minute)
	const followUp = "ほかにご不明な点があればお知らせください。"
	m2, err := eng.Inbox().Reply(ctx, conv.ID, inbox.Actor{Audit: audit.StaffActor("tanaka"), Name: "窓口 田中"}, followUp)
	if err != nil {
		t.Fatal(err)
	}
	if m2.Status != "sent" || m2.Via != "push" {
		t.Fatalf("push = %+v", m2)
	}

	got := eng.Sim().Deliveries(cust.UserID)
	if len(got) != 2 {
		t.Fatalf("simulator deliveries = %+v", got)
	}
	if got[0].Text != answer || got[0].Via != "reply" || got[0].UserID != cust.UserID {
		t.Fatalf("delivery 0 = %+v", got[0])
	}
	if got[1].Text != followUp || got[1].Via != "push" || got[1].UserID != cust.UserID || got[1].RetryKey == "" {
		t.Fatalf("delivery 1 = %+v", got[1])
	}
	var key string
	if err := eng.DB().Reader().QueryRow(`SELECT retry_key FROM messages WHERE id = ?`, m2.ID).Scan(&key); err != nil {
		t.Fatal(err)
	}
	if key != got[1].RetryKey {
		t.Fatalf("retry key stored %q, sent %q", key, got[1].RetryKey)
	}
	if !waitFor(ev, EventSandboxPhone) {
		t.Fatal("no sandbox:phone event")
	}
	chat := eng.Sim().Chat(cust.UserID)
	if len(chat) != 3 || chat[0].From != "customer" || chat[2].From != "official" || chat[2].Text != followUp {
		t.Fatalf("customer's chat = %+v", chat)
	}
	// No other simulated customer received anything.
	for _, c := range customers[1:] {
		if d := eng.Sim().Deliveries(c.UserID); len(d) != 0 {
			t.Fatalf("%s received %+v", c.DisplayName, d)
		}
	}
}

// TestWebhookForgedAndRedelivered: a forged body is refused and counted and
// stores nothing; a redelivered event is stored once.
func TestWebhookForgedAndRedelivered(t *testing.T) {
	kr := secretstest.Keyring(t)
	dir := filepath.Join(t.TempDir(), "data")
	secretstest.CleanupDataDir(t, kr, dir)
	ctx := context.Background()
	eng, err := Start(ctx, Options{DataDir: dir, Keyring: kr})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	cust := eng.Sim().Customers()[1]

	srv := httptest.NewServer(eng.WebhookHandler())
	defer srv.Close()
	body := []byte(`{"destination":"U8e742f61d673b39c7fff3cecb7536ef0","events":[{"type":"message","mode":"active","timestamp":1700000000000,` +
		`"source":{"type":"user","userId":"` + cust.UserID + `"},"webhookEventId":"01HFORGED000000000000000000","deliveryContext":{"isRedelivery":false},` +
		`"replyToken":"x","message":{"id":"1","type":"text","text":"forged","quoteToken":"q"}}]}`)
	for _, sig := range []string{"", "GhRKmvmHys4Pi8DxkF4+EayaH0OqtJtaZxgTD9fMDLs="} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
		if sig != "" {
			req.Header.Set("x-line-signature", sig)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatalf("forged webhook (sig %q) accepted", sig)
		}
	}
	if n := eng.RejectedWebhooks(); n != 2 {
		t.Fatalf("rejected = %d, want 2", n)
	}

	id, err := eng.Sim().SendText(ctx, cust.UserID, "一回だけ")
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Sim().Redeliver(ctx, id); err != nil {
		t.Fatal(err)
	}
	list, _ := eng.Inbox().Conversations(ctx)
	if len(list) != 1 {
		t.Fatalf("conversations = %+v", list)
	}
	msgs, _ := eng.Inbox().Messages(ctx, list[0].ID)
	if len(msgs) != 1 || msgs[0].Body != "一回だけ" {
		t.Fatalf("messages = %+v", msgs)
	}
}

// TestInitTwiceAndFailClosed: init is idempotent and never replaces the key;
// a DB whose key is gone is refused, not recreated.
func TestInitTwiceAndFailClosed(t *testing.T) {
	kr := secretstest.RealKeyring(t)
	dir := filepath.Join(t.TempDir(), "data")
	secretstest.CleanupDataDir(t, kr, dir)
	ctx := context.Background()

	r1, err := Init(ctx, dir, kr)
	if err != nil {
		t.Fatal(err)
	}
	if !r1.CreatedKey || !r1.CreatedDB {
		t.Fatalf("first init = %+v", r1)
	}
	d, _ := datadir.Existing(dir)
	key1, err := secrets.New(kr, r1.InstallID).DBKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := Init(ctx, dir, kr)
	if err != nil {
		t.Fatal(err)
	}
	if r2.CreatedKey || r2.CreatedDB || r2.InstallID != r1.InstallID {
		t.Fatalf("second init = %+v", r2)
	}
	key2, _ := secrets.New(kr, r1.InstallID).DBKey(ctx)
	if !bytes.Equal(key1, key2) {
		t.Fatal("init replaced the DB key")
	}

	before, _ := os.ReadFile(d.DBPath())
	if err := kr.Delete(secrets.Service, r1.InstallID+"/"+string(secrets.ItemDBKey)); err != nil {
		t.Fatal(err)
	}
	if _, err := Init(ctx, dir, kr); !errors.Is(err, ErrKeyMissing) {
		t.Fatalf("init without the key: err = %v, want ErrKeyMissing", err)
	}
	if _, err := Start(ctx, Options{DataDir: dir, Keyring: kr}); !errors.Is(err, ErrKeyMissing) {
		t.Fatalf("start without the key: err = %v", err)
	}
	after, _ := os.ReadFile(d.DBPath())
	if !bytes.Equal(before, after) {
		t.Fatal("the DB file changed while its key was missing")
	}
	if _, err := secrets.New(kr, r1.InstallID).DBKey(ctx); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatalf("a new key was created over an existing DB: %v", err)
	}
	if looks, _ := store.LooksPlaintext(d.DBPath()); looks {
		t.Fatal("DB is plaintext")
	}
}

// TestLiveModeWithChannel: credentials in the keychain leave sandbox mode.
func TestLiveModeWithChannel(t *testing.T) {
	kr := secretstest.RealKeyring(t)
	dir := filepath.Join(t.TempDir(), "data")
	secretstest.CleanupDataDir(t, kr, dir)
	ctx := context.Background()
	r, err := Init(ctx, dir, kr)
	if err != nil {
		t.Fatal(err)
	}
	ch := secrets.Channel{Secret: "8c570fa6dd201bb328f1c1eac23a96d8", AccessToken: strings.Repeat("t", 40) + "WXYZ"}
	if err := secrets.New(kr, r.InstallID).SetChannel(ctx, ch); err != nil {
		t.Fatal(err)
	}
	eng, err := Start(ctx, Options{DataDir: dir, Keyring: kr})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	if eng.Sandbox() || eng.Sim() != nil {
		t.Fatal("channel configured: want live mode")
	}
	if hint := eng.TokenHint(); strings.Contains(hint, strings.Repeat("t", 10)) || !strings.HasSuffix(hint, "WXYZ") {
		t.Fatalf("token hint %q", hint)
	}
	// LINE's documented test vector verifies against this channel's secret.
	srv := httptest.NewServer(eng.WebhookHandler())
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL,
		strings.NewReader(`{"destination":"U8e742f61d673b39c7fff3cecb7536ef0","events":[]}`))
	req.Header.Set("x-line-signature", "GhRKmvmHys4Pi8DxkF4+EayaH0OqtJtaZxgTD9fMDLs=")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("LINE's signed test body: status %d", resp.StatusCode)
	}
}

// eventually polls cond until it holds, or fails the test after d.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func waitFor(ev *events, name string) bool {
	deadline := time.After(5 * time.Second)
	for {
		ev.mu.Lock()
		for _, n := range ev.names {
			if n == name {
				ev.mu.Unlock()
				return true
			}
		}
		ev.mu.Unlock()
		select {
		case <-ev.ch:
		case <-deadline:
			return false
		}
	}
}

// TestSandboxRestartKeepsState: the simulator starts empty on each run, but
// the data stays in the DB and a blocked customer stays blocked.
func TestSandboxRestartKeepsState(t *testing.T) {
	kr := secretstest.Keyring(t)
	dir := filepath.Join(t.TempDir(), "data")
	secretstest.CleanupDataDir(t, kr, dir)
	ctx := context.Background()

	eng, err := Start(ctx, Options{DataDir: dir, Keyring: kr})
	if err != nil {
		t.Fatal(err)
	}
	cust := eng.Sim().Customers()[2]
	if _, err := eng.Sim().SendText(ctx, cust.UserID, "また連絡します"); err != nil {
		t.Fatal(err)
	}
	if err := eng.Sim().Unfollow(ctx, cust.UserID); err != nil {
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
	for _, c := range eng.Sim().Customers() {
		if c.UserID == cust.UserID && c.Following {
			t.Fatal("a customer who blocked the account is a friend again after restart")
		}
	}
	list, err := eng.Inbox().Conversations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].LineUserID != cust.UserID || list[0].FollowState != "unfollowed" || list[0].LastKind != "unfollow" {
		t.Fatalf("conversations after restart = %+v", list)
	}
}
