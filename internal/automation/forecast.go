package automation

import (
	"context"
	"fmt"
	"math"
	"time"
)

// FollowRateDays is the window of past follows a welcome series' forecast
// takes its pace of new friends from.
const FollowRateDays = 30

// Forecast is what an active rule is expected to send on LINE before a
// time (the dashboard's quota forecast). A LINE send to one person counts
// one message of the monthly quota, whatever its number of bubbles.
type Forecast struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Kind string `json:"kind"`
	// Messages is the expected LINE sends: for a date reminder, the
	// customers its rules reach on LINE on each remaining day (the same
	// per-day decision as its send, so today's data); for a welcome
	// series, InSeries + NewFriends.
	Messages int64 `json:"messages"`
	// InSeries: steps still due to friends already in the series.
	InSeries int64 `json:"inSeries"`
	// NewFriends: steps to friends who will add the account, at the pace
	// of the last FollowRateDays days (Follows), rounded up.
	NewFriends int64 `json:"newFriends"`
	Follows    int64 `json:"follows"`
}

// ForecastLine estimates, for every active rule, the LINE sends it will
// make from now until until. It reads; it sends and records nothing.
func (s *Service) ForecastLine(ctx context.Context, until time.Time) ([]Forecast, error) {
	rules, err := s.list(ctx, s.db.Reader(), `WHERE status = 'active' ORDER BY id`)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := []Forecast{}
	for _, r := range rules {
		f := Forecast{ID: r.ID, Name: r.Name, Kind: r.Kind}
		if r.Kind == KindWelcome {
			if err := s.forecastWelcome(ctx, r, now, until, &f); err != nil {
				return nil, err
			}
		} else if hasLine(r.Spec.Channels) {
			loc := r.Location()
			for d := civil(now.In(loc)); r.sendTime(d, loc).Before(until); d = d.add(1) {
				if r.sendTime(d, loc).Before(now) {
					continue // today's send time has passed
				}
				err := s.decide(ctx, r, d, func(x due) {
					if x.channel == "line" {
						f.Messages++
					}
				})
				if err != nil {
					return nil, fmt.Errorf("automation: forecast %d: %w", r.ID, err)
				}
			}
		}
		out = append(out, f)
	}
	return out, nil
}

func hasLine(chs []string) bool {
	for _, c := range chs {
		if c == "line" {
			return true
		}
	}
	return false
}

func (s *Service) forecastWelcome(ctx context.Context, r Rule, now, until time.Time, f *Forecast) error {
	rows, err := s.db.Reader().QueryContext(ctx, `SELECT followed_at, next_step FROM automation_welcome WHERE automation_id = ? AND stopped_at IS NULL`, r.ID)
	if err != nil {
		return fmt.Errorf("automation: forecast %d: %w", r.ID, err)
	}
	for rows.Next() {
		var ms int64
		var step int
		if err := rows.Scan(&ms, &step); err != nil {
			rows.Close()
			return fmt.Errorf("automation: forecast %d: %w", r.ID, err)
		}
		for i := step; i < len(r.Spec.Steps); i++ {
			if r.stepDue(i, time.UnixMilli(ms)).Before(until) {
				f.InSeries++ // a step already late is sent at the next tick
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("automation: forecast %d: %w", r.ID, err)
	}
	if err := s.db.Reader().QueryRowContext(ctx, `SELECT count(*) FROM automation_welcome WHERE automation_id = ? AND followed_at > ?`,
		r.ID, now.AddDate(0, 0, -FollowRateDays).UnixMilli()).Scan(&f.Follows); err != nil {
		return fmt.Errorf("automation: forecast %d: %w", r.ID, err)
	}
	// A friend following k days from now gets step i at k days plus its
	// delay: count, per step, the days left on which a follow still
	// reaches that step before until.
	perDay := float64(f.Follows) / FollowRateDays
	var days float64
	for i := range r.Spec.Steps {
		left := until.Sub(r.stepDue(i, now)).Hours() / 24
		if left > 0 {
			days += left
		}
	}
	f.NewFriends = int64(math.Ceil(perDay*days - 1e-9)) // the epsilon: 0.1×30 is not 3.0000001 people
	f.Messages = f.InSeries + f.NewFriends
	return nil
}
