package audit_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"tsunagu/internal/store/storetest"

	"tsunagu/internal/audit"
	"tsunagu/internal/store"
)

func openDB(t *testing.T) *store.DB {
	t.Helper()
	db := storetest.New(t)
	return db
}

func record(t *testing.T, db *store.DB, entries ...audit.Entry) {
	t.Helper()
	for _, e := range entries {
		if err := db.Write(context.Background(), func(tx *sql.Tx) error {
			_, err := audit.Record(context.Background(), tx, e)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
}

func fiveEntries() []audit.Entry {
	return []audit.Entry{
		{Actor: "staff:admin", Action: audit.ActionFirstAdmin, Target: "staff:1"},
		{Actor: "staff:admin", Action: audit.ActionSignIn},
		{Actor: "staff:admin", Action: audit.ActionStaffCreate, Target: "staff:2", Detail: map[string]string{"role": "operator"}},
		{Actor: "staff:tanaka", Action: audit.ActionSignInFailed},
		{Actor: "staff:admin", Action: audit.ActionSignOut},
	}
}

func TestChainVerifies(t *testing.T) {
	db := openDB(t)
	rep, err := audit.Verify(context.Background(), db.Reader())
	if err != nil || !rep.OK || rep.Entries != 0 || rep.Head != audit.Genesis {
		t.Fatalf("empty trail: %+v %v", rep, err)
	}
	record(t, db, fiveEntries()...)
	rep, err = audit.Verify(context.Background(), db.Reader())
	if err != nil || !rep.OK || rep.Entries != 5 || rep.Head == audit.Genesis {
		t.Fatalf("after 5 entries: %+v %v", rep, err)
	}
}

func TestRollbackLeavesNoEntry(t *testing.T) {
	db := openDB(t)
	err := db.Write(context.Background(), func(tx *sql.Tx) error {
		if _, err := audit.Record(context.Background(), tx, audit.Entry{Actor: "a", Action: "x.y"}); err != nil {
			return err
		}
		return sql.ErrTxDone // the change fails: its record must go with it
	})
	if err == nil {
		t.Fatal("want error")
	}
	got, err := audit.List(context.Background(), db.Reader(), audit.Filter{})
	if err != nil || len(got) != 0 {
		t.Fatalf("entries after rollback: %v %v", got, err)
	}
}

func TestAppendOnlyInSQL(t *testing.T) {
	db := openDB(t)
	record(t, db, fiveEntries()...)
	for _, q := range []string{`UPDATE audit_log SET actor='x' WHERE seq=2`, `DELETE FROM audit_log WHERE seq=5`} {
		if _, err := db.Writer().Exec(q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v, want append-only refusal", q, err)
		}
	}
}

// TestTamperDetected edits the DB directly, as someone with the key and the
// sqlite3 shell would (dropping the triggers first), and checks that Verify
// names the first broken entry.
func TestTamperDetected(t *testing.T) {
	tests := []struct {
		name   string
		sql    []string
		broken int64
	}{
		{"edit actor", []string{`UPDATE audit_log SET actor='staff:someone' WHERE seq=3`}, 3},
		{"edit detail", []string{`UPDATE audit_log SET detail='{"role":"admin"}' WHERE seq=3`}, 3},
		{"delete middle", []string{`DELETE FROM audit_log WHERE seq=2`}, 3},
		{"delete and renumber", []string{`DELETE FROM audit_log WHERE seq=2`, `UPDATE audit_log SET seq=seq-1 WHERE seq>2`}, 2},
		{"edit with recomputed own hash", []string{`UPDATE audit_log SET hash='` + strings.Repeat("a", 64) + `' WHERE seq=4`}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openDB(t)
			record(t, db, fiveEntries()...)
			w := db.Writer()
			for _, q := range append([]string{`DROP TRIGGER audit_log_no_update`, `DROP TRIGGER audit_log_no_delete`}, tt.sql...) {
				if _, err := w.Exec(q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			rep, err := audit.Verify(context.Background(), db.Reader())
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK || rep.BrokenAt != tt.broken {
				t.Fatalf("report %+v, want broken at %d", rep, tt.broken)
			}
		})
	}
}

func TestListFilters(t *testing.T) {
	db := openDB(t)
	record(t, db, fiveEntries()...)
	tests := []struct {
		f    audit.Filter
		want []int64
	}{
		{audit.Filter{}, []int64{5, 4, 3, 2, 1}},
		{audit.Filter{Actor: "staff:tanaka"}, []int64{4}},
		{audit.Filter{Action: "auth."}, []int64{5, 4, 2}},
		{audit.Filter{Action: audit.ActionStaffCreate}, []int64{3}},
		{audit.Filter{Target: "staff:1"}, []int64{1}},
		{audit.Filter{Limit: 2}, []int64{5, 4}},
		{audit.Filter{Before: 3}, []int64{2, 1}},
	}
	for _, tt := range tests {
		got, err := audit.List(context.Background(), db.Reader(), tt.f)
		if err != nil {
			t.Fatal(err)
		}
		var seqs []int64
		for _, e := range got {
			seqs = append(seqs, e.Seq)
		}
		if len(seqs) != len(tt.want) {
			t.Errorf("%+v: got %v want %v", tt.f, seqs, tt.want)
			continue
		}
		for i := range seqs {
			if seqs[i] != tt.want[i] {
				t.Errorf("%+v: got %v want %v", tt.f, seqs, tt.want)
				break
			}
		}
	}
	got, _ := audit.List(context.Background(), db.Reader(), audit.Filter{Target: "staff:2"})
	if len(got) != 1 || got[0].Detail["role"] != "operator" {
		t.Errorf("detail round trip: %+v", got)
	}
}

func TestCSV(t *testing.T) {
	out, err := audit.CSV([]audit.Entry{{Seq: 1, At: 1, Actor: "staff:a", Action: "x.y", Target: "=cmd()", Detail: map[string]string{"k": "v"}, PrevHash: audit.Genesis, Hash: "h"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "\ufeffseq,time,actor") || !strings.Contains(out, "'=cmd()") || !strings.Contains(out, `"{""k"":""v""}"`) {
		t.Fatalf("csv:\n%s", out)
	}
}
