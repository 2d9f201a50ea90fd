package insights

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"tsunagu/internal/line"
	"tsunagu/internal/store"
)

// LINE's daily friend counts and friend demographics (the friends
// dashboard). The fetcher asks for each JST date once LINE's delay has
// passed since the date ended, stores LINE's status with it (a day LINE is
// still counting is "unready", asked again after Refetch; never a zero),
// and asks for the demographics once a day. Both share the fetcher's hourly
// allowance with the per-unit statistics.

// DailySource is the part of the LINE layer the daily figures come from
// (line.Client).
type DailySource interface {
	Followers(ctx context.Context, date time.Time) (line.Followers, error)
	Demographics(ctx context.Context) (line.Demographics, error)
}

const (
	// DefaultFollowerDays is how many days back the fetcher fills LINE's
	// daily friend counts: the dashboard's chart.
	DefaultFollowerDays = 30
	// DemographicsEvery is how often LINE's demographics are asked for:
	// LINE recomputes them daily (and they may be up to 3 days old).
	DemographicsEvery = 24 * time.Hour
)

// Day statuses of the followers series. Ready, Unready and OutOfService
// are LINE's own; Missing means Tsunagu has not asked yet (the date's
// figures are not due, or the hour's allowance ran out).
const (
	DayReady        = string(line.DailyReady)
	DayUnready      = string(line.DailyUnready)
	DayOutOfService = string(line.DailyOutOfService)
	DayMissing      = "missing"
)

// dayKey is t's JST date as stored ('YYYY-MM-DD').
func dayKey(t time.Time) string { return t.In(jst).Format("2006-01-02") }

// dayStart is the start (00:00 JST) of t's JST date.
func dayStart(t time.Time) time.Time {
	y, m, d := t.In(jst).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, jst)
}

