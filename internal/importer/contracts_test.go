package importer

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"tsunagu/internal/customer"
	"tsunagu/internal/store"
)

// contractHeader is a contracts export as core-banking systems write it.
var contractHeader = []string{"顧客番号", "商品種別", "商品コード", "口座番号", "開設日", "満期日", "状態", "預金残高区分", "備考"}

// contractRows: half-width kana types, full-width account numbers, era and
// Western dates, a note with an embedded newline and doubled quotes, and
// broken rows.
var contractRows = [][]string{
	{"0001", "ﾌﾂｳﾖｷﾝ", "101", "１２３４５６７", "H10.4.1", "", "有効", "100-300万", ""},
	{"0001", "定期預金", "201", "7654321", "令和5年4月1日", "R10.4.1", "契約中", "300-500万", "自動継続\n\"元金\"のみ"},
	{"0002", "住宅ローン", "501", "0000001", "2015/06/30", "2050/06/30", "", "", ""},
	{"0002", "カードローン", "601", "0000002", "昭和60年1月1日", "", "解約", "", ""},
	{"9999", "普通預金", "101", "1111111", "", "", "", "", "未登録の顧客"},
	{"0001", "普通預金", "101", "1234567", "", "", "", "", "重複（全角の口座番号と同じ）"},
	{"0002", "投資信託", "701", "0000003", "平成32年1月1日", "", "", "", "期間外の和暦"},
	{"0002", "投資信託", "702", "0000004", "", "", "保留", "", "不明な状態"},
	{"0002", "", "703", "0000005", "", "", "", "", "種別なし"},
	{"0002", "外貨預金", "", "", "", "", "", "", "キーなし"},
}

func TestImportContracts(t *testing.T) {
	for _, fx := range []fixture{
		{"contracts-utf8bom-crlf", "utf-8-bom", ',', true},
		{"contracts-sjis-crlf", "sjis", ',', true},
		{"contracts-sjis-tab-lf", "sjis", '\t', false},
		{"contracts-eucjp-lf", "euc-jp", ',', false},
	} {
		t.Run(fx.name, func(t *testing.T) {
			ctx := context.Background()
			db := newDB(t)
			dir := t.TempDir()
			custs := writeFixture(t, dir, fixture{"customers", "utf-8", ',', false}, []string{"顧客番号", "氏名"},
				[][]string{{"0001", "山田 太郎"}, {"0002", "佐藤 花子"}}, "")
			if _, err := Import(ctx, db, custs, Options{}); err != nil {
				t.Fatal(err)
			}
			svc := customer.New(db, fixedClock())
			manual, err := svc.AddProduct(ctx, "staff:tanaka", cardByNo(t, svc, "0001").ID, customer.Product{Type: "普通預金", ProductCode: "101", AccountNo: "1234567"})
			if err != nil {
				t.Fatal(err)
			}

			path := writeFixture(t, dir, fx, contractHeader, contractRows, "")
			pv, err := PreviewFile(path, Options{Kind: KindContracts}, 2)
			if err != nil || pv.MappingError != "" {
				t.Fatalf("preview: %v %s", err, pv.MappingError)
			}
			wantMap := Mapping{"顧客番号": FieldCustomerNo, "商品種別": FieldProductType, "商品コード": FieldProductCode, "口座番号": FieldAccountNo,
				"開設日": FieldOpenedOn, "満期日": FieldMaturesOn, "状態": FieldProductStatus, "預金残高区分": FieldAmountBand}
			if fmt.Sprint(pv.Mapping) != fmt.Sprint(wantMap) {
				t.Errorf("auto mapping = %v", pv.Mapping)
			}
			if got := pv.Rows[0].Values; got[FieldProductType] != "フツウヨキン" || got[FieldAccountNo] != "1234567" || got[FieldOpenedOn] != "1998-04-01" {
				t.Errorf("preview row 1 = %v", got)
			}

			before := snapshotProducts(t, db)
			dry, err := Import(ctx, db, path, Options{Kind: KindContracts, DryRun: true})
			if err != nil {
				t.Fatal(err)
			}
			if snapshotProducts(t, db) != before {
				t.Error("a dry run changed the products")
			}
			res, err := Import(ctx, db, path, Options{Kind: KindContracts, Staff: "tester", Clock: fixedClock()})
			if err != nil {
				t.Fatal(err)
			}
			if dry.New != res.New || dry.Rejected != res.Rejected {
				t.Errorf("dry run %+v differs from the import %+v", dry, res)
			}
			if res.Kind != KindContracts || res.Rows != 10 || res.New != 4 || res.Rejected != 6 {
				t.Errorf("counts: %+v", res)
			}
			// The note of row 2 spans two lines.
			want := []struct {
				line   int
				reason string
			}{{7, ReasonUnknownCustomer}, {8, ReasonDuplicate}, {9, ReasonDate}, {10, ReasonStatus}, {11, ReasonRequired}, {12, ReasonRequired}}
			if len(res.Issues) != len(want) {
				t.Fatalf("issues %+v", res.Issues)
			}
			for i, w := range want {
				if is := res.Issues[i]; is.Line != w.line || is.Reason != w.reason {
					t.Errorf("issue %d = %+v, want line %d %s", i, is, w.line, w.reason)
				}
			}
			c1 := cardByNo(t, svc, "0001")
			if got := products(c1); got != "manual:普通預金/101/1234567//active|import:フツウヨキン/101/1234567/1998-04-01/active|import:定期預金/201/7654321/2023-04-01/active" {
				t.Errorf("0001 products = %s", got)
			}
			if got := products(cardByNo(t, svc, "0002")); got != "import:住宅ローン/501/0000001/2015-06-30/active|import:カードローン/601/0000002/1985-01-01/closed" {
				t.Errorf("0002 products = %s", got)
			}

			// A full export next night: 201 changed its band, 501 is
			// unchanged, 101 and 601 are gone (closed), 801 is new.
			next := writeFixture(t, dir, fixture{fx.name + "-2", fx.encoding, fx.comma, fx.crlf}, contractHeader, [][]string{
				{"0001", "定期預金", "201", "7654321", "令和5年4月1日", "R10.4.1", "契約中", "500-1000万", ""},
				{"0002", "住宅ローン", "501", "0000001", "2015/06/30", "2050/06/30", "", "", ""},
				{"0002", "外貨預金", "801", "0000009", "2026/3/31", "", "", "", ""},
			}, "")
			res, err = Import(ctx, db, next, Options{Kind: KindContracts, Missing: MissingInactivate, Clock: fixedClock()})
			if err != nil {
				t.Fatal(err)
			}
			if res.New != 1 || res.Updated != 1 || res.Unchanged != 1 || res.Missing != 1 || res.Inactivated != 1 {
				t.Errorf("second import: %+v (601 was already closed: only 101 is missing)", res)
			}
			c1 = cardByNo(t, svc, "0001")
			if got := products(c1); !strings.Contains(got, "import:フツウヨキン/101/1234567/1998-04-01/closed") || !strings.Contains(got, "manual:普通預金/101/1234567//active") {
				t.Errorf("after the full export, 0001 products = %s (the missing import is closed, the manual one kept)", got)
			}
			var n int
			db.Reader().QueryRow(`SELECT count(*) FROM products WHERE id = ? AND status = 'active'`, manual).Scan(&n)
			if n != 1 {
				t.Error("the manual product was touched")
			}
			hist, err := History(ctx, db, 10)
			if err != nil || len(hist) != 3 || hist[0].Kind != KindContracts || hist[2].Kind != KindCustomers {
				t.Errorf("history %+v %v", hist, err)
			}
		})
	}
}

