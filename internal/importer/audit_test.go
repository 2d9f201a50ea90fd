package importer

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"tsunagu/internal/audit"
)

// TestImportAudited: an import writes one entry in its own transaction,
// naming the file, its SHA-256, the counts and the profile, and no row's
// content; a dry run writes an import.dry_run entry; an import that fails
// or is cancelled is rolled back and leaves one import.failed entry with
// the reason (unless the audit itself is what fails); the chain verifies.
func TestImportAudited(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	path := writeFixture(t, t.TempDir(), fixture{"f", "utf-8", ',', false}, fixtureHeader, fixtureRows, "")
	data, _ := os.ReadFile(path)
	sum := sha256.Sum256(data)

	// Dry run: an entry of its own, nothing imported.
	dry, err := Import(ctx, db, path, Options{Staff: "staff:tanaka", DryRun: true, Profile: "core", Audit: Audited("staff:tanaka", "core")})
	if err != nil {
		t.Fatal(err)
	}
	entries := list(t, db)
	if len(entries) != 1 || entries[0].Action != ActionImportDryRun || entries[0].Actor != "staff:tanaka" || entries[0].Detail["new"] != strconv.Itoa(dry.New) {
		t.Fatalf("dry-run entries: %+v", entries)
	}

	res, err := Import(ctx, db, path, Options{Staff: "staff:tanaka", Profile: "core", Audit: Audited("staff:tanaka", "core")})
	if err != nil {
		t.Fatal(err)
	}
	entries = list(t, db)
	if len(entries) != 2 {
		t.Fatalf("entries: %+v", entries)
	}
	e := entries[0]
	want := map[string]string{"file": res.FileName, "sha256": hex.EncodeToString(sum[:]), "rows": "9", "new": "4",
		"rejected": "5", "updated": "0", "profile": "core", "encoding": EncodingUTF8}
	if e.Action != ActionImport || e.Actor != "staff:tanaka" || e.Target != "import:"+strconv.FormatInt(res.ImportID, 10) {
		t.Errorf("entry %+v", e)
	}
	for k, v := range want {
		if e.Detail[k] != v {
			t.Errorf("detail %s = %q, want %q", k, e.Detail[k], v)
		}
	}
	for _, v := range e.Detail {
		if strings.Contains(v, "山田") || strings.Contains(v, "example") || strings.Contains(v, "1234") {
			t.Errorf("entry holds customer data: %+v", e.Detail)
		}
	}

	// A failing audit hook rolls the import back: no customers change, no
	// history row, no entry.
	before := snapshot(t, db)
	failing := func(ctx context.Context, tx *sql.Tx, res Result) error {
		if err := Audited("staff:tanaka", "")(ctx, tx, res); err != nil {
			return err
		}
		return errors.New("disk full")
	}
	other := writeFixture(t, t.TempDir(), fixture{"g", "utf-8", ',', false}, fixtureHeader, [][]string{{"0100", "新規 顧客", "", "", "", "", "", "", "", "", "001", ""}}, "")
	if _, err := Import(ctx, db, other, Options{Staff: "staff:tanaka", Audit: failing}); err == nil {
		t.Fatal("import succeeded although its audit failed")
	}
	// A file with nothing valid is rolled back too.
	bad := writeFixture(t, t.TempDir(), fixture{"h", "utf-8", ',', false}, fixtureHeader, [][]string{{"", "番号 なし", "", "", "", "", "", "", "", "", "001", ""}}, "")
	if _, err := Import(ctx, db, bad, Options{Staff: "staff:tanaka", Audit: Audited("staff:tanaka", "")}); !errors.Is(err, ErrNothingValid) {
		t.Fatalf("nothing valid: %v", err)
	}
	// So is a cancelled one.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Import(cctx, db, other, Options{Staff: "staff:tanaka", Audit: Audited("staff:tanaka", "")}); err == nil {
		t.Fatal("cancelled import succeeded")
	}
	got := list(t, db) // newest first
	if len(got) != 4 {
		t.Fatalf("entries after the failures: %+v", got)
	}
	for i, reason := range []string{FailureCancelled, FailureNothingValid} {
		e := got[i]
		if e.Action != ActionImportFailed || e.Actor != "staff:tanaka" || e.Detail["reason"] != reason || e.Target != "" {
			t.Errorf("failure entry %d = %+v, want reason %s", i, e, reason)
		}
		if _, ok := e.Detail["sha256"]; ok {
			t.Errorf("failure entry %d has a hash of a file it did not read: %+v", i, e)
		}
		for _, v := range e.Detail {
			if strings.Contains(v, "番号") || strings.Contains(v, "新規") {
				t.Errorf("entry holds customer data: %+v", e.Detail)
			}
		}
	}
	if got[1].Detail["file"] != "h.csv" || got[0].Detail["file"] != "g.csv" {
		t.Errorf("failure entries name %q and %q", got[1].Detail["file"], got[0].Detail["file"])
	}
	if after := snapshot(t, db); after != before {
		t.Error("rolled-back import changed customers")
	}
	var n int
	db.Reader().QueryRow(`SELECT count(*) FROM imports`).Scan(&n)
	if n != 1 {
		t.Errorf("%d history rows, want 1", n)
	}
	if rep, err := audit.Verify(ctx, db.Reader()); err != nil || !rep.OK || rep.Entries != 4 {
		t.Fatalf("chain: %+v %v", rep, err)
	}
}

func list(t *testing.T, db interface{ Reader() *sql.DB }) []audit.Entry {
	t.Helper()
	got, err := audit.List(context.Background(), db.Reader(), audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return got
}
