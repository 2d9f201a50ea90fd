package export_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"tsunagu/internal/store/storetest"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"

	"tsunagu/internal/audit"
	"tsunagu/internal/customer"
	"tsunagu/internal/export"
	"tsunagu/internal/importer"
	"tsunagu/internal/store"
)

func newDB(t *testing.T) *store.DB {
	t.Helper()
	db := storetest.New(t)
	return db
}

const source = "顧客番号,氏名,フリガナ,生年月日,性別,電話番号,携帯電話,メールアドレス,郵便番号,住所,店番,メール配信同意\n" +
	"0001,山田 太郎,ﾔﾏﾀﾞ ﾀﾛｳ,R5.4.1,男,03-1234-5678,090-1234-5678,taro@example.com,1000001,\"東京都\n千代田区\",001,1\n" +
	"0002,=HYPERLINK(\"http://x\"),,,,,,,,-1+2,002,0\n" +
	"0003,𠮷田 一,ﾖｼﾀﾞ,,,,,,,@SUM(A1),003,\n"

func TestExportRoundTripAndInjection(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := filepath.Join(dir, "src.csv")
	os.WriteFile(src, []byte(source), 0o600)
	db := newDB(t)
	if res, err := importer.Import(ctx, db, src, importer.Options{}); err != nil || res.New != 3 {
		t.Fatalf("import: %+v %v", res, err)
	}
	id, _ := customer.New(db, nil).IDByNumber(ctx, "0001")
	customer.New(db, nil).AddTag(ctx, "staff:test", id, "年金受給")
	customer.New(db, nil).AddTag(ctx, "staff:test", id, "VIP")

	out := filepath.Join(dir, "out.csv")
	res, err := export.ToFile(ctx, db, out, export.UTF8BOM, "staff:test")
	if err != nil || res.Rows != 3 {
		t.Fatalf("export: %+v %v", res, err)
	}
	data, _ := os.ReadFile(out)
	if !bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}) {
		t.Error("no BOM")
	}
	text := string(data)
	for _, want := range []string{
		"0001,山田 太郎,ヤマダ タロウ,2023-04-01,男性,100-0001,東京都 千代田区,001,,有効,0312345678,09012345678,taro@example.com,0,,1,,,VIP;年金受給\r\n",
		`0002,"'=HYPERLINK(""http://x"")"`, ",'-1+2,", ",'@SUM(A1),",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("export lacks %q:\n%s", want, text)
		}
	}
	if st, _ := os.Stat(out); st.Mode().Perm() != 0o600 {
		t.Errorf("export file mode %v, want 0600", st.Mode().Perm())
	}

	// The export imports back: a second database exports the same bytes.
	db2 := newDB(t)
	if res, err := importer.Import(ctx, db2, out, importer.Options{}); err != nil || res.New != 3 || res.Rejected != 0 {
		t.Fatalf("re-import: %+v %v", res, err)
	}
	var again bytes.Buffer
	if _, err := export.Customers(ctx, db2, &again, export.UTF8BOM); err != nil {
		t.Fatal(err)
	}
	// Everything is identical, tags included (separated by ";", which the
	// import splits on); a neutralized value comes back without its
	// apostrophe (TestExportImportIdentity) and is neutralized the same
	// way again.
	if want := text; again.String() != want {
		t.Errorf("round trip differs:\n%s\nvs\n%s", again.String(), want)
	}
}

