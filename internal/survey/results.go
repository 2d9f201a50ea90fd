package survey

import (
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"tsunagu/internal/export"
	"tsunagu/internal/mask"
)

// Results summarise a survey.
type Results struct {
	SurveyID   int64   `json:"surveyId"`
	Started    int     `json:"started"`    // runs started in LINE
	Completed  int     `json:"completed"`  // runs finished
	InProgress int     `json:"inProgress"` // active or paused runs
	Rate       float64 `json:"rate"`       // Completed / Started (0 with no runs)
	// Respondents answered at least one question (LINE, staff or CSV).
	Respondents int            `json:"respondents"`
	Rejected    map[string]int `json:"rejected"` // ignored postbacks: forged, replayed, stale
	Questions   []QuestionStat `json:"questions"`
}

// QuestionStat is one question's answers.
type QuestionStat struct {
	ID       string `json:"id"`
	Text     string `json:"text"`
	Type     string `json:"type"`
	Answered int    `json:"answered"`
	// DroppedHere counts runs that stopped at this question (paused,
	// stopped or still waiting on it).
	DroppedHere int `json:"droppedHere"`
	// Counts per choice (choice questions, in the question's order) or per
	// value (numbers and dates, by value; at most 30).
	Counts []ValueCount `json:"counts"`
	// Latest free-text answers (at most 20), newest first; masked for the
	// agency role (Mask).
	Texts []string `json:"texts"`
}

// ValueCount is how many answers had a value.
type ValueCount struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

// Results computes a survey's results and audits that they were viewed.
func (s *Service) Results(ctx context.Context, actor string, id int64) (Results, error) {
	sv, err := s.Get(ctx, id)
	if err != nil {
		return Results{}, err
	}
	r := Results{SurveyID: id, Rejected: map[string]int{"forged": 0, "replayed": 0, "stale": 0}, Questions: []QuestionStat{}}
	db := s.db.Reader()
	if err := db.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE state = 'completed'), count(*) FILTER (WHERE state IN ('active','paused'))
		FROM survey_sessions WHERE survey_id = ?`, id).Scan(&r.Started, &r.Completed, &r.InProgress); err != nil {
		return Results{}, fmt.Errorf("survey: results: %w", err)
	}
	if r.Started > 0 {
		r.Rate = float64(r.Completed) / float64(r.Started)
	}
	if err := db.QueryRowContext(ctx, `SELECT count(DISTINCT coalesce('c' || a.customer_id, 'u' || a.line_user_id)) FROM survey_answers a WHERE a.survey_id = ?`, id).
		Scan(&r.Respondents); err != nil {
		return Results{}, fmt.Errorf("survey: results: %w", err)
	}
	if err := each(ctx, db, `SELECT reason, count(*) FROM survey_rejects WHERE survey_id = ? GROUP BY reason`, []any{id}, func(rows *sql.Rows) error {
		var (
			reason string
			n      int
		)
		if err := rows.Scan(&reason, &n); err != nil {
			return err
		}
		r.Rejected[reason] = n
		return nil
	}); err != nil {
		return Results{}, err
	}
	for _, q := range sv.Questions {
		st := QuestionStat{ID: q.ID, Text: q.Text, Type: q.Type, Counts: []ValueCount{}, Texts: []string{}}
		if err := db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM survey_answers WHERE survey_id = ? AND question_id = ?),
			(SELECT count(*) FROM survey_sessions WHERE survey_id = ? AND question_id = ? AND state <> 'completed')`, id, q.ID, id, q.ID).
			Scan(&st.Answered, &st.DroppedHere); err != nil {
			return Results{}, fmt.Errorf("survey: results: %w", err)
		}
		values := map[string]int{}
		err := each(ctx, db, `SELECT value, count(*) FROM survey_answers WHERE survey_id = ? AND question_id = ? GROUP BY value`, []any{id, q.ID}, func(rows *sql.Rows) error {
			var (
				v string
				n int
			)
			if err := rows.Scan(&v, &n); err != nil {
				return err
			}
			if q.Type == TypeMulti {
				for _, part := range strings.Split(v, "\n") {
					values[part] += n
				}
			} else {
				values[v] += n
			}
			return nil
		})
		if err != nil {
			return Results{}, err
		}
		switch q.Type {
		case TypeSingle, TypeMulti:
			for _, c := range q.Choices {
				st.Counts = append(st.Counts, ValueCount{Value: c.Label, Count: values[c.Label]})
			}
		case TypeNumber, TypeDate:
			for v, n := range values {
				st.Counts = append(st.Counts, ValueCount{Value: v, Count: n})
			}
			sort.Slice(st.Counts, func(i, j int) bool { return lessValue(q.Type, st.Counts[i].Value, st.Counts[j].Value) })
			if len(st.Counts) > 30 {
				st.Counts = st.Counts[:30]
			}
		case TypeText:
			if err := each(ctx, db, `SELECT value FROM survey_answers WHERE survey_id = ? AND question_id = ? ORDER BY answered_at DESC, id DESC LIMIT 20`,
				[]any{id, q.ID}, func(rows *sql.Rows) error {
					var v string
					if err := rows.Scan(&v); err != nil {
						return err
					}
					st.Texts = append(st.Texts, v)
					return nil
				}); err != nil {
				return Results{}, err
			}
		}
		r.Questions = append(r.Questions, st)
	}
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		return record(ctx, tx, s.now().UnixMilli(), actor, ActionResults, id, nil)
	})
	return r, err
}

