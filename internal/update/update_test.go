package update

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// release is what one test case publishes in the update location.
type release struct {
	manifest  Manifest
	installer []byte // the bytes served as the installer
	signer    ed25519.PrivateKey
	tamper    bool // change the manifest after signing
}

type fixture struct {
	pub  ed25519.PublicKey
	priv ed25519.PrivateKey
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return fixture{pub, priv}
}

func goodManifest(installer []byte, ver string) Manifest {
	sum := sha256.Sum256(installer)
	return Manifest{
		Product: Product, Version: ver, Released: "2026-11-25",
		Notes: Notes{Ja: "不具合の修正", En: "Bug fixes"}, OS: "windows", Arch: "amd64",
		Installer: "Tsunagu-" + ver + "-windows-amd64-installer.exe",
		Size:      int64(len(installer)), SHA256: hex.EncodeToString(sum[:]),
	}
}

// publish writes the release into dir (the location's files).
func (f fixture) publish(t *testing.T, dir string, r release) {
	t.Helper()
	b, err := json.MarshalIndent(r.manifest, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	signer := r.signer
	if signer == nil {
		signer = f.priv
	}
	sig := Sign(signer, b)
	if r.tamper {
		b = []byte(strings.Replace(string(b), "Bug fixes", "Bug fixes!", 1))
	}
	for name, data := range map[string][]byte{ManifestName: b, SignatureName: sig} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if checkName(r.manifest.Installer) == nil {
		if err := os.WriteFile(filepath.Join(dir, r.manifest.Installer), r.installer, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// locations runs a test against a folder and against an HTTPS server
// serving the same folder.
func locations(t *testing.T, fn func(t *testing.T, dir, location string, client *http.Client)) {
	t.Run("folder", func(t *testing.T) {
		dir := t.TempDir()
		fn(t, dir, dir, nil)
	})
	t.Run("https", func(t *testing.T) {
		dir := t.TempDir()
		mux := http.NewServeMux()
		mux.Handle("/tsunagu/", http.StripPrefix("/tsunagu/", http.FileServer(http.Dir(dir))))
		mux.HandleFunc("/elsewhere", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://evil.invalid/x.exe", http.StatusFound)
		})
		srv := httptest.NewTLSServer(mux)
		t.Cleanup(srv.Close)
		fn(t, dir, srv.URL+"/tsunagu/", srv.Client())
	})
}

func TestCheck(t *testing.T) {
	f := newFixture(t)
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	installer := []byte("MZ pretend installer for 1.3.0")
	with := func(ver string, edit func(*Manifest)) Manifest {
		m := goodManifest(installer, ver)
		if edit != nil {
			edit(&m)
		}
		return m
	}
	tests := []struct {
		name    string
		rel     release
		want    string // status when no error
		wantErr error
	}{
		{"good signature is offered", release{manifest: with("1.3.0", nil), installer: installer}, StatusAvailable, nil},
		{"git describe current, newer patch", release{manifest: with("1.2.4", nil), installer: installer}, StatusAvailable, nil},
		{"same version is not offered", release{manifest: with("1.2.3.7", nil), installer: installer}, StatusUpToDate, nil},
		{"downgrade is refused", release{manifest: with("1.2.2", nil), installer: installer}, "", ErrDowngrade},
		{"signed by another key", release{manifest: with("1.3.0", nil), installer: installer, signer: otherKey}, "", ErrBadSignature},
		{"manifest changed after signing", release{manifest: with("1.3.0", nil), installer: installer, tamper: true}, "", ErrBadSignature},
		{"wrong hash", release{manifest: with("1.3.0", nil), installer: []byte("MZ pretend installer for 1.3.X")}, "", ErrHashMismatch},
		{"wrong size", release{manifest: with("1.3.0", func(m *Manifest) { m.Size++ }), installer: installer}, "", ErrHashMismatch},
		{"installer path outside the location", release{manifest: with("1.3.0", func(m *Manifest) { m.Installer = "../Tsunagu.exe" }), installer: installer}, "", ErrOutsideLocation},
		{"installer URL elsewhere", release{manifest: with("1.3.0", func(m *Manifest) { m.Installer = "https://evil.invalid/Tsunagu.exe" }), installer: installer}, "", ErrOutsideLocation},
		{"installer UNC path elsewhere", release{manifest: with("1.3.0", func(m *Manifest) { m.Installer = `\\evil\share\Tsunagu.exe` }), installer: installer}, "", ErrOutsideLocation},
		{"installer absolute path", release{manifest: with("1.3.0", func(m *Manifest) { m.Installer = "/etc/passwd" }), installer: installer}, "", ErrOutsideLocation},
		{"minimum version above this one", release{manifest: with("2.0.0", func(m *Manifest) { m.MinVersion = "1.5.0" }), installer: installer}, "", ErrTooOld},
		{"another platform", release{manifest: with("1.3.0", func(m *Manifest) { m.OS = "darwin" }), installer: installer}, "", ErrWrongPlatform},
		{"another product", release{manifest: with("1.3.0", func(m *Manifest) { m.Product = "Other" }), installer: installer}, "", ErrBadManifest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			locations(t, func(t *testing.T, dir, location string, client *http.Client) {
				f.publish(t, dir, tt.rel)
				stage := t.TempDir()
				old := filepath.Join(stage, "Tsunagu-1.2.0-windows-amd64-installer.exe") // from an earlier check
				if err := os.WriteFile(old, []byte("MZ old"), 0o600); err != nil {
					t.Fatal(err)
				}
				var launched []string
				u, err := New(Config{
					Policy:  Policy{Location: location, PublicKey: EncodeKey(f.pub)},
					Current: "v1.2.3-7-gabcdef0", OS: "windows", Arch: "amd64",
					StageDir: stage, HTTPClient: client,
					Launch: func(p string) error { launched = append(launched, p); return nil },
				})
				if err != nil {
					t.Fatal(err)
				}
				res, err := u.Check(context.Background())
				if tt.wantErr != nil {
					if !errors.Is(err, tt.wantErr) {
						t.Fatalf("Check() = %+v, %v; want %v", res, err, tt.wantErr)
					}
					if res.Offer != nil {
						t.Fatalf("refused check still offers %+v", res.Offer)
					}
					if left, _ := os.ReadDir(stage); len(left) != 1 || left[0].Name() != filepath.Base(old) {
						t.Fatalf("a refused installer was left in the stage folder: %v", left)
					}
					return
				}
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				if res.Status != tt.want {
					t.Fatalf("status %q, want %q", res.Status, tt.want)
				}
				if tt.want != StatusAvailable {
					if res.Offer != nil {
						t.Fatalf("offer without an update: %+v", res.Offer)
					}
					return
				}
				o := res.Offer
				if o == nil || o.Notes.Ja != "不具合の修正" || filepath.Dir(o.Installer) != stage {
					t.Fatalf("offer %+v", o)
				}
				got, err := os.ReadFile(o.Installer)
				if err != nil || string(got) != string(installer) {
					t.Fatalf("staged installer %q, %v", got, err)
				}
				if _, err := os.Stat(old); !os.IsNotExist(err) {
					t.Fatalf("the earlier staged installer was kept: %v", err)
				}
				if err := u.Install(context.Background(), *o); err != nil {
					t.Fatalf("Install: %v", err)
				}
				if len(launched) != 1 || launched[0] != o.Installer {
					t.Fatalf("launched %v, want %s", launched, o.Installer)
				}
			})
		})
	}
}

// The staged copy is checked again right before it runs.
func TestInstallRefusesChangedInstaller(t *testing.T) {
	f := newFixture(t)
	installer := []byte("MZ installer")
	locations(t, func(t *testing.T, dir, location string, client *http.Client) {
		f.publish(t, dir, release{manifest: goodManifest(installer, "2.0.0"), installer: installer})
		stage := t.TempDir()
		launched := 0
		u, err := New(Config{Policy: Policy{Location: location, PublicKey: EncodeKey(f.pub)}, Current: "1.0.0",
			OS: "windows", Arch: "amd64", StageDir: stage, HTTPClient: client,
			Launch: func(string) error { launched++; return nil }})
		if err != nil {
			t.Fatal(err)
		}
		res, err := u.Check(context.Background())
		if err != nil || res.Offer == nil {
			t.Fatalf("Check: %+v %v", res, err)
		}
		if err := os.WriteFile(res.Offer.Installer, []byte("MZ swapped!!"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := u.Install(context.Background(), *res.Offer); !errors.Is(err, ErrHashMismatch) {
			t.Fatalf("Install of a swapped file: %v", err)
		}
		outside := *res.Offer
		outside.Installer = filepath.Join(dir, outside.Installer)
		if err := u.Install(context.Background(), outside); !errors.Is(err, ErrOutsideLocation) {
			t.Fatalf("Install outside the stage folder: %v", err)
		}
		old := *res.Offer
		old.Version = "1.0.0"
		if err := u.Install(context.Background(), old); !errors.Is(err, ErrDowngrade) {
			t.Fatalf("Install of the same version: %v", err)
		}
		if launched != 0 {
			t.Fatalf("launched %d times", launched)
		}
	})
}

func TestRedirectOutsideLocationRefused(t *testing.T) {
	f := newFixture(t)
	mux := http.NewServeMux()
	mux.HandleFunc("/tsunagu/", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://evil.invalid/tsunagu/manifest.json", http.StatusFound)
	})
	srv := httptest.NewTLSServer(mux)
	defer srv.Close()
	u, err := New(Config{Policy: Policy{Location: srv.URL + "/tsunagu/", PublicKey: EncodeKey(f.pub)},
		Current: "1.0.0", StageDir: t.TempDir(), HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Check(context.Background()); !errors.Is(err, ErrOutsideLocation) {
		t.Fatalf("Check after an outside redirect: %v", err)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	f := newFixture(t)
	key := EncodeKey(f.pub)
	tests := []struct {
		name    string
		cfg     Config
		wantErr error
	}{
		{"nothing configured", Config{Current: "1.0.0", StageDir: "/tmp/x"}, ErrNotConfigured},
		{"plain http", Config{Policy: Policy{Location: "http://updates.example/", PublicKey: key}, Current: "1.0.0", StageDir: "/tmp/x"}, ErrBadPolicy},
		{"relative folder", Config{Policy: Policy{Location: "updates", PublicKey: key}, Current: "1.0.0", StageDir: "/tmp/x"}, ErrBadPolicy},
		{"URL with user", Config{Policy: Policy{Location: "https://u:p@updates.example/", PublicKey: key}, Current: "1.0.0", StageDir: "/tmp/x"}, ErrBadPolicy},
		{"bad key", Config{Policy: Policy{Location: "/srv/updates", PublicKey: "ed25519:AAAA"}, Current: "1.0.0", StageDir: "/tmp/x"}, ErrBadPolicy},
		{"dev build", Config{Policy: Policy{Location: "/srv/updates", PublicKey: key}, Current: "936a079-dirty", StageDir: "/tmp/x"}, ErrNoRelease},
	}
	for _, tt := range tests {
		if _, err := New(tt.cfg); !errors.Is(err, tt.wantErr) {
			t.Errorf("%s: New() error %v, want %v", tt.name, err, tt.wantErr)
		}
	}
}

func TestReadPolicyFile(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, PolicyFileName)
	write := func(p Policy, mode os.FileMode) {
		b, _ := json.Marshal(p)
		if err := os.WriteFile(path, b, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ReadPolicyFile(path, true); !errors.Is(err, ErrNotConfigured) {
		t.Fatalf("missing file: %v", err)
	}
	write(Policy{Location: `\\fileserver\tsunagu`, PublicKey: EncodeKey(f.pub)}, 0o644)
	if _, err := ReadPolicyFile(path, false); err == nil || !errors.Is(err, ErrBadPolicy) {
		// a UNC path is not absolute on Linux: refused here, accepted on Windows
		t.Logf("UNC on this OS: %v", err)
	}
	write(Policy{Location: "https://updates.example.jp/tsunagu/", PublicKey: EncodeKey(f.pub)}, 0o644)
	p, err := ReadPolicyFile(path, false)
	if err != nil || p.From != path {
		t.Fatalf("good policy: %+v %v", p, err)
	}
	write(Policy{Location: "https://updates.example.jp/tsunagu/", PublicKey: EncodeKey(f.pub)}, 0o666)
	if _, err := ReadPolicyFile(path, true); !errors.Is(err, ErrBadPolicy) {
		t.Fatalf("a world-writable policy must be refused: %v", err)
	}
	if os.Getuid() != 0 {
		write(Policy{Location: "https://updates.example.jp/tsunagu/", PublicKey: EncodeKey(f.pub)}, 0o644)
		if _, err := ReadPolicyFile(path, true); !errors.Is(err, ErrBadPolicy) {
			t.Fatalf("a policy owned by a normal user must be refused: %v", err)
		}
	}
	if err := os.WriteFile(path, []byte(`{"location":"https://x.example/","publicKey":"`+EncodeKey(f.pub)+`","extra":1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadPolicyFile(path, false); !errors.Is(err, ErrBadPolicy) {
		t.Fatalf("unknown field: %v", err)
	}
}

func TestKeysRoundTrip(t *testing.T) {
	f := newFixture(t)
	pub, err := DecodePublicKey(EncodeKey(f.pub))
	if err != nil || !pub.Equal(f.pub) {
		t.Fatalf("public key: %v", err)
	}
	priv, err := DecodePrivateKey(EncodeKey(f.priv))
	if err != nil || !priv.Equal(f.priv) {
		t.Fatalf("private key: %v", err)
	}
	if _, err := DecodePublicKey(EncodeKey(f.priv)); err == nil {
		t.Fatal("a private key was accepted as a public key")
	}
}
