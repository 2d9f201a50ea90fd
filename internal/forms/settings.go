package forms

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"tsunagu/internal/audit"
	"tsunagu/internal/fielderr"
	"tsunagu/internal/line"
)

// ActionSettings: the LIFF set-up changed.
const ActionSettings = "form.settings"

// Settings is the LIFF app forms run in.
type Settings struct {
	LoginChannelID string `json:"loginChannelId"` // the LINE Login channel's ID (digits)
	LIFFID         string `json:"liffId"`         // "CHANNELID-xxxxxxxx"
}

var (
	channelIDRe = regexp.MustCompile(`^[0-9]{6,20}$`)
	liffIDRe    = regexp.MustCompile(`^[0-9]{6,20}-[A-Za-z0-9]{4,32}$`)
)

// Settings returns the LIFF set-up ("" fields: not set up).
func (s *Service) Settings(ctx context.Context) (Settings, error) {
	var st Settings
	err := s.db.Reader().QueryRowContext(ctx, `SELECT login_channel_id, liff_id FROM form_settings WHERE id = 1`).Scan(&st.LoginChannelID, &st.LIFFID)
	if err != nil {
		return Settings{}, fmt.Errorf("forms: settings: %w", err)
	}
	return st, nil
}

// SetSettings stores the LIFF set-up; audited. A LIFF ID belongs to its
// LINE Login channel (its prefix), which is checked.
func (s *Service) SetSettings(ctx context.Context, actor string, st Settings) (Settings, error) {
	st.LoginChannelID, st.LIFFID = strings.TrimSpace(st.LoginChannelID), strings.TrimSpace(st.LIFFID)
	var l fielderr.List
	if !channelIDRe.MatchString(st.LoginChannelID) {
		l.Add("loginChannelId", fielderr.Format)
	}
	switch {
	case !liffIDRe.MatchString(st.LIFFID):
		l.Add("liffId", fielderr.Format)
	case !strings.HasPrefix(st.LIFFID, st.LoginChannelID+"-"):
		l.Add("liffId", fielderr.Format)
	}
	if err := l.Err(ErrInvalid); err != nil {
		return Settings{}, fmt.Errorf("forms: settings: %w", err)
	}
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE form_settings SET login_channel_id = ?, liff_id = ? WHERE id = 1`, st.LoginChannelID, st.LIFFID); err != nil {
			return err
		}
		_, err := audit.Record(ctx, tx, audit.Entry{At: s.now().UnixMilli(), Actor: actor, Action: ActionSettings, Target: "forms",
			Detail: map[string]string{"loginChannelId": st.LoginChannelID, "liffId": st.LIFFID}})
		return err
	})
	if err != nil {
		return Settings{}, fmt.Errorf("forms: settings: %w", err)
	}
	return st, nil
}

// verifierCache keeps the verifier for the stored LINE Login channel, so
// LINE's keys are fetched once per max-age rather than once per answer;
// a changed channel gets a new one.
type verifierCache struct {
	mu sync.Mutex
	v  *line.IDTokenVerifier
}

// idTokenVerifier is the configured verifier, or the one for the stored
// LINE Login channel at the LINE endpoint.
func (s *Service) idTokenVerifier(ctx context.Context) (IDTokenVerifier, error) {
	if s.verifier != nil {
		return s.verifier, nil
	}
	if s.loginEndpoint == "" {
		return nil, nil
	}
	st, err := s.Settings(ctx)
	if err != nil || st.LoginChannelID == "" {
		return nil, err
	}
	c := &s.verifiers
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.v == nil || c.v.ChannelID() != st.LoginChannelID {
		v, err := line.NewIDTokenVerifier(line.IDTokenConfig{Endpoint: s.loginEndpoint, ChannelID: st.LoginChannelID, Clock: s.now})
		if err != nil {
			return nil, err
		}
		c.v = v
	}
	return c.v, nil
}

// liff is the LIFF ID forms are published with.
func (s *Service) liff(ctx context.Context) string {
	if s.liffID != nil {
		return s.liffID(ctx)
	}
	st, err := s.Settings(ctx)
	if err != nil {
		return ""
	}
	return st.LIFFID
}
