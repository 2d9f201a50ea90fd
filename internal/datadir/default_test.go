package datadir

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The data folder is per user (os.UserConfigDir: %AppData%\Tsunagu on
// Windows, ~/Library/Application Support/Tsunagu on macOS,
// $XDG_CONFIG_HOME/Tsunagu here) and never next to the program: a per-user
// install puts the program in %LOCALAPPDATA%\Programs\Tsunagu, which an
// update replaces and the uninstaller removes.
func TestDefaultIsPerUserAndNotTheInstallDir(t *testing.T) {
	t.Setenv(EnvVar, "")
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, "cfg"))
	t.Setenv("AppData", filepath.Join(home, "AppData", "Roaming"))
	got, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	base, err := os.UserConfigDir()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(base, "Tsunagu"); got != want {
		t.Fatalf("Default() = %s, want %s", got, want)
	}
	if !strings.HasPrefix(got, home) {
		t.Fatalf("Default() = %s is not under the user's home %s", got, home)
	}
	wantSuffix := map[string]string{
		"windows": filepath.Join("AppData", "Roaming", "Tsunagu"),
		"darwin":  filepath.Join("Library", "Application Support", "Tsunagu"),
		"linux":   filepath.Join("cfg", "Tsunagu"),
	}[runtime.GOOS]
	if wantSuffix != "" && !strings.HasSuffix(got, wantSuffix) {
		t.Fatalf("Default() = %s, want …%s on %s", got, wantSuffix, runtime.GOOS)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if rel, err := filepath.Rel(filepath.Dir(exe), got); err == nil && !strings.HasPrefix(rel, "..") {
		t.Fatalf("Default() = %s is inside the program's folder %s", got, filepath.Dir(exe))
	}

	t.Setenv(EnvVar, filepath.Join(home, "elsewhere"))
	if got, _ := Default(); got != filepath.Join(home, "elsewhere") {
		t.Fatalf("%s is not honoured: %s", EnvVar, got)
	}
}
