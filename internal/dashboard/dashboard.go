// Package dashboard assembles the friends dashboard: LINE's daily friend
// counts and demographics (stored by package insights) beside Tsunagu's
// own daily counts (linked customers, consenting customers per channel),
// and the month's LINE message quota with a forecast of what is scheduled.
//
// Figures LINE withholds or has not counted yet keep that state all the
// way to the screen; nothing here turns them into zeros.
package dashboard

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"tsunagu/internal/automation"
	"tsunagu/internal/campaign"
	"tsunagu/internal/insights"
	"tsunagu/internal/line"
	"tsunagu/internal/store"
)

// DefaultDays is how many days the dashboard's series cover, today last.
const DefaultDays = 30

// QuotaTimeout bounds the quota lookup: the LINE client retries an
// unreachable LINE for about a minute, and the dashboard should open at
// once with the quota "unknown" instead.
const QuotaTimeout = 5 * time.Second

// jst is LINE's time zone for dates and the quota's month.
var jst = time.FixedZone("JST", 9*60*60)

// QuotaSource gives the month's LINE quota and use (line.Client).
type QuotaSource interface {
	Quota(ctx context.Context) (line.Quota, error)
	QuotaConsumption(ctx context.Context) (int64, error)
}

// Campaigns lists campaigns still to send on LINE (campaign.Service).
type Campaigns interface {
	UpcomingLine(ctx context.Context, until time.Time) ([]campaign.Upcoming, error)
}

// Automations estimates active rules' LINE sends (automation.Service).
type Automations interface {
	ForecastLine(ctx context.Context, until time.Time) ([]automation.Forecast, error)
}

// Config holds the service's dependencies.
type Config struct {
	DB          *store.DB
	Quota       QuotaSource // nil: the quota is unknown (no LINE channel)
	Campaigns   Campaigns   // nil: no campaigns in the forecast
	Automations Automations // nil: no rules in the forecast
	Clock       func() time.Time
	Days        int // 0: DefaultDays
}

// Service reads the dashboard and takes the daily snapshot of own counts.
type Service struct {
	db    *store.DB
	quota QuotaSource
	camps Campaigns
	autos Automations
	now   func() time.Time
	days  int
}

// New returns a service.
func New(cfg Config) (*Service, error) {
	if cfg.DB == nil {
		return nil, errors.New("dashboard: DB is required")
	}
	s := &Service{db: cfg.DB, quota: cfg.Quota, camps: cfg.Campaigns, autos: cfg.Automations, now: cfg.Clock, days: cfg.Days}
	if s.now == nil {
		s.now = time.Now
	}
	if s.days <= 0 {
		s.days = DefaultDays
	}
	return s, nil
}

// OwnDay is Tsunagu's own counts on one date. Known is false for a past
// date with no snapshot (Tsunagu did not run that day).
type OwnDay struct {
	Known        bool  `json:"known"`
	Linked       int64 `json:"linked"`       // customers linked to a LINE user
	ConsentLine  int64 `json:"consentLine"`  // active customers consenting to LINE messages
	ConsentEmail int64 `json:"consentEmail"` // … to email
	ConsentSMS   int64 `json:"consentSms"`   // … to SMS
}

// Day is one JST date of the series.
type Day struct {
	Date string               `json:"date"` // YYYY-MM-DD
	Line insights.FollowerDay `json:"line"`
	Own  OwnDay               `json:"own"` // today: the live figures
}

// QuotaForecast is the month's LINE message quota and what is expected to
// use it. LINE counts a send to one person as one message, whatever its
// number of bubbles; replies are free.
type QuotaForecast struct {
	Month string `json:"month"` // YYYY-MM (JST): LINE's quota month
	// Known: LINE answered the quota and consumption requests. Limited:
	// the plan has a monthly limit (Limit); Remaining = Limit - Used.
	Known     bool  `json:"known"`
	Limited   bool  `json:"limited"`
	Limit     int64 `json:"limit"`
	Used      int64 `json:"used"`
	Remaining int64 `json:"remaining"`
	// Forecast is the sum of the campaigns' and rules' expected messages
	// until the month ends.
	Forecast    int64                 `json:"forecast"`
	Campaigns   []campaign.Upcoming   `json:"campaigns"`
	Automations []automation.Forecast `json:"automations"`
	// Exceeds: the forecast is more than what remains (Shortfall more).
	Exceeds   bool  `json:"exceeds"`
	Shortfall int64 `json:"shortfall"`
}

// Dashboard is everything the screen shows.
type Dashboard struct {
	Days         []Day                 `json:"days"` // oldest first, today last
	Demographics insights.Demographics `json:"demographics"`
	Quota        QuotaForecast         `json:"quota"`
	At           int64                 `json:"at"` // unix ms the figures were read
}

// monthBounds is the JST month of t: its start and the next month's.
func monthBounds(t time.Time) (time.Time, time.Time) {
	y, m, _ := t.In(jst).Date()
	start := time.Date(y, m, 1, 0, 0, 0, 0, jst)
	return start, start.AddDate(0, 1, 0)
}

func dayKey(t time.Time) string { return t.In(jst).Format("2006-01-02") }

