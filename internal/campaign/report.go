package campaign

import (
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"

	"tsunagu/internal/audit"
	"tsunagu/internal/export"
)

// recipientsFrom joins each LINE recipient to its request: a LINE
// recipient's status, send time and error are the request's.
const (
	recipientsFrom = `campaign_recipients r LEFT JOIN campaign_line_requests q ON q.id = r.line_request`
	effStatus      = `coalesce(q.status, r.status)`
	effSentAt      = `coalesce(q.sent_at, r.sent_at)`
	effError       = `CASE WHEN q.id IS NULL THEN r.error ELSE q.error END`
)

// ChannelReport counts one channel's recipients by state.
type ChannelReport struct {
	Channel   string `json:"channel"`
	Planned   int    `json:"planned"`
	Sent      int    `json:"sent"`
	Failed    int    `json:"failed"`
	Pending   int    `json:"pending"`
	Uncertain int    `json:"uncertain"` // may have been delivered: check, never resent
}

// TimelinePoint is what went out in one minute.
type TimelinePoint struct {
	At    int64 `json:"at"` // start of the minute, unix ms
	Line  int   `json:"line"`
	Email int   `json:"email"`
	SMS   int   `json:"sms"`
}

// Report is a campaign's outcome.
type Report struct {
	CampaignID   int64           `json:"campaignId"`
	Status       string          `json:"status"`
	Matched      int             `json:"matched"`
	Channels     []ChannelReport `json:"channels"`
	Skipped      map[string]int  `json:"skipped"`
	LineRequests int             `json:"lineRequests"`
	LineSent     int             `json:"lineSent"`
	LineFailed   int             `json:"lineFailed"`
	LinePending  int             `json:"linePending"`
	Timeline     []TimelinePoint `json:"timeline"`
	StartedAt    int64           `json:"startedAt"`
	FinishedAt   int64           `json:"finishedAt"`
	Error        string          `json:"error"`
}

