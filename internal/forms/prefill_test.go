package forms

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// Which customer field may fill which question, the designer's errors for
// a wrong pairing and for the days, the definition (only *that* a question
// is prefillable), the address split, and the preview's masking.
func TestPrefillRules(t *testing.T) {
	for _, c := range []struct {
		field, qtype string
		ok           bool
	}{
		{FieldName, TypeText, true}, {FieldKana, TypeText, true}, {FieldName, TypeLongText, false},
		{FieldBirth, TypeBirth, true}, {FieldBirth, TypeDate, true}, {FieldBirth, TypeText, false},
		{FieldAddress, TypePostal, true}, {FieldAddress, TypeText, false},
		{FieldPhone, TypePhone, true}, {FieldEmail, TypeEmail, true}, {FieldEmail, TypePhone, false},
		{"income", TypeText, false}, {FieldName, TypeChoice, false}, {FieldName, TypeSection, false},
	} {
		if prefillFits(c.field, c.qtype) != c.ok {
			t.Errorf("%s for %s: want %v", c.field, c.qtype, c.ok)
		}
	}

	d := clean(Draft{Title: "住所変更届", Questions: []Question{
		{ID: "name", Type: TypeText, Label: "お名前", Prefill: FieldName},
		{ID: "pick", Type: TypeChoice, Label: "ご用件", Choices: []string{"a"}, Prefill: FieldName},
		{ID: "addr", Type: TypePostal, Label: "ご住所", Prefill: FieldEmail},
	}})
	if d.PrefillDays != DefaultPrefillDays {
		t.Fatalf("default days %d", d.PrefillDays)
	}
	err := validate(d)
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "questions.1.prefill") || !strings.Contains(err.Error(), "questions.2.prefill") ||
		strings.Contains(err.Error(), "questions.0.prefill") {
		t.Fatalf("validate: %v", err)
	}
	d.Questions = d.Questions[:1]
	for _, days := range []int{-1, 31} {
		d.PrefillDays = days
		if err := validate(d); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "prefillDays") {
			t.Errorf("%d days: %v", days, err)
		}
	}
	d.PrefillDays = 30
	if err := validate(d); err != nil {
		t.Fatal(err)
	}
	def, _ := json.Marshal(Definition(Form{Draft: d}, "tok", "liff", 1))
	if !strings.Contains(string(def), `"prefill":true`) || strings.Contains(string(def), `"prefill":"`) {
		t.Fatalf("definition %s", def)
	}
	sec := clean(Draft{Questions: []Question{{ID: "s", Type: TypeSection, Label: "見出し", Prefill: FieldName}}})
	if sec.Questions[0].Prefill != "" {
		t.Fatal("a section kept a prefill field")
	}

	for _, c := range []struct {
		zip, addr string
		want      map[string]string
	}{
		{"100-0005", "東京都千代田区丸の内1-1 丸の内ビル3F", map[string]string{"code": "1000005", "pref": "東京都", "city": "千代田区", "town": "丸の内1-1", "building": "丸の内ビル3F"}},
		{"231-0023", "神奈川県横浜市中区山下町1", map[string]string{"code": "2310023", "pref": "神奈川県", "city": "横浜市中区", "town": "山下町1", "building": ""}},
		{"", "北海道河東郡音更町木野大通1", map[string]string{"code": "", "pref": "北海道", "city": "河東郡音更町", "town": "木野大通1", "building": ""}},
		{"1500001", "渋谷区神宮前1-1　青山荘101", map[string]string{"code": "1500001", "city": "渋谷区", "town": "神宮前1-1", "building": "青山荘101"}},
	} {
		if got := splitAddress(c.zip, c.addr); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s %s: %v", c.zip, c.addr, got)
		}
	}

	p := PrefillPreview{Customer: "山田 花子", Values: []PrefillValue{{Value: "090-1234-5678"}, {Value: ""}}}
	p.Mask()
	if strings.Contains(p.Customer, "花子") || strings.Contains(p.Values[0].Value, "1234") || p.Values[1].Value != "" {
		t.Fatalf("masked %+v", p)
	}
}
