package booking

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"
)

// Slot is one bookable time of one consultation type: what the relay
// publishes (no names) and what the page offers.
type Slot struct {
	TypeID    int64 `json:"typeId"`
	Start     int64 `json:"start"` // unix ms
	End       int64 `json:"end"`
	Capacity  int   `json:"capacity"`
	Remaining int   `json:"remaining"`
}

// calendar is the branch's hours and closed days.
type calendar struct {
	hours  map[time.Weekday][][2]int // open, close minutes
	closed map[string]bool
}

func loadCalendar(ctx context.Context, q querier) (calendar, error) {
	c := calendar{hours: map[time.Weekday][][2]int{}, closed: map[string]bool{}}
	rows, err := q.QueryContext(ctx, `SELECT weekday, open_min, close_min FROM booking_hours ORDER BY weekday, open_min`)
	if err != nil {
		return c, fmt.Errorf("hours: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var wd, o, cl int
		if err := rows.Scan(&wd, &o, &cl); err != nil {
			return c, err
		}
		c.hours[time.Weekday(wd)] = append(c.hours[time.Weekday(wd)], [2]int{o, cl})
	}
	if err := rows.Err(); err != nil {
		return c, err
	}
	days, err := q.QueryContext(ctx, `SELECT day FROM booking_closed_days`)
	if err != nil {
		return c, fmt.Errorf("closed days: %w", err)
	}
	defer days.Close()
	for days.Next() {
		var d string
		if err := days.Scan(&d); err != nil {
			return c, err
		}
		c.closed[d] = true
	}
	return c, days.Err()
}

// starts are the slot starts of a type lasting dur minutes on day d: each
// span of the day's hours stepped by the duration, none on a public
// holiday, 12/31–1/3 or a closed day.
func (c calendar) starts(d Day, dur int) []time.Time {
	if HolidayName(d) != "" || BankHoliday(d) || c.closed[d.String()] {
		return nil
	}
	var out []time.Time
	for _, sp := range c.hours[d.Weekday()] {
		for m := sp[0]; m+dur <= sp[1]; m += dur {
			out = append(out, d.Start().Add(time.Duration(m)*time.Minute))
		}
	}
	return out
}

// onGrid says whether a slot of the type starts at t.
func (c calendar) onGrid(t time.Time, dur int) bool {
	return slices.ContainsFunc(c.starts(DayOf(t), dur), t.Equal)
}

// busy is a confirmed booking as availability counts it.
type busy struct {
	id, typeID, staff int64
	start, end        int64
}

func loadBusy(ctx context.Context, q querier, from, to int64) ([]busy, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, type_id, staff_id, starts_at, ends_at FROM bookings
		WHERE status = 'confirmed' AND starts_at < ? AND ends_at > ?`, to, from)
	if err != nil {
		return nil, fmt.Errorf("bookings: %w", err)
	}
	defer rows.Close()
	var out []busy
	for rows.Next() {
		var b busy
		if err := rows.Scan(&b.id, &b.typeID, &b.staff, &b.start, &b.end); err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// free is what is left of a slot: places (the type's capacity less its
// confirmed bookings at that start, and never more than the eligible staff
// free for the whole slot: each booking takes one member of staff) and
// those staff.
func free(t Type, start, end int64, bs []busy) (remaining int, staff []int64) {
	taken := 0
	occupied := map[int64]bool{}
	for _, b := range bs {
		if b.start < end && b.end > start {
			occupied[b.staff] = true
			if b.typeID == t.ID && b.start == start {
				taken++
			}
		}
	}
	for _, st := range t.Staff {
		if !occupied[st] {
			staff = append(staff, st)
		}
	}
	remaining = min(t.Capacity-taken, len(staff))
	return max(remaining, 0), staff
}

// window is when a customer may book a type from LINE: from the lead time
// after now to the end of the horizon's last day.
func window(t Type, now time.Time) (from, to time.Time) {
	return now.Add(time.Duration(t.LeadMin) * time.Minute), DayOf(now).AddDays(t.HorizonDays + 1).Start()
}

// Availability lists the slots customers can book from LINE now, for every
// active type (typeID 0) or one, from now to each type's horizon; full
// slots are listed with Remaining 0.
func (s *Service) Availability(ctx context.Context, typeID int64) ([]Slot, error) {
	q := s.db.Reader()
	ts, err := s.types(ctx, q, typeID)
	if err != nil {
		return nil, fmt.Errorf("booking: availability: %w", err)
	}
	cal, err := loadCalendar(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("booking: availability: %w", err)
	}
	now := s.now()
	horizon := now
	for _, t := range ts {
		if _, to := window(t, now); to.After(horizon) {
			horizon = to
		}
	}
	bs, err := loadBusy(ctx, q, now.UnixMilli(), horizon.Add(MaxDuration*time.Minute).UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("booking: availability: %w", err)
	}
	out := []Slot{}
	for _, t := range ts {
		if !t.Active {
			continue
		}
		from, to := window(t, now)
		for d := DayOf(from); d.Start().Before(to); d = d.AddDays(1) {
			for _, st := range cal.starts(d, t.DurationMin) {
				if st.Before(from) || !st.Before(to) {
					continue
				}
				start, end := st.UnixMilli(), st.Add(time.Duration(t.DurationMin)*time.Minute).UnixMilli()
				rem, _ := free(t, start, end, bs)
				out = append(out, Slot{TypeID: t.ID, Start: start, End: end, Capacity: t.Capacity, Remaining: rem})
			}
		}
	}
	slices.SortFunc(out, func(a, b Slot) int {
		if a.Start != b.Start {
			return int(a.Start - b.Start)
		}
		return int(a.TypeID - b.TypeID)
	})
	return out, nil
}

// dayLoad counts each staff member's confirmed bookings on the day of t,
// to give a new booking to the least busy.
func dayLoad(ctx context.Context, tx *sql.Tx, t time.Time) (map[int64]int, error) {
	d := DayOf(t)
	rows, err := tx.QueryContext(ctx, `SELECT staff_id, count(*) FROM bookings WHERE status = 'confirmed' AND starts_at >= ? AND starts_at < ? GROUP BY staff_id`,
		d.Start().UnixMilli(), d.AddDays(1).Start().UnixMilli())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]int{}
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}
