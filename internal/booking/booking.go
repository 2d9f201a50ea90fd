// Package booking is consultation booking (相談予約, issue 21): kinds of
// consultation with their duration, capacity, lead time and cut-offs and
// the staff who can take them; the branch's consultation hours per weekday,
// its closed days and Japan's public holidays (holidays.go); the free slots
// those leave (availability.go); and bookings, made from LINE (the relay
// holds a place, intake.go) or by staff on a customer's behalf, cancelled,
// moved, or marked as a no-show. Every change is audited in the same
// transaction; erasing a LINE user or a customer removes their bookings
// (triggers in the migration) and the retention job removes old ones.
//
// Schema: internal/store/migrations/0031_booking.sql. Docs: docs/booking.md.
package booking

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"tsunagu/internal/audit"
	"tsunagu/internal/fielderr"
	"tsunagu/internal/store"
)

// Audited actions.
const (
	ActionTypeCreate = "booking.type_create"
	ActionTypeUpdate = "booking.type_update"
	ActionHours      = "booking.hours"
	ActionClosed     = "booking.closed_day"
	ActionCreate     = "booking.create"
	ActionCancel     = "booking.cancel"
	ActionReschedule = "booking.reschedule"
	ActionNoShow     = "booking.no_show"
	ActionExport     = "booking.export"
	ActionReject     = "booking.reject" // a request from LINE refused (forged, replayed token ...)
)

// Actor is the audit actor of what the app does on a customer's request.
const Actor = "system:booking"

// Statuses of a booking.
const (
	StatusConfirmed   = "confirmed"
	StatusCancelled   = "cancelled"
	StatusRescheduled = "rescheduled"
	StatusNoShow      = "no_show"
)

// Sources of a booking.
const (
	SourceLINE  = "line"
	SourceStaff = "staff"
)

// Limits.
const (
	MaxName        = 40
	MaxNote        = 400
	MinDuration    = 10
	MaxDuration    = 240
	MaxCapacity    = 20
	MaxLeadMin     = 14 * 24 * 60
	MaxHorizonDays = 180
)

// Errors.
var (
	ErrNotFound     = errors.New("booking: no such booking or consultation type")
	ErrInvalid      = errors.New("booking: not valid")
	ErrFull         = errors.New("booking: the slot has no place left")
	ErrNoSlot       = errors.New("booking: no consultation slot starts at that time")
	ErrCutoff       = errors.New("booking: too late to cancel or change the booking")
	ErrNotConfirmed = errors.New("booking: the booking is not confirmed (already cancelled, moved or recorded)")
	ErrNotStarted   = errors.New("booking: a no-show can be recorded only after the start")
)

// TypeDraft is a consultation type as the settings screen sends it.
type TypeDraft struct {
	Name        string `json:"name"`
	DurationMin int    `json:"durationMin"`
	Capacity    int    `json:"capacity"`
	// LeadMin: booking from LINE closes this many minutes before the start.
	LeadMin int `json:"leadMin"`
	// HorizonDays: slots are offered from today to this many days ahead.
	HorizonDays int `json:"horizonDays"`
	// CancelCutoffMin: a customer may cancel or move a booking from LINE
	// until this many minutes before its start (staff always can).
	CancelCutoffMin int     `json:"cancelCutoffMin"`
	Staff           []int64 `json:"staff"`
	Active          bool    `json:"active"`
}

// Type is a consultation type.
type Type struct {
	ID int64 `json:"id"`
	TypeDraft
}

// Config configures a Service.
type Config struct {
	DB *store.DB
	// Relay is the enrolled relay's publisher; nil or ok false: none (no
	// availability is published, LINE messages carry no links).
	Relay func(ctx context.Context) (pub Publisher, ok bool)
	// IDTokens checks the booking page's LINE ID tokens (forms' check);
	// nil: requests from the page wait until it is set.
	IDTokens IDTokens
	// Send sends the LINE confirmations and reminders; nil: none.
	Send  Sender
	Log   *slog.Logger
	Clock func() time.Time // [time.Now]
}

// Service keeps consultation types, hours and bookings.
type Service struct {
	db    *store.DB
	relay func(ctx context.Context) (Publisher, bool)
	ids   IDTokens
	send  Sender
	log   *slog.Logger
	now   func() time.Time
	pub   publishState
}

// New returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.DB == nil {
		return nil, errors.New("booking: a DB is required")
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	return &Service{db: cfg.DB, relay: cfg.Relay, ids: cfg.IDTokens, send: cfg.Send, log: cfg.Log, now: cfg.Clock}, nil
}

