package survey

import (
	"testing"

	"tsunagu/internal/mask"
)

func TestResultsMask(t *testing.T) {
	r := Results{Respondents: 2, Questions: []QuestionStat{
		{ID: "q1", Type: TypeText, Texts: []string{"電話番号は090-1234-5678です", ""}},
		{ID: "q2", Type: "choice", Counts: []ValueCount{{Value: "はい", Count: 2}}, Texts: []string{}},
	}}
	r.Mask()
	if got := r.Questions[0].Texts; got[0] != mask.Placeholder || got[1] != "" {
		t.Errorf("free text not masked: %q", got)
	}
	if c := r.Questions[1].Counts[0]; c.Value != "はい" || c.Count != 2 || r.Respondents != 2 {
		t.Errorf("masked more than free text: %+v", r)
	}
}
