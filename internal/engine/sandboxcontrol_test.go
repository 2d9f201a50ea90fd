package engine

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tsunagu/internal/audit"
	"tsunagu/internal/secrets/secretstest"
)

// TestSandboxControl: asked for, the sandbox opens its control API with a
// token in an owner-only file of the data folder, audited; a request without
// the token is refused; with it a simulated customer's text is stored like
// one from the phone panel; Close removes the file. Without the option there
// is neither file nor audit entry.
func TestSandboxControl(t *testing.T) {
	kr := secretstest.Keyring(t)
	ctx := context.Background()

	plain := filepath.Join(t.TempDir(), "plain")
	eng, err := Start(ctx, Options{DataDir: plain, Keyring: kr})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(plain, SandboxControlFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("control file without the option: %v", err)
	}
	if list, err := audit.List(ctx, eng.DB().Reader(), audit.Filter{Action: audit.ActionSandboxControl}); err != nil || len(list) != 0 {
		t.Fatalf("audit without the option: %+v %v", list, err)
	}
	eng.Close()

	dir := filepath.Join(t.TempDir(), "data")
	ev := newEvents()
	eng, err = Start(ctx, Options{DataDir: dir, Keyring: kr, Emitter: ev, SandboxControlBy: audit.OSActor("trainer")})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			eng.Close()
		}
	}()
	path := filepath.Join(dir, SandboxControlFile)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("control file mode %v, want 0600", fi.Mode().Perm())
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var info SandboxControlInfo
	if err := json.Unmarshal(raw, &info); err != nil || !strings.HasPrefix(info.URL, "http://127.0.0.1:") || len(info.Token) < 32 {
		t.Fatalf("control file %s: %v", raw, err)
	}
	entries, err := audit.List(ctx, eng.DB().Reader(), audit.Filter{Action: audit.ActionSandboxControl})
	if err != nil || len(entries) != 1 || entries[0].Actor != "os:trainer" {
		t.Fatalf("audit %+v %v", entries, err)
	}

	do := func(method, p, token, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, method, info.URL+p, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if st, _ := do("GET", "/customers", "", ""); st != http.StatusUnauthorized {
		t.Fatalf("no token: %d", st)
	}
	if st, _ := do("POST", "/send", "wrong", `{}`); st != http.StatusUnauthorized {
		t.Fatalf("wrong token: %d", st)
	}
	st, body := do("GET", "/customers", info.Token, "")
	var customers []struct {
		UserID      string `json:"userId"`
		DisplayName string `json:"displayName"`
	}
	if err := json.Unmarshal([]byte(body), &customers); st != http.StatusOK || err != nil || len(customers) < 3 || customers[0].DisplayName == "" {
		t.Fatalf("customers %d %s %v", st, body, err)
	}
	if st, body := do("POST", "/send", info.Token, `{"userId":"`+customers[0].UserID+`","text":""}`); st != http.StatusBadRequest {
		t.Fatalf("empty text: %d %s", st, body)
	}
	if st, body := do("POST", "/send", info.Token, `{"userId":"`+customers[0].UserID+`","text":"口座の住所変更をしたいです"}`); st != http.StatusOK || !strings.Contains(body, "eventId") {
		t.Fatalf("send %d %s", st, body)
	}
	// Stored before the answer, as from the phone panel, which is told to refresh.
	list, err := eng.Inbox().Conversations(ctx)
	if err != nil || len(list) != 1 || list[0].LineUserID != customers[0].UserID || list[0].Unread != 1 {
		t.Fatalf("conversations %+v %v", list, err)
	}
	if !waitFor(ev, EventSandboxPhone) {
		t.Fatal("no sandbox:phone event")
	}
	// The drill's routes are there too, behind the same token.
	if st, body := do("GET", "/outage", info.Token, ""); st != http.StatusOK || !strings.Contains(body, "mode") {
		t.Fatalf("outage %d %s", st, body)
	}

	closed = true
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("control file after Close: %v", err)
	}
	client := http.Client{Timeout: 2 * time.Second}
	if res, err := client.Get(info.URL + "/customers"); err == nil {
		res.Body.Close()
		t.Fatal("control API still answers after Close")
	}
}
