package survey_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
	"tsunagu/internal/store/storetest"

	"tsunagu/internal/segment"
	"tsunagu/internal/store"
	"tsunagu/internal/survey"
)

// TestSurveyConditionsInRuleTrees checks that survey conditions select the
// same customers whatever the tree around them: two or more at the top of an
// AND are compiled as one intersected set, elsewhere each is its own
// "c.id IN (set)". The expected customers are computed in Go from every
// leaf's value per customer, read one leaf at a time, with SQL's
// three-valued AND/OR/NOT. The sets hold no NULL (answers of friends who
// are not customers are left out), so excluding an answer selects the
// customers without it even when unlinked friends have answered.
func TestSurveyConditionsInRuleTrees(t *testing.T) {
	ctx := context.Background()
	db := storetest.New(t)
	populateSurveyAnswers(t, db)

	sv := func(sid, qid, cmp, value string, values ...string) segment.Node {
		return segment.Node{Cond: &segment.Condition{Kind: segment.KindSurvey, Survey: sid, Question: qid, Cmp: cmp, Value: value, Values: values}}
	}
	var (
		a  = sv("1", "q1", survey.CmpEq, "ある")              // LINE and staff answers, one staff answer names a linked customer
		b  = sv("1", "q2", survey.CmpBetween, "", "2", "4") // one staff answer names a customer whose LINE user is now linked to another
		c  = sv("2", "q1", survey.CmpAnswered, "")          // another survey
		d  = sv("1", "", survey.CmpCompleted, "")           // finished in LINE
		e  = sv("1", "", survey.CmpAnswered, "")            // any question of survey 1
		h  = sv("1", "q1", survey.CmpIn, "", "ない")          // staff answers only for some
		tg = segment.Node{Cond: &segment.Condition{Kind: segment.KindTag, Value: "VIP"}}
		ln = segment.Node{Cond: &segment.Condition{Kind: segment.KindConsent, Value: "line"}}
		br = segment.Node{Cond: &segment.Condition{Kind: segment.KindField, Field: "branch", Cmp: "eq", Value: "B1"}}
		b2 = segment.Node{Cond: &segment.Condition{Kind: segment.KindField, Field: "branch", Cmp: "in", Values: []string{"B0", "B2"}}}
	)
	and := func(ch ...segment.Node) segment.Node { return segment.Node{Op: "and", Children: ch} }
	or := func(ch ...segment.Node) segment.Node { return segment.Node{Op: "or", Children: ch} }
	not := func(n segment.Node) segment.Node { n.Not = true; return n }

	tests := []struct {
		name      string
		rule      segment.Node
		intersect bool // compiled with one intersected set
		some      bool // the rule must match someone (so the case tests something)
	}{
		{"two answers", and(a, b), true, true},
		{"three answers, two surveys", and(a, b, c), true, true},
		{"answer and tag", and(a, tg), false, true},
		{"two answers and an excluded one", and(a, b, not(d)), true, true},
		{"either answer", or(a, b), false, true},
		{"a group of answers and an answer", and(or(a, c), b), false, true},
		{"two answers, consent and branch", and(br, a, ln, b), true, true},
		{"excluding two answers", not(and(a, b)), false, true},
		{"completed, answered and a range", and(d, e, b), true, true},
		{"excluding an answer", and(not(a), ln), false, true},
		{"nested groups", and(e, or(and(a, b), and(c, not(tg)))), false, true},
		{"an answer among choices, a range and a branch", and(h, b, b2), true, true},
		{"one answer", and(a), false, true},
		{"the same answer twice", and(a, a), true, true},
	}
	svc := segment.New(db, nil, survey.SegmentExtensions())
	ids := allCustomers(t, db)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, err := svc.Compiler().Compile(tc.rule)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(q.Where, "INTERSECT"); got != tc.intersect {
				t.Fatalf("intersected = %v, want %v: %s", got, tc.intersect, q.Where)
			}
			var want []int64
			for _, id := range ids {
				if v := eval(t, db, svc, tc.rule, id); v != nil && *v {
					want = append(want, id)
				}
			}
			if tc.some && len(want) == 0 {
				t.Fatal("the expected segment is empty: the case tests nothing")
			}
			got := selectIDs(t, db, q)
			if !slices.Equal(got, want) {
				t.Fatalf("customers %v, want %v", got, want)
			}
			n, err := svc.Count(ctx, tc.rule)
			if err != nil || n.Total != len(want) {
				t.Fatalf("Count = %+v, %v; want total %d", n, err, len(want))
			}
		})
	}
}

