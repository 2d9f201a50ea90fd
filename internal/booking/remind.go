package booking

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// RunDue sends the reminders due now (when they are on, Reminder): for
// each confirmed booking of tomorrow (Japan time) made before today's
// reminder time (the one set now: a change applies to every reminder not
// sent yet), once that time has come, one LINE message through the outbox. The reminder's row and
// the outbox send (retry key) are stored in one transaction first, so a
// reminder goes once even across a restart; a booking made after the
// reminder time was just confirmed and gets none. It is an automation
// trigger (automation.Trigger): the automation scheduler runs it.
func (s *Service) RunDue(ctx context.Context) (int, error) {
	if s.send == nil {
		return 0, nil
	}
	rem, at, err := s.reminder(ctx)
	if err != nil || !rem.On {
		return 0, err
	}
	now := s.now()
	today := DayOf(now)
	remindAt := today.Start().Add(time.Duration(at) * time.Minute)
	if now.Before(remindAt) {
		return 0, nil
	}
	tomorrow := today.AddDays(1)
	rows, err := s.db.Reader().QueryContext(ctx, `SELECT b.id FROM bookings b
		WHERE b.status = 'confirmed' AND b.starts_at >= ? AND b.starts_at < ? AND b.starts_at > ? AND b.created_at < ?
		  AND NOT EXISTS (SELECT 1 FROM booking_reminders r WHERE r.booking_id = b.id) ORDER BY b.starts_at, b.id`,
		tomorrow.Start().UnixMilli(), tomorrow.AddDays(1).Start().UnixMilli(), now.UnixMilli(), remindAt.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("booking: reminders: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, fmt.Errorf("booking: reminders: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("booking: reminders: %w", err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	st, err := s.Settings(ctx)
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, id := range ids {
		var sendID int64
		err := s.db.Write(ctx, func(tx *sql.Tx) error {
			sendID = 0
			b, err := getBooking(ctx, tx, id)
			if err != nil {
				return err
			}
			res, err := tx.ExecContext(ctx, `INSERT INTO booking_reminders (booking_id, at) VALUES (?, ?) ON CONFLICT DO NOTHING`, id, now.UnixMilli())
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 || b.Status != StatusConfirmed {
				return nil // another pass took it, or it changed since the query
			}
			if sendID, err = s.tell(ctx, tx, b, st, fillReminder(rem.Text, b, st), true); err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `UPDATE booking_reminders SET send_id = nullif(?, 0) WHERE booking_id = ?`, sendID, id)
			return err
		})
		if err != nil {
			return sent, fmt.Errorf("booking: reminder %d: %w", id, err)
		}
		if sendID != 0 {
			sent++
			// Best effort now; an unsent one is resumed from the outbox.
			_, _ = s.send.Send(ctx, sendID)
		}
	}
	return sent, nil
}
