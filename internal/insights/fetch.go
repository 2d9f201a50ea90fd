package insights

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"tsunagu/internal/line"
	"tsunagu/internal/store"
)

// LINE's rules the fetcher keeps to.
const (
	// DefaultDelay is how long after a send LINE's statistics first hold
	// anything: it aggregates once a day.
	DefaultDelay = 24 * time.Hour
	// Window is how long after a send LINE counts interactions; after
	// it the figures no longer change.
	Window = 14 * 24 * time.Hour
	// DefaultPerHour is LINE's limit on the statistics-per-unit endpoint.
	DefaultPerHour = 60
	// DefaultRefetch is how often one unit is asked again while it can
	// still change. LINE aggregates daily; a few times a day shows a
	// day's figures soon after they appear without spending the hour's
	// allowance on unchanged answers.
	DefaultRefetch = 6 * time.Hour
)

// Figure is one of LINE's figures. Withheld: LINE shows none (fewer than
// 20 people); Value is then 0 and means nothing.
type Figure struct {
	Value    int64 `json:"value"`
	Withheld bool  `json:"withheld"`
}

func fig(f line.Figure) Figure { return Figure{Value: f.Value, Withheld: f.Withheld} }

// Bubble is one message bubble's figures (Seq: its 1-based position).
type Bubble struct {
	Seq      int    `json:"seq"`
	Opened   Figure `json:"opened"`   // people who displayed it
	Played   Figure `json:"played"`   // people who started its video or audio
	Finished Figure `json:"finished"` // people who played it to the end
}

// Link is one URL in one bubble.
type Link struct {
	Seq     int    `json:"seq"`
	URL     string `json:"url"`
	Clicked Figure `json:"clicked"` // people who tapped it in that bubble
	Taps    Figure `json:"taps"`
}

// Stats is LINE's figures for one delivery.
type Stats struct {
	Opened   Figure   `json:"opened"`   // people who displayed at least one bubble
	Clicked  Figure   `json:"clicked"`  // people who tapped any URL
	Played   Figure   `json:"played"`   // people who started any video or audio
	Finished Figure   `json:"finished"` // people who played one to the end
	Bubbles  []Bubble `json:"bubbles"`
	Links    []Link   `json:"links"`
}

func fromLine(st line.UnitStats) Stats {
	out := Stats{Opened: fig(st.UniqueImpression), Clicked: fig(st.UniqueClick), Played: fig(st.UniqueMediaPlayed),
		Finished: fig(st.UniqueMediaPlayed100Percent), Bubbles: []Bubble{}, Links: []Link{}}
	for _, b := range st.Bubbles {
		out.Bubbles = append(out.Bubbles, Bubble{Seq: b.Seq, Opened: fig(b.UniqueImpression), Played: fig(b.UniqueMediaPlayed),
			Finished: fig(b.UniqueMediaPlayed100)})
	}
	for _, u := range st.URLs {
		out.Links = append(out.Links, Link{Seq: u.Seq, URL: u.URL, Clicked: fig(u.UniqueClick), Taps: fig(u.Click)})
	}
	return out
}

// Source is the part of the LINE layer the fetcher uses (line.Client).
type Source interface {
	StatisticsPerUnit(ctx context.Context, unit string, from, to time.Time) (line.UnitStats, error)
}

// Config holds a fetcher's dependencies.
type Config struct {
	DB    *store.DB
	Line  Source
	Clock func() time.Time // nil: time.Now
	// Delay is LINE's aggregation delay (0: DefaultDelay); a unit is not
	// asked for before it has passed since the first send. The sandbox's
	// simulator may run with a shorter one; pass the same here.
	Delay   time.Duration
	Refetch time.Duration // 0: DefaultRefetch
	PerHour int           // 0: DefaultPerHour
	// Daily gives LINE's daily friend counts and demographics
	// (line.Client); nil: FetchDaily does nothing.
	Daily DailySource
	// FollowerDays is how many days back FetchDaily fills the friend
	// counts (0: DefaultFollowerDays).
	FollowerDays int
	Logger       *slog.Logger
}

