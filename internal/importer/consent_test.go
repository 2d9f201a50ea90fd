package importer

import (
	"context"
	"testing"
	"time"
)

// TestConsentColumns: a consent the file gives replaces the stored one, its
// source and time change only with the decision, an empty value leaves the
// stored consent alone, and the counts of new, updated and unchanged
// customers are right whether or not the upsert returns IDs (tags mapped).
func TestConsentColumns(t *testing.T) {
	for _, withTags := range []bool{false, true} {
		t.Run(map[bool]string{false: "counting", true: "returning"}[withTags], func(t *testing.T) {
			ctx := context.Background()
			db := newDB(t)
			dir := t.TempDir()
			header := []string{"顧客番号", "氏名", "メール配信同意", "DM可否"}
			if withTags {
				header = append(header, "タグ")
			}
			day := 0
			clock := func() time.Time { return time.Date(2026, 4, 1+day, 9, 0, 0, 0, time.UTC) }
			importRows := func(name string, rows [][]string) Result {
				t.Helper()
				if withTags {
					for i := range rows {
						rows[i] = append(rows[i], "年金")
					}
				}
				day++
				path := writeFixture(t, dir, fixture{name, "utf-8", ',', false}, header, rows, "")
				res, err := Import(ctx, db, path, Options{Clock: clock, FileName: name + ".csv"})
				if err != nil {
					t.Fatal(err)
				}
				return res
			}
			type consent struct {
				email  any
				source string
				at     int64
			}
			get := func(no string) consent {
				t.Helper()
				var c consent
				if err := db.Reader().QueryRow(`SELECT consent_email, consent_email_source, consent_email_at FROM customers WHERE customer_no = ?`, no).
					Scan(&c.email, &c.source, &c.at); err != nil {
					t.Fatal(err)
				}
				return c
			}
			at := func(d int) int64 { return time.Date(2026, 4, 1+d, 9, 0, 0, 0, time.UTC).UnixMilli() }

			res := importRows("a", [][]string{{"1", "Ann", "1", "可"}, {"2", "Bob", "0", ""}, {"3", "Cid", "", "否"}})
			if res.New != 3 || res.Updated != 0 || res.Unchanged != 0 {
				t.Fatalf("first import: %+v", res)
			}
			if c := get("1"); c != (consent{int64(1), "import:a.csv", at(1)}) {
				t.Errorf("1 after a: %+v", c)
			}
			if c := get("2"); c != (consent{int64(0), "import:a.csv", at(1)}) {
				t.Errorf("2 after a: %+v", c)
			}
			if c := get("3"); c != (consent{nil, "", 0}) {
				t.Errorf("3 after a (no value): %+v", c)
			}

			// Ann's name changes but not her decision; Bob's decision
			// changes; Cid's row is the same; Dee is new.
			res = importRows("b", [][]string{{"1", "Anne", "1", "可"}, {"2", "Bob", "1", ""}, {"3", "Cid", "", "否"}, {"4", "Dee", "1", "可"}})
			if res.New != 1 || res.Updated != 2 || res.Unchanged != 1 {
				t.Errorf("second import: new %d updated %d unchanged %d", res.New, res.Updated, res.Unchanged)
			}
			if c := get("1"); c != (consent{int64(1), "import:a.csv", at(1)}) {
				t.Errorf("1 after b (same decision keeps its source): %+v", c)
			}
			if c := get("2"); c != (consent{int64(1), "import:b.csv", at(2)}) {
				t.Errorf("2 after b: %+v", c)
			}
			if c := get("4"); c != (consent{int64(1), "import:b.csv", at(2)}) {
				t.Errorf("4 after b: %+v", c)
			}

			// An empty value leaves a recorded consent alone.
			res = importRows("c", [][]string{{"2", "Bobby", "", ""}})
			if res.Updated != 1 {
				t.Errorf("third import: %+v", res)
			}
			if c := get("2"); c != (consent{int64(1), "import:b.csv", at(2)}) {
				t.Errorf("2 after c (no value): %+v", c)
			}
			var postal any
			if err := db.Reader().QueryRow(`SELECT consent_postal FROM customers WHERE customer_no = '3'`).Scan(&postal); err != nil || postal != int64(0) {
				t.Errorf("3 postal = %v (%v), want refused", postal, err)
			}
			if withTags {
				var n int
				if err := db.Reader().QueryRow(`SELECT count(*) FROM customer_tags`).Scan(&n); err != nil || n != 4 {
					t.Errorf("%d customers tagged (%v), want 4", n, err)
				}
			}
		})
	}
}
