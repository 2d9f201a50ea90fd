package booking

import (
	"fmt"
	"time"
)

// MaxClosureDays bounds LegalClosures: a calendar's range, not a report.
const MaxClosureDays = 400

// LegalClosures lists the days in [from, to] ("2026-12-01") the branch is
// closed whatever its settings say, for the staff screens: Japan's public
// holidays (Reason: the holiday's name) and the banks' 12/31–1/3 (Reason
// "": the screen names it in its language). A malformed, reversed or too
// long range is ErrInvalid.
func LegalClosures(from, to string) ([]ClosedDay, error) {
	f, okF := ParseDay(from)
	t, okT := ParseDay(to)
	if !okF || !okT || t.Start().Before(f.Start()) || t.Start().Sub(f.Start()) > MaxClosureDays*24*time.Hour {
		return nil, fmt.Errorf("booking: days %q–%q: %w", from, to, ErrInvalid)
	}
	out := []ClosedDay{}
	for d := f; !d.Start().After(t.Start()); d = d.AddDays(1) {
		if name := HolidayName(d); name != "" {
			out = append(out, ClosedDay{Day: d.String(), Reason: name})
		} else if BankHoliday(d) {
			out = append(out, ClosedDay{Day: d.String()})
		}
	}
	return out, nil
}