// Fetcher fetches LINE's statistics for the stored deliveries.
type Fetcher struct {
	db      *store.DB
	src     Source
	now     func() time.Time
	delay   time.Duration
	refetch time.Duration
	perHour int
	daily   DailySource
	days    int
	log     *slog.Logger
}

// New returns a fetcher.
func New(cfg Config) (*Fetcher, error) {
	if cfg.DB == nil || cfg.Line == nil {
		return nil, errors.New("insights: DB and LINE are required")
	}
	f := &Fetcher{db: cfg.DB, src: cfg.Line, now: cfg.Clock, delay: cfg.Delay, refetch: cfg.Refetch, perHour: cfg.PerHour,
		daily: cfg.Daily, days: cfg.FollowerDays, log: cfg.Logger}
	if f.days <= 0 {
		f.days = DefaultFollowerDays
	}
	if f.now == nil {
		f.now = time.Now
	}
	if f.delay <= 0 {
		f.delay = DefaultDelay
	}
	if f.refetch <= 0 {
		f.refetch = DefaultRefetch
	}
	if f.perHour <= 0 {
		f.perHour = DefaultPerHour
	}
	if f.log == nil {
		f.log = slog.New(slog.DiscardHandler)
	}
	return f, nil
}

// Result says what one Fetch did.
type Result struct {
	Asked  int // requests made to LINE
	Stored int // deliveries whose figures were stored
	Frozen int // deliveries that will not be asked again
}

// Fetch asks LINE for the due deliveries' figures, within what is left of
// the trailing hour's allowance (counted from the stored check times, so a
// restart does not reset it), oldest check first. A unit is due once
// LINE's delay has passed since its first send, and at most every Refetch;
// the first check after its 14-day window (plus the delay) freezes it.
// LINE having nothing yet stores no figures. An error stops the pass; the
// next pass tries again.
func (f *Fetcher) Fetch(ctx context.Context) (Result, error) {
	now := f.now()
	return f.fetch(ctx, now, `(checked_at IS NULL OR checked_at <= ?)`, now.Add(-f.refetch).UnixMilli())
}

// FetchOne asks LINE now for delivery key's figures, as Fetch would but
// without waiting for Refetch (a clerk pressed "check now"): not before
// LINE's delay, not for a frozen delivery, not past the hour's allowance.
func (f *Fetcher) FetchOne(ctx context.Context, key string) (Result, error) {
	return f.fetch(ctx, f.now(), `delivery = ?`, key)
}