// Report summarises a campaign's deliveries.
func (s *Service) Report(ctx context.Context, id int64) (Report, error) {
	c, err := s.Get(ctx, id)
	if err != nil {
		return Report{}, err
	}
	rep := Report{CampaignID: id, Status: c.Status, Skipped: map[string]int{}, Timeline: []TimelinePoint{},
		StartedAt: c.StartedAt, FinishedAt: c.FinishedAt, Error: c.Error}
	byCh := map[string]*ChannelReport{}
	for _, ch := range []string{ChannelLine, ChannelEmail, ChannelSMS} {
		byCh[ch] = &ChannelReport{Channel: ch}
	}
	rows, err := s.db.Reader().QueryContext(ctx, `SELECT r.channel, `+effStatus+`, r.skip_reason, count(*) FROM `+recipientsFrom+` WHERE r.campaign_id = ? GROUP BY 1, 2, 3`, id)
	if err != nil {
		return Report{}, fmt.Errorf("campaign: report: %w", err)
	}
	for rows.Next() {
		var (
			ch, status, reason string
			n                  int
		)
		if err := rows.Scan(&ch, &status, &reason, &n); err != nil {
			rows.Close()
			return Report{}, err
		}
		rep.Matched += n
		if ch == "none" {
			rep.Skipped[reason] += n
			continue
		}
		cr := byCh[ch]
		cr.Planned += n
		switch status {
		case "sent":
			cr.Sent += n
		case "failed":
			cr.Failed += n
		case "uncertain":
			cr.Uncertain += n
		default:
			cr.Pending += n
		}
	}
	rows.Close()
	if rep.Matched, err = s.matched(ctx, id, rep.Matched); err != nil {
		return Report{}, err
	}
	for _, ch := range c.Channels {
		rep.Channels = append(rep.Channels, *byCh[ch])
	}
	err = s.db.Reader().QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE status = 'sent'), count(*) FILTER (WHERE status = 'failed'),
		count(*) FILTER (WHERE status = 'pending') FROM campaign_line_requests WHERE campaign_id = ?`, id).
		Scan(&rep.LineRequests, &rep.LineSent, &rep.LineFailed, &rep.LinePending)
	if err != nil {
		return Report{}, fmt.Errorf("campaign: report: %w", err)
	}
	trows, err := s.db.Reader().QueryContext(ctx, `SELECT `+effSentAt+` / 60000 * 60000, r.channel, count(*) FROM `+recipientsFrom+`
		WHERE r.campaign_id = ? AND `+effStatus+` = 'sent' AND `+effSentAt+` IS NOT NULL GROUP BY 1, 2 ORDER BY 1`, id)
	if err != nil {
		return Report{}, fmt.Errorf("campaign: report timeline: %w", err)
	}
	defer trows.Close()
	for trows.Next() {
		var (
			at int64
			ch string
			n  int
		)
		if err := trows.Scan(&at, &ch, &n); err != nil {
			return Report{}, err
		}
		if len(rep.Timeline) == 0 || rep.Timeline[len(rep.Timeline)-1].At != at {
			rep.Timeline = append(rep.Timeline, TimelinePoint{At: at})
		}
		p := &rep.Timeline[len(rep.Timeline)-1]
		switch ch {
		case ChannelLine:
			p.Line += n
		case ChannelEmail:
			p.Email += n
		case ChannelSMS:
			p.SMS += n
		}
	}
	return rep, trows.Err()
}

// Delivery is one recipient's record.
type Delivery struct {
	CustomerID int64  `json:"customerId"`
	CustomerNo string `json:"customerNo"`
	Name       string `json:"name"`
	Channel    string `json:"channel"`
	Address    string `json:"address"`
	Status     string `json:"status"`
	SkipReason string `json:"skipReason"`
	Error      string `json:"error"`
	SentAt     int64  `json:"sentAt"`
}

// DeliveryFilter narrows the delivery list ("" matches all).
type DeliveryFilter struct {
	Channel string `json:"channel"`
	Status  string `json:"status"`
	Offset  int    `json:"offset"`
	Limit   int    `json:"limit"`
}

// DeliveryPage is one page of deliveries.
type DeliveryPage struct {
	Total int        `json:"total"`
	Rows  []Delivery `json:"rows"`
}

// Deliveries lists per-recipient records.
func (s *Service) Deliveries(ctx context.Context, id int64, f DeliveryFilter) (DeliveryPage, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	where := `r.campaign_id = ? AND (? = '' OR r.channel = ?) AND (? = '' OR ` + effStatus + ` = ?)`
	args := []any{id, f.Channel, f.Channel, f.Status, f.Status}
	p := DeliveryPage{Rows: []Delivery{}}
	if err := s.db.Reader().QueryRowContext(ctx, `SELECT count(*) FROM `+recipientsFrom+` WHERE `+where, args...).Scan(&p.Total); err != nil {
		return p, fmt.Errorf("campaign: deliveries: %w", err)
	}
	rows, err := s.db.Reader().QueryContext(ctx, `SELECT r.customer_id, c.customer_no, c.name, r.channel, r.address, `+effStatus+`, r.skip_reason, `+effError+`, coalesce(`+effSentAt+`, 0)
		FROM `+recipientsFrom+` JOIN customers c ON c.id = r.customer_id WHERE `+where+` ORDER BY c.customer_no LIMIT ? OFFSET ?`,
		append(args, f.Limit, max(f.Offset, 0))...)
	if err != nil {
		return p, fmt.Errorf("campaign: deliveries: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var d Delivery
		if err := rows.Scan(&d.CustomerID, &d.CustomerNo, &d.Name, &d.Channel, &d.Address, &d.Status, &d.SkipReason, &d.Error, &d.SentAt); err != nil {
			return p, err
		}
		p.Rows = append(p.Rows, d)
	}
	return p, rows.Err()
}

// ReportHeader is the CSV export's header row.
var ReportHeader = []string{"顧客番号", "チャネル", "状態", "スキップ理由", "送信日時", "エラー"}

var (
	channelText = map[string]string{"line": "LINE", "email": "メール", "sms": "SMS", "none": ""} // skipped: no channel (the status says why)
	statusText  = map[string]string{"skipped": "対象外", "pending": "未送信", "sending": "送信中", "sent": "送信済",
		"failed": "失敗", "uncertain": "要確認", "queued": "未送信"}
	reasonText = map[string]string{"": "", SkipNoConsent: "同意なし", SkipBlocked: "ブロック", SkipNoContact: "連絡先なし",
		SkipInactive: "無効な顧客", SkipDuplicate: "重複", SkipEmailOff: "メール未選択・アドレスあり", SkipSMSOff: "SMS未選択・携帯番号あり",
		SkipPlaceholder: "差し込み項目が空"}
)

// ExportReport writes the per-recipient report as CSV (UTF-8 with BOM, for
// Excel) and audits the export. Values are defused against CSV injection;
// no names or addresses are written, only customer numbers.
func (s *Service) ExportReport(ctx context.Context, actor string, id int64, w io.Writer, loc *time.Location) (int, error) {
	c, err := s.Get(ctx, id)
	if err != nil {
		return 0, err
	}
	if loc == nil {
		loc = time.FixedZone("JST", 9*3600)
	}
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		return 0, err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(ReportHeader); err != nil {
		return 0, err
	}
	rows, err := s.db.Reader().QueryContext(ctx, `SELECT c.customer_no, r.channel, `+effStatus+`, r.skip_reason, coalesce(`+effSentAt+`, 0), `+effError+`
		FROM `+recipientsFrom+` JOIN customers c ON c.id = r.customer_id WHERE r.campaign_id = ? ORDER BY c.customer_no`, id)
	if err != nil {
		return 0, fmt.Errorf("campaign: export: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var (
			no, ch, status, reason, msg string
			sentAt                      int64
		)
		if err := rows.Scan(&no, &ch, &status, &reason, &sentAt, &msg); err != nil {
			return n, err
		}
		at := ""
		if sentAt > 0 {
			at = time.UnixMilli(sentAt).In(loc).Format("2006-01-02 15:04:05")
		}
		rec := []string{no, channelText[ch], statusText[status], reasonText[reason], at, msg}
		for i := range rec {
			rec[i] = export.Neutralize(rec[i])
		}
		if err := cw.Write(rec); err != nil {
			return n, err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	lineStats := false
	for _, ch := range c.Channels {
		lineStats = lineStats || ch == ChannelLine
	}
	if lineStats {
		rep, err := s.Report(ctx, id)
		if err != nil {
			return n, err
		}
		ins, err := s.Insights(ctx, id)
		if err != nil {
			return n, err
		}
		delivered := 0
		for _, cr := range rep.Channels {
			if cr.Channel == ChannelLine {
				delivered = cr.Sent
			}
		}
		if err := writeLineStats(cw, ins, delivered); err != nil {
			return n, fmt.Errorf("campaign: export LINE statistics: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return n, err
	}
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		_, err := audit.Record(ctx, tx, audit.Entry{At: s.now().UnixMilli(), Actor: actor, Action: ActionExport, Target: target(id),
			Detail: map[string]string{"rows": strconv.Itoa(n)}})
		return err
	})
	return n, err
}
