package booking

import (
	"math"
	"slices"
	"time"
)

// JST is Japan time. A fixed zone rather than time.LoadLocation: Japan has
// had no daylight saving since 1951, and a fixed zone needs no tzdata on
// the branch PC.
var JST = time.FixedZone("JST", 9*60*60)

// Day is a calendar day in Japan.
type Day struct {
	Year  int
	Month time.Month
	Day   int
}

// DayOf is the Japanese calendar day t falls on.
func DayOf(t time.Time) Day {
	y, m, d := t.In(JST).Date()
	return Day{y, m, d}
}

// ParseDay reads "2026-05-06".
func ParseDay(s string) (Day, bool) {
	t, err := time.ParseInLocation(time.DateOnly, s, JST)
	if err != nil {
		return Day{}, false
	}
	return DayOf(t), true
}

// Start is 00:00 JST of the day.
func (d Day) Start() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, JST) }

// AddDays is the day n days later (earlier for n < 0).
func (d Day) AddDays(n int) Day { return DayOf(d.Start().AddDate(0, 0, n)) }

// Weekday is the day's weekday.
func (d Day) Weekday() time.Weekday { return d.Start().Weekday() }

func (d Day) String() string { return d.Start().Format(time.DateOnly) }

// Holidays are Japan's public holidays of year, by the 国民の祝日に関する法律
// as amended (the 2019 enthronement days, the Olympic moves of 2020 and
// 2021, スポーツの日 from 2020), name by day. 春分の日 and 秋分の日 use the
// standard formula for 1980–2099 (the Cabinet Office announces them each
// February; the formula has matched every announcement since 1980).
// Supported years: 2000–2099 (happy Mondays have held since 2003; 海の日
// and 敬老の日 moved then).
func Holidays(year int) map[Day]string {
	h := map[Day]string{}
	fixed := func(m time.Month, d int, name string) { h[Day{year, m, d}] = name }
	monday := func(m time.Month, nth int, name string) { h[nthMonday(year, m, nth)] = name }

	fixed(time.January, 1, "元日")
	monday(time.January, 2, "成人の日")
	fixed(time.February, 11, "建国記念の日")
	switch {
	case year >= 2020:
		fixed(time.February, 23, "天皇誕生日")
	case year <= 2018:
		fixed(time.December, 23, "天皇誕生日")
	}
	fixed(time.March, equinox(year, 20.8431), "春分の日")
	fixed(time.April, 29, "昭和の日")
	fixed(time.May, 3, "憲法記念日")
	fixed(time.May, 4, "みどりの日")
	fixed(time.May, 5, "こどもの日")
	switch year {
	case 2020:
		fixed(time.July, 23, "海の日")
		fixed(time.July, 24, "スポーツの日")
		fixed(time.August, 10, "山の日")
	case 2021:
		fixed(time.July, 22, "海の日")
		fixed(time.July, 23, "スポーツの日")
		fixed(time.August, 8, "山の日")
	default:
		monday(time.July, 3, "海の日")
		if year >= 2016 {
			fixed(time.August, 11, "山の日")
		}
		if year >= 2020 {
			monday(time.October, 2, "スポーツの日")
		} else {
			monday(time.October, 2, "体育の日")
		}
	}
	monday(time.September, 3, "敬老の日")
	fixed(time.September, equinox(year, 23.2488), "秋分の日")
	fixed(time.November, 3, "文化の日")
	fixed(time.November, 23, "勤労感謝の日")
	if year == 2019 {
		fixed(time.May, 1, "即位の日")
		fixed(time.October, 22, "即位礼正殿の儀の行われる日")
	}

	// 国民の休日 (article 3.3): a day between two holidays is one. Only
	// weekdays can be one in practice; a Sunday stays a Sunday.
	for _, d := range sortedDays(h) {
		mid, next := d.AddDays(1), d.AddDays(2)
		if _, ok := h[mid]; ok {
			continue
		}
		if _, ok := h[next]; ok && mid.Weekday() != time.Sunday {
			h[mid] = "国民の休日"
		}
	}
	// 振替休日 (article 3.2): a holiday on a Sunday moves to the next day
	// that is not a holiday.
	for _, d := range sortedDays(h) {
		if d.Weekday() != time.Sunday {
			continue
		}
		sub := d.AddDays(1)
		for {
			if _, ok := h[sub]; !ok {
				break
			}
			sub = sub.AddDays(1)
		}
		h[sub] = "振替休日"
	}
	return h
}

// HolidayName is the public holiday on d ("" none).
func HolidayName(d Day) string { return Holidays(d.Year)[d] }

// BankHoliday says whether d is one of the year-end days banks close by
// law besides weekends and public holidays: 12/31–1/3 (銀行法施行令 5 条).
// Weekends are left to the consultation hours: some branches hold
// Saturday consultations.
func BankHoliday(d Day) bool {
	return (d.Month == time.December && d.Day == 31) || (d.Month == time.January && d.Day <= 3)
}

func nthMonday(year int, m time.Month, nth int) Day {
	first := time.Date(year, m, 1, 0, 0, 0, 0, JST)
	off := (int(time.Monday) - int(first.Weekday()) + 7) % 7
	return Day{year, m, 1 + off + 7*(nth-1)}
}

// equinox is the day of March or September of the equinox by the standard
// formula (valid 1980–2099); base is 20.8431 for spring, 23.2488 for autumn.
func equinox(year int, base float64) int {
	y := float64(year - 1980)
	return int(math.Floor(base + 0.242194*y - math.Floor(y/4)))
}

func sortedDays(h map[Day]string) []Day {
	out := make([]Day, 0, len(h))
	for d := range h {
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b Day) int { return a.Start().Compare(b.Start()) })
	return out
}
