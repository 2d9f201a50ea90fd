package update

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"tsunagu/internal/version"
)

// Status of a check.
const (
	StatusUpToDate  = "upToDate"
	StatusAvailable = "available"
)

// Config wires an Updater.
type Config struct {
	Policy  Policy
	Current string // this build's version (version.Version)
	OS      string // runtime.GOOS if empty
	Arch    string // runtime.GOARCH if empty
	// StageDir keeps the verified installer until the user installs it
	// (the data folder's "updates").
	StageDir string
	// HTTPClient for an https location (nil: a default client). Its
	// redirects are confined to the location whatever it is given.
	HTTPClient *http.Client
	// Launch starts the installer (nil: StartInstaller).
	Launch func(path string) error
}

// Updater checks one location and installs what it verified.
type Updater struct {
	cfg     Config
	src     source
	key     ed25519.PublicKey
	current version.Number
}

// Offer is a verified update the UI may show.
type Offer struct {
	Version   string `json:"version"`
	Released  string `json:"released"`
	Notes     Notes  `json:"notes"`
	Installer string `json:"installer"` // the verified local copy
	Size      int64  `json:"size"`
	SHA256    string `json:"sha256"`
}

// Result is what a check found.
type Result struct {
	Status  string `json:"status"`
	Current string `json:"current"`
	Latest  string `json:"latest"`
	Offer   *Offer `json:"offer,omitempty"`
}

// New validates the policy and the current version.
func New(cfg Config) (*Updater, error) {
	if err := cfg.Policy.Validate(); err != nil {
		return nil, err
	}
	src, err := newSource(cfg.Policy.Location, cfg.HTTPClient)
	if err != nil {
		return nil, err
	}
	key, err := DecodePublicKey(cfg.Policy.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadPolicy, err)
	}
	cur, err := version.Parse(cfg.Current)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoRelease, err)
	}
	if cfg.StageDir == "" {
		return nil, errors.New("update: no stage folder")
	}
	if cfg.OS == "" {
		cfg.OS = runtime.GOOS
	}
	if cfg.Arch == "" {
		cfg.Arch = runtime.GOARCH
	}
	if cfg.Launch == nil {
		cfg.Launch = StartInstaller
	}
	return &Updater{cfg: cfg, src: src, key: key, current: cur}, nil
}

// Location is the configured location, for display.
func (u *Updater) Location() string { return u.src.String() }

// Check reads and verifies the manifest and, if it names a newer version,
// copies the installer into the stage folder and verifies its size and
// hash. Only then is it offered.
func (u *Updater) Check(ctx context.Context) (Result, error) {
	res := Result{Status: StatusUpToDate, Current: u.current.String()}
	manifest, err := readAll(ctx, u.src, ManifestName, maxManifestBytes)
	if err != nil {
		return res, err
	}
	sig, err := readAll(ctx, u.src, SignatureName, maxSignatureBytes)
	if err != nil {
		return res, err
	}
	m, err := Verify(u.key, manifest, sig)
	if err != nil {
		return res, err
	}
	if m.OS != u.cfg.OS || (m.Arch != u.cfg.Arch && m.Arch != "universal") {
		return res, fmt.Errorf("%w: %s/%s, this is %s/%s", ErrWrongPlatform, m.OS, m.Arch, u.cfg.OS, u.cfg.Arch)
	}
	latest := version.MustParse(m.Version) // Verify validated it
	res.Latest = latest.String()
	switch c := latest.Compare(u.current); {
	case c < 0:
		return res, fmt.Errorf("%w: %s < %s", ErrDowngrade, latest, u.current)
	case c == 0:
		return res, nil
	}
	if m.MinVersion != "" && u.current.Compare(version.MustParse(m.MinVersion)) < 0 {
		return res, fmt.Errorf("%w: %s < %s", ErrTooOld, u.current, m.MinVersion)
	}
	if err := checkName(m.Installer); err != nil {
		return res, err
	}
	local, err := u.fetchInstaller(ctx, m)
	if err != nil {
		return res, err
	}
	res.Status = StatusAvailable
	res.Offer = &Offer{
		Version: m.Version, Released: m.Released, Notes: m.Notes,
		Installer: local, Size: m.Size, SHA256: strings.ToLower(m.SHA256),
	}
	return res, nil
}

