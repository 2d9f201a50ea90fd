package engine

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"tsunagu/internal/audit"
	"tsunagu/internal/fielderr"
	"tsunagu/internal/mail"
	"tsunagu/internal/mail/mailtest"
	"tsunagu/internal/secrets"
	"tsunagu/internal/secrets/secretstest"
	"tsunagu/internal/sms"
)

// Email and SMS settings through the engine: a secret the keychain store
// refuses is the form's error (not the LINE channel's) and stores nothing;
// secrets are reported as set, never read back; a test send that the
// server refuses is a failed send, an invalid address stays invalid.
func TestDeliverySettingsAndTestSends(t *testing.T) {
	kr := secretstest.Keyring(t)
	dir := filepath.Join(t.TempDir(), "data")
	secretstest.CleanupDataDir(t, kr, dir)
	ctx := context.Background()
	eng, err := Start(ctx, Options{DataDir: dir, Keyring: kr, Clock: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	admin := audit.StaffActor("admin")

	ds, err := eng.DeliverySettings(ctx)
	if err != nil || ds.MailConfigured || ds.MailPasswordSet || ds.SMSConfigured || ds.SMSCredentialSet {
		t.Fatalf("fresh settings: %+v %v", ds, err)
	}

	srv, err := mailtest.Start(mailtest.Options{NoAuth: true})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	host, port := srv.Addr()
	s := mail.Settings{Host: host, Port: port, TLS: mail.TLSNone, From: "info@example.jp"}
	err = eng.SaveMailSettings(ctx, admin, s, "pass\nword")
	if !errors.Is(err, mail.ErrInvalid) || errors.Is(err, secrets.ErrInvalid) {
		t.Fatalf("password with a line break: %v", err)
	}
	if f := fielderr.Fields(err); len(f) != 1 || f[0].Field != "password" || f[0].Code != fielderr.OneLine {
		t.Fatalf("password with a line break is not the password field's: %+v", f)
	}
	if bad := (mail.Settings{Host: "smtp.example.jp", Port: 25, TLS: mail.TLSNone, From: "info@example.jp"}); !errors.Is(eng.SaveMailSettings(ctx, admin, bad, "smtp secret 1"), mail.ErrInvalid) {
		t.Fatal("unencrypted remote SMTP accepted")
	}
	if ds, _ := eng.DeliverySettings(ctx); ds.MailConfigured || ds.MailPasswordSet {
		t.Fatalf("a refused form stored something: %+v", ds)
	}
	if err := eng.SaveMailSettings(ctx, admin, s, "smtp secret 1"); err != nil {
		t.Fatal(err)
	}
	ds, err = eng.DeliverySettings(ctx)
	if err != nil || !ds.MailConfigured || !ds.MailPasswordSet || ds.Mail.Host != host {
		t.Fatalf("after save: %+v %v", ds, err)
	}
	entries, err := audit.List(ctx, eng.DB().Reader(), audit.Filter{Action: audit.ActionSettings, Actor: admin})
	if err != nil || len(entries) != 1 || entries[0].Target != "delivery:mail" {
		t.Fatalf("audit: %+v %v", entries, err)
	}

	if err := eng.SendTestEmail(ctx, "hanako@example.jp"); err != nil {
		t.Fatal(err)
	}
	if msgs := srv.Messages(); len(msgs) != 1 || msgs[0].From != "info@example.jp" || msgs[0].To[0] != "hanako@example.jp" {
		t.Fatalf("messages: %+v", msgs)
	}
	if err := eng.SendTestEmail(ctx, "not an address"); !errors.Is(err, mail.ErrInvalid) || errors.Is(err, ErrTestSendFailed) {
		t.Fatalf("invalid address: %v", err)
	}
	srv.Close()
	if err := eng.SendTestEmail(ctx, "hanako@example.jp"); !errors.Is(err, ErrTestSendFailed) {
		t.Fatalf("server gone: %v", err)
	}

	web := sms.Settings{Provider: sms.ProviderWebhook, WebhookURL: "https://sms.example.jp/send"}
	if err := eng.SaveSMSSettings(ctx, admin, web, " \n "); !errors.Is(err, sms.ErrInvalid) {
		t.Fatalf("blank credential: %v", err)
	}
	if err := eng.SaveSMSSettings(ctx, admin, web, ""); err != nil {
		t.Fatal(err)
	}
	if ds, _ := eng.DeliverySettings(ctx); !ds.SMSConfigured || ds.SMSCredentialSet {
		t.Fatalf("SMS without a credential: %+v", ds)
	}
	// The webhook signs with its secret: one it would refuse when sending
	// is refused on the form's credential field, and nothing is stored.
	err = eng.SaveSMSSettings(ctx, admin, web, "webhook secret")
	if f := fielderr.Fields(err); !errors.Is(err, sms.ErrInvalid) || len(f) != 1 || f[0].Field != "credential" || f[0].Code != fielderr.TooShort {
		t.Fatalf("short webhook secret: %v %+v", err, f)
	}
	if ds, _ := eng.DeliverySettings(ctx); ds.SMSCredentialSet {
		t.Fatal("a refused secret was stored")
	}
	// Settings the adapter would refuse are refused before the secret is stored.
	err = eng.SaveSMSSettings(ctx, admin, sms.Settings{Provider: sms.ProviderWebhook, WebhookURL: "http://sms.example.jp/send"}, "webhook secret 16+")
	if f := fielderr.Fields(err); !errors.Is(err, sms.ErrInvalid) || len(f) != 1 || f[0].Field != "webhookUrl" || f[0].Code != fielderr.HTTPS {
		t.Fatalf("webhook in clear: %v %+v", err, f)
	}
	if ds, _ := eng.DeliverySettings(ctx); ds.SMSCredentialSet {
		t.Fatal("a refused form stored its secret")
	}
	if err := eng.SaveSMSSettings(ctx, admin, web, "webhook secret 16+"); err != nil {
		t.Fatal(err)
	}
	if ds, _ := eng.DeliverySettings(ctx); !ds.SMSCredentialSet || ds.SMS.WebhookURL != web.WebhookURL {
		t.Fatalf("SMS with a credential: %+v", ds)
	}
}
