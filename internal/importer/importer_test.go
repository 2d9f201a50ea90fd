package importer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"tsunagu/internal/customer"
)

func TestImportFixtures(t *testing.T) {
	fixtures := []fixture{
		{"utf8-lf-comma", "utf-8", ',', false},
		{"utf8bom-crlf-comma", "utf-8-bom", ',', true},
		{"sjis-crlf-comma", "sjis", ',', true},
		{"sjis-lf-tab", "sjis", '\t', false},
		{"eucjp-lf-comma", "euc-jp", ',', false},
		{"eucjp-crlf-tab", "euc-jp", '\t', true},
	}
	for _, fx := range fixtures {
		t.Run(fx.name, func(t *testing.T) {
			ctx := context.Background()
			db := newDB(t)
			extra := brokenRow
			if fx.comma == '\t' {
				extra = strings.ReplaceAll(brokenRow, ",", "\t")
			}
			path := writeFixture(t, t.TempDir(), fx, fixtureHeader, fixtureRows, extra)
			wantEnc := map[string]string{"utf-8": EncodingUTF8, "utf-8-bom": EncodingUTF8, "sjis": EncodingSJIS, "euc-jp": EncodingEUCJP}[fx.encoding]

			res, err := Import(ctx, db, path, Options{Staff: "tester", Clock: fixedClock()})
			if err != nil {
				t.Fatal(err)
			}
			if res.Encoding != wantEnc || res.Delimiter != string(fx.comma) {
				t.Errorf("detected %s %q, want %s %q", res.Encoding, res.Delimiter, wantEnc, string(fx.comma))
			}
			if res.Rows != 10 || res.New != 4 || res.Rejected != 6 || res.Updated != 0 {
				t.Errorf("counts: rows %d new %d updated %d rejected %d; want 10 4 0 6", res.Rows, res.New, res.Updated, res.Rejected)
			}
			wantIssues := []struct {
				line   int
				column string
				reason string
			}{
				// 0001's address spans two lines, so 0002 starts on line 4.
				{7, "生年月日", ReasonDate},
				{8, "電話番号", ReasonPhone},
				{9, "メールアドレス", ReasonEmail},
				{10, "顧客番号", ReasonRequired},
				{11, "顧客番号", ReasonDuplicate},
				{12, "", ReasonColumns},
			}
			if len(res.Issues) != len(wantIssues) {
				t.Fatalf("issues: %+v", res.Issues)
			}
			for i, w := range wantIssues {
				got := res.Issues[i]
				if got.Line != w.line || got.Column != w.column || got.Reason != w.reason {
					t.Errorf("issue %d = %+v, want line %d column %q reason %s", i, got, w.line, w.column, w.reason)
				}
			}
			if v := res.Issues[1].Value; v != "1****" {
				t.Errorf("masked phone = %q, want the shape only", v)
			}

			svc := customer.New(db, nil)
			card := cardByNo(t, svc, "0001")
			if card.Name != "山田 太郎" || card.NameKana != "ヤマダ タロウ" || card.BirthDate != "2023-04-01" || card.Gender != "male" ||
				card.PostalCode != "100-0001" || card.Address != "東京都千代田区①丁目 2番3号" || card.Branch != "001" {
				t.Errorf("0001 = %+v", card.Customer)
			}
			if got := contacts(card); got != "email:taro@example.com mobile:09012345678 phone:0312345678" {
				t.Errorf("0001 contact points = %s", got)
			}
			if ok, _ := svc.Consented(ctx, card.ID, customer.ChannelEmail); !ok {
				t.Error("0001 email consent not recorded")
			}
			c2 := cardByNo(t, svc, "0002")
			if c2.Name != `㈱つなぐ商事 "本店"` || c2.NameKana != "ツナグショウジ" || c2.BirthDate != "2023-04-01" || c2.PostalCode != "100-0002" {
				t.Errorf("0002 = %+v", c2.Customer)
			}
			if ok, _ := svc.Consented(ctx, c2.ID, customer.ChannelEmail); ok {
				t.Error("0002 refused email but is consented")
			}
			c3 := cardByNo(t, svc, "0003")
			if c3.Name != "髙橋 花子" || c3.NameKana != "タカハシ ハナコ" || c3.BirthDate != "2019-04-30" || c3.Address != "纊町" {
				t.Errorf("0003 = %+v", c3.Customer)
			}
			if ok, _ := svc.Consented(ctx, c3.ID, customer.ChannelEmail); ok {
				t.Error("0003 has no consent column value but is consented")
			}
			c4 := cardByNo(t, svc, "0004") // the number was full-width
			if c4.BirthDate != "1975-01-02" || c4.NameKana != "ショウワ イチロウ" {
				t.Errorf("0004 = %+v", c4.Customer)
			}

			// The same file again changes nothing.
			again, err := Import(ctx, db, path, Options{Clock: fixedClock()})
			if err != nil {
				t.Fatal(err)
			}
			if again.New != 0 || again.Updated != 0 || again.Unchanged != 4 {
				t.Errorf("second import: new %d updated %d unchanged %d", again.New, again.Updated, again.Unchanged)
			}
			if again.SHA256 != res.SHA256 || len(res.SHA256) != 64 {
				t.Errorf("sha256 %q vs %q", again.SHA256, res.SHA256)
			}
		})
	}
}

