package forms

// Sections and conditional display (issue 21, second slice). The page
// (frontend/forms-page/src/rules.ts) applies the same rules as it shows
// the form; the desktop applies them again to what arrives, so an answer
// to a question the customer could not see is refused as malformed and a
// hidden required question is not required.

// hasQuestion reports whether qs asks anything (sections alone do not).
func hasQuestion(qs []Question) bool {
	for _, q := range qs {
		if q.Type != TypeSection {
			return true
		}
	}
	return false
}

// visibility says, per question, whether the page shows it for these
// answers: a question in a hidden section is hidden; a question or
// section with a condition is shown when the earlier question it names is
// shown and its answer is (or, for multi-choice, includes) one of the
// values.
func visibility(qs []Question, answers map[string]any) []bool {
	vis := make([]bool, len(qs))
	at := map[string]int{}
	section := -1
	for i, q := range qs {
		v := true
		if q.Type == TypeSection {
			section = i
		} else if section >= 0 && !vis[section] {
			v = false
		}
		if c := q.ShowIf; v && c != nil {
			j, ok := at[c.Question]
			v = ok && vis[j] && chosen(answers[c.Question], c.Values)
		}
		vis[i] = v
		if _, dup := at[q.ID]; !dup {
			at[q.ID] = i
		}
	}
	return vis
}

// chosen reports whether a choice answer (a string, or a list for
// multi-choice) is one of values.
func chosen(answer any, values []string) bool {
	switch a := answer.(type) {
	case string:
		return contains(values, a)
	case []any:
		for _, x := range a {
			if s, ok := x.(string); ok && contains(values, s) {
				return true
			}
		}
	case []string:
		for _, s := range a {
			if contains(values, s) {
				return true
			}
		}
	}
	return false
}

// given reports whether a raw answer holds anything.
func given(raw any) bool {
	switch a := raw.(type) {
	case nil:
		return false
	case string:
		return trimmed(a) != ""
	case []any:
		return len(a) > 0
	case map[string]any:
		for _, v := range a {
			if s, ok := v.(string); !ok || trimmed(s) != "" {
				return true
			}
		}
		return false
	}
	return true // something the page never sends: not "nothing"
}
