package facade

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	"tsunagu/internal/fielderr"
	"tsunagu/internal/msgcode"

	"tsunagu/internal/secrets/secretstest"
)

type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) Emit(name string, _ any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, name)
}

func (r *recorder) has(name string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.events {
		if e == name {
			return true
		}
	}
	return false
}

// TestFacadeSandboxAndChannel drives the bound object as the UI does: sandbox
// at first start, a customer message, a reply, then real credentials leave
// sandbox mode (never echoed back in full) and removing them returns to it.
func TestFacadeSandboxAndChannel(t *testing.T) {
	kr := secretstest.Keyring(t)
	dir := filepath.Join(t.TempDir(), "data")
	secretstest.CleanupDataDir(t, kr, dir)
	rec := &recorder{}
	h := New(Options{DataDir: dir, Keyring: kr, Version: "test", AuthParams: testParams})
	if err := h.Start(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	defer h.Stop()
	app := h.App()
	firstAdmin(t, app) // every call below needs a signed-in administrator

	st := (&SystemService{app}).Status()
	if !st.Sandbox || st.ChannelConfigured || st.Error != "" || st.Version != "test" {
		t.Fatalf("first start: %+v", st)
	}
	customers, err := sandboxSvc(app).SandboxCustomers()
	if err != nil || len(customers) == 0 {
		t.Fatalf("customers: %v %v", customers, err)
	}
	if err := sandboxSvc(app).SandboxSend(customers[0].UserID, "口座振替の手続きについて"); err != nil {
		t.Fatal(err)
	}
	if err := sandboxSvc(app).SandboxSend("U00000000000000000000000000000000", "x"); err == nil || err.Error() != msgcode.NotFound {
		t.Fatalf("unknown customer: %v", err)
	}
	convs, err := inboxSvc(app).Conversations()
	if err != nil || len(convs) != 1 || convs[0].Unread != 1 {
		t.Fatalf("conversations: %+v %v", convs, err)
	}
	if _, err := inboxSvc(app).Reply(convs[0].ID, ""); err == nil || err.Error() != msgcode.EmptyMessage {
		t.Fatalf("empty reply: %v", err)
	}
	m, err := inboxSvc(app).Reply(convs[0].ID, "承知しました。必要書類をご案内します。")
	if err != nil || m.Status != "sent" {
		t.Fatalf("reply: %+v %v", m, err)
	}
	chat, err := sandboxSvc(app).SandboxChat(customers[0].UserID)
	if err != nil || len(chat) != 2 || chat[1].From != "official" {
		t.Fatalf("phone: %+v %v", chat, err)
	}
	if err := inboxSvc(app).MarkRead(convs[0].ID); err != nil {
		t.Fatal(err)
	}

	// The UI gets the code and both wrong fields (the form marks them).
	if _, err := (&ChannelService{app}).SaveChannel("", ""); err == nil || msgcode.For(err).Code != msgcode.ChannelInvalid ||
		!reflect.DeepEqual(msgcode.For(err).Fields, []fielderr.FieldError{{Field: "secret", Code: fielderr.Required}, {Field: "accessToken", Code: fielderr.Required}}) {
		t.Fatalf("empty credentials: %v", err)
	}
	const token = "abcdEFGHijklMNOPqrstUVWXyz0123456789+/=WXYZ"
	st, err = (&ChannelService{app}).SaveChannel("8c570fa6dd201bb328f1c1eac23a96d8", token)
	if err != nil {
		t.Fatal(err)
	}
	if st.Sandbox || !st.ChannelConfigured || st.TokenHint == "" || strings.Contains(st.TokenHint, token[4:len(token)-4]) {
		t.Fatalf("after SaveChannel: %+v", st)
	}
	if !rec.has(EventStatus) {
		t.Fatal("no status:changed event")
	}
	if _, err := sandboxSvc(app).SandboxCustomers(); err == nil || err.Error() != msgcode.NotSandbox {
		t.Fatalf("sandbox call in live mode: %v", err)
	}
	// The stored conversation survives the switch of channel.
	if convs, err := inboxSvc(app).Conversations(); err != nil || len(convs) != 1 {
		t.Fatalf("conversations after switch: %+v %v", convs, err)
	}

	st, err = (&ChannelService{app}).ClearChannel()
	if err != nil || !st.Sandbox || st.ChannelConfigured || st.TokenHint != "" {
		t.Fatalf("after ClearChannel: %+v %v", st, err)
	}
}

// TestFacadeBeforeStart: calls before the engine runs fail with a code, not a
// panic.
func TestFacadeBeforeStart(t *testing.T) {
	h := New(Options{DataDir: t.TempDir(), Clock: time.Now})
	app := h.App()
	if _, err := inboxSvc(app).Conversations(); err == nil || err.Error() != msgcode.NotStarted {
		t.Fatalf("Conversations before start: %v", err)
	}
	if _, err := (&ChannelService{app}).SaveChannel("a", "b"); err == nil || err.Error() != msgcode.NotStarted {
		t.Fatalf("SaveChannel before start: %v", err)
	}
	if st := (&SystemService{app}).Status(); st.Sandbox || st.Error != "" {
		t.Fatalf("status before start: %+v", st)
	}
}
