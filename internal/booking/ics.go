package booking

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"tsunagu/internal/audit"
	"tsunagu/internal/relay/ical"
)

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
	var events []ical.Event
	for _, b := range bs {
		if b.Status != StatusConfirmed {
			continue
		}
		events = append(events, ical.Event{UID: "booking-" + strconv.FormatInt(b.ID, 10) + "@tsunagu", Start: time.UnixMilli(b.Start), End: time.UnixMilli(b.End),
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
	return ical.Write(events, now), nil
}
