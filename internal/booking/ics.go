package booking

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"tsunagu/internal/audit"
)

// Event is one calendar event of an ICS file.
type Event struct {
	UID         string
	Start, End  time.Time
	Summary     string
	Location    string
	Description string
}

// ICS writes events as an RFC 5545 calendar: CRLF line ends, lines folded
// at 75 octets (never inside a UTF-8 character), text escaped, times in
// UTC (so no VTIMEZONE is needed and every calendar shows them in its own
// zone).
func ICS(events []Event, stamp time.Time) []byte {
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

// ExportICS writes the confirmed bookings starting in [from, to) of one
// staff member (staffID > 0) or all as an ICS file for staff calendars;
// audited. Events hold the consultation type and the staff member, never
// the customer's name or note: the file leaves the encrypted DB.
func (s *Service) ExportICS(ctx context.Context, actor string, from, to, staffID int64) ([]byte, error) {
	bs, err := s.List(ctx, from, to, staffID)
	if err != nil {
		return nil, err
	}
	st, err := s.Settings(ctx)
	if err != nil {
		return nil, err
	}
	branch := st.Branch
	var events []Event
	for _, b := range bs {
		if b.Status != StatusConfirmed {
			continue
		}
		events = append(events, Event{UID: "booking-" + strconv.FormatInt(b.ID, 10) + "@tsunagu", Start: time.UnixMilli(b.Start), End: time.UnixMilli(b.End),
			Summary: b.TypeName, Location: branch, Description: "担当: " + b.StaffName})
	}
	now := s.now()
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		detail := map[string]string{"start": startText(time.UnixMilli(from)), "end": startText(time.UnixMilli(to)), "events": strconv.Itoa(len(events))}
		if staffID > 0 {
			var name string
			if err := tx.QueryRowContext(ctx, `SELECT display_name FROM staff WHERE id = ?`, staffID).Scan(&name); err != nil {
				return fmt.Errorf("staff %d: %w", staffID, err)
			}
			detail["staff"] = name
		}
		_, err := audit.Record(ctx, tx, audit.Entry{At: now.UnixMilli(), Actor: actor, Action: ActionExport, Target: "bookings", Detail: detail})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("booking: export: %w", err)
	}
	return ICS(events, now), nil
}
