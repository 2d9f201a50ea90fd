package importer

import (
	"context"
	"hash/fnv"
	"testing"

	"tsunagu/internal/customer"
)

// The row hash is stored with every customer (row_hash): it must stay the
// FNV-1a of "field\x00value\x00" over the mapped fields in the kind's field
// order (tags as a sorted set), or an upgrade would make every customer of
// the next import count as changed.
func TestRowHashIsStable(t *testing.T) {
	headers := []string{"顧客番号", "氏名", "メールアドレス", "タグ", "メモ"}
	cols, err := AutoMap(headers).columns(headers)
	if err != nil {
		t.Fatal(err)
	}
	cols[3] = FieldTags
	norm := newNormalizer(cols, headers)
	r, issue := norm.row([]string{"C-001", "山田　太郎", "Taro@Example.COM", "b,a", "ignored"})
	if issue != nil {
		t.Fatalf("row rejected: %+v", issue)
	}
	want := fnv.New64a()
	n := 0
	for _, f := range Fields { // the customer kind's order
		if !norm.fields[f] {
			continue
		}
		v := r.values[fieldIndex[f]]
		if f == FieldTags {
			v = tagSet(v)
		}
		want.Write([]byte(f + "\x00" + v + "\x00"))
		n++
	}
	if n != 4 {
		t.Fatalf("%d fields mapped, want 4 (number, name, email, tags): %v", n, cols)
	}
	if got := r.hash; got != want.Sum64()>>1 {
		t.Fatalf("row hash %x, want %x", got, want.Sum64()>>1)
	}
	for _, s := range []string{"", "C-001", "顧客\x00番号"} {
		h := fnv.New64a()
		h.Write([]byte(s))
		if hashString(s) != h.Sum64() {
			t.Errorf("hashString(%q) = %x, want %x", s, hashString(s), h.Sum64())
		}
	}
}

// A database whose customers are all inactive has nobody to miss: the
// import skips reading the table for them, and its counts are those of
// reading it.
func TestMissingWithOnlyInactiveCustomers(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	dir := t.TempDir()
	header := []string{"customer_no", "name"}
	fx := fixture{"v1", "utf-8", ',', false}
	v1 := writeFixture(t, dir, fx, header, [][]string{{"A1", "Ann"}}, "")
	if res, err := Import(ctx, db, v1, Options{}); err != nil || res.New != 1 || res.Missing != 0 {
		t.Fatalf("first import: %+v %v", res, err)
	}
	fx.name = "v2"
	v2 := writeFixture(t, dir, fx, header, [][]string{{"A2", "Bob"}}, "")
	if res, err := Import(ctx, db, v2, Options{Missing: MissingInactivate}); err != nil || res.Missing != 1 || res.Inactivated != 1 {
		t.Fatalf("second import: %+v %v", res, err)
	}
	// Now A1 is inactive and A2 active; once A2 is inactive too, nobody is.
	fx.name = "v3"
	v3 := writeFixture(t, dir, fx, header, [][]string{{"A1", "Ann"}}, "")
	if res, err := Import(ctx, db, v3, Options{Missing: MissingInactivate}); err != nil || res.Updated != 1 || res.Missing != 1 || res.Inactivated != 1 {
		t.Fatalf("third import: %+v %v", res, err)
	}
	if _, err := db.Writer().Exec(`UPDATE customers SET status = 'inactive'`); err != nil {
		t.Fatal(err)
	}
	fx.name = "v4"
	v4 := writeFixture(t, dir, fx, header, [][]string{{"A3", "Cid"}}, "")
	res, err := Import(ctx, db, v4, Options{Missing: MissingInactivate})
	if err != nil || res.New != 1 || res.Missing != 0 || res.Inactivated != 0 {
		t.Fatalf("import with only inactive customers: %+v %v", res, err)
	}
	svc := customer.New(db, nil)
	for no, want := range map[string]string{"A1": "inactive", "A2": "inactive", "A3": "active"} {
		if c := cardByNo(t, svc, no); c.Status != want {
			t.Errorf("%s is %s, want %s", no, c.Status, want)
		}
	}
}
