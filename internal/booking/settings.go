package booking

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
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
