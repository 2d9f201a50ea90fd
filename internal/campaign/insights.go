package campaign

import (
	"context"
	"encoding/csv"
	"strconv"

	"tsunagu/internal/export"
	"tsunagu/internal/insights"
)

// LINE's statistics in the CSV export: after the per-recipient rows, a
// block with LINE's figures for the campaign, in the same six columns so
// that the file stays one table for Excel: 項目, メッセージ (bubble number),
// URL, 人数 (or why there is none), and two empty columns.
const (
	csvLineTitle    = "LINE の集計（LINE 社が集計した人数。20 人未満は表示されません）"
	csvLineWaiting  = "LINE の集計は翌日に反映されます"
	csvLineNoUnit   = "今月の集計単位の上限（1,000）に達していたため、LINE の集計はありません"
	csvLineNone     = "LINE の集計はありません"
	csvLineWithheld = "人数が少ないため表示されません"
)

// Insights is campaign id's LINE statistics as stored (package insights).
func (s *Service) Insights(ctx context.Context, id int64) (insights.Report, error) {
	return insights.Get(ctx, s.db, insights.CampaignKey(id))
}

// writeLineStats appends the LINE block to an export of a campaign that
// sends by LINE; delivered is Tsunagu's own count of LINE recipients sent.
func writeLineStats(cw *csv.Writer, rep insights.Report, delivered int) error {
	width := len(ReportHeader)
	row := func(cells ...string) error {
		rec := make([]string, width)
		for i, c := range cells {
			rec[i] = export.Neutralize(c)
		}
		return cw.Write(rec)
	}
	figure := func(f insights.Figure) string {
		if f.Withheld {
			return csvLineWithheld
		}
		return strconv.FormatInt(f.Value, 10)
	}
	if err := row(); err != nil {
		return err
	}
	if err := row(csvLineTitle); err != nil {
		return err
	}
	if err := row("項目", "メッセージ", "URL", "人数"); err != nil {
		return err
	}
	if err := row("配信", "", "", strconv.Itoa(delivered)); err != nil {
		return err
	}
	switch rep.Status {
	case insights.StatusWaiting:
		return row(csvLineWaiting)
	case insights.StatusNone:
		if rep.NoUnit {
			return row(csvLineNoUnit)
		}
		return row(csvLineNone)
	}
	st := rep.Stats
	for _, r := range [][]string{
		{"開封", "", "", figure(st.Opened)},
		{"クリック", "", "", figure(st.Clicked)},
		{"動画・音声の再生", "", "", figure(st.Played)},
		{"最後まで再生", "", "", figure(st.Finished)},
	} {
		if err := row(r...); err != nil {
			return err
		}
	}
	for _, b := range st.Bubbles {
		if err := row("開封", strconv.Itoa(b.Seq), "", figure(b.Opened)); err != nil {
			return err
		}
	}
	for _, l := range st.Links {
		if err := row("クリック", strconv.Itoa(l.Seq), l.URL, figure(l.Clicked)); err != nil {
			return err
		}
	}
	return nil
}
