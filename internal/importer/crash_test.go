package importer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"tsunagu/internal/store"
	"tsunagu/internal/testsupport/crashtest"
)

func TestMain(m *testing.M) {
	if crashtest.IsChild() {
		os.Exit(crashChild())
	}
	if mode := os.Getenv(benchEnv); mode != "" {
		os.Exit(benchChildMain(mode))
	}
	os.Exit(m.Run())
}

// crashChild runs in the child TestCrashMidImport starts: it imports the
// file and says IMPORTING once rows are being written inside the
// transaction; it then waits to be killed.
func crashChild() int {
	key, _ := hex.DecodeString(crashtest.Var("KEY"))
	ctx := context.Background()
	db, err := store.Open(ctx, crashtest.Var("DB"), key)
	if err != nil {
		fmt.Println("ERROR", err)
		return 1
	}
	// A small page cache makes SQLite spill the transaction's pages to the
	// WAL early, so the kill hits uncommitted data on disk.
	if _, err := db.Writer().Exec(`PRAGMA cache_size=20`); err != nil {
		fmt.Println("ERROR", err)
		return 1
	}
	said := false
	// The ticking clock makes progress fire every 512 rows, however fast
	// the import; only a report from inside the transaction counts.
	_, err = Import(ctx, db, crashtest.Var("FILE"), Options{Clock: tickingClock(), Progress: func(p Progress) {
		if p.Rows >= 4000 && !p.Done && !said {
			said = true
			fmt.Println("IMPORTING")
			// Stay inside the transaction, with pages written to the
			// WAL, until the parent kills the process.
			time.Sleep(time.Minute)
		}
	}})
	fmt.Println("FINISHED", err)
	return 0
}

// TestCrashMidImport kills a process in the middle of an import (SIGKILL:
// no deferred code, no rollback runs) and checks that the database is as
// it was and the next import succeeds.
func TestCrashMidImport(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	key := make([]byte, store.KeySize)
	rand.Read(key)
	dbPath := filepath.Join(dir, "tsunagu.db")
	db, err := store.Create(ctx, dbPath, key)
	if err != nil {
		t.Fatal(err)
	}
	// A first import, so there is something to lose.
	first := writeFixture(t, dir, fixture{"first", "sjis", ',', true}, fixtureHeader, fixtureRows, "")
	if _, err := Import(ctx, db, first, Options{}); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	var rows [][]string
	for i := range 8000 {
		rows = append(rows, []string{fmt.Sprintf("B%07d", i), "大量 顧客", "ﾀｲﾘｮｳ", "H1.2.3", "", "", "090-0000-0000", "", "", "東京都", "009", ""})
	}
	big := writeFixture(t, dir, fixture{"big", "sjis", ',', true}, fixtureHeader, rows, "")

	child := crashtest.Start(t, crashtest.Vars{"DB": dbPath, "KEY": hex.EncodeToString(key), "FILE": big})
	if line, err := child.ReadLine(); err != nil || line != "IMPORTING" {
		t.Fatalf("child said %q, %v", line, err)
	}
	// The import's uncommitted pages have spilled into the WAL by now: the
	// kill interrupts a transaction that has reached the disk.
	if st, err := os.Stat(dbPath + "-wal"); err != nil || st.Size() == 0 {
		t.Fatalf("no WAL content before the kill: %v, %v", st, err)
	}
	child.Kill(t)

	db, err = store.Open(ctx, dbPath, key)
	if err != nil {
		t.Fatalf("open after crash: %v", err)
	}
	defer db.Close()
	if after := snapshot(t, db); after != before {
		t.Errorf("the crashed import changed the DB")
	}
	res, err := Import(ctx, db, big, Options{})
	if err != nil {
		t.Fatalf("import after crash: %v", err)
	}
	if res.New != 8000 {
		t.Errorf("import after crash: %+v", res)
	}
}