// Live counts Tsunagu's own figures now.
func (s *Service) Live(ctx context.Context) (OwnDay, error) {
	d := OwnDay{Known: true}
	err := s.db.Reader().QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM customer_line_links),
		count(*) FILTER (WHERE consent_line IS 1),
		count(*) FILTER (WHERE consent_email IS 1),
		count(*) FILTER (WHERE consent_sms IS 1)
		FROM customers WHERE status = 'active'`).Scan(&d.Linked, &d.ConsentLine, &d.ConsentEmail, &d.ConsentSMS)
	if err != nil {
		return OwnDay{}, fmt.Errorf("dashboard: own counts: %w", err)
	}
	return d, nil
}

// Snapshot stores today's own counts (JST date), replacing an earlier
// snapshot of the same day: a past day keeps the last one taken.
func (s *Service) Snapshot(ctx context.Context) error {
	now := s.now()
	d, err := s.Live(ctx)
	if err != nil {
		return err
	}
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO own_counts (date, linked, consent_line, consent_email, consent_sms, taken_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (date) DO UPDATE SET linked = excluded.linked, consent_line = excluded.consent_line,
			consent_email = excluded.consent_email, consent_sms = excluded.consent_sms, taken_at = excluded.taken_at`,
			dayKey(now), d.Linked, d.ConsentLine, d.ConsentEmail, d.ConsentSMS, now.UnixMilli())
		return err
	})
	if err != nil {
		return fmt.Errorf("dashboard: snapshot: %w", err)
	}
	return nil
}

// Get reads the dashboard: the series of the last Days days, the
// demographics, and the quota with its forecast (asking LINE for the quota
// and its use; if LINE cannot answer, the quota is unknown and the
// forecast is still shown).
func (s *Service) Get(ctx context.Context) (Dashboard, error) {
	now := s.now()
	from := now.AddDate(0, 0, -(s.days - 1))
	lineDays, err := insights.FollowerDays(ctx, s.db, from, now)
	if err != nil {
		return Dashboard{}, err
	}
	own := map[string]OwnDay{}
	rows, err := s.db.Reader().QueryContext(ctx, `SELECT date, linked, consent_line, consent_email, consent_sms FROM own_counts WHERE date >= ? AND date <= ?`,
		dayKey(from), dayKey(now))
	if err != nil {
		return Dashboard{}, fmt.Errorf("dashboard: own counts: %w", err)
	}
	for rows.Next() {
		var date string
		d := OwnDay{Known: true}
		if err := rows.Scan(&date, &d.Linked, &d.ConsentLine, &d.ConsentEmail, &d.ConsentSMS); err != nil {
			rows.Close()
			return Dashboard{}, fmt.Errorf("dashboard: own counts: %w", err)
		}
		own[date] = d
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Dashboard{}, fmt.Errorf("dashboard: own counts: %w", err)
	}
	live, err := s.Live(ctx)
	if err != nil {
		return Dashboard{}, err
	}
	own[dayKey(now)] = live
	out := Dashboard{At: now.UnixMilli(), Days: make([]Day, 0, len(lineDays))}
	for _, ld := range lineDays {
		out.Days = append(out.Days, Day{Date: ld.Date, Line: ld, Own: own[ld.Date]})
	}
	if out.Demographics, err = insights.GetDemographics(ctx, s.db); err != nil {
		return Dashboard{}, err
	}
	if out.Quota, err = s.Forecast(ctx); err != nil {
		return Dashboard{}, err
	}
	return out, nil
}

// Forecast reads the month's quota from LINE and adds up what the
// scheduled campaigns and the active rules are expected to send on LINE
// before the month ends.
func (s *Service) Forecast(ctx context.Context) (QuotaForecast, error) {
	now := s.now()
	_, end := monthBounds(now)
	q := QuotaForecast{Month: now.In(jst).Format("2006-01"), Campaigns: []campaign.Upcoming{}, Automations: []automation.Forecast{}}
	if s.quota != nil {
		// An unreadable quota leaves it unknown; the forecast stands alone.
		qctx, cancel := context.WithTimeout(ctx, QuotaTimeout)
		defer cancel()
		if lq, err := s.quota.Quota(qctx); err == nil {
			if used, err := s.quota.QuotaConsumption(qctx); err == nil {
				q.Known, q.Limited, q.Used = true, lq.Limited, used
				if lq.Limited {
					q.Limit = lq.Limit
					q.Remaining, _ = lq.Remaining(used)
				}
			}
		}
	}
	if s.camps != nil {
		cs, err := s.camps.UpcomingLine(ctx, end)
		if err != nil {
			return QuotaForecast{}, err
		}
		for _, c := range cs {
			q.Forecast += c.LineRecipients
		}
		q.Campaigns = append(q.Campaigns, cs...)
	}
	if s.autos != nil {
		fs, err := s.autos.ForecastLine(ctx, end)
		if err != nil {
			return QuotaForecast{}, err
		}
		for _, f := range fs {
			q.Forecast += f.Messages
		}
		q.Automations = append(q.Automations, fs...)
	}
	if q.Known && q.Limited && q.Forecast > q.Remaining {
		q.Exceeds, q.Shortfall = true, q.Forecast-q.Remaining
	}
	return q, nil
}
