package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tsunagu/internal/datadir"
	"tsunagu/internal/secrets/secretstest"
)

// Global flags work anywhere on the line and from the environment; --help
// answers on every command and group with exit 0; usage errors exit 2.
func TestCLIFlagsAndHelp(t *testing.T) {
	kr := secretstest.Keyring(t)
	base := t.TempDir()
	a, b, c := filepath.Join(base, "a"), filepath.Join(base, "b"), filepath.Join(base, "c")
	if r := cli(t, kr, "", "--data-dir", a, "init"); r.code != 0 {
		t.Fatalf("--data-dir before the command: %+v", r)
	}
	if r := cli(t, kr, "", "init", "--data-dir", b); r.code != 0 {
		t.Fatalf("--data-dir after the command: %+v", r)
	}
	t.Setenv(datadir.EnvVar, c)
	if r := cli(t, kr, "", "init"); r.code != 0 {
		t.Fatalf("%s: %+v", datadir.EnvVar, r)
	}
	for _, d := range []string{a, b, c} {
		if _, err := os.Stat(filepath.Join(d, "tsunagu.db")); err != nil {
			t.Fatalf("no database in %s: %v", d, err)
		}
	}
	if r := cli(t, kr, "", "--json", "--data-dir", a, "db", "verify"); r.code != 0 || !strings.HasPrefix(strings.TrimSpace(r.stdout), "{") {
		t.Fatalf("--json before the command: %+v", r)
	}
	for _, args := range [][]string{{"--help"}, {"staff", "--help"}, {"import", "--help"}, {"relay", "enroll", "--help"}, {"help", "backup"}} {
		r := cli(t, kr, "", args...)
		if r.code != 0 || !strings.Contains(r.stdout, "Usage:") {
			t.Fatalf("%v: %+v", args, r)
		}
	}
	if r := cli(t, kr, "", "staff", "--help"); !strings.Contains(r.stdout, "require-signin") {
		t.Fatalf("staff --help lists no subcommands: %s", r.stdout)
	}
	if r := cli(t, kr, "", "import", "--help"); !strings.Contains(r.stdout, "--dry-run") {
		t.Fatalf("import --help lists no flags: %s", r.stdout)
	}
	for _, args := range [][]string{{"bogus"}, {"staff"}, {"init", "--no-such-flag"}, {"backup", "create"}, {"backup", "create", "x", "y"}} {
		if r := cli(t, kr, "", append(args, "--data-dir", a)...); r.code != 2 || r.stderr == "" {
			t.Fatalf("%v: want a usage error (2): %+v", args, r)
		}
	}
	if r := cli(t, kr, "", "completion", "powershell"); r.code != 0 || !strings.Contains(r.stdout, "Register-ArgumentCompleter") {
		t.Fatalf("PowerShell completion: code %d", r.code)
	}
}