// fetchInstaller copies the installer into the stage folder, hashing it on
// the way, and keeps it only if size and hash match.
func (u *Updater) fetchInstaller(ctx context.Context, m Manifest) (string, error) {
	if err := os.MkdirAll(u.cfg.StageDir, 0o700); err != nil {
		return "", fmt.Errorf("update: stage folder: %w", err)
	}
	dst := filepath.Join(u.cfg.StageDir, m.Installer)
	if err := verifyFile(dst, m.Size, m.SHA256); err == nil {
		return dst, nil // already fetched by an earlier check
	}
	rc, err := u.src.open(ctx, m.Installer)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	tmp, err := os.CreateTemp(u.cfg.StageDir, ".download-*")
	if err != nil {
		return "", fmt.Errorf("update: stage folder: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(rc, m.Size+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("%w: copy %s: %v", ErrUnreachable, m.Installer, err)
	}
	if n != m.Size || !strings.EqualFold(hex.EncodeToString(h.Sum(nil)), m.SHA256) {
		return "", fmt.Errorf("%w: %s", ErrHashMismatch, m.Installer)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return "", fmt.Errorf("update: stage %s: %w", m.Installer, err)
	}
	u.removeOtherStaged(dst)
	return dst, nil
}

// removeOtherStaged deletes installers of earlier checks: only the newest
// verified one is kept.
func (u *Updater) removeOtherStaged(keep string) {
	entries, err := os.ReadDir(u.cfg.StageDir)
	if err != nil {
		return
	}
	for _, e := range entries {
		p := filepath.Join(u.cfg.StageDir, e.Name())
		if e.Type().IsRegular() && p != keep && !strings.HasPrefix(e.Name(), ".download-") {
			_ = os.Remove(p) // best effort: a file in use stays until next time
		}
	}
}

// verifyFile checks a file's size and SHA-256.
func verifyFile(path string, size int64, sum string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(f, size+1))
	if err != nil {
		return err
	}
	if n != size || !strings.EqualFold(hex.EncodeToString(h.Sum(nil)), sum) {
		return fmt.Errorf("%w: %s", ErrHashMismatch, filepath.Base(path))
	}
	return nil
}

// Install runs an offer the user accepted: the staged installer's hash is
// checked once more (the stage folder is the user's, and time has passed),
// then the installer is started. The caller then quits the app so the
// installer can replace it.
func (u *Updater) Install(_ context.Context, o Offer) error {
	v, err := version.Parse(o.Version)
	if err != nil || v.Compare(u.current) <= 0 {
		return fmt.Errorf("%w: %s", ErrDowngrade, o.Version)
	}
	if filepath.Dir(filepath.Clean(o.Installer)) != filepath.Clean(u.cfg.StageDir) {
		return fmt.Errorf("%w: %s", ErrOutsideLocation, o.Installer)
	}
	if err := verifyFile(o.Installer, o.Size, o.SHA256); err != nil {
		if errors.Is(err, ErrHashMismatch) {
			return err
		}
		return fmt.Errorf("%w: %v", ErrHashMismatch, err)
	}
	if err := u.cfg.Launch(o.Installer); err != nil {
		return fmt.Errorf("update: start the installer: %w", err)
	}
	return nil
}

// StartInstaller starts the installer without waiting: the NSIS installer
// on Windows; on macOS the disk image opens in Finder for the user to drag
// the app to Applications.
func StartInstaller(path string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "windows":
		cmd = exec.Command(path)
	case "darwin":
		cmd = exec.Command("/usr/bin/open", path)
	default:
		cmd = exec.Command("xdg-open", path)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	return cmd.Process.Release()
}