// populateSurveyAnswers writes 48 customers and the answers of two surveys:
// customer i's LINE user is U<i> (linked when i%4 is 1 or 2, a friend who
// never linked when i%4 is 3, none when i%4 is 0), F1..F6 are unlinked
// friends, staff answers name customers (with their LINE user when linked).
func populateSurveyAnswers(t *testing.T, db *store.DB) {
	ctx := context.Background()
	err := db.Write(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{
			`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 48)
			 INSERT INTO customers (id, customer_no, name, name_kana, branch, status, created_at, updated_at, consent_line, consent_line_source, consent_line_at)
			 SELECT i, printf('C%03d', i), '顧客' || i, 'コキャク', 'B' || (i % 3), 'active', 0, 0, i % 2, 'test', 0 FROM s`,
			`INSERT INTO tags (id, name) VALUES (1, 'VIP')`,
			`INSERT INTO customer_tags (customer_id, tag_id) SELECT id, 1 FROM customers WHERE id % 5 = 0 OR id % 7 = 1`,
			`INSERT INTO line_users (user_id, created_at) SELECT 'U' || id, 0 FROM customers WHERE id % 4 <> 0`,
			`INSERT INTO line_users (user_id, created_at) VALUES ('F1', 0), ('F2', 0), ('F3', 0), ('F4', 0), ('F5', 0), ('F6', 0)`,
			`INSERT INTO customer_line_links (customer_id, line_user_id, linked_at, method) SELECT id, 'U' || id, 0, 'import' FROM customers WHERE id % 4 IN (1, 2)`,
			`INSERT INTO surveys (id, name, questions, status, created_by, created_at, updated_by, updated_at)
			 VALUES (1, 's1', '[]', 'open', 'b', 0, 'b', 0), (2, 's2', '[]', 'open', 'b', 0, 'b', 0)`,
			// Survey 1, q1 (a choice): LINE answers, unlinked friends, staff answers.
			`INSERT INTO survey_answers (survey_id, question_id, line_user_id, value, source, answered_by, answered_at)
			 SELECT 1, 'q1', 'U' || id, CASE WHEN id % 2 = 1 THEN 'ある' ELSE 'ない' END, 'line', 'system:survey', 0
			 FROM customers WHERE id % 4 <> 0 AND id % 3 <> 0`,
			`INSERT INTO survey_answers (survey_id, question_id, line_user_id, value, source, answered_by, answered_at)
			 SELECT 1, 'q1', user_id, 'ある', 'line', 'system:survey', 0 FROM line_users WHERE user_id LIKE 'F%'`,
			`INSERT INTO survey_answers (survey_id, question_id, customer_id, value, source, answered_by, answered_at)
			 SELECT 1, 'q1', id, CASE WHEN id % 8 = 0 THEN 'ある' ELSE 'ない' END, 'staff', 'staff:b', 0 FROM customers WHERE id % 4 = 0 AND id % 3 = 0`,
			`INSERT INTO survey_answers (survey_id, question_id, customer_id, line_user_id, value, source, answered_by, answered_at)
			 VALUES (1, 'q1', 9, 'U9', 'ある', 'staff', 'staff:b', 0), (1, 'q1', 18, 'U18', 'ない', 'staff', 'staff:b', 0)`,
			// Survey 1, q2 (a number).
			`INSERT INTO survey_answers (survey_id, question_id, line_user_id, value, source, answered_by, answered_at)
			 SELECT 1, 'q2', 'U' || id, CAST(1 + id % 6 AS TEXT), 'line', 'system:survey', 0 FROM customers WHERE id % 4 <> 0 AND id % 5 <> 0`,
			`INSERT INTO survey_answers (survey_id, question_id, line_user_id, value, source, answered_by, answered_at)
			 SELECT 1, 'q2', user_id, '3', 'line', 'system:survey', 0 FROM line_users WHERE user_id IN ('F1', 'F2')`,
			`INSERT INTO survey_answers (survey_id, question_id, customer_id, value, source, answered_by, answered_at)
			 SELECT 1, 'q2', id, '4', 'staff', 'staff:b', 0 FROM customers WHERE id % 4 = 0 AND id % 5 = 0`,
			// Entered for customer 8 with U5, since linked to customer 5: the answer stays customer 8's.
			`INSERT INTO survey_answers (survey_id, question_id, customer_id, line_user_id, value, source, answered_by, answered_at)
			 VALUES (1, 'q2', 8, 'U5', '2', 'staff', 'staff:b', 0)`,
			// Survey 2: answered by some in LINE and one by staff.
			`INSERT INTO survey_answers (survey_id, question_id, line_user_id, value, source, answered_by, answered_at)
			 SELECT 2, 'q1', 'U' || id, 'はい', 'line', 'system:survey', 0 FROM customers WHERE id % 4 <> 0 AND id % 7 IN (1, 2, 3)`,
			`INSERT INTO survey_answers (survey_id, question_id, customer_id, value, source, answered_by, answered_at)
			 VALUES (2, 'q1', 12, 'はい', 'staff', 'staff:b', 0)`,
			// Survey 1 finished in LINE.
			`INSERT INTO survey_sessions (survey_id, line_user_id, state, started_by, started_at, updated_at, completed_at)
			 SELECT 1, 'U' || id, 'completed', 'campaign', 0, 0, 0 FROM customers WHERE id % 4 <> 0 AND id % 6 IN (1, 2)`,
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("%.60s: %w", q, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func allCustomers(t *testing.T, db *store.DB) []int64 {
	return selectIDs(t, db, segment.Query{Where: "1"})
}

func selectIDs(t *testing.T, db *store.DB, q segment.Query) []int64 {
	t.Helper()
	rows, err := db.Reader().Query(`SELECT c.id FROM customers c WHERE `+q.Where+` ORDER BY c.id`, q.Args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	ids := []int64{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

// eval is n's SQL truth value for customer id (nil: NULL), each leaf read
// on its own as the compiler writes it inside a group.
func eval(t *testing.T, db *store.DB, svc *segment.Service, n segment.Node, id int64) *bool {
	t.Helper()
	var v *bool
	switch n.Op {
	case "and", "or":
		and := n.Op == "and"
		acc := &and // the empty AND is true, the empty OR false
		for _, c := range n.Children {
			acc = kleene(and, acc, eval(t, db, svc, c, id))
		}
		v = acc
	default:
		// Inside an OR group a condition is compiled as it is anywhere below
		// the top level (no driver, no intersection).
		q, err := svc.Compiler().Compile(segment.Node{Op: "or", Children: []segment.Node{{Cond: n.Cond}}})
		if err != nil {
			t.Fatal(err)
		}
		var r sql.NullBool
		if err := db.Reader().QueryRow(`SELECT (`+q.Where+`) FROM customers c WHERE c.id = ?`, append(q.Args, id)...).Scan(&r); err != nil {
			t.Fatal(err)
		}
		if r.Valid {
			v = &r.Bool
		}
	}
	if n.Not && v != nil {
		neg := !*v
		v = &neg
	}
	return v
}

// kleene is SQL's AND (and) or OR of x and y, NULL as nil.
func kleene(and bool, x, y *bool) *bool {
	val := func(b bool) *bool { return &b }
	switch {
	case x != nil && *x != and:
		return x // false AND _, true OR _
	case y != nil && *y != and:
		return y
	case x == nil || y == nil:
		return nil
	}
	return val(and)
}
