package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"tsunagu/internal/update"
)

// `update keygen`, `update sign-manifest` and `update check`: the tools IT
// uses to publish an update (see docs/install.md). They touch neither the
// DB nor the keychain.
func updateCommands() []command {
	return []command{updateKeygenCommand(), updateSignCommand(), updateCheckCommand()}
}

func updateKeygenCommand() command {
	var out string
	return command{
		name:  "update keygen",
		short: "for IT: create the Ed25519 key pair that signs update manifests",
		flags: func(cmd *cobra.Command) {
			cmd.Flags().StringVar(&out, "out", "", "folder for update-signing.key (keep it offline) and update-public.key")
		},
		run: func(_ context.Context, c *cmdCtx, _ []string) error { return cmdUpdateKeygen(c, out) },
	}
}

// signFlags are the flags of `update sign-manifest`.
type signFlags struct {
	key, installer, version, notesJa, notesEn, minVersion, goos, arch, released, out string
}

func updateSignCommand() command {
	f := &signFlags{}
	return command{
		name:  "update sign-manifest",
		short: "for IT: write and sign manifest.json for an installer (--key, --installer, --version required)",
		flags: func(cmd *cobra.Command) {
			fs := cmd.Flags()
			fs.StringVar(&f.key, "key", "", "the private key file from `update keygen`")
			fs.StringVar(&f.installer, "installer", "", "the installer to publish (copy it into the update location next to the manifest)")
			fs.StringVar(&f.version, "version", "", "the installer's version, x.y.z or x.y.z.w")
			fs.StringVar(&f.notesJa, "notes-ja", "", "release notes in Japanese")
			fs.StringVar(&f.notesEn, "notes-en", "", "release notes in English")
			fs.StringVar(&f.minVersion, "min-version", "", "oldest installed version that may update with it (optional)")
			fs.StringVar(&f.goos, "os", "windows", "windows or darwin")
			fs.StringVar(&f.arch, "arch", "amd64", "amd64, arm64 or universal")
			fs.StringVar(&f.released, "released", "", "release date YYYY-MM-DD (default: today)")
			fs.StringVar(&f.out, "out", "", "folder to write manifest.json and manifest.json.sig into (default: the installer's folder)")
		},
		run: func(_ context.Context, c *cmdCtx, _ []string) error { return cmdUpdateSignManifest(c, f) },
	}
}

// checkFlags are the flags of `update check`.
type checkFlags struct{ location, publicKey, current, goos, arch string }

func updateCheckCommand() command {
	f := &checkFlags{}
	return command{
		name:  "update check",
		short: "for IT: verify a published update location as the app would (--location, --public-key required)",
		flags: func(cmd *cobra.Command) {
			fs := cmd.Flags()
			fs.StringVar(&f.location, "location", "", "the update location (folder or https:// URL), as in the policy")
			fs.StringVar(&f.publicKey, "public-key", "", "the public key (ed25519:...) or a file holding it")
			fs.StringVar(&f.current, "current", "0.0.0", "pretend this version is installed")
			fs.StringVar(&f.goos, "os", "windows", "platform of the installed app")
			fs.StringVar(&f.arch, "arch", "amd64", "architecture of the installed app")
		},
		run: func(ctx context.Context, c *cmdCtx, _ []string) error { return cmdUpdateCheck(ctx, c, f) },
	}
}

func cmdUpdateKeygen(c *cmdCtx, out string) error {
	if out == "" {
		return usageError(errors.New("--out FOLDER is required"))
	}
	k, err := update.GenerateKeys(out)
	if err != nil {
		return err
	}
	return c.print(k, func(w io.Writer) {
		fmt.Fprintf(w, "private key: %s  (keep it offline; whoever has it can publish updates)\n", k.PrivateKeyFile)
		fmt.Fprintf(w, "public key:  %s\n\n%s\n\nput the public key into the update policy (docs/install.md)\n", k.PublicKeyFile, k.PublicKey)
	})
}

func cmdUpdateSignManifest(c *cmdCtx, f *signFlags) error {
	if f.key == "" || f.installer == "" || f.version == "" {
		return usageError(errors.New("--key, --installer and --version are required"))
	}
	m, out, err := update.SignRelease(update.Release{KeyFile: f.key, Installer: f.installer, Version: f.version,
		Notes: update.Notes{Ja: f.notesJa, En: f.notesEn}, MinVersion: f.minVersion, OS: f.goos, Arch: f.arch,
		Released: f.released, OutDir: f.out}, time.Now())
	if errors.Is(err, update.ErrBadManifest) {
		return usageError(err)
	}
	if err != nil {
		return err
	}
	return c.print(m, func(w io.Writer) {
		fmt.Fprintf(w, "signed %s %s (%d bytes, sha256 %s)\nwrote %s and %s in %s\n", m.Installer, m.Version, m.Size, m.SHA256,
			update.ManifestName, update.SignatureName, out)
		fmt.Fprintln(w, "copy the installer, manifest.json and manifest.json.sig into the update location (installer first, manifest last)")
	})
}

// cmdUpdateCheck checks a published location the way the app does (the
// installer is downloaded into a temporary folder and hashed, then removed).
func cmdUpdateCheck(ctx context.Context, c *cmdCtx, f *checkFlags) error {
	if f.location == "" || f.publicKey == "" {
		return usageError(errors.New("--location and --public-key are required"))
	}
	key := f.publicKey
	if !strings.HasPrefix(key, "ed25519:") {
		b, err := os.ReadFile(key)
		if err != nil {
			return fmt.Errorf("read the public key: %w", err)
		}
		key = strings.TrimSpace(string(b))
	}
	stage, err := os.MkdirTemp("", "tsunagu-update-check-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(stage)
	u, err := update.New(update.Config{Policy: update.Policy{Location: f.location, PublicKey: key},
		Current: f.current, OS: f.goos, Arch: f.arch, StageDir: stage,
		Launch: func(string) error { return errors.New("update check never installs") }})
	if err != nil {
		return err
	}
	res, err := u.Check(ctx)
	if err != nil {
		return err
	}
	return c.print(res, func(w io.Writer) {
		if res.Offer == nil {
			fmt.Fprintf(w, "manifest verified; %s is not newer than %s\n", res.Latest, res.Current)
			return
		}
		fmt.Fprintf(w, "OK: manifest signature and installer hash verified; version %s would be offered to %s\n", res.Offer.Version, res.Current)
	})
}