func TestContractMappingErrors(t *testing.T) {
	db := newDB(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		name   string
		header []string
	}{
		{"no customer number", []string{"商品種別", "口座番号"}},
		{"no type", []string{"顧客番号", "口座番号"}},
		{"no key", []string{"顧客番号", "商品種別"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFixture(t, dir, fixture{"m", "utf-8", ',', false}, tc.header, [][]string{{"1", "2"}}, "")
			if _, err := Import(context.Background(), db, path, Options{Kind: KindContracts}); !errors.Is(err, ErrMapping) {
				t.Errorf("err %v, want ErrMapping", err)
			}
		})
	}
	if _, err := Import(context.Background(), db, writeFixture(t, dir, fixture{"k", "utf-8", ',', false}, []string{"a"}, nil, ""), Options{Kind: "loans"}); !errors.Is(err, ErrMapping) {
		t.Errorf("unknown kind: %v", err)
	}
}

func TestFieldIndexFits(t *testing.T) {
	if len(allFields) != maxFields {
		t.Fatalf("maxFields = %d, want len(allFields) = %d", maxFields, len(allFields))
	}
}

func products(c customer.Card) string {
	var parts []string
	for _, p := range c.Products {
		parts = append(parts, p.Source+":"+strings.Join([]string{p.Type, p.ProductCode, p.AccountNo, p.OpenedOn, p.Status}, "/"))
	}
	return strings.Join(parts, "|")
}

// snapshotProducts is every products and imports row as text.
func snapshotProducts(t *testing.T, db *store.DB) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT id || '|' || customer_id || '|' || type || '|' || product_code || '|' || account_no || '|' || status || '|' || source FROM products ORDER BY id`,
		`SELECT id || '|' || kind FROM imports ORDER BY id`,
	} {
		rows, err := db.Reader().Query(q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var s string
			rows.Scan(&s)
			b.WriteString(s + "\n")
		}
		rows.Close()
	}
	return b.String()
}
