package survey_test

import (
	"database/sql"
	"errors"
	"strings"
	"testing"

	"tsunagu/internal/survey"
)

func TestValidate(t *testing.T) {
	e := newEnv(t)
	e.defineAttributes()
	long := strings.Repeat("あ", survey.MaxLabel+1)
	many := func(n int) []survey.Choice {
		var out []survey.Choice
		for i := range n {
			out = append(out, survey.Choice{ID: "c" + itoa(int64(i)), Label: "選択肢" + itoa(int64(i))})
		}
		return out
	}
	tests := []struct {
		name string
		edit func(*survey.Survey)
		ok   bool
	}{
		{"the five questions", func(*survey.Survey) {}, true},
		{"no name", func(s *survey.Survey) { s.Name = " " }, false},
		{"a label over LINE's 20 characters", func(s *survey.Survey) { s.Questions[0].Choices[0].Label = long }, false},
		{"20 choices (a Flex bubble)", func(s *survey.Survey) { s.Questions[1].Choices = many(20) }, true},
		{"21 choices", func(s *survey.Survey) { s.Questions[1].Choices = many(21) }, false},
		{"one choice", func(s *survey.Survey) { s.Questions[1].Choices = many(1) }, false},
		{"duplicate question IDs", func(s *survey.Survey) { s.Questions[1].ID = "q1" }, false},
		{"a jump backwards", func(s *survey.Survey) { s.Questions[3].Next = "q2" }, false},
		{"a jump to itself", func(s *survey.Survey) { s.Questions[0].Choices[1].Next = "q1" }, false},
		{"a jump to nowhere", func(s *survey.Survey) { s.Questions[0].Choices[1].Next = "q9" }, false},
		{"a jump to the end", func(s *survey.Survey) { s.Questions[0].Choices[1].Next = survey.End }, true},
		{"a multiple choice that jumps", func(s *survey.Survey) { s.Questions[1].Choices[0].Next = "q4" }, false},
		{"an unknown type", func(s *survey.Survey) { s.Questions[2].Type = "slider" }, false},
		{"choices on a number question", func(s *survey.Survey) { s.Questions[2].Choices = many(2) }, false},
		{"an unknown attribute", func(s *survey.Survey) { s.Questions[2].Attribute = "nope" }, false},
		{"a choice value the choice attribute lacks", func(s *survey.Survey) { s.Questions[0].Choices[0].AttrValue = "多少" }, false},
		{"a date answer into a number attribute", func(s *survey.Survey) { s.Questions[3].Attribute = "household" }, false},
		{"a number answer into a date attribute", func(s *survey.Survey) { s.Questions[2].Attribute = "visit" }, false},
		{"multiple choice into text", func(s *survey.Survey) { s.Questions[1].Attribute = "products" }, true},
		{"free text into a number attribute", func(s *survey.Survey) { s.Questions[4].Attribute = "household" }, false},
		{"an unknown answer rule", func(s *survey.Survey) { s.AnswerRule = "most" }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sv := fiveQuestions()
			tc.edit(&sv)
			_, err := e.svc.Save(e.ctx, staff, sv)
			if tc.ok && err != nil {
				t.Fatalf("Save: %v", err)
			}
			if !tc.ok && !errors.Is(err, survey.ErrInvalid) {
				t.Fatalf("Save = %v, want ErrInvalid", err)
			}
		})
	}
}

