package importer

import (
	"bytes"
	"database/sql"
	"encoding/csv"
	"os"
	"path/filepath"
	"testing"
	"time"
	"tsunagu/internal/store/storetest"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"

	"tsunagu/internal/store"
)

// newDB creates a real encrypted database in a temp dir.
func newDB(t testing.TB) *store.DB {
	t.Helper()
	db := storetest.New(t)
	return db
}

// fixture is a CSV file in some encoding, delimiter and line ending.
type fixture struct {
	name     string
	encoding string // utf-8, utf-8-bom, sjis, euc-jp
	comma    rune
	crlf     bool
}

// header and rows are the quirky core-banking export the tests import:
// half-width kana, full-width digits, era dates, CP932 specials (①, ㈱,
// the NEC-selected 纊 and the IBM 髙), an address with an embedded newline,
// doubled quotes and invalid rows.
var fixtureHeader = []string{"顧客番号", "氏名", "フリガナ", "生年月日", "性別", "電話番号", "携帯電話", "メールアドレス", "郵便番号", "住所", "店番", "メール配信同意"}

var fixtureRows = [][]string{
	{"0001", "山田　太郎", "ﾔﾏﾀﾞ ﾀﾛｳ", "令和5年4月1日", "男", "03-1234-5678", "０９０－１２３４－５６７８", "Taro@Example.COM", "〒100-0001", "東京都千代田区①丁目\n２番３号", "001", "1"},
	{"0002", `㈱つなぐ商事 "本店"`, "ﾂﾅｸﾞｼｮｳｼﾞ", "R5.4.1", "", "0312345679", "", "", "1000002", "大阪府大阪市", "002", "0"},
	{"0003", "髙橋 花子", "たかはし はなこ", "H31/4/30", "女", "", "08012345678", "hanako@example.jp", "100-0003", "纊町", "001", ""},
	{"０００４", "昭和 一郎", "ｼｮｳﾜ ｲﾁﾛｳ", "昭和50年1月2日", "M", "", "", "", "", "", "003", "可"},
	{"0005", "期間外 日付", "", "平成32年1月1日", "", "", "", "", "", "", "001", ""},
	{"0006", "電話 不正", "", "", "", "12345", "", "", "", "", "001", ""},
	{"0007", "メール 不正", "", "", "", "", "", "foo@", "", "", "001", ""},
	{"", "番号 なし", "", "", "", "", "", "", "", "", "001", ""},
	{"0001", "重複 行", "", "", "", "", "", "", "", "", "001", ""},
}

// brokenRow has too few columns, as left by a cut-off export line.
const brokenRow = "0009,途中で切れた行,ｷﾚﾀ"

func writeFixture(t testing.TB, dir string, fx fixture, header []string, rows [][]string, extra string) string {
	t.Helper()
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Comma = fx.comma
	w.UseCRLF = fx.crlf
	w.Write(header)
	w.WriteAll(rows)
	if extra != "" {
		buf.WriteString(extra)
		if fx.crlf {
			buf.WriteString("\r\n")
		} else {
			buf.WriteString("\n")
		}
	}
	data := buf.Bytes()
	var err error
	switch fx.encoding {
	case "utf-8":
	case "utf-8-bom":
		data = append([]byte{0xEF, 0xBB, 0xBF}, data...)
	case "sjis":
		data, _, err = transform.Bytes(japanese.ShiftJIS.NewEncoder(), data)
	case "euc-jp":
		data, _, err = transform.Bytes(japanese.EUCJP.NewEncoder(), data)
	}
	if err != nil {
		t.Fatalf("encode fixture %s: %v", fx.name, err)
	}
	path := filepath.Join(dir, fx.name+".csv")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func fixedClock() func() time.Time {
	t := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	return func() time.Time { return t }
}

// snapshot returns every customer-table row as text, to compare states.
func snapshot(t testing.TB, db *store.DB) string {
	t.Helper()
	var buf bytes.Buffer
	for _, q := range []string{
		`SELECT customer_no, name, name_kana, birth_date, gender, postal_code, address, branch, status, phone, mobile, email, row_hash FROM customers ORDER BY customer_no`,
		`SELECT customer_id, kind, value FROM contact_points ORDER BY customer_id, kind, value`,
		`SELECT customer_id, channel, granted FROM consents ORDER BY customer_id, channel`,
		`SELECT id, file_name, rows_new FROM imports ORDER BY id`,
	} {
		rows, err := db.Reader().Query(q)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		vals := make([]sql.RawBytes, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				buf.Write(v)
				buf.WriteByte('|')
			}
			buf.WriteByte('\n')
		}
		rows.Close()
	}
	return buf.String()
}
