package desktop

import (
	"path/filepath"
	"strings"
	"testing"
)

// On Linux a seat's WebKitGTK profile (XDG data and cache folders) is put
// into the run's own folder, which is removed at the end; elsewhere nothing
// (Windows has WebviewUserDataPath; macOS no option).
func TestWebviewEnvKeepsWebKitInTheRunsFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tsunagu-seat-webview-1")
	env := webviewEnv("linux", dir)
	if len(env) != 2 || env["XDG_DATA_HOME"] == "" || env["XDG_CACHE_HOME"] == "" || env["XDG_DATA_HOME"] == env["XDG_CACHE_HOME"] {
		t.Fatalf("linux: %v", env)
	}
	for k, v := range env {
		if !strings.HasPrefix(v, dir+string(filepath.Separator)) {
			t.Errorf("%s=%s is outside the run's folder %s", k, v, dir)
		}
	}
	for _, goos := range []string{"windows", "darwin"} {
		if env := webviewEnv(goos, dir); env != nil {
			t.Errorf("%s: %v", goos, env)
		}
	}
}