func (f *Fetcher) fetch(ctx context.Context, now time.Time, cond string, arg any) (Result, error) {
	var res Result
	used, err := usedThisHour(ctx, f.db, now)
	if err != nil {
		return res, err
	}
	budget := f.perHour - used
	if budget <= 0 {
		return res, nil
	}
	rows, err := f.db.Reader().QueryContext(ctx, `SELECT delivery, unit, first_sent_at, last_sent_at FROM line_units
		WHERE unit IS NOT NULL AND final = 0 AND first_sent_at <= ? AND `+cond+`
		ORDER BY checked_at IS NOT NULL, checked_at, first_sent_at LIMIT ?`,
		now.Add(-f.delay).UnixMilli(), arg, budget)
	if err != nil {
		return res, fmt.Errorf("insights: due deliveries: %w", err)
	}
	type due struct {
		key, unit   string
		first, last int64
	}
	var dues []due
	for rows.Next() {
		var d due
		if err := rows.Scan(&d.key, &d.unit, &d.first, &d.last); err != nil {
			rows.Close()
			return res, fmt.Errorf("insights: due deliveries: %w", err)
		}
		dues = append(dues, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return res, fmt.Errorf("insights: due deliveries: %w", err)
	}
	for _, d := range dues {
		from := time.UnixMilli(d.first)
		end := time.UnixMilli(d.last).Add(Window)
		to := now
		if end.Before(to) {
			to = end
		}
		// LINE answers at most 30 days from the first date; a monthly unit
		// used until the month's end reaches past it by its last 14 days.
		if lim := from.AddDate(0, 0, line.MaxStatsPeriodDays); to.After(lim) {
			to = lim
		}
		st, err := f.src.StatisticsPerUnit(ctx, d.unit, from, to)
		res.Asked++
		if err != nil {
			// The attempt spent a request: stamp it so the hour's count
			// holds and the unit waits its turn.
			_ = f.db.Write(context.WithoutCancel(ctx), func(tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, `UPDATE line_units SET checked_at = ? WHERE delivery = ?`, now.UnixMilli(), d.key)
				return err
			})
			return res, fmt.Errorf("insights: statistics of %s: %w", d.key, err)
		}
		final := !now.Before(end.Add(f.delay))
		var blob any
		if !st.Pending {
			b, err := json.Marshal(fromLine(st))
			if err != nil {
				return res, fmt.Errorf("insights: encode statistics of %s: %w", d.key, err)
			}
			blob = string(b)
		}
		err = f.db.Write(ctx, func(tx *sql.Tx) error {
			if blob == nil {
				_, err := tx.ExecContext(ctx, `UPDATE line_units SET checked_at = ?, final = ? WHERE delivery = ?`, now.UnixMilli(), final, d.key)
				return err
			}
			_, err := tx.ExecContext(ctx, `UPDATE line_units SET checked_at = ?, stats = ?, stats_at = ?, final = ? WHERE delivery = ?`,
				now.UnixMilli(), blob, now.UnixMilli(), final, d.key)
			return err
		})
		if err != nil {
			return res, fmt.Errorf("insights: store statistics of %s: %w", d.key, err)
		}
		if blob != nil {
			res.Stored++
		}
		if final {
			res.Frozen++
		}
	}
	return res, nil
}

// Status is what is known of one delivery's LINE statistics.
type Status string

// The states a report shows.
const (
	// StatusNone: no unit (sent before this feature, or past the month's
	// limit): LINE has no statistics for it.
	StatusNone Status = "none"
	// StatusWaiting: LINE has not aggregated anything yet (it shows a
	// day's figures the next day).
	StatusWaiting Status = "waiting"
	// StatusReady: Stats holds LINE's figures (some may be withheld).
	StatusReady Status = "ready"
)

// Report is one delivery's LINE statistics for a report.
type Report struct {
	Status    Status `json:"status"`
	NoUnit    bool   `json:"noUnit"`    // StatusNone because the month's unit limit was reached
	FetchedAt int64  `json:"fetchedAt"` // unix ms of Stats; 0 if none
	Final     bool   `json:"final"`     // past LINE's 14-day window: the figures no longer change
	Stats     *Stats `json:"stats"`
}

// Get returns the stored statistics of delivery key.
func Get(ctx context.Context, db *store.DB, key string) (Report, error) {
	var (
		unit    sql.NullString
		blob    sql.NullString
		statsAt sql.NullInt64
		final   bool
	)
	err := db.Reader().QueryRowContext(ctx, `SELECT unit, stats, stats_at, final FROM line_units WHERE delivery = ?`, key).
		Scan(&unit, &blob, &statsAt, &final)
	if errors.Is(err, sql.ErrNoRows) {
		return Report{Status: StatusNone}, nil
	}
	if err != nil {
		return Report{}, fmt.Errorf("insights: statistics of %s: %w", key, err)
	}
	if !unit.Valid {
		return Report{Status: StatusNone, NoUnit: true}, nil
	}
	if !blob.Valid {
		return Report{Status: StatusWaiting}, nil
	}
	var st Stats
	if err := json.Unmarshal([]byte(blob.String), &st); err != nil {
		return Report{}, fmt.Errorf("insights: decode statistics of %s: %w", key, err)
	}
	return Report{Status: StatusReady, FetchedAt: statsAt.Int64, Final: final, Stats: &st}, nil
}
