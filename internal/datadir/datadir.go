// Package datadir locates Tsunagu's per-user data folder and the install ID
// kept in it. The install ID is not secret: it namespaces this install's
// keychain items so that two data folders never share or overwrite a secret.
package datadir

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// EnvVar overrides the default data folder.
const EnvVar = "TSUNAGU_DATA_DIR"

const (
	installIDFile = "install-id"
	dbFile        = "tsunagu.db"
)

// Dir is an existing data folder.
type Dir struct{ Path string }

// Default returns $TSUNAGU_DATA_DIR, or the per-user config folder
// (%AppData%\Tsunagu, ~/Library/Application Support/Tsunagu, ~/.config/Tsunagu).
func Default() (string, error) {
	if p := os.Getenv(EnvVar); p != "" {
		return p, nil
	}
	base, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("locate the per-user data folder: %w", err)
	}
	return filepath.Join(base, "Tsunagu"), nil
}

// Ensure creates the folder (owner-only) if needed.
func Ensure(path string) (Dir, error) {
	if path == "" {
		return Dir{}, errors.New("data folder path is empty")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return Dir{}, fmt.Errorf("data folder %q: %w", path, err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return Dir{}, fmt.Errorf("create data folder: %w", err)
	}
	return Dir{Path: abs}, nil
}

// Existing returns the folder only if it exists; it never creates anything.
func Existing(path string) (Dir, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return Dir{}, fmt.Errorf("data folder %q: %w", path, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return Dir{}, fmt.Errorf("data folder %s: %w", abs, err)
	}
	if !st.IsDir() {
		return Dir{}, fmt.Errorf("data folder %s is not a folder", abs)
	}
	return Dir{Path: abs}, nil
}

// DBPath is the encrypted customer database file.
func (d Dir) DBPath() string { return filepath.Join(d.Path, dbFile) }

// File returns the path of a named file inside the folder.
func (d Dir) File(name string) string { return filepath.Join(d.Path, name) }

// InstallID returns the folder's install ID, creating one on first use.
func (d Dir) InstallID() (string, error) {
	id, err := d.ReadInstallID()
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate install ID: %w", err)
	}
	id = hex.EncodeToString(b[:])
	p := d.File(installIDFile)
	// O_EXCL: if another process created it first, use theirs.
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return d.ReadInstallID()
	}
	if err != nil {
		return "", fmt.Errorf("write install ID: %w", err)
	}
	if _, err := f.WriteString(id + "\n"); err != nil {
		f.Close()
		return "", fmt.Errorf("write install ID: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", fmt.Errorf("write install ID: %w", err)
	}
	return id, f.Close()
}

// ReadInstallID returns the install ID without creating one
// (os.ErrNotExist if the folder was never initialised).
func (d Dir) ReadInstallID() (string, error) {
	b, err := os.ReadFile(d.File(installIDFile))
	if err != nil {
		return "", fmt.Errorf("read install ID: %w", err)
	}
	id := strings.TrimSpace(string(b))
	if len(id) < 8 || strings.ContainsAny(id, "/\\ \t") {
		return "", fmt.Errorf("install ID in %s is malformed", d.File(installIDFile))
	}
	return id, nil
}
