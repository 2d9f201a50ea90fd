package export_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
	key := make([]byte, store.KeySize)
	rand.Read(key)
	db, err := store.Create(context.Background(), filepath.Join(t.TempDir(), "t.db"), key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
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
	// import splits on); a neutralized value comes back with its
	// apostrophe, and is not neutralized twice.
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
	for in, want := range map[string]string{"": "", "abc": "abc", "=1": "'=1", "+1": "'+1", "-1": "'-1", "@a": "'@a", "\tx": "'\tx", "\rx": "'\rx", "a=b": "a=b"} {
		if got := export.Neutralize(in); got != want {
			t.Errorf("Neutralize(%q) = %q, want %q", in, got, want)
		}
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
