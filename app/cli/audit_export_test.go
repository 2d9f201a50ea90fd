package main

import (
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"tsunagu/internal/audit"
	"tsunagu/internal/engine"
	"tsunagu/internal/secrets/secretstest"
)

// TestCLIAuditExportAll: `audit export` writes every entry in the range
// asked for (here more than the 10,000 it used to stop at, silently), says
// how many on standard error, and audits the export with that count.
func TestCLIAuditExportAll(t *testing.T) {
	kr := secretstest.Keyring(t)
	dir := filepath.Join(t.TempDir(), "data")
	secretstest.CleanupDataDir(t, kr, dir)
	if r := cli(t, kr, "", "init", "--data-dir", dir); r.code != 0 {
		t.Fatalf("init: %+v", r)
	}
	// 10,050 entries, one a day back from yesterday (local time, noon).
	const n = 10_050
	ctx := context.Background()
	eng, err := engine.Open(ctx, dir, kr)
	if err != nil {
		t.Fatal(err)
	}
	y, m, d := time.Now().AddDate(0, 0, -1).Date()
	noon := time.Date(y, m, d, 12, 0, 0, 0, time.Local)
	day := func(i int) time.Time { return noon.AddDate(0, 0, -(n - 1 - i)) } // entry i, oldest first
	err = eng.DB().Write(ctx, func(tx *sql.Tx) error {
		for i := range n {
			if _, err := audit.Record(ctx, tx, audit.Entry{At: day(i).UnixMilli(), Actor: "staff:admin",
				Action: audit.ActionConversationView, Target: "conversation:" + strconv.Itoa(i)}); err != nil {
				return err
			}
		}
		return nil
	})
	eng.Close()
	if err != nil {
		t.Fatal(err)
	}

	r := cli(t, kr, "", "audit", "export", "--data-dir", dir)
	if r.code != 0 {
		t.Fatalf("audit export: %+v", r.stderr)
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(r.stdout, "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows)-1 != n || rows[1][0] != "1" || rows[n][0] != strconv.Itoa(n) {
		t.Fatalf("%d entries exported, want %d", len(rows)-1, n)
	}
	if !strings.Contains(r.stderr, "exported 10050 audit entries") {
		t.Fatalf("count not said: %q", r.stderr)
	}

	// A range of days, both included: entry 100's day to the last one's,
	// 9,950 entries.
	from, to := day(100).Format(time.DateOnly), day(n-1).Format(time.DateOnly)
	r = cli(t, kr, "", "audit", "export", "--from", from, "--to", to, "--json", "--data-dir", dir)
	var got []audit.Entry
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &got) != nil {
		t.Fatalf("range: %+v", r.stderr)
	}
	if len(got) != n-100 || got[0].Target != "conversation:100" || got[len(got)-1].Target != "conversation:10049" ||
		!strings.Contains(r.stderr, "exported 9950 audit entries ("+from+" to "+to+")") {
		t.Fatalf("range %s..%s: %d entries (%s), stderr %q", from, to, len(got), got[0].Target, r.stderr)
	}

	// Each export is audited with its count and range.
	eng, err = engine.Open(ctx, dir, kr)
	if err != nil {
		t.Fatal(err)
	}
	exports, err := audit.List(ctx, eng.DB().Reader(), audit.Filter{Action: audit.ActionExport})
	eng.Close()
	if err != nil || len(exports) != 2 || exports[1].Detail["entries"] != "10050" ||
		exports[0].Detail["entries"] != "9950" || exports[0].Detail["from"] != from || exports[0].Detail["to"] != to {
		t.Fatalf("export entries: %+v %v", exports, err)
	}

	for _, args := range [][]string{{"--from", "2025-13-01"}, {"--to", "yesterday"}, {"--from", "2025-04-02", "--to", "2025-04-01"}} {
		if r := cli(t, kr, "", append(append([]string{"audit", "export"}, args...), "--data-dir", dir)...); r.code != 2 || r.stdout != "" {
			t.Fatalf("%v: %+v", args, r)
		}
	}
}
