package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tsunagu/internal/engine"
	"tsunagu/internal/line"
	"tsunagu/internal/linelog"
	"tsunagu/internal/secrets/secretstest"
)

// TestCLILineRequests: `line requests` prints the stored request log for
// a period (human and JSON), and a signed-in operator may not read it
// while an auditor may.
func TestCLILineRequests(t *testing.T) {
	kr := secretstest.Keyring(t)
	dir := filepath.Join(t.TempDir(), "data")
	secretstest.CleanupDataDir(t, kr, dir)
	if r := cli(t, kr, "", "init", "--data-dir", dir); r.code != 0 {
		t.Fatalf("init: %+v", r)
	}
	eng, err := engine.Open(context.Background(), dir, kr)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	log := linelog.New(eng.DB(), linelog.Options{})
	log.Add(line.RequestRecord{At: now.Add(-2 * time.Hour), Endpoint: line.EndpointPush, Status: 200, RequestID: "req-old",
		RetryKey: "33333333-3333-4333-8333-333333333333", Duration: 40 * time.Millisecond})
	log.Add(line.RequestRecord{At: now.Add(-10 * time.Minute), Endpoint: line.EndpointMulticast, Status: 429, RequestID: "req-limited",
		RetryKey: "44444444-4444-4444-8444-444444444444", Duration: 35 * time.Millisecond})
	log.Add(line.RequestRecord{At: now.Add(-5 * time.Minute), Endpoint: line.EndpointMulticast, Failure: "timeout",
		RetryKey: "44444444-4444-4444-8444-444444444444", Duration: 15 * time.Second})
	if err := log.Close(); err != nil {
		t.Fatal(err)
	}
	eng.Close()

	r := cli(t, kr, "", "line", "requests", "--data-dir", dir)
	if r.code != 0 || strings.Count(r.stdout, "\n") != 4 || !strings.Contains(r.stdout, "req-old") ||
		!strings.Contains(r.stdout, "429") || !strings.Contains(r.stdout, "timeout") || !strings.Contains(r.stdout, "15000") {
		t.Fatalf("line requests: %+v", r)
	}
	r = cli(t, kr, "", "line", "requests", "--since", "30m", "--json", "--data-dir", dir)
	var list []linelog.Entry
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &list) != nil || len(list) != 2 ||
		list[0].RequestID != "req-limited" || list[0].Status != 429 || list[1].Failure != "timeout" || list[1].Status != 0 {
		t.Fatalf("line requests --since 30m --json: %+v", r)
	}
	r = cli(t, kr, "", "line", "requests", "--since", "1m", "--json", "--data-dir", dir)
	if r.code != 0 || strings.TrimSpace(r.stdout) != "[]" {
		t.Fatalf("nothing in the last minute: %+v", r)
	}
	if r := cli(t, kr, "", "line", "requests", "--since", "-1h", "--data-dir", dir); r.code != 2 {
		t.Fatalf("negative --since: %+v", r)
	}

	// With a staff sign-in required: administrators and auditors only.
	for _, s := range []struct{ login, role, name string }{
		{"admin", "admin", "支店長"}, {"kansa", "auditor", "監査 佐藤"}, {"tanaka", "operator", "窓口 田中"},
	} {
		if r := cli(t, kr, s.name+"\n"+s.login+" password 1\n", "staff", "add", s.login, s.role, "--data-dir", dir); r.code != 0 {
			t.Fatalf("staff add %s: %+v", s.login, r)
		}
	}
	// The two the administrator added choose their own passwords first.
	pw := map[string]string{"admin": "admin password 1"}
	for _, login := range []string{"kansa", "tanaka"} {
		t.Setenv(StaffEnv, login)
		pw[login] = login + " own password 2"
		if r := cli(t, kr, login+" password 1\n"+pw[login]+"\n"+pw[login]+"\n", "staff", "password", "--data-dir", dir); r.code != 0 {
			t.Fatalf("%s chooses a password: %+v", login, r)
		}
	}
	if r := cli(t, kr, "", "staff", "require-signin", "on", "--data-dir", dir); r.code != 0 {
		t.Fatalf("require-signin: %+v", r)
	}
	t.Setenv(StaffEnv, "tanaka")
	if r := cli(t, kr, pw["tanaka"]+"\n", "line", "requests", "--data-dir", dir); r.code == 0 || !strings.Contains(r.stderr, "may not") {
		t.Fatalf("operator read the request log: %+v", r)
	}
	for _, login := range []string{"kansa", "admin"} {
		t.Setenv(StaffEnv, login)
		if r := cli(t, kr, pw[login]+"\n", "line", "requests", "--data-dir", dir); r.code != 0 || !strings.Contains(r.stdout, "req-limited") {
			t.Fatalf("%s: %+v", login, r)
		}
	}
}
