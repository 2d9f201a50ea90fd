package forms

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// sectionedForm: a loan pre-consultation sheet. The 「住宅ローン」 section
// shows only when the purpose is 住宅ローン; inside it, the current
// lender is asked only of those who have a loan; a last question shows
// when 「その他」 is among the multi-choice channels.
func sectionedForm() []Question {
	return []Question{
		{ID: "s1", Type: TypeSection, Label: "ご相談の内容"},
		{ID: "purpose", Type: TypeChoice, Label: "ご相談の目的", Required: true, Choices: []string{"資産運用", "住宅ローン"}},
		{ID: "s2", Type: TypeSection, Label: "住宅ローン", ShowIf: &Condition{Question: "purpose", Values: []string{"住宅ローン"}}},
		{ID: "loan", Type: TypeChoice, Label: "現在のローン", Required: true, Choices: []string{"あり", "なし"}},
		{ID: "lender", Type: TypeText, Label: "お借入先", Required: true, ShowIf: &Condition{Question: "loan", Values: []string{"あり"}}},
		{ID: "s3", Type: TypeSection, Label: "ご連絡"},
		{ID: "via", Type: TypeMulti, Label: "ご連絡方法", Choices: []string{"電話", "LINE", "その他"}},
		{ID: "other", Type: TypeText, Label: "その他の方法", Required: true, ShowIf: &Condition{Question: "via", Values: []string{"その他"}}},
	}
}

// The desktop applies the page's display rules to what arrives: a hidden
// question's answer is malformed, a hidden required question is not
// required, a shown required one is, and a hidden section hides all it
// holds (the condition inside it included).
func TestConditionalAnswers(t *testing.T) {
	qs := sectionedForm()
	for _, c := range []struct {
		name    string
		answers map[string]any
		ok      bool
		kept    string // the answers kept, sorted keys
	}{
		{"section hidden, its required questions not required", map[string]any{"purpose": "資産運用"}, true, "purpose"},
		{"section hidden, an answer inside it", map[string]any{"purpose": "資産運用", "loan": "なし"}, false, ""},
		{"section hidden, a nested condition's answer", map[string]any{"purpose": "資産運用", "lender": "A銀行"}, false, ""},
		{"section shown, its required question empty", map[string]any{"purpose": "住宅ローン"}, false, ""},
		{"section shown, condition not met", map[string]any{"purpose": "住宅ローン", "loan": "なし"}, true, "loan,purpose"},
		{"condition not met, answered anyway", map[string]any{"purpose": "住宅ローン", "loan": "なし", "lender": "A銀行"}, false, ""},
		{"condition met, required empty", map[string]any{"purpose": "住宅ローン", "loan": "あり"}, false, ""},
		{"condition met", map[string]any{"purpose": "住宅ローン", "loan": "あり", "lender": "A銀行"}, true, "lender,loan,purpose"},
		{"hidden answered with an empty value (the page's blank)", map[string]any{"purpose": "資産運用", "lender": " ", "via": []any{}}, true, "purpose"},
		{"multi-choice condition met", map[string]any{"purpose": "資産運用", "via": []any{"電話", "その他"}, "other": "手紙"}, true, "other,purpose,via"},
		{"multi-choice condition met, required empty", map[string]any{"purpose": "資産運用", "via": []any{"その他"}}, false, ""},
		{"multi-choice condition not met, answered", map[string]any{"purpose": "資産運用", "via": []any{"電話"}, "other": "手紙"}, false, ""},
		{"a section answered", map[string]any{"purpose": "資産運用", "s1": "x"}, false, ""},
	} {
		out, ok := checkAnswers(qs, c.answers, time.Now())
		if ok != c.ok {
			t.Errorf("%s: ok = %v, want %v", c.name, ok, c.ok)
			continue
		}
		if !ok {
			continue
		}
		var keys []string
		for _, q := range qs {
			if _, in := out[q.ID]; in {
				keys = append(keys, q.ID)
			}
		}
		if got := strings.Join(slices.Sorted(slices.Values(keys)), ","); got != c.kept {
			t.Errorf("%s: kept %s, want %s", c.name, got, c.kept)
		}
	}
}

