package audit_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"slices"
	"strings"
	"testing"
	"time"

	"tsunagu/internal/audit"
)

// The trail's page verifies the chain; an export records itself with the
// count it holds, before writing, and that entry is not in the file.
func TestTrailPageRecordAndExport(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	at := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	tr := audit.NewTrail(db, func() time.Time { return at })
	recordMany(t, db, 3, 1_700_000_000_000)
	if err := tr.Record(ctx, audit.Entry{Actor: "staff:admin", Action: audit.ActionSettings}); err != nil {
		t.Fatal(err)
	}
	page, err := tr.Page(ctx, audit.Filter{})
	if err != nil || len(page.Entries) != 4 || !page.Chain.OK || page.Chain.Entries != 4 {
		t.Fatalf("page: %+v %v", page, err)
	}
	if e := page.Entries[0]; e.Action != audit.ActionSettings || e.At != at.UnixMilli() {
		t.Fatalf("recorded entry (newest first, at the trail's clock): %+v", e)
	}

	var buf bytes.Buffer
	n, err := tr.Export(ctx, "staff:auditor", audit.Filter{Action: audit.ActionConversationView}, audit.ExportOptions{Detail: map[string]string{"from": "2026-04-01"}}, &buf)
	if err != nil || n != 3 {
		t.Fatalf("Export = %d, %v", n, err)
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(buf.String(), "\ufeff"))).ReadAll()
	if err != nil || len(rows) != 4 { // header and three entries
		t.Fatalf("csv rows %d, %v:\n%s", len(rows), err, buf.String())
	}
	exports, err := audit.List(ctx, db.Reader(), audit.Filter{Action: audit.ActionExport})
	if err != nil || len(exports) != 1 || exports[0].Actor != "staff:auditor" || exports[0].Detail["entries"] != "3" || exports[0].Detail["from"] != "2026-04-01" {
		t.Fatalf("export entry: %+v %v", exports, err)
	}
	if strings.Contains(buf.String(), audit.ActionExport) {
		t.Fatal("the export's own entry is in the file")
	}
}

func TestActors(t *testing.T) {
	ctx := context.Background()
	tr := audit.NewTrail(openDB(t), nil)
	if got, err := tr.Actors(ctx); err != nil || len(got) != 0 {
		t.Fatalf("empty trail: %v %v", got, err)
	}
	for _, a := range []string{"staff:tanaka", "system", "staff:sato", "staff:tanaka"} {
		if err := tr.Record(ctx, audit.Entry{Actor: a, Action: "test.action"}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := tr.Actors(ctx)
	if err != nil || !slices.Equal(got, []string{"staff:sato", "staff:tanaka", "system"}) {
		t.Fatalf("actors %v %v", got, err)
	}
}