func TestExportShiftJIS(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := filepath.Join(dir, "src.csv")
	os.WriteFile(src, []byte(source), 0o600)
	db := newDB(t)
	if _, err := importer.Import(ctx, db, src, importer.Options{}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	res, err := export.Customers(ctx, db, &buf, export.SJIS)
	if err != nil {
		t.Fatal(err)
	}
	if res.Replaced != 1 {
		t.Errorf("replaced %d, want 1 (𠮷 is not in CP932)", res.Replaced)
	}
	text, _, err := transform.String(japanese.ShiftJIS.NewDecoder(), buf.String())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(text, "顧客番号,氏名,") || !strings.Contains(text, "0003,〓田 一,ヨシダ,") || !strings.Contains(text, "\"東京都 千代田区\"") && !strings.Contains(text, ",東京都 千代田区,") {
		t.Errorf("sjis export:\n%s", text)
	}
	if _, err := export.Customers(ctx, db, &buf, "latin1"); err == nil {
		t.Error("unknown encoding accepted")
	}
}

func TestNeutralize(t *testing.T) {
	for in, want := range map[string]string{"": "", "abc": "abc", "=1": "'=1", "+1": "'+1", "-1": "'-1", "@a": "'@a", "\tx": "'\tx", "\rx": "'\rx", "a=b": "a=b",
		"'=1": "''=1", "''+1": "'''+1", "'a": "'a", "'": "'", "''": "''"} {
		if got := export.Neutralize(in); got != want {
			t.Errorf("Neutralize(%q) = %q, want %q", in, got, want)
		}
		if got := export.Unneutralize(want); got != in {
			t.Errorf("Unneutralize(%q) = %q, want %q", want, got, in)
		}
	}
	// Another tool's guard is taken off too; an apostrophe before anything
	// else is data.
	for in, want := range map[string]string{"'=SUM(A1)": "=SUM(A1)", "'\nx": "\nx", "'abc": "'abc", "it's": "it's", "'1": "'1"} {
		if got := export.Unneutralize(in); got != want {
			t.Errorf("Unneutralize(%q) = %q, want %q", in, got, want)
		}
	}
}

// identityColumns are every customers column an export carries.
const identityColumns = `SELECT customer_no, name, name_kana, birth_date, gender, postal_code, address, branch, staff_in_charge, status,
	phone, mobile, email, coalesce(consent_line, -1), coalesce(consent_email, -1), coalesce(consent_sms, -1), coalesce(consent_postal, -1),
	coalesce((SELECT group_concat(name, ';') FROM (SELECT t.name FROM customer_tags ct JOIN tags t ON t.id = ct.tag_id WHERE ct.customer_id = c.id ORDER BY t.name)), '')
	FROM customers c ORDER BY customer_no`

func dump(t *testing.T, db *store.DB) string {
	t.Helper()
	rows, err := db.Reader().Query(identityColumns)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		vals := make([]any, 18)
		ptrs := make([]any, 18)
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%#v", vals))
	}
	return strings.Join(out, "\n")
}