func TestDecodeCP932Specials(t *testing.T) {
	// ① and ㈱ (NEC row 13), 纊 (NEC-selected IBM extension, 0xED40),
	// 髙 (IBM extension, 0xFBFC; the fixtures have the NEC-selected 0xEEE0),
	// half-width ｱ.
	raw := []byte{0x87, 0x40, 0x87, 0x8A, 0xED, 0x40, 0xFB, 0xFC, 0xB1}
	r, err := decoder(bytes.NewReader(raw), EncodingSJIS)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(r)
	if string(got) != "①㈱纊髙ｱ" {
		t.Errorf("decoded %q", got)
	}
	if enc := DetectEncoding(raw); enc != EncodingSJIS {
		t.Errorf("detected %s", enc)
	}
}

func TestUpdateMissingAndDryRun(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	dir := t.TempDir()
	fx := fixture{"v1", "utf-8", ',', false}
	header := []string{"customer_no", "name", "email"}
	v1 := writeFixture(t, dir, fx, header, [][]string{{"A1", "Ann", "ann@example.com"}, {"A2", "Bob", ""}, {"A3", "Cid", ""}}, "")
	if _, err := Import(ctx, db, v1, Options{}); err != nil {
		t.Fatal(err)
	}
	fx.name = "v2"
	v2 := writeFixture(t, dir, fx, header, [][]string{{"A1", "Ann", "ann@example.org"}, {"A2", "Bob", ""}, {"A4", "Dee", ""}}, "")

	before := snapshot(t, db)
	dry, err := Import(ctx, db, v2, Options{DryRun: true, Missing: MissingInactivate})
	if err != nil {
		t.Fatal(err)
	}
	if dry.New != 1 || dry.Updated != 1 || dry.Unchanged != 1 || dry.Missing != 1 || dry.Inactivated != 1 || dry.ImportID != 0 {
		t.Errorf("dry run: %+v", dry)
	}
	if after := snapshot(t, db); after != before {
		t.Errorf("dry run changed the DB:\n%s\nvs\n%s", before, after)
	}

	keep, err := Import(ctx, db, v2, Options{Missing: MissingKeep})
	if err != nil {
		t.Fatal(err)
	}
	if keep.Missing != 1 || keep.Inactivated != 0 || keep.Updated != 1 || keep.ImportID == 0 {
		t.Errorf("keep: %+v", keep)
	}
	svc := customer.New(db, nil)
	if c := cardByNo(t, svc, "A3"); c.Status != "active" {
		t.Errorf("A3 status %s with keep", c.Status)
	}
	if c := cardByNo(t, svc, "A1"); contacts(c) != "email:ann@example.org" {
		t.Errorf("A1 contact points %s: the import's old email must be replaced", contacts(c))
	}
	full, err := Import(ctx, db, v2, Options{Missing: MissingInactivate})
	if err != nil {
		t.Fatal(err)
	}
	if full.Inactivated != 1 || full.Unchanged != 3 {
		t.Errorf("inactivate: %+v", full)
	}
	if c := cardByNo(t, svc, "A3"); c.Status != "inactive" {
		t.Errorf("A3 status %s, want inactive (and never deleted)", c.Status)
	}
	// Back in a later file, the customer is active again.
	if res, err := Import(ctx, db, v1, Options{}); err != nil || res.Updated != 2 {
		t.Errorf("reactivate: %+v, %v", res, err)
	}
	if c := cardByNo(t, svc, "A3"); c.Status != "active" {
		t.Errorf("A3 status %s after it came back", c.Status)
	}

	// A file of only broken rows writes nothing, even with inactivate.
	fx.name = "bad"
	bad := writeFixture(t, dir, fx, header, [][]string{{"", "x", ""}}, "")
	before = snapshot(t, db)
	if _, err := Import(ctx, db, bad, Options{Missing: MissingInactivate}); !errors.Is(err, ErrNothingValid) {
		t.Errorf("all rows rejected: err %v", err)
	}
	if snapshot(t, db) != before {
		t.Error("a refused import changed the DB")
	}
	var n int
	db.Reader().QueryRow(`SELECT count(*) FROM imports`).Scan(&n)
	if n != 4 {
		t.Errorf("%d imports in the history, want 4 (dry runs and refused imports leave none)", n)
	}
}

