package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tsunagu/internal/datadir"
	"tsunagu/internal/engine"
	"tsunagu/internal/secrets"
	"tsunagu/internal/secrets/secretstest"
)

// The CLI runs against the real keychain (secretstest) and a real encrypted
// DB in a temp folder.

type result struct {
	code           int
	stdout, stderr string
}

func cli(t *testing.T, kr secrets.Keyring, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, keyring: kr})
	return result{code, out.String(), errb.String()}
}

func TestCLI(t *testing.T) {
	kr := secretstest.Keyring(t)
	dir := filepath.Join(t.TempDir(), "data")
	secretstest.CleanupDataDir(t, kr, dir)

	// Before init: a clear error, nothing created.
	if r := cli(t, kr, "", "inbox", "list", "--data-dir", dir); r.code == 0 || !strings.Contains(r.stderr, "tsunagu-cli init") {
		t.Fatalf("inbox list before init: %+v", r)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatal("a command before init created the data folder")
	}

	r := cli(t, kr, "", "init", "--data-dir", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "created in the keychain") {
		t.Fatalf("init: %+v", r)
	}
	r = cli(t, kr, "", "init", "--data-dir", dir, "--json")
	var ir engine.InitResult
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &ir) != nil || ir.CreatedKey || ir.CreatedDB {
		t.Fatalf("second init must change nothing: %+v", r)
	}

	r = cli(t, kr, "", "db", "verify", "--data-dir", dir, "--json")
	var rep struct {
		Encrypted, OpensWithKey bool
		Integrity               string
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &rep) != nil || !rep.Encrypted || !rep.OpensWithKey || rep.Integrity != "ok" {
		t.Fatalf("db verify: %+v", r)
	}

	const secret, token = "0123456789abcdef0123456789abcdef", "SECRET-TOKEN-VALUE-1234567890-abcdWXYZ"
	if r := cli(t, kr, secret+"\n", "channel", "set", "--data-dir", dir); r.code == 0 {
		t.Fatalf("channel set with one line must fail: %+v", r)
	}
	r = cli(t, kr, secret+"\n"+token+"\n", "channel", "set", "--data-dir", dir)
	if r.code != 0 {
		t.Fatalf("channel set: %+v", r)
	}
	if strings.Contains(r.stdout+r.stderr, token) || strings.Contains(r.stdout+r.stderr, secret) {
		t.Fatalf("channel set printed a secret: %+v", r)
	}
	r = cli(t, kr, "", "channel", "show", "--data-dir", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "WXYZ") || strings.Contains(r.stdout, token) {
		t.Fatalf("channel show: %+v", r)
	}
	id, _ := datadir.Dir{Path: dir}.ReadInstallID()
	if ch, err := secrets.New(kr, id).Channel(context.Background()); err != nil || ch.Secret != secret || ch.AccessToken != token {
		t.Fatalf("keychain holds %v, %v", ch, err)
	}

	r = cli(t, kr, "", "inbox", "list", "--data-dir", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "no conversations") {
		t.Fatalf("inbox list: %+v", r)
	}
	r = cli(t, kr, "", "inbox", "list", "--data-dir", dir, "--json")
	if r.code != 0 || strings.TrimSpace(r.stdout) != "[]" {
		t.Fatalf("inbox list --json: %+v", r)
	}
	if r := cli(t, kr, "", "channel", "clear", "--data-dir", dir); r.code != 0 {
		t.Fatalf("channel clear: %+v", r)
	}
	if r := cli(t, kr, "", "channel", "show", "--data-dir", dir, "--json"); !strings.Contains(r.stdout, `"configured": false`) {
		t.Fatalf("after clear: %+v", r)
	}
}

func TestCLIUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
	}{
		{nil, 0},
		{[]string{"help"}, 0},
		{[]string{"frobnicate"}, 2},
		{[]string{"db"}, 2},
		{[]string{"version", "extra"}, 2},
		{[]string{"version", "--bogus"}, 2},
		{[]string{"version"}, 0},
	}
	for _, tt := range tests {
		var out, errb bytes.Buffer
		code := run(context.Background(), tt.args, env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, keyring: nopKeyring{}})
		if code != tt.code {
			t.Errorf("%v: exit %d, want %d (stderr %q)", tt.args, code, tt.code, errb.String())
		}
	}
}

type nopKeyring struct{}

func (nopKeyring) Get(string, string) (string, error) { return "", os.ErrNotExist }
func (nopKeyring) Set(string, string, string) error   { return nil }
func (nopKeyring) Delete(string, string) error        { return nil }
