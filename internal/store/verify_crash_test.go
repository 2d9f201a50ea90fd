package store

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"tsunagu/internal/testsupport/crashtest"
)

func TestMain(m *testing.M) { crashtest.Main(m, crashChild) }

// crashChild is a Tsunagu session that the parent SIGKILLs: it creates the
// database, commits crashRows customers (in the WAL: far below the
// automatic checkpoint), says "ready" and waits.
func crashChild() int {
	key, err := hex.DecodeString(crashtest.Var("KEY"))
	if err != nil {
		return crashtest.Fail(err)
	}
	ctx := context.Background()
	db, err := Create(ctx, crashtest.Var("DB"), key)
	if err != nil {
		return crashtest.Fail(err)
	}
	for i := range crashRows {
		err := db.Write(ctx, func(tx *sql.Tx) error {
			_, err := tx.Exec(`INSERT INTO line_users(user_id, display_name, created_at) VALUES (?, ?, 1)`,
				fmt.Sprintf("U%032d", i), customerName)
			return err
		})
		if err != nil {
			return crashtest.Fail(err)
		}
	}
	fmt.Println("ready")
	select {}
}

const crashRows = 40

// TestVerifyAfterCrash: `db verify` after a SIGKILLed session, WAL not
// checkpointed. It used to refuse until the folder was opened once; now it
// checks the main file and the WAL together (the schema version it reports
// is the WAL's), says a WAL is pending, and changes no byte of any file:
// the next open still recovers every committed row.
func TestVerifyAfterCrash(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tsunagu.db")
	key := newKey(t)
	child := crashtest.Start(t, crashtest.Vars{"DB": path, "KEY": hex.EncodeToString(key)})
	if line, err := child.ReadLine(); err != nil || line != "ready" {
		t.Fatalf("child: %q %v", line, err)
	}
	child.Kill(t)
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Fatalf("the crash left no WAL: %v", err)
	}
	migs, err := loadMigrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := probe(context.Background(), path, key); err != nil || v == len(migs) {
		t.Fatalf("test set-up: the main file alone already has schema version %d (%v)", v, err)
	}

	before := snapshot(t, dir)
	r, err := Verify(context.Background(), path, key)
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() || r.Integrity != "ok" || r.PendingWALBytes == 0 || r.SchemaVersion != len(migs) {
		t.Fatalf("report %+v", r)
	}
	assertSameFiles(t, before, snapshot(t, dir))

	// Twice: the first left nothing behind that changes the second.
	if r2, err := Verify(context.Background(), path, key); err != nil || r2 != r {
		t.Fatalf("second verify: %+v %v", r2, err)
	}
	assertSameFiles(t, before, snapshot(t, dir))

	// A wrong key neither checks nor harms the WAL.
	if r, err := Verify(context.Background(), path, newKey(t)); err != nil || r.OpensWithKey || r.PendingWALBytes != 0 {
		t.Fatalf("wrong key: %+v %v", r, err)
	}
	assertSameFiles(t, before, snapshot(t, dir))

	// While the database is open again (the app restarted), verify does
	// not check, and says why.
	db, err := Open(context.Background(), path, key)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.Reader().QueryRow(`SELECT count(*) FROM line_users`).Scan(&n); err != nil || n != crashRows {
		t.Fatalf("rows after the crash: %d %v", n, err)
	}
	if r, err := Verify(context.Background(), path, key); err != nil || r.OK() || r.PendingWALBytes != 0 ||
		!strings.Contains(r.Integrity, "the database is open") {
		t.Fatalf("while open: %+v %v", r, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if got := fileNames(t, dir); !slices.Equal(got, []string{"tsunagu.db"}) {
		t.Fatalf("after close: %v", got)
	}
	if r, err := Verify(context.Background(), path, key); err != nil || !r.OK() || r.PendingWALBytes != 0 {
		t.Fatalf("after recovery: %+v %v", r, err)
	}
}
