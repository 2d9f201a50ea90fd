//go:build unix

package store

import (
	"context"
	"io/fs"
	"path/filepath"
	"syscall"
	"testing"
)

// assertPrivate walks dir: every file must be 0600 and every folder 0700.
// It returns the names of the files it saw.
func assertPrivate(t *testing.T, dir string) map[string]bool {
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
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		if p == dir {
			return nil // t.TempDir's own mode is not ours
		}
		if got := info.Mode().Perm(); got != want {
			t.Errorf("%s: mode %o, want %o", p, got, want)
		}
		seen[filepath.Base(p)] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return seen
}

// TestFilesArePrivate: the WAL and the shared-memory index (and a VACUUM
// INTO copy) are created 0600 like the database, whatever the umask: the
// OS VFS alone creates them 0666 less the umask. Checked while the database
// is open with WAL activity, when those files exist.
func TestFilesArePrivate(t *testing.T) {
	// A typical umask; restored after. Under 077 the test could not fail.
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)

	path, key, db := createDB(t)
	for range 20 {
		insertCustomerN(t, db)
	}
	var n int
	if err := db.Reader().QueryRow(`SELECT count(*) FROM conversations`).Scan(&n); err != nil || n != 20 {
		t.Fatalf("read: %d %v", n, err)
	}
	dir := filepath.Dir(path)
	seen := assertPrivate(t, dir)
	for _, f := range []string{"tsunagu.db", "tsunagu.db-wal", "tsunagu.db-shm"} {
		if !seen[f] {
			t.Errorf("%s not there while the database is open: %v", f, seen)
		}
	}

	// A copy (backups, key rotation) into a new folder.
	if err := db.VacuumInto(context.Background(), filepath.Join(dir, "backups", "copy.db"), key); err != nil {
		t.Fatal(err)
	}
	// Another process's view: a second open of the same file.
	db2, err := Open(context.Background(), path, key)
	if err != nil {
		t.Fatal(err)
	}
	insertCustomerN(t, db2)
	seen = assertPrivate(t, dir)
	if !seen["copy.db"] || !seen["backups"] {
		t.Errorf("copy missing: %v", seen)
	}
	if err := db2.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	assertPrivate(t, dir)
}
