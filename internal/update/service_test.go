package update

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"tsunagu/internal/audit"
)

// The service installs only its own last verified offer, of the version
// the person accepted, after its audit entry; a failed check withdraws the
// offer, an unusable policy keeps it.
func TestServiceInstallsOnlyItsOffer(t *testing.T) {
	f := newFixture(t)
	dir, stage := t.TempDir(), t.TempDir()
	installer := []byte("MZ installer 2.0.0")
	m := goodManifest(installer, "2.0.0")
	f.publish(t, dir, release{manifest: m, installer: installer})
	var launched []string
	var policyErr error
	svc := NewService(func() (Config, error) {
		return Config{Policy: Policy{Location: dir, PublicKey: EncodeKey(f.pub)}, Current: "1.0.0",
			OS: "windows", Arch: "amd64", StageDir: stage,
			Launch: func(p string) error { launched = append(launched, p); return nil }}, policyErr
	})
	ctx := context.Background()
	var entries []audit.Entry
	record := func(_ context.Context, e audit.Entry) error { entries = append(entries, e); return nil }

	if err := svc.Install(ctx, "staff:admin", "2.0.0", record); !errors.Is(err, ErrNoOffer) {
		t.Fatalf("install before a check: %v", err)
	}
	res, err := svc.Check(ctx)
	if err != nil || res.Status != StatusAvailable || res.Offer == nil || res.Offer.Version != "2.0.0" {
		t.Fatalf("Check: %+v %v", res, err)
	}
	if err := svc.Install(ctx, "staff:admin", "3.0.0", record); !errors.Is(err, ErrNoOffer) {
		t.Fatalf("install of a version not offered: %v", err)
	}
	boom := errors.New("audit failed")
	if err := svc.Install(ctx, "staff:admin", "2.0.0", func(context.Context, audit.Entry) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("install with a failing audit: %v", err)
	}
	if len(launched) != 0 {
		t.Fatal("an installer ran without its audit entry")
	}
	if err := svc.Install(ctx, "staff:admin", "2.0.0", record); err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(stage, m.Installer); len(launched) != 1 || launched[0] != want {
		t.Fatalf("launched %v, want %s", launched, want)
	}
	if len(entries) != 1 || entries[0].Action != ActionInstall || entries[0].Actor != "staff:admin" || entries[0].Target != "2.0.0" ||
		entries[0].Detail["sha256"] != m.SHA256 || entries[0].Detail["from"] != "1.0.0" {
		t.Fatalf("audit entries: %+v", entries)
	}

	// An unusable policy fails the check and keeps the offer.
	policyErr = ErrBadPolicy
	if _, err := svc.Check(ctx); !errors.Is(err, ErrBadPolicy) {
		t.Fatalf("check with a bad policy: %v", err)
	}
	policyErr = nil
	if err := svc.Install(ctx, "staff:admin", "2.0.0", record); err != nil {
		t.Fatalf("offer lost by a policy error: %v", err)
	}

	// A check that fails verification withdraws it.
	f.publish(t, dir, release{manifest: m, installer: installer, tamper: true})
	if _, err := svc.Check(ctx); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("check of a tampered manifest: %v", err)
	}
	if err := svc.Install(ctx, "staff:admin", "2.0.0", record); !errors.Is(err, ErrNoOffer) {
		t.Fatalf("install after a failed check: %v", err)
	}
}
