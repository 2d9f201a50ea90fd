package forms

import (
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"tsunagu/internal/audit"
	"tsunagu/internal/export"
	"tsunagu/internal/mask"
)

// ActionExport: a form's answers exported as CSV.
const ActionExport = "form.export"

// ExportOptions say how answers are exported.
type ExportOptions struct {
	// Masked hides names and every answer that could say who someone is
	// (free text, e-mail, phone, birth date, address), as for surveys (the
	// agency role); choices, numbers, dates and consent stay.
	Masked bool
}

// maskedType reports whether a question's answers are hidden when masked.
func maskedType(t string) bool {
	switch t {
	case TypeChoice, TypeMulti, TypeNumber, TypeDate, TypeConsent:
		return false
	}
	return true
}

// cell is an answer as one CSV cell.
func cell(q Question, v any) string {
	switch a := v.(type) {
	case nil:
		return ""
	case string:
		if q.Type == TypeConsent && a == "agreed" {
			return "同意"
		}
		return strings.ReplaceAll(a, "\n", " ")
	case []any:
		parts := make([]string, 0, len(a))
		for _, x := range a {
			parts = append(parts, fmt.Sprint(x))
		}
		return strings.Join(parts, "、")
	case map[string]any:
		m := map[string]string{}
		for k, x := range a {
			m[k], _ = x.(string)
		}
		return postalText(m)
	}
	return fmt.Sprint(v)
}

// Export writes a form's answers as CSV (UTF-8 with BOM, so Excel opens
// it; every cell defused against formula injection), one row per answer,
// oldest first, and audits it with the row count and whether it was
// masked. It returns the number of rows.
func (s *Service) Export(ctx context.Context, actor string, id int64, w io.Writer, opts ExportOptions) (int, error) {
	f, err := s.Get(ctx, id)
	if err != nil {
		return 0, err
	}
	rows, err := s.db.Reader().QueryContext(ctx, `SELECT coalesce(c.customer_no, ''), coalesce(c.name, ''), coalesce(u.display_name, ''), a.answers, a.received_at
		FROM form_answers a LEFT JOIN line_users u ON u.user_id = a.line_user_id
		LEFT JOIN customer_line_links l ON l.line_user_id = a.line_user_id LEFT JOIN customers c ON c.id = l.customer_id
		WHERE a.form_id = ? ORDER BY a.received_at, a.submit_id`, id)
	if err != nil {
		return 0, fmt.Errorf("forms: export: %w", err)
	}
	defer rows.Close()
	if _, err := w.Write([]byte("\xEF\xBB\xBF")); err != nil {
		return 0, err
	}
	cw := csv.NewWriter(w)
	head := []string{"顧客番号", "氏名", "LINE の表示名", "受付日時"}
	var asked []Question
	for _, q := range f.Questions {
		if q.Type != TypeSection {
			asked = append(asked, q)
			head = append(head, q.Label)
		}
	}
	cw.Write(head)
	jst := time.FixedZone("JST", 9*3600)
	n := 0
	for rows.Next() {
		var (
			no, name, display, vals string
			at                      int64
		)
		if err := rows.Scan(&no, &name, &display, &vals, &at); err != nil {
			return n, fmt.Errorf("forms: export: %w", err)
		}
		var values map[string]any
		if err := json.Unmarshal([]byte(vals), &values); err != nil {
			return n, fmt.Errorf("forms: export: %w", err)
		}
		if opts.Masked {
			name, display = maskNonEmpty(name), maskNonEmpty(display)
		}
		rec := []string{no, name, display, time.UnixMilli(at).In(jst).Format("2006-01-02 15:04")}
		for _, q := range asked {
			v := cell(q, values[q.ID])
			if opts.Masked && maskedType(q.Type) && v != "" {
				v = mask.Body(v)
			}
			rec = append(rec, v)
		}
		for i := range rec {
			rec[i] = export.Neutralize(rec[i])
		}
		cw.Write(rec)
		n++
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("forms: export: %w", err)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return n, err
	}
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		_, err := audit.Record(ctx, tx, audit.Entry{At: s.now().UnixMilli(), Actor: actor, Action: ActionExport, Target: target(id),
			Detail: map[string]string{"rows": strconv.Itoa(n), "masked": strconv.FormatBool(opts.Masked)}})
		return err
	})
	return n, err
}

func maskNonEmpty(s string) string {
	if s == "" {
		return ""
	}
	return mask.Name(s)
}

// Mask hides, in answers shown on screen, what Export hides when masked.
func (a *Answer) Mask(qs []Question) {
	a.DisplayName, a.Customer = maskNonEmpty(a.DisplayName), maskNonEmpty(a.Customer)
	for _, q := range qs {
		if v, ok := a.Values[q.ID]; ok && maskedType(q.Type) {
			a.Values[q.ID] = mask.Body(cell(q, v))
		}
	}
}
