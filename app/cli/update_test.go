package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tsunagu/internal/update"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, keyring: nopKeyring{}})
	return code, out.String(), errb.String()
}

// IT's publishing workflow: keygen once, sign-manifest per release, then
// check the location as the app would.
func TestCLIUpdatePublish(t *testing.T) {
	keys, share := t.TempDir(), t.TempDir()
	if code, out, errs := runCLI(t, "update", "keygen", "--out", keys); code != 0 || !strings.Contains(out, "ed25519:") {
		t.Fatalf("keygen: %d %q %q", code, out, errs)
	}
	if st, err := os.Stat(filepath.Join(keys, update.SigningKeyFile)); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("private key file: %v %v", st, err)
	}
	if code, _, _ := runCLI(t, "update", "keygen", "--out", keys); code == 0 {
		t.Fatal("keygen overwrote an existing key")
	}
	installer := filepath.Join(share, "Tsunagu-1.3.0-windows-amd64-installer.exe")
	if err := os.WriteFile(installer, []byte("MZ installer bytes"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "update", "sign-manifest", "--key", filepath.Join(keys, update.SigningKeyFile),
		"--installer", installer, "--version", "1.3.0", "--notes-ja", "修正", "--notes-en", "Fixes", "--json")
	if code != 0 {
		t.Fatalf("sign-manifest: %d %q %q", code, out, errs)
	}
	var m update.Manifest
	if err := json.Unmarshal([]byte(out), &m); err != nil || m.Size != 18 || m.Installer != filepath.Base(installer) {
		t.Fatalf("manifest %+v %v", m, err)
	}
	pubFile := filepath.Join(keys, update.PublicKeyFile)
	if code, out, errs := runCLI(t, "update", "check", "--location", share, "--public-key", pubFile, "--current", "1.2.0"); code != 0 || !strings.Contains(out, "1.3.0 would be offered") {
		t.Fatalf("check: %d %q %q", code, out, errs)
	}
	if code, out, _ := runCLI(t, "update", "check", "--location", share, "--public-key", pubFile, "--current", "1.3.0"); code != 0 || !strings.Contains(out, "not newer") {
		t.Fatalf("check at the same version: %d %q", code, out)
	}
	// The installer changes after signing: refused.
	if err := os.WriteFile(installer, []byte("MZ installer bytez"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runCLI(t, "update", "check", "--location", share, "--public-key", pubFile, "--current", "1.2.0"); code == 0 || !strings.Contains(errs, "SHA-256") {
		t.Fatalf("check of a changed installer: %d %q", code, errs)
	}
	// Missing flags and a bad version are usage errors.
	if code, _, _ := runCLI(t, "update", "sign-manifest", "--key", filepath.Join(keys, update.SigningKeyFile)); code != 2 {
		t.Fatalf("sign-manifest without flags: %d", code)
	}
	if code, _, _ := runCLI(t, "update", "sign-manifest", "--key", filepath.Join(keys, update.SigningKeyFile), "--installer", installer, "--version", "one"); code != 2 {
		t.Fatalf("sign-manifest with a bad version: %d", code)
	}
}

func TestCLIVersion(t *testing.T) {
	code, out, _ := runCLI(t, "version", "--json")
	var info map[string]string
	if code != 0 || json.Unmarshal([]byte(out), &info) != nil || info["version"] == "" || info["goVersion"] == "" {
		t.Fatalf("version --json: %d %q", code, out)
	}
}
