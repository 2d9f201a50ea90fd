package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"tsunagu/internal/campaign"
	"tsunagu/internal/fielderr"
	"tsunagu/internal/mail"
	"tsunagu/internal/secrets"
	"tsunagu/internal/sms"
)

// The email and SMS settings: the settings themselves in the DB (audited
// by campaign), their password or token in the keychain, never read back.

// ErrTestSendFailed: a test message with valid settings did not go out
// (the server refused it, or could not be reached).
var ErrTestSendFailed = errors.New("the test message could not be sent")

// DeliverySettings returns the email and SMS settings and whether their
// secrets are stored.
func (e *Engine) DeliverySettings(ctx context.Context) (campaign.DeliverySettings, error) {
	var out campaign.DeliverySettings
	var err error
	if out.Mail, out.MailConfigured, err = campaign.LoadMailSettings(ctx, e.db); err != nil {
		return out, err
	}
	if out.SMS, out.SMSConfigured, err = campaign.LoadSMSSettings(ctx, e.db); err != nil {
		return out, err
	}
	if out.MailPasswordSet, err = e.secrets.HasDeliverySecret(ctx, secrets.ItemSMTPPassword); err != nil {
		return out, err
	}
	if item, ok := smsItem(out.SMS.Provider); ok {
		if out.SMSCredentialSet, err = e.secrets.HasDeliverySecret(ctx, item); err != nil {
			return out, err
		}
	}
	return out, nil
}

// SaveMailSettings stores the SMTP settings, audited; a non-empty password
// goes to the keychain ("" keeps the stored one). Settings are checked
// before the password is stored, so a refused form changes nothing.
func (e *Engine) SaveMailSettings(ctx context.Context, actor string, s mail.Settings, password string) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if password != "" {
		if err := e.secrets.SetDeliverySecret(ctx, secrets.ItemSMTPPassword, password); err != nil {
			return deliverySecretError(err, mail.ErrInvalid, "password", password)
		}
	}
	return campaign.SaveMailSettings(ctx, e.db, actor, e.now().UnixMilli(), s)
}

// SaveSMSSettings stores the SMS provider settings, audited; a non-empty
// credential (the Twilio auth token, or the webhook signing secret) goes to
// the keychain ("" keeps the stored one). Settings are checked before the
// credential is stored, so a refused form changes nothing; a wrong
// credential is the form's field "credential".
func (e *Engine) SaveSMSSettings(ctx context.Context, actor string, s sms.Settings, credential string) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if item, ok := smsItem(s.Provider); ok && credential != "" {
		// The webhook signs with it: a short one is refused when sending.
		if v := strings.Trim(credential, " \t\r\n"); s.Provider == sms.ProviderWebhook && v != "" && len(v) < sms.MinWebhookSecret {
			var l fielderr.List
			l.AddMin("credential", sms.MinWebhookSecret)
			return l.Err(sms.ErrInvalid)
		}
		if err := e.secrets.SetDeliverySecret(ctx, item, credential); err != nil {
			return deliverySecretError(err, sms.ErrInvalid, "credential", credential)
		}
	}
	return campaign.SaveSMSSettings(ctx, e.db, actor, e.now().UnixMilli(), s)
}

// deliverySecretError reports a secret the keychain store refused (empty,
// line breaks) as invalid settings of its form, on the form's field, not
// as a bad LINE channel. The value only picks the reason; it is never in
// the error.
func deliverySecretError(err, invalid error, field, value string) error {
	if !errors.Is(err, secrets.ErrInvalid) {
		return err
	}
	code := fielderr.OneLine
	if strings.TrimSpace(value) == "" {
		code = fielderr.Required
	}
	return fmt.Errorf("%w (%v)", fielderr.New(invalid, field, code), err)
}

// SendTestEmail sends a test message to to with the stored settings.
func (e *Engine) SendTestEmail(ctx context.Context, to string) error {
	m, err := e.Mailer(ctx)
	if err != nil {
		return err
	}
	key := "test-" + time.Now().Format("20060102150405.000000")
	err = m.Send(ctx, mail.Message{To: to, Subject: "Tsunagu テストメール", MessageID: mail.MessageID(key, m.From()),
		Text: "Tsunagu からのテストメールです。このメールが届いていれば、メール送信の設定は正しく動作しています。"})
	return testSendError(err, mail.ErrInvalid)
}

// SendTestSMS sends a test SMS to to with the stored settings.
func (e *Engine) SendTestSMS(ctx context.Context, to string) error {
	snd, err := e.SMSSender(ctx)
	if err != nil {
		return err
	}
	_, err = snd.Send(ctx, to, "Tsunagu からのテストSMSです。", "test-"+time.Now().Format("20060102150405.000000"))
	return testSendError(err, sms.ErrInvalid)
}

// testSendError keeps an invalid address or setting as it is (the form
// can say what is wrong) and reports anything else as a failed send: the
// server's own words are for the log, not the screen.
func testSendError(err, invalid error) error {
	if err == nil || errors.Is(err, invalid) {
		return err
	}
	return fmt.Errorf("%w: %v", ErrTestSendFailed, err)
}

// smsItem is the keychain item of an SMS provider's credential.
func smsItem(provider string) (secrets.Item, bool) {
	switch provider {
	case sms.ProviderTwilio:
		return secrets.ItemTwilioToken, true
	case sms.ProviderWebhook:
		return secrets.ItemSMSWebhookSecret, true
	}
	return "", false
}