// usedThisHour counts the requests made to LINE's statistics endpoints in
// the hour before now, from the stored check times (so a restart does not
// reset the count): the per-unit statistics, the daily friend counts and
// the demographics share one allowance.
func usedThisHour(ctx context.Context, db *store.DB, now time.Time) (int, error) {
	var used int
	since := now.Add(-time.Hour).UnixMilli()
	err := db.Reader().QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM line_units WHERE unit IS NOT NULL AND checked_at > ?1) +
		(SELECT count(*) FROM insight_followers WHERE checked_at > ?1) +
		(SELECT count(*) FROM insight_demographics WHERE checked_at > ?1)`, since).Scan(&used)
	if err != nil {
		return 0, fmt.Errorf("insights: count this hour's requests: %w", err)
	}
	return used, nil
}

// DailyResult says what one FetchDaily did.
type DailyResult struct {
	Asked        int  // requests made to LINE
	Ready        int  // dates whose counts LINE gave
	Unready      int  // dates LINE is still counting
	Demographics bool // the demographics were asked for
}

// FetchDaily asks LINE for the daily friend counts that are due and, once
// a day, the demographics, within what is left of the hour's allowance.
// A date is due once LINE's delay has passed since it ended (today never
// is), newest first, back to DefaultFollowerDays ago; a date LINE said
// "ready" or "out_of_service" for is never asked again, one it is still
// counting is asked again after Refetch. Without a DailySource it does
// nothing.
func (f *Fetcher) FetchDaily(ctx context.Context) (DailyResult, error) {
	var res DailyResult
	if f.daily == nil {
		return res, nil
	}
	now := f.now()
	used, err := usedThisHour(ctx, f.db, now)
	if err != nil {
		return res, err
	}
	budget := f.perHour - used
	if budget <= 0 {
		return res, nil
	}
	// Never wait for the LINE client's own rate limit (it counts real
	// time; this pass may run under another clock, and waiting would hold
	// up the rest of the scheduled work): stop, and go on next pass.
	lctx := line.NoWait(ctx)
	// The newest date LINE may have counted: its end plus the delay is past.
	last := dayStart(now.Add(-f.delay)).AddDate(0, 0, -1)
	first := last.AddDate(0, 0, -(f.days - 1))
	known := map[string]followerRow{}
	rows, err := f.db.Reader().QueryContext(ctx, `SELECT date, status, checked_at FROM insight_followers WHERE date >= ? AND date <= ?`,
		dayKey(first), dayKey(last))
	if err != nil {
		return res, fmt.Errorf("insights: stored follower days: %w", err)
	}
	for rows.Next() {
		var r followerRow
		var date string
		if err := rows.Scan(&date, &r.status, &r.checked); err != nil {
			rows.Close()
			return res, fmt.Errorf("insights: stored follower days: %w", err)
		}
		known[date] = r
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return res, fmt.Errorf("insights: stored follower days: %w", err)
	}
	for d := last; !d.Before(first) && budget > 0; d = d.AddDate(0, 0, -1) {
		key := dayKey(d)
		if r, ok := known[key]; ok && (r.status != DayUnready || r.checked > now.Add(-f.refetch).UnixMilli()) {
			continue
		}
		fl, err := f.daily.Followers(lctx, d)
		if errors.Is(err, line.ErrWouldWait) {
			return res, nil
		}
		res.Asked++
		budget--
		if err != nil {
			// The attempt spent a request: stamp it so the hour's count
			// holds (an unready row, asked again after Refetch).
			_, had := known[key]
			_ = f.storeFollowers(context.WithoutCancel(ctx), key, line.Followers{Status: line.DailyUnready}, now, had)
			return res, fmt.Errorf("insights: followers of %s: %w", key, err)
		}
		if err := f.storeFollowers(ctx, key, fl, now, false); err != nil {
			return res, err
		}
		switch fl.Status {
		case line.DailyReady:
			res.Ready++
		case line.DailyUnready:
			res.Unready++
		}
	}
	if budget <= 0 {
		return res, nil
	}
	var checked sql.NullInt64
	err = f.db.Reader().QueryRowContext(ctx, `SELECT checked_at FROM insight_demographics WHERE id = 1`).Scan(&checked)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return res, fmt.Errorf("insights: stored demographics: %w", err)
	}
	if checked.Valid && checked.Int64 > now.Add(-DemographicsEvery).UnixMilli() {
		return res, nil
	}
	demo, err := f.daily.Demographics(lctx)
	if errors.Is(err, line.ErrWouldWait) {
		return res, nil
	}
	res.Asked++
	res.Demographics = true
	if err != nil {
		if checked.Valid {
			// Keep the last answer; stamp the attempt for the hour's count.
			_ = f.db.Write(context.WithoutCancel(ctx), func(tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, `UPDATE insight_demographics SET checked_at = ? WHERE id = 1`, now.UnixMilli())
				return err
			})
		}
		return res, fmt.Errorf("insights: demographics: %w", err)
	}
	blob, err := json.Marshal(fromLineDemographics(demo))
	if err != nil {
		return res, fmt.Errorf("insights: encode demographics: %w", err)
	}
	err = f.db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO insight_demographics (id, available, shares, checked_at) VALUES (1, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET available = excluded.available, shares = excluded.shares, checked_at = excluded.checked_at`,
			demo.Available, string(blob), now.UnixMilli())
		return err
	})
	if err != nil {
		return res, fmt.Errorf("insights: store demographics: %w", err)
	}
	return res, nil
}

type followerRow struct {
	status  string
	checked int64
}