func typeTarget(id int64) string    { return "booking_type:" + strconv.FormatInt(id, 10) }
func bookingTarget(id int64) string { return "booking:" + strconv.FormatInt(id, 10) }

func cleanType(d TypeDraft) TypeDraft {
	d.Name = strings.TrimSpace(d.Name)
	staff := []int64{}
	for _, id := range d.Staff {
		if !slices.Contains(staff, id) {
			staff = append(staff, id)
		}
	}
	d.Staff = staff
	return d
}

// validateType names the wrong fields of d; the staff must be active.
func validateType(ctx context.Context, tx *sql.Tx, d TypeDraft) error {
	var l fielderr.List
	switch {
	case d.Name == "":
		l.Add("name", fielderr.Required)
	case strings.ContainsAny(d.Name, "\r\n"):
		l.Add("name", fielderr.OneLine)
	case utf8.RuneCountInString(d.Name) > MaxName:
		l.AddMax("name", fielderr.TooLong, MaxName)
	}
	if d.DurationMin < MinDuration || d.DurationMin > MaxDuration {
		l.AddBetween("durationMin", MinDuration, MaxDuration)
	} else if d.DurationMin%5 != 0 {
		l.Add("durationMin", fielderr.Format)
	}
	if d.Capacity < 1 || d.Capacity > MaxCapacity {
		l.AddBetween("capacity", 1, MaxCapacity)
	}
	if d.LeadMin < 0 || d.LeadMin > MaxLeadMin {
		l.AddBetween("leadMin", 0, MaxLeadMin)
	}
	if d.HorizonDays < 1 || d.HorizonDays > MaxHorizonDays {
		l.AddBetween("horizonDays", 1, MaxHorizonDays)
	}
	if d.CancelCutoffMin < 0 || d.CancelCutoffMin > MaxLeadMin {
		l.AddBetween("cancelCutoffMin", 0, MaxLeadMin)
	}
	if len(d.Staff) == 0 {
		l.Add("staff", fielderr.Required)
	}
	for i, id := range d.Staff {
		var ok bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM staff WHERE id = ? AND active = 1)`, id).Scan(&ok); err != nil {
			return err
		}
		if !ok {
			l.Add("staff."+strconv.Itoa(i), fielderr.Choose)
		}
	}
	return l.Err(ErrInvalid)
}

func typeDetail(d TypeDraft) map[string]string {
	return map[string]string{"name": d.Name, "durationMin": strconv.Itoa(d.DurationMin), "capacity": strconv.Itoa(d.Capacity),
		"staffCount": strconv.Itoa(len(d.Staff)), "active": strconv.FormatBool(d.Active)}
}

// CreateType adds a consultation type; audited.
func (s *Service) CreateType(ctx context.Context, actor string, d TypeDraft) (Type, error) {
	d = cleanType(d)
	var id int64
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		if err := validateType(ctx, tx, d); err != nil {
			return err
		}
		now := s.now().UnixMilli()
		err := tx.QueryRowContext(ctx, `INSERT INTO booking_types (name, duration_min, capacity, lead_min, horizon_days, cancel_cutoff_min, active, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, d.Name, d.DurationMin, d.Capacity, d.LeadMin, d.HorizonDays, d.CancelCutoffMin, d.Active, now, now).Scan(&id)
		if store.IsUnique(err) {
			return fielderr.New(ErrInvalid, "name", fielderr.Taken)
		}
		if err != nil {
			return fmt.Errorf("store type: %w", err)
		}
		if err := setTypeStaff(ctx, tx, id, d.Staff); err != nil {
			return err
		}
		_, err = audit.Record(ctx, tx, audit.Entry{At: now, Actor: actor, Action: ActionTypeCreate, Target: typeTarget(id), Detail: typeDetail(d)})
		return err
	})
	if err != nil {
		return Type{}, fmt.Errorf("booking: create type: %w", err)
	}
	s.republish(ctx)
	return s.GetType(ctx, id)
}

