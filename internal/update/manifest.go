// Package update checks IT's update location for a newer Tsunagu and hands
// the verified installer to the app, with the user's consent.
//
// The trust chain, from the outside in:
//   - IT configures ONE location (a folder on a file share, or an https://
//     URL) and an Ed25519 public key, in a policy only an administrator can
//     write (policy.go). The app never reads update files from anywhere else.
//   - The location holds manifest.json and its detached signature
//     manifest.json.sig. The signature is checked over the exact bytes
//     before the JSON is even parsed.
//   - The manifest names the installer (a file in the same location), its
//     size and SHA-256. The installer is copied into the data folder and its
//     hash checked before the UI offers it, and again just before it runs.
//   - Same or older versions are never offered (no downgrade or replay of
//     an old, signed manifest), and nothing runs until the user clicks.
package update

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"tsunagu/internal/version"
)

// File names in the update location.
const (
	ManifestName  = "manifest.json"
	SignatureName = "manifest.json.sig"
	// Product is the manifest's product field: a manifest for another
	// product signed with the same key is not ours.
	Product = "Tsunagu"
)

// ActionInstall is the audit action of a user starting a verified installer
// (recorded by the app's facade).
const ActionInstall = "app.update_install"

// Size limits: a manifest is a few hundred bytes; an installer tens of MB.
const (
	maxManifestBytes  = 64 << 10
	maxSignatureBytes = 1 << 10
	maxInstallerBytes = 1 << 30
)

// Errors the check and install can end with. The facade maps them to
// message codes.
var (
	ErrNotConfigured   = errors.New("update: no update location is configured")
	ErrBadPolicy       = errors.New("update: the update policy is invalid")
	ErrBadSignature    = errors.New("update: the manifest signature does not verify")
	ErrBadManifest     = errors.New("update: the manifest is malformed")
	ErrOutsideLocation = errors.New("update: the manifest points outside the update location")
	ErrHashMismatch    = errors.New("update: the installer does not match the manifest's size or SHA-256")
	ErrDowngrade       = errors.New("update: the manifest's version is older than this one")
	ErrTooOld          = errors.New("update: this version is older than the update's minimum; ask IT")
	ErrNoRelease       = errors.New("update: this build has no release version")
	ErrWrongPlatform   = errors.New("update: the manifest is for another platform")
	ErrUnreachable     = errors.New("update: the update location cannot be read")
)

// Notes are the release notes in both UI languages.
type Notes struct {
	Ja string `json:"ja"`
	En string `json:"en"`
}

// Manifest describes one release. IT writes it with
// `tsunagu-cli update sign-manifest`.
type Manifest struct {
	Product    string `json:"product"`
	Version    string `json:"version"`  // x.y.z or x.y.z.w
	Released   string `json:"released"` // RFC 3339 date or time
	Notes      Notes  `json:"notes"`
	OS         string `json:"os"`        // windows, darwin
	Arch       string `json:"arch"`      // amd64, arm64, universal
	Installer  string `json:"installer"` // a file name in the update location
	Size       int64  `json:"size"`
	SHA256     string `json:"sha256"`     // hex
	MinVersion string `json:"minVersion"` // "" or the oldest version that may update with it
}

// Validate checks the fields (not the signature).
func (m Manifest) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrBadManifest, fmt.Sprintf(format, args...))
	}
	if m.Product != Product {
		return bad("product %q", m.Product)
	}
	if _, err := version.Parse(m.Version); err != nil {
		return bad("version: %v", err)
	}
	if m.MinVersion != "" {
		if _, err := version.Parse(m.MinVersion); err != nil {
			return bad("minVersion: %v", err)
		}
	}
	if m.Released != "" {
		if _, err := time.Parse(time.DateOnly, m.Released); err != nil {
			if _, err := time.Parse(time.RFC3339, m.Released); err != nil {
				return bad("released %q is not a date", m.Released)
			}
		}
	}
	if m.OS == "" || m.Arch == "" {
		return bad("os and arch are required")
	}
	if m.Installer == "" {
		return bad("installer is required")
	}
	if m.Size <= 0 || m.Size > maxInstallerBytes {
		return bad("size %d", m.Size)
	}
	if b, err := hex.DecodeString(m.SHA256); err != nil || len(b) != 32 {
		return bad("sha256 is not 64 hex digits")
	}
	return nil
}

// Sign returns the detached signature file's content for manifest bytes.
func Sign(priv ed25519.PrivateKey, manifest []byte) []byte {
	return []byte(base64.StdEncoding.EncodeToString(ed25519.Sign(priv, manifest)) + "\n")
}

// Verify checks the detached signature over the exact manifest bytes, then
// parses and validates the manifest.
func Verify(pub ed25519.PublicKey, manifest, sig []byte) (Manifest, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(sig)))
	if err != nil || len(raw) != ed25519.SignatureSize {
		return Manifest{}, fmt.Errorf("%w: the signature file is not a base64 Ed25519 signature", ErrBadSignature)
	}
	if !ed25519.Verify(pub, manifest, raw) {
		return Manifest{}, ErrBadSignature
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(manifest))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return Manifest{}, fmt.Errorf("%w: %v", ErrBadManifest, err)
	}
	if err := m.Validate(); err != nil {
		return Manifest{}, err
	}
	return m, nil
}

// EncodeKey and DecodeKey are the text form of keys: "ed25519:" + base64.
func EncodeKey(key []byte) string { return "ed25519:" + base64.StdEncoding.EncodeToString(key) }

// DecodePublicKey reads a public key in EncodeKey's form.
func DecodePublicKey(s string) (ed25519.PublicKey, error) {
	b, err := decodeKey(s, ed25519.PublicKeySize)
	return ed25519.PublicKey(b), err
}

// DecodePrivateKey reads a private key in EncodeKey's form.
func DecodePrivateKey(s string) (ed25519.PrivateKey, error) {
	b, err := decodeKey(s, ed25519.PrivateKeySize)
	return ed25519.PrivateKey(b), err
}

func decodeKey(s string, size int) ([]byte, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), "ed25519:")
	if !ok {
		return nil, errors.New(`key must start with "ed25519:"`)
	}
	b, err := base64.StdEncoding.DecodeString(rest)
	if err != nil || len(b) != size {
		return nil, fmt.Errorf("key is not a base64 Ed25519 key of %d bytes", size)
	}
	return b, nil
}
