package audit_test

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"testing"
	"time"

	"tsunagu/internal/audit"
)

// failingWriter is a database whose writes fail (full disk, closed DB).
type failingWriter struct{ err error }

func (f failingWriter) Write(context.Context, func(*sql.Tx) error) error { return f.err }

// TestRecordChange: a change made outside the DB is recorded in its own
// transaction; when that fails the caller gets ErrNotRecorded wrapping the
// cause, never nil.
func TestRecordChange(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	if err := audit.RecordChange(ctx, db, audit.Entry{Actor: "staff:admin", Action: audit.ActionRelayEnroll, Target: "t1",
		Detail: map[string]string{"relay": "https://relay.example.jp"}}); err != nil {
		t.Fatal(err)
	}
	got, err := audit.List(ctx, db.Reader(), audit.Filter{Action: audit.ActionRelayEnroll})
	if err != nil || len(got) != 1 || got[0].Target != "t1" || got[0].Detail["relay"] != "https://relay.example.jp" {
		t.Fatalf("entries %+v %v", got, err)
	}

	cause := errors.New("disk full")
	err = audit.RecordChange(ctx, failingWriter{cause}, audit.Entry{Actor: "staff:admin", Action: audit.ActionRelayDisconnect})
	if !errors.Is(err, audit.ErrNotRecorded) || !errors.Is(err, cause) {
		t.Fatalf("a failed record: %v", err)
	}
	// An entry the trail refuses (no actor) is not recorded either.
	if err := audit.RecordChange(ctx, db, audit.Entry{Action: audit.ActionRelayWebhook}); !errors.Is(err, audit.ErrNotRecorded) {
		t.Fatalf("an invalid entry: %v", err)
	}
}

// TestExportRecord: the export's entry carries its count and the caller's
// detail, and is not part of the export it describes.
func TestExportRecord(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	record(t, db, fiveEntries()...)
	// The export's own entry is recorded before the entries are written,
	// and the file holds what was there before it (5, not 6).
	trail := audit.NewTrail(db, time.Now)
	if n, err := trail.Export(ctx, "os:clerk", audit.Filter{}, audit.ExportOptions{JSON: true, Detail: map[string]string{"from": "2026-04-01"}}, io.Discard); err != nil || n != 5 {
		t.Fatalf("export after its record: %d entries, %v", n, err)
	}
	got, err := audit.List(ctx, db.Reader(), audit.Filter{Action: audit.ActionExport})
	if err != nil || len(got) != 1 || got[0].Actor != "os:clerk" || got[0].Detail["entries"] != "5" || got[0].Detail["from"] != "2026-04-01" {
		t.Fatalf("export entry %+v %v", got, err)
	}
}