// UpdateType changes a consultation type; audited. Bookings already made
// keep their times; the new duration and capacity apply to new slots.
func (s *Service) UpdateType(ctx context.Context, actor string, id int64, d TypeDraft) (Type, error) {
	d = cleanType(d)
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		if err := validateType(ctx, tx, d); err != nil {
			return err
		}
		now := s.now().UnixMilli()
		r, err := tx.ExecContext(ctx, `UPDATE booking_types SET name = ?, duration_min = ?, capacity = ?, lead_min = ?, horizon_days = ?,
			cancel_cutoff_min = ?, active = ?, updated_at = ? WHERE id = ?`, d.Name, d.DurationMin, d.Capacity, d.LeadMin, d.HorizonDays, d.CancelCutoffMin, d.Active, now, id)
		if store.IsUnique(err) {
			return fielderr.New(ErrInvalid, "name", fielderr.Taken)
		}
		if err != nil {
			return fmt.Errorf("store type: %w", err)
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		if err := setTypeStaff(ctx, tx, id, d.Staff); err != nil {
			return err
		}
		_, err = audit.Record(ctx, tx, audit.Entry{At: now, Actor: actor, Action: ActionTypeUpdate, Target: typeTarget(id), Detail: typeDetail(d)})
		return err
	})
	if err != nil {
		return Type{}, fmt.Errorf("booking: update type %d: %w", id, err)
	}
	s.republish(ctx)
	return s.GetType(ctx, id)
}