// TestStaffEntryAndImport enters answers by hand and by CSV (Shift_JIS, as
// Excel saves it), checked like LINE answers, with a row report.
func TestStaffEntryAndImport(t *testing.T) {
	e := newEnv(t)
	e.defineAttributes()
	sv := e.openSurvey()
	a := e.customer("C010", "田中一郎")
	b := e.customer("C011", "佐藤次郎")

	if err := e.svc.EnterAnswers(e.ctx, staff, sv.ID, a, map[string]string{"q1": "ある", "q3": "四"}); !errors.Is(err, survey.ErrAnswer) {
		t.Fatalf("invalid number accepted: %v", err)
	}
	if n := e.count(`SELECT count(*) FROM survey_answers`); n != 0 {
		t.Fatalf("a rejected entry stored %d answers", n)
	}
	e.must(e.svc.EnterAnswers(e.ctx, staff, sv.ID, a, map[string]string{"q1": "ある", "q2": "NISA、保険", "q3": "４", "q4": "令和8年5月1日"}))
	for k, v := range map[string]string{"invest": "あり", "products": "NISA、保険", "household": "4", "visit": "2026-05-01"} {
		if got := e.attr(a, k); got != v {
			t.Errorf("attribute %s = %q, want %q", k, got, v)
		}
	}

	csvText := "顧客番号,q1 資産運用に関心はありますか？,q3,q5\n" +
		"C011,ない,2,電話で回答\n" +
		"C999,ある,1,\n" +
		"C010,わからない,3,\n" +
		"C011,ある,1,\n"
	sjis, err := toSJIS(csvText)
	e.must(err)
	res, err := e.svc.ImportAnswers(e.ctx, staff, sv.ID, strings.NewReader(sjis), "auto")
	e.must(err)
	if res.Encoding != "sjis" || res.Rows != 4 || res.Imported != 1 || res.Answers != 3 || len(res.Issues) != 3 {
		t.Fatalf("import = %+v", res)
	}
	reasons := []string{res.Issues[0].Reason, res.Issues[1].Reason, res.Issues[2].Reason}
	if strings.Join(reasons, ",") != survey.ReasonCustomer+","+survey.ReasonAnswer+",duplicate" {
		t.Fatalf("reasons = %v", reasons)
	}
	if res.Issues[1].Value == "わからない" {
		t.Fatal("the report holds the value unmasked")
	}
	if got := e.attr(b, "invest"); got != "なし" {
		t.Fatalf("imported attribute = %q", got)
	}
	var source string
	e.must(e.db.Reader().QueryRowContext(e.ctx, `SELECT source FROM survey_answers WHERE customer_id = ? AND question_id = 'q5'`, b).Scan(&source))
	if source != survey.SourceCSV {
		t.Fatalf("source = %q", source)
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE action IN ('survey.answer', 'survey.import')`); n != 2 {
		t.Fatalf("audit entries = %d", n)
	}
}

// TestFirstAnswerKept: with the "first" rule a second run is refused and a
// second staff entry changes nothing.
func TestFirstAnswerKept(t *testing.T) {
	e := newEnv(t)
	e.defineAttributes()
	sv := fiveQuestions()
	sv.AnswerRule = survey.RuleFirst
	sv.Questions = sv.Questions[:1]
	sv.Questions[0].Choices[1].Next = ""
	saved, err := e.svc.Save(e.ctx, staff, sv)
	e.must(err)
	e.must(e.svc.SetStatus(e.ctx, staff, saved.ID, survey.StatusOpen))
	c := e.customer("C020", "山本")
	u := e.friend("山本")
	e.must(e.cust.LinkLine(e.ctx, staff, c, u, "manual", staff))
	_, err = e.svc.SendTo(e.ctx, e.ob, staff, u, saved.ID)
	e.must(err)
	e.tap(u, "ない", "")
	_, err = e.svc.SendTo(e.ctx, e.ob, staff, u, saved.ID)
	e.must(err)
	if got := e.last(u).Text; !strings.Contains(got, "すでにご回答") {
		t.Fatalf("second start = %q", got)
	}
	e.must(e.svc.EnterAnswers(e.ctx, staff, saved.ID, c, map[string]string{"q1": "ある"}))
	var v string
	e.must(e.db.Reader().QueryRowContext(e.ctx, `SELECT value FROM survey_answers WHERE line_user_id = ?`, u).Scan(&v))
	if v != "ない" || e.attr(c, "invest") != "なし" {
		t.Fatalf("first answer not kept: %q %q", v, e.attr(c, "invest"))
	}
}

// TestButtonLayouts: up to 13 choices go in quick replies, more in a Flex
// bubble of buttons (tappable on the phone); multiple choice keeps one quick
// reply for 「回答する」. Every postback stays within LINE's limits.
func TestButtonLayouts(t *testing.T) {
	e := newEnv(t)
	choices := func(n int) []survey.Choice {
		var out []survey.Choice
		for i := range n {
			out = append(out, survey.Choice{ID: "choice_" + itoa(int64(i)), Label: strings.Repeat("長", 17) + itoa(int64(i))})
		}
		return out
	}
	tests := []struct {
		typ            string
		n              int
		wantType       string
		wantQuick      int
		wantFlexButton int
	}{
		{survey.TypeSingle, 13, "text", 13, 0},
		{survey.TypeSingle, 14, "flex", 0, 14},
		{survey.TypeMulti, 12, "text", 13, 0},
		{survey.TypeMulti, 13, "flex", 0, 14},
	}
	for _, tc := range tests {
		t.Run(tc.typ+itoa(int64(tc.n)), func(t *testing.T) {
			sv, err := e.svc.Save(e.ctx, staff, survey.Survey{Name: "多数の選択肢", Questions: []survey.Question{
				{ID: "q1", Type: tc.typ, Text: "どれですか？", Choices: choices(tc.n)}}})
			e.must(err)
			e.must(e.svc.SetStatus(e.ctx, staff, sv.ID, survey.StatusOpen))
			u := e.friend("利用者")
			_, err = e.svc.SendTo(e.ctx, e.ob, staff, u, sv.ID)
			e.must(err)
			d := e.last(u)
			if d.Type != tc.wantType {
				t.Fatalf("type = %s, want %s", d.Type, tc.wantType)
			}
			var quick, flex int
			for _, a := range e.sim.Actions(u) {
				if len(a.Data) > survey.MaxPostbackData || len([]rune(a.Label)) > survey.MaxLabel {
					t.Fatalf("action over LINE's limits: %+v", a)
				}
				if a.QuickReply {
					quick++
				} else {
					flex++
				}
			}
			if quick != tc.wantQuick || flex != tc.wantFlexButton {
				t.Fatalf("quick %d flex %d, want %d %d", quick, flex, tc.wantQuick, tc.wantFlexButton)
			}
			last := "長長長長長長長長長長長長長長長長長" + itoa(int64(tc.n-1))
			e.tap(u, last, "")
			if tc.typ == survey.TypeMulti {
				e.tap(u, "回答する", "")
			}
			var v string
			e.must(e.db.Reader().QueryRowContext(e.ctx, `SELECT value FROM survey_answers WHERE line_user_id = ?`, u).Scan(&v))
			if v != last {
				t.Fatalf("answer = %q", v)
			}
		})
	}
}

// TestEraseLineUser: an APPI erasure of a LINE user leaves none of their
// runs, tokens or answers.
func TestEraseLineUser(t *testing.T) {
	e := newEnv(t)
	e.defineAttributes()
	sv := e.openSurvey()
	u := e.friend("消去")
	_, err := e.svc.SendTo(e.ctx, e.ob, staff, u, sv.ID)
	e.must(err)
	e.tap(u, "ある", "")
	e.must(e.db.Write(e.ctx, func(tx *sql.Tx) error { return survey.EraseLineUser(e.ctx, tx, u) }))
	for _, table := range []string{"survey_tokens", "survey_answers", "survey_sessions"} {
		if n := e.count(`SELECT count(*) FROM `+table+` WHERE line_user_id = ?`, u); n != 0 {
			t.Errorf("%s keeps %d rows", table, n)
		}
	}
}
