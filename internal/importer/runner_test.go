package importer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The runner lets one import run at a time, cancels it from outside with
// nothing written, records who ran it, and is free again afterwards.
func TestRunnerOneAtATimeAndCancel(t *testing.T) {
	db := newDB(t)
	dir := t.TempDir()
	var rows [][]string
	for i := range 5000 {
		rows = append(rows, []string{fmt.Sprintf("N%06d", i), "名前"})
	}
	path := writeFixture(t, dir, fixture{"big", "utf-8", ',', false}, []string{"顧客番号", "氏名"}, rows, "")
	r := NewRunner(db, tickingClock())
	ctx := context.Background()
	before := snapshot(t, db)

	var second error
	res, err := r.Run(ctx, "staff:tanaka", path, Options{Progress: func(p Progress) {
		if p.Rows >= 1024 && second == nil {
			_, second = r.Run(ctx, "staff:sato", path, Options{})
			r.Cancel()
		}
	}})
	if !errors.Is(second, ErrRunning) {
		t.Errorf("second import while one runs: %v", second)
	}
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), filepath.Base(path)) {
		t.Fatalf("cancelled import: %v %+v", err, res)
	}
	if snapshot(t, db) != before {
		t.Error("a cancelled import changed the DB")
	}

	r.Cancel() // nothing runs: no effect
	res, err = r.Run(ctx, "staff:tanaka", path, Options{Profile: "勘定系"})
	if err != nil || res.New != 5000 {
		t.Fatalf("import after the cancel: %+v %v", res, err)
	}
	hist, err := r.History(ctx)
	if err != nil || len(hist) != 1 || hist[0].Staff != "staff:tanaka" || hist[0].Profile != "勘定系" {
		t.Fatalf("history: %+v %v", hist, err)
	}
}

func TestRunnerFieldsPreviewProfilesReport(t *testing.T) {
	db := newDB(t)
	ctx := context.Background()
	r := NewRunner(db, tickingClock())
	if _, err := db.Writer().Exec(`INSERT INTO attribute_defs (key, label, type, created_at) VALUES ('income', '年収帯', 'text', 0)`); err != nil {
		t.Fatal(err)
	}
	fields, err := r.Fields(ctx, "")
	if err != nil || !strings.Contains(strings.Join(fields, ","), AttrPrefix+"income") || !strings.Contains(strings.Join(fields, ","), FieldCustomerNo) {
		t.Errorf("customer fields: %v %v", fields, err)
	}
	if fields, err := r.Fields(ctx, KindContracts); err != nil || strings.Contains(strings.Join(fields, ","), AttrPrefix) ||
		!strings.Contains(strings.Join(fields, ","), FieldAccountNo) {
		t.Errorf("contract fields: %v %v", fields, err)
	}
	if _, err := r.Fields(ctx, "loans"); !errors.Is(err, ErrMapping) {
		t.Errorf("unknown kind: %v", err)
	}

	dir := t.TempDir()
	var rows [][]string
	for i := range 8 {
		rows = append(rows, []string{fmt.Sprintf("K%d", i), "名前", "1200万"})
	}
	path := writeFixture(t, dir, fixture{"p", "utf-8", ',', false}, []string{"顧客番号", "氏名", "年収帯"}, rows, "")
	pv, err := r.Preview(ctx, path, Options{})
	if err != nil || len(pv.Rows) != PreviewRows || pv.Mapping["年収帯"] != AttrPrefix+"income" {
		t.Fatalf("preview: %+v %v", pv, err)
	}

	if err := r.SaveProfile(ctx, Profile{Name: "勘定系", Encoding: "auto", Mapping: pv.Mapping}); err != nil {
		t.Fatal(err)
	}
	if list, err := r.Profiles(ctx); err != nil || len(list) != 1 || list[0].Name != "勘定系" {
		t.Errorf("profiles: %+v %v", list, err)
	}

	report := filepath.Join(dir, "report.csv")
	if err := SaveReport(report, []Issue{{Line: 3, Column: "氏名", Value: Mask("山田 花子"), Reason: ReasonRequired}}, "ja"); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(report)
	if err != nil || !strings.Contains(string(data), "3,,氏名,"+Mask("山田 花子")+","+ReasonRequired) {
		t.Errorf("report:\n%s %v", data, err)
	}
	if st, err := os.Stat(report); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("report mode: %v %v", st.Mode(), err)
	}
}