// The designer's rules for sections and conditions, each wrong field
// named: a condition must name an earlier choice question and some of its
// choices; sections alone are not a form; a section takes no answer rules.
func TestSectionAndConditionRules(t *testing.T) {
	d := Draft{Title: "事前シート", Questions: sectionedForm()}
	if err := validate(clean(d)); err != nil {
		t.Fatalf("valid form refused: %v", err)
	}
	bad := clean(d)
	bad.Questions[2].ShowIf = &Condition{Question: "lender", Values: []string{"x"}}     // a later question
	bad.Questions[4].ShowIf = &Condition{Question: "s1", Values: []string{"x"}}         // a section
	bad.Questions[7].ShowIf = &Condition{Question: "via", Values: []string{"ハガキ"}}      // not one of its choices
	bad.Questions[3].ShowIf = &Condition{Question: "purpose", Values: nil}              // no values
	bad.Questions = append(bad.Questions, Question{ID: "x", Type: TypeText, Label: "x", // unknown question
		ShowIf: &Condition{Question: "nope", Values: []string{"a"}}})
	err := validate(bad)
	for _, want := range []string{"questions.2.showIf", "questions.4.showIf", "questions.7.showIf", "questions.3.showIf", "questions.8.showIf"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v does not name %s", err, want)
		}
	}
	if err := validate(clean(Draft{Title: "見出しだけ", Questions: []Question{{ID: "s", Type: TypeSection, Label: "見出し"}}})); err == nil || !strings.Contains(err.Error(), "questions") {
		t.Errorf("a form of sections only: %v", err)
	}
	c := clean(Draft{Title: "t", Questions: []Question{{ID: "s", Type: TypeSection, Label: "見出し", Required: true, Attribute: "x"}, {ID: "q", Type: TypeText, Label: "q"}}})
	if c.Questions[0].Required || c.Questions[0].Attribute != "" {
		t.Errorf("a section kept answer rules: %+v", c.Questions[0])
	}
	def := Definition(Form{Draft: d}, "tok", "1-x", 1)
	if def.Questions[4].ShowIf == nil || def.Questions[4].ShowIf.Question != "loan" || def.Questions[2].Type != TypeSection {
		t.Errorf("definition: %+v", def.Questions)
	}
}

// Birth dates arrive as YYYY-MM-DD (the page reads 和暦) and not after the
// day received; an address arrives whole (code, prefecture, city, town)
// or not at all, and maps to an attribute as one line.
func TestBirthAndPostalAnswers(t *testing.T) {
	at := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	qs := []Question{
		{ID: "birth", Type: TypeBirth, Label: "生年月日", Required: true},
		{ID: "addr", Type: TypePostal, Label: "ご住所"},
	}
	addr := func(kv ...string) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	full := addr("code", "1000001", "pref", "東京都", "city", "千代田区", "town", "千代田1-1", "building", "")
	for _, c := range []struct {
		name string
		in   map[string]any
		ok   bool
	}{
		{"birth and address", map[string]any{"birth": "1985-04-01", "addr": full}, true},
		{"no address (optional), the page's blank", map[string]any{"birth": "1985-04-01", "addr": ""}, true},
		{"an empty address object", map[string]any{"birth": "1985-04-01", "addr": addr("code", " ")}, true},
		{"和暦 text (the page sends ISO)", map[string]any{"birth": "昭和60年4月1日"}, false},
		{"a birth date in the future", map[string]any{"birth": "2027-01-01"}, false},
		{"before 1900", map[string]any{"birth": "1899-12-31"}, false},
		{"no such day", map[string]any{"birth": "1985-02-30"}, false},
		{"an address without its town", map[string]any{"birth": "1985-04-01", "addr": addr("code", "1000001", "pref", "東京都", "city", "千代田区")}, false},
		{"a code of 6 digits", map[string]any{"birth": "1985-04-01", "addr": addr("code", "100001", "pref", "東京都", "city", "千代田区", "town", "千代田")}, false},
		{"no such prefecture", map[string]any{"birth": "1985-04-01", "addr": addr("code", "1000001", "pref", "東京", "city", "千代田区", "town", "千代田")}, false},
		{"an unknown part", map[string]any{"birth": "1985-04-01", "addr": addr("code", "1000001", "pref", "東京都", "city", "千代田区", "town", "千代田", "note", "x")}, false},
	} {
		out, ok := checkAnswers(qs, c.in, at)
		if ok != c.ok {
			t.Errorf("%s: ok = %v, want %v (%v)", c.name, ok, c.ok, out)
		}
	}
	out, _ := checkAnswers(qs, map[string]any{"birth": "1985-04-01", "addr": full}, at)
	a, _ := out["addr"].(map[string]string)
	if got := postalText(a); got != "〒100-0001 東京都千代田区千代田1-1" {
		t.Errorf("postal text %q", got)
	}
}
