//go:build unix

package main

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"tsunagu/internal/audit"
	"tsunagu/internal/engine"
	"tsunagu/internal/secrets/secretstest"
)

// TestDataFolderIsPrivate: after a session that leaves something of every
// kind in the data folder (the DB and, while it is open, its WAL and index;
// the install ID, recovery file, relay enrollment and relay lock, a backup
// and its manifest kept in the folder), every file is 0600 and every folder
// 0700, under a typical umask.
func TestDataFolderIsPrivate(t *testing.T) {
	old := syscall.Umask(0o022) // under 077 the test could not fail
	defer syscall.Umask(old)
	kr := secretstest.Keyring(t)
	dir := filepath.Join(t.TempDir(), "data")
	secretstest.CleanupDataDir(t, kr, dir)
	url, code, _, _ := relayForCLI(t)
	const docSecret = "8c570fa6dd201bb328f1c1eac23a96d8"
	for _, c := range []struct {
		stdin string
		args  []string
	}{
		{"", []string{"init"}},
		{docSecret + "\nfilemode-test-access-token-0123456789\n", []string{"channel", "set"}},
		{"支店長\nadmin password 1\n", []string{"staff", "add", "admin", "admin"}},
		{"", []string{"recovery", "create"}},
		{code + "\n", []string{"relay", "enroll", "--relay", url, "--allow-http-loopback"}},
		{"", []string{"sync", "--once"}},
		{"", []string{"backup", "create", filepath.Join(dir, "backups")}},
		{"", []string{"audit", "export"}},
	} {
		if r := cli(t, kr, c.stdin, append(c.args, "--data-dir", dir)...); r.code != 0 {
			t.Fatalf("%v: %+v", c.args, r)
		}
	}

	// WAL activity in an open session, as the app has all day.
	ctx := context.Background()
	eng, err := engine.Open(ctx, dir, kr)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	for range 50 {
		if err := eng.DB().Write(ctx, func(tx *sql.Tx) error {
			_, err := audit.Record(ctx, tx, audit.Entry{Actor: "staff:admin", Action: audit.ActionConversationView, Target: "conversation:1"})
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := audit.List(ctx, eng.DB().Reader(), audit.Filter{}); err != nil {
		t.Fatal(err)
	}
	seen := walkPrivate(t, dir)
	for _, want := range []string{"tsunagu.db", "tsunagu.db-wal", "tsunagu.db-shm", "install-id", "recovery.json", "relay.json", "relay.lock", "backups/"} {
		if !seen[want] {
			t.Errorf("%s not in the data folder (test set-up): %v", want, seen)
		}
	}
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}
	walkPrivate(t, dir)
}

// walkPrivate asserts 0600 files and 0700 folders under dir (dir included)
// and returns the names seen (folders with a trailing slash).
func walkPrivate(t *testing.T, dir string) map[string]bool {
	t.Helper()
	seen := map[string]bool{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		want, name := fs.FileMode(0o600), d.Name()
		if d.IsDir() {
			want, name = 0o700, name+"/"
		}
		if got := info.Mode().Perm(); got != want {
			t.Errorf("%s: mode %o, want %o", strings.TrimPrefix(p, dir), got, want)
		}
		seen[name] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return seen
}
