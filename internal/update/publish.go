package update

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// Publishing an update, IT's side (`tsunagu-cli update keygen` and
// `update sign-manifest`; docs/install.md).

// Files of a signing key pair.
const (
	SigningKeyFile = "update-signing.key"
	PublicKeyFile  = "update-public.key"
)

// KeyFiles is a signing key pair just made.
type KeyFiles struct {
	PrivateKeyFile string `json:"privateKeyFile"`
	PublicKeyFile  string `json:"publicKeyFile"`
	PublicKey      string `json:"publicKey"` // ed25519:..., for the update policy
}

// GenerateKeys writes a new Ed25519 key pair into dir: the private key
// owner-only, and never over an existing file (installed apps may trust
// the key it would replace).
func GenerateKeys(dir string) (KeyFiles, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return KeyFiles{}, fmt.Errorf("generate key: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return KeyFiles{}, err
	}
	k := KeyFiles{PrivateKeyFile: filepath.Join(dir, SigningKeyFile), PublicKeyFile: filepath.Join(dir, PublicKeyFile), PublicKey: EncodeKey(pub)}
	if err := writeNew(k.PrivateKeyFile, []byte(EncodeKey(priv)+"\n"), 0o600); err != nil {
		return KeyFiles{}, err
	}
	if err := writeNew(k.PublicKeyFile, []byte(k.PublicKey+"\n"), 0o644); err != nil {
		return KeyFiles{}, err
	}
	return k, nil
}

// Release is an installer to publish.
type Release struct {
	KeyFile    string // the private key file of GenerateKeys
	Installer  string
	Version    string
	Notes      Notes
	MinVersion string // "" or the oldest version that may update with it
	OS, Arch   string
	Released   string // YYYY-MM-DD; "": today
	OutDir     string // where manifest.json and its signature go; "": the installer's folder
}

// SignRelease writes the signed manifest of r's installer (its size and
// SHA-256) into r.OutDir, checked the way the app checks it, and returns it
// with the folder it went to. A field the manifest refuses wraps
// ErrBadManifest.
func SignRelease(r Release, now time.Time) (Manifest, string, error) {
	kb, err := os.ReadFile(r.KeyFile)
	if err != nil {
		return Manifest{}, "", fmt.Errorf("read the signing key: %w", err)
	}
	priv, err := DecodePrivateKey(string(kb))
	if err != nil {
		return Manifest{}, "", fmt.Errorf("%s: %w", r.KeyFile, err)
	}
	size, sum, err := hashFile(r.Installer)
	if err != nil {
		return Manifest{}, "", err
	}
	if r.Released == "" {
		r.Released = now.Format(time.DateOnly)
	}
	m := Manifest{Product: Product, Version: r.Version, Released: r.Released, Notes: r.Notes, OS: r.OS, Arch: r.Arch,
		Installer: filepath.Base(r.Installer), Size: size, SHA256: sum, MinVersion: r.MinVersion}
	if err := m.Validate(); err != nil {
		return Manifest{}, "", err
	}
	body, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return Manifest{}, "", err
	}
	body = append(body, '\n')
	sig := Sign(priv, body)
	if _, err := Verify(priv.Public().(ed25519.PublicKey), body, sig); err != nil {
		return Manifest{}, "", fmt.Errorf("the new manifest does not verify: %w", err)
	}
	out := r.OutDir
	if out == "" {
		out = filepath.Dir(r.Installer)
	}
	for name, data := range map[string][]byte{ManifestName: body, SignatureName: sig} {
		if err := os.WriteFile(filepath.Join(out, name), data, 0o644); err != nil {
			return Manifest{}, "", fmt.Errorf("write %s: %w", name, err)
		}
	}
	return m, out, nil
}

func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

func hashFile(path string) (int64, string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return 0, "", fmt.Errorf("read the installer: %w", err)
	}
	defer fh.Close()
	h := sha256.New()
	n, err := io.Copy(h, fh)
	if err != nil {
		return 0, "", fmt.Errorf("read the installer: %w", err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}