// TestExportImportIdentity (issue 22 item 6): exporting and importing again
// is the identity for every field, including every value the export
// neutralizes against formula injection, and no row becomes a second
// customer. Values never start with a tab or CR (normalization trims
// them), so those forms are covered by TestNeutralize.
func TestExportImportIdentity(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	// ''x in the file is 'x in the data (the import takes one apostrophe
	// off a guarded value).
	src := "顧客番号,氏名,フリガナ,生年月日,性別,郵便番号,住所,店番,担当者,電話番号,携帯電話,メールアドレス,LINE同意,メール配信同意,SMS同意,DM可否,タグ\n" +
		"-001,=1+2,ｲｺｰﾙ,1980-01-02,男,100-0001,-1+2,=B1,@担当,03-1234-5678,,-x@example.jp,1,0,,1,=tag;+タグ;-x;@y\n" +
		"=1+2,+81 太郎,,,女,,@SUM(A1),+001,-,,090-1234-5678,,,,,,\n" +
		"+81312345678,@x,,,,,=HYPERLINK(\"http://x\"),-,'=already,,,,0,1,1,0,''=quoted\n" +
		"@x,-,,,,,+,@,=,,,,,,,,\n" +
		"''-9,'plain,,,,,''@kept,'',''',,,,,,,,\n" +
		"0001,\"東京 \"\"本店\"\"\",,,,,\"大阪府,北区\",001,,,,,,,,,\n"
	path := filepath.Join(dir, "src.csv")
	os.WriteFile(path, []byte(src), 0o600)
	db := newDB(t)
	if res, err := importer.Import(ctx, db, path, importer.Options{}); err != nil || res.New != 6 || res.Rejected != 0 {
		t.Fatalf("import: %+v %v", res, err)
	}
	want := dump(t, db)
	for _, v := range []string{`"-001", "=1+2"`, `"=1+2", "+81 太郎"`, `"'-9", "'plain"`, `"'@kept", "''", "'''"`, `"=already"`, `"'=quoted"`, `"+タグ;-x;=tag;@y"`} {
		if !strings.Contains(want, v) {
			t.Fatalf("source not stored as meant (%s):\n%s", v, want)
		}
	}

	for _, enc := range []string{export.UTF8BOM, export.SJIS} {
		out := filepath.Join(dir, "out-"+enc+".csv")
		if _, err := export.ToFile(ctx, db, out, enc, "staff:test"); err != nil {
			t.Fatal(err)
		}
		first, _ := os.ReadFile(out)
		// Into a new database: the same customers, field by field.
		db2 := newDB(t)
		if res, err := importer.Import(ctx, db2, out, importer.Options{}); err != nil || res.New != 6 || res.Rejected != 0 {
			t.Fatalf("%s re-import: %+v %v", enc, res, err)
		}
		if got := dump(t, db2); got != want {
			t.Errorf("%s round trip differs:\n%s\nwant\n%s", enc, got, want)
		}
		// Into the same database: nothing changes, nobody is new.
		if res, err := importer.Import(ctx, db, out, importer.Options{}); err != nil || res.New != 0 || res.Updated != 0 || res.Unchanged != 6 {
			t.Errorf("%s re-import into the source: %+v %v", enc, res, err)
		}
		// And the next export is the same file.
		again := filepath.Join(dir, "again-"+enc+".csv")
		if _, err := export.ToFile(ctx, db2, again, enc, "staff:test"); err != nil {
			t.Fatal(err)
		}
		if second, _ := os.ReadFile(again); !bytes.Equal(first, second) {
			t.Errorf("%s: second export differs", enc)
		}
	}
	if got := dump(t, db); got != want {
		t.Errorf("the source changed by importing its own export")
	}
}

// TestExportAudited: the export is on the audit trail with its actor, row
// count and encoding (and no customer data), written before the file; if the
// entry cannot be written, no file is.
func TestExportAudited(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := filepath.Join(dir, "src.csv")
	os.WriteFile(src, []byte(source), 0o600)
	db := newDB(t)
	if _, err := importer.Import(ctx, db, src, importer.Options{}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.csv")
	if _, err := export.ToFile(ctx, db, out, export.SJIS, "staff:tanaka"); err != nil {
		t.Fatal(err)
	}
	got, err := audit.List(ctx, db.Reader(), audit.Filter{Action: export.ActionExport})
	if err != nil || len(got) != 1 {
		t.Fatalf("export entries: %+v %v", got, err)
	}
	e := got[0]
	if e.Actor != "staff:tanaka" || e.Detail["rows"] != "3" || e.Detail["encoding"] != export.SJIS || e.Detail["file"] != "out.csv" {
		t.Errorf("entry %+v", e)
	}
	for _, v := range e.Detail {
		if strings.Contains(v, "山田") || strings.Contains(v, "taro@") {
			t.Errorf("entry holds customer data: %+v", e)
		}
	}
	if rep, err := audit.Verify(ctx, db.Reader()); err != nil || !rep.OK {
		t.Fatalf("chain: %+v %v", rep, err)
	}

	// Fail closed: with the trail unwritable, no file is written.
	if _, err := db.Writer().Exec(`CREATE TRIGGER block_audit BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'blocked'); END`); err != nil {
		t.Fatal(err)
	}
	blocked := filepath.Join(dir, "blocked.csv")
	if _, err := export.ToFile(ctx, db, blocked, export.UTF8BOM, "staff:tanaka"); err == nil {
		t.Fatal("export succeeded without its audit entry")
	}
	if _, err := os.Stat(blocked); !os.IsNotExist(err) {
		t.Errorf("file written without an audit entry: %v", err)
	}
	if _, err := export.ToFile(ctx, db, filepath.Join(dir, "x.csv"), "latin1", "staff:tanaka"); err == nil {
		t.Error("unknown encoding accepted")
	}
}
