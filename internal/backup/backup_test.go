package backup

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
	"tsunagu/internal/store/storetest"

	"tsunagu/internal/audit"
	"tsunagu/internal/store"
)

func TestBackupVerifyRestorePrune(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	d := storetest.NewAt(t, filepath.Join(dir, "live.db"))
	db, key := d.DB, d.Key
	write := func(action string) {
		t.Helper()
		if err := db.Write(ctx, func(tx *sql.Tx) error {
			_, err := audit.Record(ctx, tx, audit.Entry{Actor: "staff:a", Action: action})
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	write("x.one")

	bdir := filepath.Join(dir, "nas")
	now := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	var files []string
	for i := range 3 {
		write("x.more")
		m, err := Create(ctx, db, key, bdir, "install1", "", now.Add(time.Duration(i)*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if m.AuditEntries != int64(i+2) || m.KeyID == "" || m.SHA256 == "" {
			t.Fatalf("manifest %+v", m)
		}
		files = append(files, filepath.Join(bdir, m.File))
	}
	if _, err := Verify(ctx, files[2], key); err != nil {
		t.Fatal(err)
	}
	other := make([]byte, store.KeySize)
	rand.Read(other)
	if _, err := Verify(ctx, files[2], other); !errors.Is(err, store.ErrWrongKey) {
		t.Fatalf("verify with another key: %v", err)
	}

	// Restore into a new data folder: the data is there and the live DB is
	// untouched.
	restored := filepath.Join(dir, "new", "tsunagu.db")
	if _, err := Restore(ctx, files[2], key, restored); err != nil {
		t.Fatal(err)
	}
	r, err := store.Open(ctx, restored, key)
	if err != nil {
		t.Fatal(err)
	}
	rep, _ := audit.Verify(ctx, r.Reader())
	r.Close()
	if !rep.OK || rep.Entries != 4 {
		t.Fatalf("restored audit %+v", rep)
	}
	if _, err := Restore(ctx, files[2], key, restored); !errors.Is(err, store.ErrExists) {
		t.Fatalf("restore over existing: %v", err)
	}

	// A changed byte is caught.
	raw, _ := os.ReadFile(files[1])
	raw[len(raw)/2] ^= 1
	os.WriteFile(files[1], raw, 0o600)
	if _, err := Verify(ctx, files[1], key); err == nil {
		t.Fatal("tampered backup verified")
	}

	gone, err := Prune(bdir, 2)
	if err != nil || len(gone) != 1 || gone[0] != filepath.Base(files[0]) {
		t.Fatalf("prune: %v %v", gone, err)
	}
	left, _ := List(bdir)
	if len(left) != 2 {
		t.Fatalf("left %v", left)
	}
	if _, err := os.Stat(files[0] + ".json"); !os.IsNotExist(err) {
		t.Fatal("manifest of pruned backup kept")
	}
}
