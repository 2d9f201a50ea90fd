package audit_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"tsunagu/internal/audit"
	"tsunagu/internal/store"
)

// recordMany appends n entries in one transaction, the i-th (from 0) at
// time base+i seconds.
func recordMany(t *testing.T, db *store.DB, n int, base int64) {
	t.Helper()
	err := db.Write(context.Background(), func(tx *sql.Tx) error {
		for i := range n {
			if _, err := audit.Record(context.Background(), tx, audit.Entry{At: base + int64(i)*1000,
				Actor: "staff:admin", Action: audit.ActionConversationView, Target: "conversation:" + strconv.Itoa(i)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestExportHasNoLimit: more than the viewer's 10,000 entries are
// exported, all of them, oldest first, and the count is what was written.
// An entry added after the export began (such as the export's own audit
// entry) is not in the file, so the file holds what the count says.
func TestExportHasNoLimit(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	const n = 10_050
	const base = int64(1_700_000_000_000)
	recordMany(t, db, n, base)

	x, err := audit.BeginExport(ctx, db.Reader(), audit.Filter{Limit: 10, Before: 5}) // paging fields ignored
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if x.Count != n {
		t.Fatalf("Count = %d, want %d", x.Count, n)
	}
	record(t, db, audit.Entry{Actor: "staff:auditor", Action: audit.ActionExport, Detail: map[string]string{"entries": strconv.Itoa(n)}})

	var buf bytes.Buffer
	written, err := x.WriteCSV(ctx, &buf)
	if err != nil || written != n {
		t.Fatalf("WriteCSV: %d, %v", written, err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("\ufeffseq,")) {
		t.Fatalf("no BOM and header: %q", buf.String()[:20])
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(buf.String(), "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != n+1 {
		t.Fatalf("%d rows, want %d and a header", len(rows)-1, n)
	}
	for i, r := range rows[1:] {
		if r[0] != strconv.Itoa(i+1) {
			t.Fatalf("row %d has seq %s: not the whole chain in order", i, r[0])
		}
	}
	if x.Close() != nil {
		t.Fatal("close")
	}

	// A range: [From, To) by time.
	x, err = audit.BeginExport(ctx, db.Reader(), audit.Filter{From: base + 50_000, To: base + 10_050_000})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	buf.Reset()
	written, err = x.WriteJSON(ctx, &buf)
	var got []audit.Entry
	if err != nil || json.Unmarshal(buf.Bytes(), &got) != nil {
		t.Fatalf("WriteJSON: %v\n%.200s", err, buf.String())
	}
	if x.Count != 10_000 || written != 10_000 || len(got) != 10_000 || got[0].Seq != 51 || got[len(got)-1].Seq != 10_050 {
		t.Fatalf("range: count %d, written %d, got %d (%d..%d)", x.Count, written, len(got), got[0].Seq, got[len(got)-1].Seq)
	}

	// Nothing in range: an empty, valid export.
	x2, err := audit.BeginExport(ctx, db.Reader(), audit.Filter{From: 1, To: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer x2.Close()
	buf.Reset()
	if written, err := x2.WriteJSON(ctx, &buf); err != nil || written != 0 || json.Unmarshal(buf.Bytes(), &got) != nil || len(got) != 0 {
		t.Fatalf("empty: %d %v %q", written, err, buf.String())
	}
}