func setTypeStaff(ctx context.Context, tx *sql.Tx, id int64, staff []int64) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM booking_type_staff WHERE type_id = ?`, id); err != nil {
		return fmt.Errorf("type staff: %w", err)
	}
	for _, st := range staff {
		if _, err := tx.ExecContext(ctx, `INSERT INTO booking_type_staff (type_id, staff_id) VALUES (?, ?)`, id, st); err != nil {
			return fmt.Errorf("type staff: %w", err)
		}
	}
	return nil
}

// GetType returns one consultation type.
func (s *Service) GetType(ctx context.Context, id int64) (Type, error) {
	ts, err := s.types(ctx, s.db.Reader(), id)
	if err != nil {
		return Type{}, fmt.Errorf("booking: type %d: %w", id, err)
	}
	if len(ts) == 0 {
		return Type{}, fmt.Errorf("booking: type %d: %w", id, ErrNotFound)
	}
	return ts[0], nil
}

// Types lists the consultation types by name order of creation.
func (s *Service) Types(ctx context.Context) ([]Type, error) {
	ts, err := s.types(ctx, s.db.Reader(), 0)
	if err != nil {
		return nil, fmt.Errorf("booking: types: %w", err)
	}
	return ts, nil
}

type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

// types reads one type (id > 0) or all of them.
func (s *Service) types(ctx context.Context, q querier, id int64) ([]Type, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, name, duration_min, capacity, lead_min, horizon_days, cancel_cutoff_min, active,
		coalesce((SELECT group_concat(staff_id) FROM (SELECT staff_id FROM booking_type_staff s WHERE s.type_id = t.id ORDER BY staff_id)), '')
		FROM booking_types t WHERE ? = 0 OR id = ? ORDER BY id`, id, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Type{}
	for rows.Next() {
		var (
			t     Type
			staff string
		)
		if err := rows.Scan(&t.ID, &t.Name, &t.DurationMin, &t.Capacity, &t.LeadMin, &t.HorizonDays, &t.CancelCutoffMin, &t.Active, &staff); err != nil {
			return nil, err
		}
		t.Staff = []int64{}
		for _, f := range strings.Split(staff, ",") {
			if n, err := strconv.ParseInt(f, 10, 64); err == nil {
				t.Staff = append(t.Staff, n)
			}
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// Span is one stretch of consultation hours on a weekday (0 = Sunday),
// "09:00"–"11:30" in Japan time.
type Span struct {
	Weekday int    `json:"weekday"`
	Open    string `json:"open"`
	Close   string `json:"close"`
}

var hhmm = regexp.MustCompile(`^([01][0-9]|2[0-3]):([0-5][0-9])$|^24:00$`)

func minutes(s string) (int, bool) {
	if !hhmm.MatchString(s) {
		return 0, false
	}
	h, _ := strconv.Atoi(s[:2])
	m, _ := strconv.Atoi(s[3:])
	return h*60 + m, true
}

func clock(min int) string { return fmt.Sprintf("%02d:%02d", min/60, min%60) }

// SetHours replaces the branch's consultation hours; audited. Spans of one
// weekday must not overlap.
func (s *Service) SetHours(ctx context.Context, actor string, spans []Span) error {
	var l fielderr.List
	type span struct{ wd, open, close int }
	var parsed []span
	for i, sp := range spans {
		f := "hours." + strconv.Itoa(i) + "."
		o, okO := minutes(sp.Open)
		c, okC := minutes(sp.Close)
		switch {
		case sp.Weekday < 0 || sp.Weekday > 6:
			l.AddBetween(f+"weekday", 0, 6)
		case !okO:
			l.Add(f+"open", fielderr.Format)
		case !okC:
			l.Add(f+"close", fielderr.Format)
		case c <= o:
			l.Add(f+"close", fielderr.Range)
		default:
			for _, p := range parsed {
				if p.wd == sp.Weekday && o < p.close && p.open < c {
					l.Add(f+"open", fielderr.SpanOverlap)
					break
				}
			}
			parsed = append(parsed, span{sp.Weekday, o, c})
		}
	}
	if err := l.Err(ErrInvalid); err != nil {
		return fmt.Errorf("booking: hours: %w", err)
	}
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM booking_hours`); err != nil {
			return err
		}
		for _, p := range parsed {
			if _, err := tx.ExecContext(ctx, `INSERT INTO booking_hours (weekday, open_min, close_min) VALUES (?, ?, ?)`, p.wd, p.open, p.close); err != nil {
				return err
			}
		}
		_, err := audit.Record(ctx, tx, audit.Entry{At: s.now().UnixMilli(), Actor: actor, Action: ActionHours, Target: "booking_hours",
			Detail: map[string]string{"spans": strconv.Itoa(len(parsed))}})
		return err
	})
	if err != nil {
		return fmt.Errorf("booking: hours: %w", err)
	}
	s.republish(ctx)
	return nil
}

// Hours returns the consultation hours by weekday and time.
func (s *Service) Hours(ctx context.Context) ([]Span, error) {
	rows, err := s.db.Reader().QueryContext(ctx, `SELECT weekday, open_min, close_min FROM booking_hours ORDER BY weekday, open_min`)
	if err != nil {
		return nil, fmt.Errorf("booking: hours: %w", err)
	}
	defer rows.Close()
	out := []Span{}
	for rows.Next() {
		var wd, o, c int
		if err := rows.Scan(&wd, &o, &c); err != nil {
			return nil, fmt.Errorf("booking: hours: %w", err)
		}
		out = append(out, Span{wd, clock(o), clock(c)})
	}
	return out, rows.Err()
}

// ClosedDay is a day the branch takes no consultations (besides public
// holidays and 12/31–1/3).
type ClosedDay struct {
	Day    string `json:"day"` // 2026-12-28
	Reason string `json:"reason"`
}

// SetClosedDay closes (closed true) or reopens a day; audited.
func (s *Service) SetClosedDay(ctx context.Context, actor string, c ClosedDay, closed bool) error {
	c.Reason = strings.TrimSpace(c.Reason)
	if _, ok := ParseDay(c.Day); !ok {
		return fmt.Errorf("booking: closed day: %w", fielderr.New(ErrInvalid, "day", fielderr.Format))
	}
	if utf8.RuneCountInString(c.Reason) > MaxName || strings.ContainsAny(c.Reason, "\r\n") {
		return fmt.Errorf("booking: closed day: %w", fielderr.NewMax(ErrInvalid, "reason", fielderr.TooLong, MaxName))
	}
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		var err error
		if closed {
			_, err = tx.ExecContext(ctx, `INSERT INTO booking_closed_days (day, reason) VALUES (?, ?) ON CONFLICT (day) DO UPDATE SET reason = excluded.reason`, c.Day, c.Reason)
		} else {
			_, err = tx.ExecContext(ctx, `DELETE FROM booking_closed_days WHERE day = ?`, c.Day)
		}
		if err != nil {
			return err
		}
		_, err = audit.Record(ctx, tx, audit.Entry{At: s.now().UnixMilli(), Actor: actor, Action: ActionClosed, Target: "booking_hours",
			Detail: map[string]string{"day": c.Day, "closed": strconv.FormatBool(closed)}})
		return err
	})
	if err != nil {
		return fmt.Errorf("booking: closed day %s: %w", c.Day, err)
	}
	s.republish(ctx)
	return nil
}

// ClosedDays lists the closed days from today on.
func (s *Service) ClosedDays(ctx context.Context) ([]ClosedDay, error) {
	rows, err := s.db.Reader().QueryContext(ctx, `SELECT day, reason FROM booking_closed_days WHERE day >= ? ORDER BY day`, DayOf(s.now()).String())
	if err != nil {
		return nil, fmt.Errorf("booking: closed days: %w", err)
	}
	defer rows.Close()
	out := []ClosedDay{}
	for rows.Next() {
		var c ClosedDay
		if err := rows.Scan(&c.Day, &c.Reason); err != nil {
			return nil, fmt.Errorf("booking: closed days: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
