package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"tsunagu/internal/engine"
	"tsunagu/internal/relay"
	"tsunagu/internal/relay/relaytest"
	"tsunagu/internal/secrets/secretstest"
)

// TestCLIRelay: enroll with the code on standard input, show the status,
// and `sync --once` drains the relay: LINE's documented example (signed with
// its documented secret) is stored, a forged body dropped and counted.
func TestCLIRelay(t *testing.T) {
	kr := secretstest.Keyring(t)
	dir := filepath.Join(t.TempDir(), "data")
	secretstest.CleanupDataDir(t, kr, dir)

	hs := relaytest.Start(t, relay.Config{})
	code := hs.Tenant(t, "本店")

	if r := cli(t, kr, "", "init", "--data-dir", dir); r.code != 0 {
		t.Fatalf("init: %+v", r)
	}
	// LINE's documented signature example: this secret signs that body.
	const docSecret = "8c570fa6dd201bb328f1c1eac23a96d8"
	const docBody = `{"destination":"U8e742f61d673b39c7fff3cecb7536ef0","events":[]}`
	const docSig = "GhRKmvmHys4Pi8DxkF4+EayaH0OqtJtaZxgTD9fMDLs="
	if r := cli(t, kr, docSecret+"\nrelay-cli-test-access-token-0123456789\n", "channel", "set", "--data-dir", dir); r.code != 0 {
		t.Fatalf("channel set: %+v", r)
	}
	if r := cli(t, kr, "", "relay", "status", "--data-dir", dir); r.code != 0 || !strings.Contains(r.stdout, "not enrolled") {
		t.Fatalf("status before: %+v", r)
	}
	if r := cli(t, kr, "WRONG-CODE\n", "relay", "enroll", "--relay", hs.URL, "--allow-http-loopback", "--data-dir", dir); r.code == 0 {
		t.Fatalf("wrong code accepted: %+v", r)
	}
	r := cli(t, kr, code+"\n", "relay", "enroll", "--relay", hs.URL, "--allow-http-loopback", "--data-dir", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "/hook/") {
		t.Fatalf("enroll: %+v", r)
	}
	r = cli(t, kr, "", "relay", "status", "--json", "--data-dir", dir)
	var st engine.RelayStatus
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &st) != nil || !st.Enrolled || st.WebhookURL == "" {
		t.Fatalf("status: %+v", r)
	}

	for _, sig := range []string{docSig, "AAAAmvmHys4Pi8DxkF4+EayaH0OqtJtaZxgTD9fMDLs="} {
		req, _ := http.NewRequest(http.MethodPost, st.WebhookURL, bytes.NewReader([]byte(docBody)))
		req.Header.Set("X-Line-Signature", sig)
		res, err := http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("post: %v %v", res, err)
		}
	}
	r = cli(t, kr, "", "sync", "--once", "--json", "--data-dir", dir)
	var got struct{ Received, Stored, Forged int64 }
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &got) != nil || got.Received != 2 || got.Stored != 1 || got.Forged != 1 {
		t.Fatalf("sync --once: %+v %+v", r, got)
	}
	// Drained: a second run finds nothing.
	r = cli(t, kr, "", "sync", "--once", "--json", "--data-dir", dir)
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &got) != nil || got.Received != 0 {
		t.Fatalf("second sync: %+v", r)
	}
	if r := cli(t, kr, "", "relay", "disconnect", "--data-dir", dir); r.code != 0 {
		t.Fatalf("disconnect: %+v", r)
	}
	if r := cli(t, kr, "", "relay", "status", "--data-dir", dir); !strings.Contains(r.stdout, "not enrolled") {
		t.Fatalf("status after: %+v", r)
	}
}
