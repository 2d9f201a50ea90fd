package importer

import (
	"context"
	"errors"
	"strings"
	"testing"

	"tsunagu/internal/customer"
)

func TestImportTagsAndAttributes(t *testing.T) {
	ctx := context.Background()
	// The choice is defined with a WAVE DASH (〜); the file has the
	// FULLWIDTH TILDE (～) that CP932 decodes 0x8160 to: it must match.
	// 年収帯 and NISA口座 match labels, "children" the key; 退職日 is mapped
	// by hand below.
	header := []string{"顧客番号", "氏名", "タグ", "年収帯", "NISA口座", "children", "退職日"}
	rows := [][]string{
		{"T1", "山田 太郎", "年金受取;ＶＩＰ、年金受取", "300～500万", "○", "２", "R10.3.31"},
		{"T2", "佐藤 花子", "", "", "いいえ", "", ""},
		{"T3", "選択外", "", "1000万～", "", "", ""},
		{"T4", "真偽不明", "", "", "たぶん", "", ""},
		{"T5", "数値不正", "", "", "", "二人", ""},
		{"T6", "日付不正", "", "", "", "", "H31/5/1"},
	}
	for _, enc := range []string{"utf-8", "sjis"} {
		t.Run(enc, func(t *testing.T) {
			db := newDB(t)
			svc := customer.New(db, fixedClock())
			for _, d := range []customer.AttributeDef{
				{Key: "income", Label: "年収帯", Type: "choice", Choices: []string{"〜300万", "300〜500万"}},
				{Key: "nisa", Label: "NISA口座", Type: "boolean"},
				{Key: "children", Label: "子どもの数", Type: "number"},
				{Key: "retire", Label: "退職予定日", Type: "date"},
			} {
				if err := svc.DefineAttribute(ctx, "staff:admin", d); err != nil {
					t.Fatal(err)
				}
			}
			path := writeFixture(t, t.TempDir(), fixture{"attrs-" + enc, enc, ',', true}, header, rows, "")
			defs, _ := AttributeDefs(ctx, db)
			pv, err := PreviewFile(path, Options{Attributes: defs}, 1)
			if err != nil || pv.MappingError != "" {
				t.Fatalf("preview %v %s", err, pv.MappingError)
			}
			if pv.Mapping["年収帯"] != "attr:income" || pv.Mapping["children"] != "attr:children" || pv.Mapping["タグ"] != FieldTags || pv.Mapping["退職日"] != "" {
				t.Errorf("auto mapping %v", pv.Mapping)
			}
			if v := pv.Rows[0].Values; v[FieldTags] != "年金受取、VIP" || v["attr:nisa"] != "true" || v["attr:children"] != "2" {
				t.Errorf("preview values %v", v)
			}
			mapping := pv.Mapping
			mapping["退職日"] = "attr:retire"
			res, err := Import(ctx, db, path, Options{Mapping: mapping})
			if err != nil {
				t.Fatal(err)
			}
			if res.New != 2 || res.Rejected != 4 {
				t.Errorf("counts %+v", res)
			}
			var reasons []string
			for _, is := range res.Issues {
				reasons = append(reasons, is.Column+":"+is.Reason)
			}
			if got := strings.Join(reasons, " "); got != "年収帯:attribute NISA口座:attribute children:attribute 退職日:attribute" {
				t.Errorf("issues %s", got)
			}
			c1 := cardByNo(t, svc, "T1")
			var attrs []string
			for _, a := range c1.Attributes {
				attrs = append(attrs, a.Key+"="+a.Value)
			}
			if strings.Join(c1.Tags, ",") != "VIP,年金受取" || strings.Join(attrs, " ") != "nisa=true children=2 income=300〜500万 retire=2028-03-31" {
				t.Errorf("T1 tags %v attributes %v", c1.Tags, attrs)
			}
			// Staff add a tag by hand; the next import neither removes it
			// nor rewrites the unchanged rows.
			if err := svc.AddTag(ctx, "staff:tanaka", c1.ID, "要フォロー"); err != nil {
				t.Fatal(err)
			}
			res, err = Import(ctx, db, path, Options{Mapping: mapping})
			if err != nil || res.Unchanged != 2 || res.New+res.Updated != 0 {
				t.Fatalf("second import %+v %v", res, err)
			}
			if c := cardByNo(t, svc, "T1"); strings.Join(c.Tags, ",") != "VIP,年金受取,要フォロー" {
				t.Errorf("tags after the second import %v", c.Tags)
			}
			bad := Mapping{"顧客番号": FieldCustomerNo, "氏名": FieldName, "年収帯": "attr:nosuch"}
			if _, err := Import(ctx, db, path, Options{Mapping: bad}); !errors.Is(err, ErrMapping) {
				t.Errorf("unknown attribute: %v", err)
			}
		})
	}
}
