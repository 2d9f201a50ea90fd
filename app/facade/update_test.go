package facade

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"tsunagu/internal/msgcode"

	"tsunagu/internal/audit"
	"tsunagu/internal/secrets/secretstest"
	"tsunagu/internal/update"
)

// The update check through the bound object, on the real encrypted DB: a
// verified offer is shown, installing it needs the settings permission,
// runs only the staged copy, is audited and quits the app.
func TestFacadeUpdate(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	share := t.TempDir()
	installer := []byte("MZ pretend Tsunagu 2.0.0 installer")
	sum := sha256.Sum256(installer)
	m := update.Manifest{Product: update.Product, Version: "2.0.0", Released: "2026-11-25",
		Notes: update.Notes{Ja: "新機能", En: "New features"}, OS: runtime.GOOS, Arch: runtime.GOARCH,
		Installer: "Tsunagu-2.0.0-installer.exe", Size: int64(len(installer)), SHA256: hex.EncodeToString(sum[:])}
	mb, _ := json.Marshal(m)
	for name, b := range map[string][]byte{update.ManifestName: mb, update.SignatureName: update.Sign(priv, mb), m.Installer: installer} {
		if err := os.WriteFile(filepath.Join(share, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	var launched []string
	quit := 0
	policy := update.Policy{Location: share, PublicKey: update.EncodeKey(pub), From: "test"}
	kr := secretstest.Keyring(t)
	dir := filepath.Join(t.TempDir(), "data")
	secretstest.CleanupDataDir(t, kr, dir)
	h := New(Options{DataDir: dir, Keyring: kr, Version: "v1.4.0-3-gabcdef0", AuthParams: testParams,
		Updates: UpdateOptions{
			Policy: func() (update.Policy, error) { return policy, nil },
			Launch: func(p string) error { launched = append(launched, p); return nil },
			Quit:   func() { quit++ },
		}})
	if err := h.Start(context.Background(), &recorder{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Stop() })
	app := h.App()
	sys, audits := &SystemService{app}, &AuditService{app}

	if _, err := sys.CheckForUpdate(); err == nil || err.Error() != msgcode.SignInRequired {
		t.Fatalf("check before sign-in: %v", err)
	}
	firstAdmin(t, app)

	about, err := sys.AppVersion()
	if err != nil || !about.UpdateConfigured || about.UpdateLocation != share || about.Version != "v1.4.0-3-gabcdef0" || about.Numeric != "1.4.0.3" || about.DataDir == "" || about.GoVersion == "" {
		t.Fatalf("AppVersion: %+v %v", about, err)
	}
	if err := sys.InstallUpdate("2.0.0"); err == nil || err.Error() != msgcode.UpdateNoOffer {
		t.Fatalf("install before a check: %v", err)
	}
	res, err := sys.CheckForUpdate()
	if err != nil || res.Status != update.StatusAvailable || res.Offer == nil || res.Offer.Notes.Ja != "新機能" || res.Current != "1.4.0.3" {
		t.Fatalf("CheckForUpdate: %+v %v", res, err)
	}
	if err := sys.InstallUpdate("3.0.0"); err == nil || err.Error() != msgcode.UpdateNoOffer {
		t.Fatalf("install of a version not offered: %v", err)
	}
	if len(launched) != 0 || quit != 0 {
		t.Fatal("something ran before the user accepted the offer")
	}
	if err := sys.InstallUpdate("2.0.0"); err != nil {
		t.Fatalf("InstallUpdate: %v", err)
	}
	if want := filepath.Join(dir, "updates", m.Installer); len(launched) != 1 || launched[0] != want || quit != 1 {
		t.Fatalf("launched %v (want %s), quit %d", launched, want, quit)
	}
	rep, err := audits.AuditEntries(audit.Filter{Action: update.ActionInstall})
	if err != nil || len(rep.Entries) != 1 || rep.Entries[0].Target != "2.0.0" {
		t.Fatalf("audit: %+v %v", rep.Entries, err)
	}

	// A bad signature: the check fails with the rejected code and the old
	// offer is gone.
	if err := os.WriteFile(filepath.Join(share, update.SignatureName), update.Sign(priv, append(mb, ' ')), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := sys.CheckForUpdate(); err == nil || err.Error() != msgcode.UpdateRejected {
		t.Fatalf("check with a bad signature: %v", err)
	}
	if err := sys.InstallUpdate("2.0.0"); err == nil || err.Error() != msgcode.UpdateNoOffer {
		t.Fatalf("install after a failed check: %v", err)
	}

	// No policy: AppVersion says so, the check reports it.
	app.opts.Updates.Policy = func() (update.Policy, error) { return update.Policy{}, update.ErrNotConfigured }
	about, err = sys.AppVersion()
	if err != nil || about.UpdateConfigured {
		t.Fatalf("AppVersion without a policy: %+v %v", about, err)
	}
	if _, err := sys.CheckForUpdate(); err == nil || err.Error() != msgcode.UpdateNotConfigured {
		t.Fatalf("check without a policy: %v", err)
	}
}
