package update

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestPublish: keys made once (the private one owner-only, never
// overwritten), a release signed into the installer's folder so that the
// public key verifies it, and a field the manifest refuses reported as such.
func TestPublish(t *testing.T) {
	keys, share := t.TempDir(), t.TempDir()
	k, err := GenerateKeys(keys)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(k.PrivateKeyFile); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("private key file: %v %v", st, err)
	}
	if _, err := GenerateKeys(keys); err == nil {
		t.Fatal("a second key pair replaced the first")
	}
	installer := filepath.Join(share, "Tsunagu-1.3.0-windows-amd64-installer.exe")
	if err := os.WriteFile(installer, []byte("MZ installer bytes"), 0o644); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 4, 1, 9, 0, 0, 0, time.Local)
	m, out, err := SignRelease(Release{KeyFile: k.PrivateKeyFile, Installer: installer, Version: "1.3.0", OS: "windows", Arch: "amd64"}, now)
	if err != nil || out != share || m.Size != 18 || m.Released != "2026-04-01" {
		t.Fatalf("sign: %+v %q %v", m, out, err)
	}
	body, _ := os.ReadFile(filepath.Join(share, ManifestName))
	sig, _ := os.ReadFile(filepath.Join(share, SignatureName))
	pub, err := DecodePublicKey(k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := Verify(pub, body, sig); err != nil || got.SHA256 != m.SHA256 {
		t.Fatalf("the published manifest does not verify: %v", err)
	}
	if _, _, err := SignRelease(Release{KeyFile: k.PrivateKeyFile, Installer: installer, Version: "one", OS: "windows", Arch: "amd64"}, now); !errors.Is(err, ErrBadManifest) {
		t.Fatalf("a bad version: %v", err)
	}
}