func lessValue(typ, a, b string) bool {
	if typ == TypeNumber {
		var fa, fb float64
		fmt.Sscan(a, &fa)
		fmt.Sscan(b, &fb)
		return fa < fb
	}
	return a < b
}

// ExportOptions say how answers are exported.
type ExportOptions struct {
	// Masked hides names and free-text answers (the agency role).
	Masked bool
}

// Export writes a survey's answers as CSV (UTF-8 with BOM, so Excel opens
// it; every cell defused against formula injection), one row per
// respondent, and audits it. It returns the number of respondents written.
func (s *Service) Export(ctx context.Context, actor string, id int64, w io.Writer, opts ExportOptions) (int, error) {
	sv, err := s.Get(ctx, id)
	if err != nil {
		return 0, err
	}
	type row struct {
		no, name, user, source string
		at                     int64
		values                 map[string]string
	}
	rows := map[string]*row{}
	var order []string
	err = each(ctx, s.db.Reader(), `
		SELECT coalesce(a.customer_id, l.customer_id, 0), coalesce(c.customer_no, ''), coalesce(c.name, ''), coalesce(a.line_user_id, ''),
		       a.question_id, a.value, a.source, a.answered_at
		FROM survey_answers a
		LEFT JOIN customer_line_links l ON l.line_user_id = a.line_user_id
		LEFT JOIN customers c ON c.id = coalesce(a.customer_id, l.customer_id)
		WHERE a.survey_id = ? ORDER BY a.answered_at, a.id`, []any{id}, func(rs *sql.Rows) error {
		var (
			cid                         int64
			no, name, user, qid, v, src string
			at                          int64
		)
		if err := rs.Scan(&cid, &no, &name, &user, &qid, &v, &src, &at); err != nil {
			return err
		}
		key := "u" + user
		if cid != 0 {
			key = fmt.Sprint("c", cid)
		}
		r, ok := rows[key]
		if !ok {
			r = &row{no: no, name: name, user: user, values: map[string]string{}}
			rows[key] = r
			order = append(order, key)
		}
		r.values[qid] = v
		r.source, r.at = src, at
		return nil
	})
	if err != nil {
		return 0, err
	}
	if _, err := w.Write([]byte("\xEF\xBB\xBF")); err != nil {
		return 0, err
	}
	cw := csv.NewWriter(w)
	head := []string{"顧客番号", "氏名", "LINE連携", "回答元", "最終回答日時"}
	for _, q := range sv.Questions {
		head = append(head, q.ID+" "+q.Text)
	}
	cw.Write(head)
	jst := time.FixedZone("JST", 9*3600)
	for _, key := range order {
		r := rows[key]
		linked := "連携済み"
		if r.no == "" {
			linked = "未連携"
		}
		name := r.name
		if opts.Masked && name != "" {
			name = mask.Name(name)
		}
		rec := []string{r.no, name, linked, r.source, time.UnixMilli(r.at).In(jst).Format("2006-01-02 15:04")}
		for _, q := range sv.Questions {
			v := strings.ReplaceAll(r.values[q.ID], "\n", "、")
			if opts.Masked && q.Type == TypeText && v != "" {
				v = mask.Body(v)
			}
			rec = append(rec, v)
		}
		for i := range rec {
			rec[i] = export.Neutralize(rec[i])
		}
		cw.Write(rec)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return 0, err
	}
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		return record(ctx, tx, s.now().UnixMilli(), actor, ActionExport, id, map[string]string{"rows": fmt.Sprint(len(order)), "masked": fmt.Sprint(opts.Masked)})
	})
	return len(order), err
}

func each(ctx context.Context, db *sql.DB, query string, args []any, fn func(*sql.Rows) error) error {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("survey: query: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return fmt.Errorf("survey: query: %w", err)
		}
	}
	return rows.Err()
}
