package routes

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"

	"tsunagu/internal/export"
)

// jst is the branch's calendar for the report's days.
var jst = time.FixedZone("JST", 9*3600)

// Report is friends per route per day, blocks and linked customers per
// route, for the last Days days (JST) up to today.
type Report struct {
	Days []string `json:"days"` // "2026-12-01", oldest first
	// Rows: one per route (archived too, if it has friends), then the
	// friends no route explains (RouteID 0, Reason set).
	Rows []ReportRow `json:"rows"`
}

// ReportRow is one route's (or one kind of unknown's) figures. Friends,
// Blocked and Linked count every friend ever attributed; PerDay only those
// of the report's days.
type ReportRow struct {
	RouteID  int64  `json:"routeId"`
	Name     string `json:"name"`   // the route's name ("" for unknown)
	Reason   string `json:"reason"` // for RouteID 0: none, ambiguous, refollow
	Archived bool   `json:"archived"`
	Visits   int    `json:"visits"`
	Friends  int    `json:"friends"`
	Blocked  int    `json:"blocked"` // friends who block the account now
	Linked   int    `json:"linked"`  // friends linked to a customer now
	PerDay   []int  `json:"perDay"`
}

// MaxReportDays bounds the report's period.
const MaxReportDays = 366

// Report computes the report over the last days days (1..MaxReportDays).
func (s *Service) Report(ctx context.Context, days int) (Report, error) {
	days = min(max(days, 1), MaxReportDays)
	today := s.now().In(jst)
	start := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, jst).AddDate(0, 0, -(days - 1))
	rep := Report{Days: make([]string, days), Rows: []ReportRow{}}
	for i := range days {
		rep.Days[i] = start.AddDate(0, 0, i).Format("2006-01-02")
	}
	rows, err := s.db.Reader().QueryContext(ctx, `
		SELECT coalesce(f.route_id, 0), coalesce(r.name, ''), CASE WHEN f.route_id IS NULL THEN f.reason ELSE '' END,
			coalesce(r.archived_at IS NOT NULL, 0),
			COUNT(*),
			COUNT(*) FILTER (WHERE u.follow_state = 'unfollowed'),
			COUNT(l.customer_id)
		FROM route_friends f
		LEFT JOIN routes r ON r.id = f.route_id
		LEFT JOIN line_users u ON u.user_id = f.line_user_id
		LEFT JOIN customer_line_links l ON l.line_user_id = f.line_user_id
		GROUP BY 1, 3 ORDER BY f.route_id IS NULL, f.route_id DESC, 3`)
	if err != nil {
		return Report{}, fmt.Errorf("routes: report: %w", err)
	}
	idx := map[string]int{}
	key := func(id int64, reason string) string { return strconv.FormatInt(id, 10) + "/" + reason }
	for rows.Next() {
		row := ReportRow{PerDay: make([]int, days)}
		if err := rows.Scan(&row.RouteID, &row.Name, &row.Reason, &row.Archived, &row.Friends, &row.Blocked, &row.Linked); err != nil {
			rows.Close()
			return Report{}, fmt.Errorf("routes: report: %w", err)
		}
		idx[key(row.RouteID, row.Reason)] = len(rep.Rows)
		rep.Rows = append(rep.Rows, row)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Report{}, fmt.Errorf("routes: report: %w", err)
	}
	// Active routes without friends yet are listed too (before the unknowns).
	routes, err := s.List(ctx, false)
	if err != nil {
		return Report{}, err
	}
	var lead []ReportRow
	for _, r := range routes {
		if i, ok := idx[key(r.ID, "")]; ok {
			rep.Rows[i].Visits = r.Visits
			continue
		}
		lead = append(lead, ReportRow{RouteID: r.ID, Name: r.Name, Visits: r.Visits, PerDay: make([]int, days)})
	}
	if len(lead) > 0 {
		rep.Rows = append(lead, rep.Rows...)
		for i, row := range rep.Rows {
			idx[key(row.RouteID, row.Reason)] = i
		}
	}
	days2, err := s.db.Reader().QueryContext(ctx, `
		SELECT coalesce(route_id, 0), CASE WHEN route_id IS NULL THEN reason ELSE '' END, (followed_at - ?) / 86400000, COUNT(*)
		FROM route_friends WHERE followed_at >= ? GROUP BY 1, 2, 3`, start.UnixMilli(), start.UnixMilli())
	if err != nil {
		return Report{}, fmt.Errorf("routes: report: %w", err)
	}
	defer days2.Close()
	for days2.Next() {
		var (
			id       int64
			reason   string
			day, cnt int
		)
		if err := days2.Scan(&id, &reason, &day, &cnt); err != nil {
			return Report{}, fmt.Errorf("routes: report: %w", err)
		}
		if i, ok := idx[key(id, reason)]; ok && day >= 0 && day < days {
			rep.Rows[i].PerDay[day] = cnt
		}
	}
	return rep, days2.Err()
}

// reasonLabel is the CSV's name of the friends no route explains.
var reasonLabel = map[string]string{
	ReasonNone:      "経路不明（QR を経由していない）",
	ReasonAmbiguous: "経路不明（複数の経路が同時刻）",
	ReasonRefollow:  "ブロック解除（以前からの友だち）",
}

// ExportCSV writes the report as CSV (経路, 状態, 読み取り, 友だち, ブロック,
// 顧客ひも付け, then one column per day) and audits the export. It returns
// the number of rows.
func (s *Service) ExportCSV(ctx context.Context, actor string, days int, w io.Writer) (int, error) {
	rep, err := s.Report(ctx, days)
	if err != nil {
		return 0, err
	}
	// A BOM so that Excel reads UTF-8, as the other exports.
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		return 0, err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	head := []string{"経路", "状態", "QR 読み取り", "友だち", "ブロック中", "顧客ひも付け済み"}
	head = append(head, rep.Days...)
	if err := cw.Write(head); err != nil {
		return 0, err
	}
	for _, r := range rep.Rows {
		name, state := r.Name, "利用中"
		if r.RouteID == 0 {
			name, state = reasonLabel[r.Reason], ""
		} else if r.Archived {
			state = "アーカイブ済み"
		}
		rec := []string{export.Neutralize(name), state, strconv.Itoa(r.Visits), strconv.Itoa(r.Friends), strconv.Itoa(r.Blocked), strconv.Itoa(r.Linked)}
		for _, n := range r.PerDay {
			rec = append(rec, strconv.Itoa(n))
		}
		if err := cw.Write(rec); err != nil {
			return 0, err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return 0, err
	}
	if err := s.recordExport(ctx, actor, 0, "report", len(rep.Rows)); err != nil {
		return 0, fmt.Errorf("routes: export: %w", err)
	}
	return len(rep.Rows), nil
}
