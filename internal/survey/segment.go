package survey

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"tsunagu/internal/segment"
)

// Segment comparisons of a survey condition (segment.KindSurvey).
const (
	CmpAnswered  = "answered"  // answered (any question, or Question)
	CmpCompleted = "completed" // finished the survey in LINE (no Question)
	CmpEq        = "eq"        // the answer is Value (a multiple choice answer: exactly Value alone)
	CmpHas       = "has"       // a multiple choice answer includes choice Value
	CmpContains  = "contains"  // the answer contains Value
	CmpIn        = "in"        // the answer is (or, multiple choice, includes) one of Values
	CmpBetween   = "between"   // Values[0] <= answer <= Values[1] (numbers numerically, dates as text)
)

// SegmentExtensions returns the segment compiler extensions of surveys, to
// pass to segment.New.
func SegmentExtensions() map[string]segment.Extension {
	return map[string]segment.Extension{segment.KindSurvey: SegmentCondition}
}

// answeredBy is the set of respondents of the answer rows a matching where:
// the answer's customer, or the customer its LINE user is linked to now (so
// answers given before linking count). The segment compiler builds it once
// per query from the survey's answers (indexed by survey and question).
//
// Answers of friends who are not (yet) customers are left out: a NULL in
// the set would make "c.id IN (set)" NULL rather than false for everyone
// outside it, and "NOT answered" would match nobody.
func answeredBy(where string) string {
	return `SELECT coalesce(a.customer_id, l.customer_id) FROM survey_answers a
		LEFT JOIN customer_line_links l ON l.line_user_id = a.line_user_id
		WHERE (` + where + `) AND coalesce(a.customer_id, l.customer_id) IS NOT NULL`
}

// SegmentCondition compiles a survey condition to the set of customers it
// holds for (a segment.Extension): Survey is the survey ID,
// Question a question ID ("" for the survey as a whole), Cmp one of the
// Cmp* constants ("" is answered). Values are bound, never spliced.
func SegmentCondition(c segment.Condition, _ time.Time) (string, []any, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: survey: %s", segment.ErrInvalid, fmt.Sprintf(format, args...))
	}
	sid, err := strconv.ParseInt(c.Survey, 10, 64)
	if err != nil || sid <= 0 {
		return "", nil, bad("survey %q", c.Survey)
	}
	cmp := c.Cmp
	if cmp == "" {
		cmp = CmpAnswered
	}
	if c.Question == "" {
		switch cmp {
		case CmpAnswered:
			return answeredBy("a.survey_id = ?"), []any{sid}, nil
		case CmpCompleted:
			return `SELECT l.customer_id FROM survey_sessions r JOIN customer_line_links l ON l.line_user_id = r.line_user_id
				WHERE r.survey_id = ? AND r.state = 'completed'`, []any{sid}, nil
		}
		return "", nil, bad("comparison %q needs a question", cmp)
	}
	var (
		where string
		args  []any
	)
	switch cmp {
	case CmpAnswered:
		where = "1"
	case CmpEq:
		where, args = "a.value = ?", []any{c.Value}
	case CmpHas:
		where, args = "instr(char(10) || a.value || char(10), char(10) || ? || char(10)) > 0", []any{c.Value}
	case CmpContains:
		if c.Value == "" {
			return "", nil, bad("contains needs a value")
		}
		where, args = `a.value LIKE ? ESCAPE '\'`, []any{"%" + escapeLike(c.Value) + "%"}
	case CmpIn:
		if len(c.Values) == 0 {
			return "", nil, bad("in needs values")
		}
		var parts []string
		for _, v := range c.Values {
			parts = append(parts, "instr(char(10) || a.value || char(10), char(10) || ? || char(10)) > 0")
			args = append(args, v)
		}
		where = "(" + strings.Join(parts, " OR ") + ")"
	case CmpBetween:
		if len(c.Values) != 2 {
			return "", nil, bad("between needs two values")
		}
		lo, err1 := strconv.ParseFloat(c.Values[0], 64)
		hi, err2 := strconv.ParseFloat(c.Values[1], 64)
		if err1 == nil && err2 == nil {
			where, args = "CAST(a.value AS REAL) BETWEEN ? AND ?", []any{lo, hi}
		} else {
			where, args = "a.value BETWEEN ? AND ?", []any{c.Values[0], c.Values[1]}
		}
	default:
		return "", nil, bad("comparison %q", cmp)
	}
	return answeredBy("a.survey_id = ? AND a.question_id = ? AND " + where), append([]any{sid, c.Question}, args...), nil
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
