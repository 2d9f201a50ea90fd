package automation

import (
	"context"
	"time"
)

// PreviewDays is how far ahead a preview looks.
const PreviewDays = 30

// PreviewDay is what a rule would send on one local day.
type PreviewDay struct {
	Date    string `json:"date"`
	Line    int    `json:"line"`
	Email   int    `json:"email"`
	SMS     int    `json:"sms"`
	Skipped int    `json:"skipped"` // in the segment but unreachable with consent
}

// Preview is a rule's next PreviewDays days.
type Preview struct {
	Days    []PreviewDay `json:"days"`
	Line    int          `json:"line"`
	Email   int          `json:"email"`
	SMS     int          `json:"sms"`
	Skipped int          `json:"skipped"`
	Welcome bool         `json:"welcome"` // welcome series depend on future follows: counts are of current friends in a series
	Ms      int64        `json:"ms"`
}

// PreviewDraft previews a rule being edited, before it is saved.
func (s *Service) PreviewDraft(ctx context.Context, d Draft) (Preview, error) {
	if err := d.normalise(); err != nil {
		return Preview{}, err
	}
	return s.preview(ctx, Rule{Kind: d.Kind, Spec: d.Spec, CheckedThrough: ""})
}

// PreviewRule previews a stored rule (what it has sent is not counted).
func (s *Service) PreviewRule(ctx context.Context, id int64) (Preview, error) {
	r, err := s.Get(ctx, id)
	if err != nil {
		return Preview{}, err
	}
	return s.preview(ctx, r)
}

func (s *Service) preview(ctx context.Context, r Rule) (Preview, error) {
	start := time.Now()
	now := s.now()
	loc := r.Location()
	today := civil(now.In(loc))
	p := Preview{Days: make([]PreviewDay, PreviewDays)}
	for i := range p.Days {
		p.Days[i].Date = today.add(i).String()
	}
	if r.Kind == KindWelcome {
		p.Welcome = true
		err := s.previewWelcome(ctx, r, today, &p)
		p.Ms = time.Since(start).Milliseconds()
		return p, err
	}
	for i := range p.Days {
		d := today.add(i)
		if r.sendTime(d, loc).Before(now) {
			continue // today's send time has passed
		}
		pd := &p.Days[i]
		err := s.decide(ctx, r, d, func(x due) {
			switch x.channel {
			case "line":
				pd.Line++
			case "email":
				pd.Email++
			case "sms":
				pd.SMS++
			default:
				pd.Skipped++
			}
		})
		if err != nil {
			return Preview{}, err
		}
		p.Line, p.Email, p.SMS, p.Skipped = p.Line+pd.Line, p.Email+pd.Email, p.SMS+pd.SMS, p.Skipped+pd.Skipped
	}
	p.Ms = time.Since(start).Milliseconds()
	return p, nil
}

// previewWelcome places the pending steps of current open series on days.
func (s *Service) previewWelcome(ctx context.Context, r Rule, today day, p *Preview) error {
	if r.ID == 0 {
		return nil
	}
	rows, err := s.db.Reader().QueryContext(ctx, `SELECT followed_at, next_step FROM automation_welcome WHERE automation_id = ? AND stopped_at IS NULL`, r.ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	loc := r.Location()
	idx := map[string]int{}
	for i, d := range p.Days {
		idx[d.Date] = i
	}
	for rows.Next() {
		var ms int64
		var step int
		if err := rows.Scan(&ms, &step); err != nil {
			return err
		}
		for i := step; i < len(r.Spec.Steps); i++ {
			d := civil(r.stepDue(i, time.UnixMilli(ms)).In(loc))
			if d.before(today) {
				d = today
			}
			if j, ok := idx[d.String()]; ok {
				p.Days[j].Line++
				p.Line++
			}
		}
	}
	return rows.Err()
}

// Stats counts a rule's occurrences.
type Stats struct {
	Sent      int            `json:"sent"`
	Sending   int            `json:"sending"`
	Failed    int            `json:"failed"`
	Uncertain int            `json:"uncertain"`
	Skipped   map[string]int `json:"skipped"` // by reason
	LastSent  int64          `json:"lastSent"`
}

// Stats counts rule id's occurrences by status and skip reason.
func (s *Service) Stats(ctx context.Context, id int64) (Stats, error) {
	if _, err := s.Get(ctx, id); err != nil {
		return Stats{}, err
	}
	st := Stats{Skipped: map[string]int{}}
	rows, err := s.db.Reader().QueryContext(ctx, `SELECT status, reason, count(*), coalesce(max(sent_at), 0) FROM automation_occurrences
		WHERE automation_id = ? GROUP BY status, reason`, id)
	if err != nil {
		return Stats{}, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			status, reason string
			n              int
			last           int64
		)
		if err := rows.Scan(&status, &reason, &n, &last); err != nil {
			return Stats{}, err
		}
		switch status {
		case "sent":
			st.Sent += n
			st.LastSent = max(st.LastSent, last)
		case "sending":
			st.Sending += n
		case "failed":
			st.Failed += n
		case "uncertain":
			st.Uncertain += n
		case "skipped":
			st.Skipped[reason] += n
		}
	}
	return st, rows.Err()
}
