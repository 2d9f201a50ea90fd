package booking

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"tsunagu/internal/audit"
	"tsunagu/internal/fielderr"
)

// ActionSettings: the branch name or phone changed.
const ActionSettings = "booking.settings"

// Settings name the branch in what customers get.
type Settings struct {
	Branch string `json:"branch"` // つなぐ銀行 本店
	Phone  string `json:"phone"`  // 03-1234-5678
}

var phoneRe = regexp.MustCompile(`^[0-9０-９][0-9０-９\-‐－ ]{8,14}$`)

// Settings returns the branch's booking settings.
func (s *Service) Settings(ctx context.Context) (Settings, error) {
	var st Settings
	if err := s.db.Reader().QueryRowContext(ctx, `SELECT branch, phone FROM booking_settings WHERE id = 1`).Scan(&st.Branch, &st.Phone); err != nil {
		return Settings{}, fmt.Errorf("booking: settings: %w", err)
	}
	return st, nil
}

// SetSettings stores them; audited.
func (s *Service) SetSettings(ctx context.Context, actor string, st Settings) (Settings, error) {
	st.Branch, st.Phone = strings.TrimSpace(st.Branch), strings.TrimSpace(st.Phone)
	var l fielderr.List
	switch {
	case st.Branch == "":
		l.Add("branch", fielderr.Required)
	case strings.ContainsAny(st.Branch, "\r\n"):
		l.Add("branch", fielderr.OneLine)
	case utf8.RuneCountInString(st.Branch) > MaxName:
		l.AddMax("branch", fielderr.TooLong, MaxName)
	}
	if st.Phone != "" && !phoneRe.MatchString(st.Phone) {
		l.Add("phone", fielderr.Format)
	}
	if err := l.Err(ErrInvalid); err != nil {
		return Settings{}, fmt.Errorf("booking: settings: %w", err)
	}
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE booking_settings SET branch = ?, phone = ? WHERE id = 1`, st.Branch, st.Phone); err != nil {
			return err
		}
		_, err := audit.Record(ctx, tx, audit.Entry{At: s.now().UnixMilli(), Actor: actor, Action: ActionSettings, Target: "booking_hours",
			Detail: map[string]string{"branch": st.Branch}})
		return err
	})
	if err != nil {
		return Settings{}, fmt.Errorf("booking: settings: %w", err)
	}
	return st, nil
}

// Reminder is the day-before reminder's settings.
type Reminder struct {
	On bool `json:"on"`
	// At is when it goes, the day before, Japan time: "10:00".
	At string `json:"at"`
	// Text opens the message; it may hold ReminderPlaceholders. The
	// booking's details and links follow it.
	Text string `json:"text"`
}

// DefaultReminderText is the reminder's text until staff change it.
const DefaultReminderText = "明日はご相談のご予約日です。ご来店をお待ちしております。"

// MaxReminderText bounds the reminder's text (characters).
const MaxReminderText = 500

// ReminderPlaceholders are what a reminder's text may hold, each replaced
// by the booking's value.
var ReminderPlaceholders = []string{"{種類}", "{日時}", "{支店}", "{電話}"}

var placeholderRe = regexp.MustCompile(`\{[^{}\s]{1,20}\}`)

// fillReminder is the reminder's text for b.
func fillReminder(text string, b Booking, st Settings) string {
	return strings.NewReplacer("{種類}", b.TypeName, "{日時}", When(b.Start, b.End), "{支店}", branchName(st), "{電話}", st.Phone).Replace(text)
}

// reminder reads the reminder's settings; at is minutes after midnight.
func (s *Service) reminder(ctx context.Context) (r Reminder, at int, err error) {
	err = s.db.Reader().QueryRowContext(ctx, `SELECT remind_on, remind_min, remind_text FROM booking_settings WHERE id = 1`).Scan(&r.On, &at, &r.Text)
	if err != nil {
		return Reminder{}, 0, fmt.Errorf("booking: reminder settings: %w", err)
	}
	r.At = clock(at)
	return r, at, nil
}

// Reminder returns the day-before reminder's settings.
func (s *Service) Reminder(ctx context.Context) (Reminder, error) {
	r, _, err := s.reminder(ctx)
	return r, err
}

// SetReminder stores them; audited. A new time applies to every reminder
// not sent yet (RunDue reads it on each pass). Errors name the field:
// "at" (a time of day, 00:00–23:59), "text" (required, at most
// MaxReminderText characters, only ReminderPlaceholders).
func (s *Service) SetReminder(ctx context.Context, actor string, r Reminder) (Reminder, error) {
	r.At, r.Text = strings.TrimSpace(r.At), strings.TrimSpace(r.Text)
	var l fielderr.List
	at, ok := minutes(r.At)
	if !ok || at >= 24*60 {
		l.Add("at", fielderr.Format)
	}
	switch {
	case r.Text == "":
		l.Add("text", fielderr.Required)
	case utf8.RuneCountInString(r.Text) > MaxReminderText:
		l.AddMax("text", fielderr.TooLong, MaxReminderText)
	default:
		for _, p := range placeholderRe.FindAllString(r.Text, -1) {
			if !slices.Contains(ReminderPlaceholders, p) {
				l.Add("text", fielderr.Placeholder)
				break
			}
		}
	}
	if err := l.Err(ErrInvalid); err != nil {
		return Reminder{}, fmt.Errorf("booking: reminder settings: %w", err)
	}
	r.At = clock(at)
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE booking_settings SET remind_on = ?, remind_min = ?, remind_text = ? WHERE id = 1`, r.On, at, r.Text); err != nil {
			return err
		}
		_, err := audit.Record(ctx, tx, audit.Entry{At: s.now().UnixMilli(), Actor: actor, Action: ActionSettings, Target: "booking_reminder",
			Detail: map[string]string{"reminder": strconv.FormatBool(r.On), "at": r.At}})
		return err
	})
	if err != nil {
		return Reminder{}, fmt.Errorf("booking: reminder settings: %w", err)
	}
	return r, nil
}