func TestCancelLeavesDBUnchanged(t *testing.T) {
	db := newDB(t)
	dir := t.TempDir()
	var rows [][]string
	for i := range 5000 {
		rows = append(rows, []string{fmt.Sprintf("N%06d", i), "名前"})
	}
	path := writeFixture(t, dir, fixture{"big", "utf-8", ',', false}, []string{"顧客番号", "氏名"}, rows, "")
	before := snapshot(t, db)
	ctx, cancel := context.WithCancel(context.Background())
	res, err := Import(ctx, db, path, Options{Progress: func(p Progress) {
		if p.Rows >= 1024 {
			cancel()
		}
	}, Clock: tickingClock()})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, res %+v", err, res)
	}
	if snapshot(t, db) != before {
		t.Error("a cancelled import changed the DB")
	}
}

func TestMappingAndProfiles(t *testing.T) {
	m := AutoMap([]string{"顧客ＮＯ", "お名前", "ﾌﾘｶﾞﾅ", "Customer_No", "E-Mail", "住所1", "住所2", "備考"})
	want := Mapping{"顧客ＮＯ": FieldCustomerNo, "お名前": FieldName, "ﾌﾘｶﾞﾅ": FieldNameKana, "E-Mail": FieldEmail, "住所1": FieldAddress, "住所2": FieldAddress}
	if len(m) != len(want) {
		t.Errorf("AutoMap = %v", m)
	}
	for h, f := range want {
		if m[h] != f {
			t.Errorf("AutoMap[%s] = %q, want %q", h, m[h], f)
		}
	}
	if _, err := (Mapping{"a": FieldName}).columns([]string{"a"}); !errors.Is(err, ErrMapping) {
		t.Errorf("no customer number: %v", err)
	}
	if _, err := (Mapping{"a": FieldCustomerNo, "b": FieldName, "c": "salary"}).columns([]string{"a", "b", "c"}); !errors.Is(err, ErrMapping) {
		t.Errorf("unknown field: %v", err)
	}

	ctx := context.Background()
	db := newDB(t)
	p := Profile{Name: "勘定系", Encoding: "sjis", Mapping: Mapping{"CIF": FieldCustomerNo, "KANJI": FieldName}}
	if err := SaveProfile(ctx, db, p, fixedClock()()); err != nil {
		t.Fatal(err)
	}
	got, err := LoadProfile(ctx, db, "勘定系")
	if err != nil || got.Encoding != "sjis" || got.Mapping["CIF"] != FieldCustomerNo {
		t.Errorf("LoadProfile = %+v, %v", got, err)
	}
	if _, err := LoadProfile(ctx, db, "none"); !errors.Is(err, ErrNoProfile) {
		t.Errorf("missing profile: %v", err)
	}
	// The profile's mapping imports a file whose headers AutoMap cannot read.
	path := writeFixture(t, t.TempDir(), fixture{"cif", "sjis", ',', true}, []string{"CIF", "KANJI"}, [][]string{{"9", "相互 信子"}}, "")
	if _, err := Import(ctx, db, path, Options{}); !errors.Is(err, ErrMapping) {
		t.Errorf("auto mapping of unknown headers: %v", err)
	}
	res, err := Import(ctx, db, path, Options{Encoding: got.Encoding, Mapping: got.Mapping, Profile: got.Name})
	if err != nil || res.New != 1 {
		t.Errorf("import with profile: %+v, %v", res, err)
	}
}

