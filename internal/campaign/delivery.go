package campaign

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"tsunagu/internal/audit"
	"tsunagu/internal/mail"
	"tsunagu/internal/sms"
	"tsunagu/internal/store"
)

// Delivery settings keys in delivery_settings.
const (
	settingMail = "mail"
	settingSMS  = "sms"
)

// Audit action of a delivery settings change (the shared settings action).
const ActionDeliverySettings = audit.ActionSettings

// LoadMailSettings returns the stored SMTP settings; ok is false if none.
func LoadMailSettings(ctx context.Context, db *store.DB) (s mail.Settings, ok bool, err error) {
	ok, err = loadSetting(ctx, db, settingMail, &s)
	return s, ok, err
}

// LoadSMSSettings returns the stored SMS provider settings; ok is false if none.
func LoadSMSSettings(ctx context.Context, db *store.DB) (s sms.Settings, ok bool, err error) {
	ok, err = loadSetting(ctx, db, settingSMS, &s)
	return s, ok, err
}

func loadSetting(ctx context.Context, db *store.DB, key string, v any) (bool, error) {
	var raw string
	err := db.Reader().QueryRowContext(ctx, `SELECT value FROM delivery_settings WHERE key = ?`, key).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("delivery settings: %w", err)
	}
	if err := json.Unmarshal([]byte(raw), v); err != nil {
		return false, fmt.Errorf("delivery settings %s: %w", key, err)
	}
	return true, nil
}

// SaveMailSettings validates and stores the SMTP settings, audited.
func SaveMailSettings(ctx context.Context, db *store.DB, actor string, at int64, s mail.Settings) error {
	if err := s.Validate(); err != nil {
		return err
	}
	return saveSetting(ctx, db, actor, at, settingMail, s)
}

// SaveSMSSettings validates and stores the SMS settings, audited.
func SaveSMSSettings(ctx context.Context, db *store.DB, actor string, at int64, s sms.Settings) error {
	if err := s.Validate(); err != nil {
		return err
	}
	return saveSetting(ctx, db, actor, at, settingSMS, s)
}

func saveSetting(ctx context.Context, db *store.DB, actor string, at int64, key string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return db.Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO delivery_settings (key, value) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, string(raw)); err != nil {
			return fmt.Errorf("delivery settings: %w", err)
		}
		_, err := audit.Record(ctx, tx, audit.Entry{At: at, Actor: actor, Action: ActionDeliverySettings, Target: "delivery:" + key})
		return err
	})
}

// DeliverySettings are the email and SMS settings as the settings screen
// shows them: secrets are never read back, only whether they are set.
type DeliverySettings struct {
	Mail             mail.Settings `json:"mail"`
	MailConfigured   bool          `json:"mailConfigured"`
	MailPasswordSet  bool          `json:"mailPasswordSet"`
	SMS              sms.Settings  `json:"sms"`
	SMSConfigured    bool          `json:"smsConfigured"`
	SMSCredentialSet bool          `json:"smsCredentialSet"` // the Twilio token or webhook secret of the chosen provider
}
