package forms

import (
	"fmt"
	"strconv"
	"time"

	"tsunagu/internal/segment"
)

// SegmentExtensions returns the segment compiler extension of web form
// answers (segment.KindForm), to pass to segment.New.
func SegmentExtensions() map[string]segment.Extension {
	return map[string]segment.Extension{segment.KindForm: SegmentCondition}
}

// SegmentCondition compiles a web form condition to the set of customers
// it holds for (a segment.Extension): answered form Form at all, or with
// Question (a choice or multi question) answered with one of Values (a
// multi answer: including one of them). An answer counts for the customer
// its LINE user is linked to now, so answers given before linking count;
// a friend who is not a customer is left out (a NULL in the set would make
// "NOT answered" match nobody). Values are bound, never spliced.
func SegmentCondition(c segment.Condition, _ time.Time) (string, []any, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: form: %s", segment.ErrInvalid, fmt.Sprintf(format, args...))
	}
	fid, err := strconv.ParseInt(c.Form, 10, 64)
	if err != nil || fid <= 0 {
		return "", nil, bad("form %q", c.Form)
	}
	const answered = `SELECT l.customer_id FROM form_answers a JOIN customer_line_links l ON l.line_user_id = a.line_user_id WHERE a.form_id = ?`
	if c.Question == "" {
		return answered, []any{fid}, nil
	}
	// The question ID names a JSON path: only the IDs the designer allows.
	if !questionID.MatchString(c.Question) {
		return "", nil, bad("question %q", c.Question)
	}
	if len(c.Values) == 0 {
		return "", nil, bad("a question needs values")
	}
	// json_each walks a multi answer's list, and a single answer as one row.
	where := `EXISTS (SELECT 1 FROM json_each(a.answers, ?) j WHERE j.value IN (?` + repeatArgs(len(c.Values)-1) + `))`
	args := []any{fid, `$."` + c.Question + `"`}
	for _, v := range c.Values {
		args = append(args, v)
	}
	return answered + " AND " + where, args, nil
}

func repeatArgs(n int) string {
	s := ""
	for range n {
		s += ", ?"
	}
	return s
}
