// Package ical writes RFC 5545 calendars (consultation bookings: the staff
// export and the customer's 「カレンダーに追加」). It imports nothing of
// Tsunagu, so the relay (which links nothing of the desktop) serves the
// customer's calendar event with the same writer as the staff export.
package ical

import (
	"bytes"
	"strings"
	"time"
	"unicode/utf8"
)

// Event is one calendar event of an ICS file.
type Event struct {
	UID         string
	Start, End  time.Time
	Summary     string
	Location    string
	Description string
}

// Write writes events as an RFC 5545 calendar: CRLF line ends, lines folded
// at 75 octets (never inside a UTF-8 character), text escaped, times in
// UTC (so no VTIMEZONE is needed and every calendar shows them in its own
// zone).
func Write(events []Event, stamp time.Time) []byte {
	var b bytes.Buffer
	line := func(s string) {
		// Fold: the first line 75 octets, each continuation a space and 74.
		limit := 75
		for len(s) > limit {
			cut := limit
			for cut > 0 && !utf8.RuneStart(s[cut]) {
				cut--
			}
			b.WriteString(s[:cut] + "\r\n ")
			s = s[cut:]
			limit = 74
		}
		b.WriteString(s + "\r\n")
	}
	utc := func(t time.Time) string { return t.UTC().Format("20060102T150405Z") }
	line("BEGIN:VCALENDAR")
	line("VERSION:2.0")
	line("PRODID:-//Tsunagu//Booking//JA")
	line("CALSCALE:GREGORIAN")
	line("METHOD:PUBLISH")
	for _, e := range events {
		line("BEGIN:VEVENT")
		line("UID:" + escapeText(e.UID))
		line("DTSTAMP:" + utc(stamp))
		line("DTSTART:" + utc(e.Start))
		line("DTEND:" + utc(e.End))
		line("SUMMARY:" + escapeText(e.Summary))
		if e.Location != "" {
			line("LOCATION:" + escapeText(e.Location))
		}
		if e.Description != "" {
			line("DESCRIPTION:" + escapeText(e.Description))
		}
		line("END:VEVENT")
	}
	line("END:VCALENDAR")
	return b.Bytes()
}

// escapeText escapes a TEXT value (RFC 5545 3.3.11).
func escapeText(s string) string {
	return strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`).Replace(s)
}