// storeFollowers records LINE's answer for date key. keepCounts: a failed
// request only stamps an existing row's check time.
func (f *Fetcher) storeFollowers(ctx context.Context, key string, fl line.Followers, now time.Time, keepCounts bool) error {
	err := f.db.Write(ctx, func(tx *sql.Tx) error {
		if keepCounts {
			_, err := tx.ExecContext(ctx, `UPDATE insight_followers SET checked_at = ? WHERE date = ?`, now.UnixMilli(), key)
			return err
		}
		var followers, reach, blocks any
		if fl.Status == line.DailyReady {
			followers, reach, blocks = fl.Followers, fl.TargetedReaches, fl.Blocks
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO insight_followers (date, status, followers, targeted_reaches, blocks, checked_at)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (date) DO UPDATE SET status = excluded.status, followers = excluded.followers,
				targeted_reaches = excluded.targeted_reaches, blocks = excluded.blocks, checked_at = excluded.checked_at`,
			key, string(fl.Status), followers, reach, blocks, now.UnixMilli())
		return err
	})
	if err != nil {
		return fmt.Errorf("insights: store followers of %s: %w", key, err)
	}
	return nil
}

// FollowerDay is LINE's friend count for one JST date as stored. The
// counts mean something only when Status is DayReady: any other status is
// shown as such, never as a zero.
type FollowerDay struct {
	Date            string `json:"date"`   // YYYY-MM-DD, JST
	Status          string `json:"status"` // ready, unready, out_of_service, missing
	Followers       int64  `json:"followers"`
	TargetedReaches int64  `json:"targetedReaches"`
	Blocks          int64  `json:"blocks"`
	CheckedAt       int64  `json:"checkedAt"` // unix ms; 0 if never asked
}

// FollowerDays returns one entry per JST date from from to to (inclusive),
// each with what is stored for it (DayMissing if nothing).
func FollowerDays(ctx context.Context, db *store.DB, from, to time.Time) ([]FollowerDay, error) {
	first, last := dayStart(from), dayStart(to)
	rows, err := db.Reader().QueryContext(ctx, `SELECT date, status, followers, targeted_reaches, blocks, checked_at
		FROM insight_followers WHERE date >= ? AND date <= ?`, dayKey(first), dayKey(last))
	if err != nil {
		return nil, fmt.Errorf("insights: follower days: %w", err)
	}
	defer rows.Close()
	stored := map[string]FollowerDay{}
	for rows.Next() {
		var d FollowerDay
		var fl, tr, bl sql.NullInt64
		if err := rows.Scan(&d.Date, &d.Status, &fl, &tr, &bl, &d.CheckedAt); err != nil {
			return nil, fmt.Errorf("insights: follower days: %w", err)
		}
		d.Followers, d.TargetedReaches, d.Blocks = fl.Int64, tr.Int64, bl.Int64
		stored[d.Date] = d
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("insights: follower days: %w", err)
	}
	var out []FollowerDay
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		key := dayKey(d)
		if s, found := stored[key]; found {
			out = append(out, s)
			continue
		}
		out = append(out, FollowerDay{Date: key, Status: DayMissing})
	}
	return out, nil
}

// Share is one group's percentage of the friends.
type Share struct {
	Key        string  `json:"key"` // LINE's value: "female", "from30to34", "東京", "unknown"
	Percentage float64 `json:"percentage"`
}

// Demographics is LINE's latest estimate of who the friends are.
type Demographics struct {
	// Status: "none" (never asked), "withheld" (LINE shows none: fewer
	// than 20 friends whose attributes it knows), "ready".
	Status    string  `json:"status"`
	CheckedAt int64   `json:"checkedAt"`
	Genders   []Share `json:"genders"`
	Ages      []Share `json:"ages"`
	Areas     []Share `json:"areas"`
}

// The demographics statuses.
const (
	DemographicsNone     = "none"
	DemographicsWithheld = "withheld"
	DemographicsReady    = "ready"
)

func shares(in []line.Share) []Share {
	out := make([]Share, 0, len(in))
	for _, s := range in {
		out = append(out, Share{Key: s.Key, Percentage: s.Percentage})
	}
	return out
}

func fromLineDemographics(d line.Demographics) Demographics {
	return Demographics{Genders: shares(d.Genders), Ages: shares(d.Ages), Areas: shares(d.Areas)}
}

// GetDemographics returns the stored demographics.
func GetDemographics(ctx context.Context, db *store.DB) (Demographics, error) {
	var (
		available bool
		blob      string
		checked   int64
	)
	err := db.Reader().QueryRowContext(ctx, `SELECT available, shares, checked_at FROM insight_demographics WHERE id = 1`).Scan(&available, &blob, &checked)
	if errors.Is(err, sql.ErrNoRows) {
		return Demographics{Status: DemographicsNone, Genders: []Share{}, Ages: []Share{}, Areas: []Share{}}, nil
	}
	if err != nil {
		return Demographics{}, fmt.Errorf("insights: demographics: %w", err)
	}
	if !available {
		return Demographics{Status: DemographicsWithheld, CheckedAt: checked, Genders: []Share{}, Ages: []Share{}, Areas: []Share{}}, nil
	}
	var d Demographics
	if err := json.Unmarshal([]byte(blob), &d); err != nil {
		return Demographics{}, fmt.Errorf("insights: decode demographics: %w", err)
	}
	d.Status, d.CheckedAt = DemographicsReady, checked
	return d, nil
}
