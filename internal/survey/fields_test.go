package survey_test

import (
	"errors"
	"reflect"
	"testing"

	"tsunagu/internal/fielderr"
	"tsunagu/internal/survey"
)

// The builder marks every wrong field by its path in the survey it sent, so
// a survey with several mistakes must name all of them.
func TestValidateNamesEveryWrongField(t *testing.T) {
	e := newEnv(t)
	e.defineAttributes()
	sv := fiveQuestions()
	sv.Name = " "
	sv.Questions[0].Choices[1].Next = "q9" // a jump to nowhere
	sv.Questions[1].Choices[0].Label = ""  // a choice without a label
	sv.Questions[2].Text = ""              // a question without a text
	sv.Questions[3].Next = "q2"            // a jump backwards
	_, err := e.svc.Save(e.ctx, staff, sv)
	if !errors.Is(err, survey.ErrInvalid) {
		t.Fatalf("Save = %v, want ErrInvalid", err)
	}
	var got []string
	for _, f := range fielderr.Fields(err) {
		got = append(got, f.Field+" "+f.Code)
	}
	want := []string{
		"name " + fielderr.Required,
		"questions.0.choices.1.next " + fielderr.Choose,
		"questions.1.choices.0.label " + fielderr.Required,
		"questions.2.text " + fielderr.Required,
		"questions.3.next " + fielderr.Choose,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fields = %v\nwant %v", got, want)
	}
}