func TestPreviewAndReport(t *testing.T) {
	path := writeFixture(t, t.TempDir(), fixture{"p", "sjis", ',', true}, fixtureHeader, fixtureRows, brokenRow)
	p, err := PreviewFile(path, Options{}, 5)
	if err != nil {
		t.Fatal(err)
	}
	if p.Encoding != EncodingSJIS || len(p.Headers) != 12 || len(p.Rows) != 5 || p.MappingError != "" {
		t.Fatalf("preview: %+v", p)
	}
	if p.Rows[0].Values[FieldNameKana] != "ヤマダ タロウ" || p.Rows[4].Issue == nil || p.Rows[4].Issue.Reason != ReasonDate {
		t.Errorf("preview rows: %+v", p.Rows)
	}
	var buf bytes.Buffer
	if err := WriteReport(&buf, []Issue{{Line: 3, Column: "電話番号", Value: Mask("=1+2"), Reason: ReasonPhone}, {Line: 5, EndLine: 9, Reason: ReasonColumns}}, "ja"); err != nil {
		t.Fatal(err)
	}
	want := "\ufeff行,顧客番号,列,値,理由コード,理由\r\n3,,電話番号,'=*+*,phone,電話番号として読めません（0から始まる10〜11桁）\r\n5-9,,,,columns,列の数が見出しと違います（引用符の崩れなど）\r\n"
	if buf.String() != want {
		t.Errorf("report:\n%q\nwant\n%q", buf.String(), want)
	}
}

func TestMask(t *testing.T) {
	for in, want := range map[string]string{
		"":              "",
		"a":             "*",
		"090-1234-5678": "0**-****-***8",
		"山田 太郎":         "山* **",
		"foo@":          "f**@",
	} {
		if got := Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
}

func cardByNo(t *testing.T, svc *customer.Service, no string) customer.Card {
	t.Helper()
	id, err := svc.IDByNumber(context.Background(), no)
	if err != nil {
		t.Fatalf("customer %s: %v", no, err)
	}
	c, err := svc.Card(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func contacts(c customer.Card) string {
	var parts []string
	for _, p := range c.ContactPoints {
		parts = append(parts, p.Kind+":"+p.Value)
	}
	return strings.Join(parts, " ")
}

// tickingClock advances a second per call, so every progress check fires.
func tickingClock() func() time.Time {
	t := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	return func() time.Time {
		t = t.Add(time.Second)
		return t
	}
}
