package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"tsunagu/internal/campaign"
	"tsunagu/internal/clicks"
	"tsunagu/internal/forms"
	"tsunagu/internal/mail"
	"tsunagu/internal/secrets"
	"tsunagu/internal/segment"
	"tsunagu/internal/sms"
	"tsunagu/internal/survey"
)

// campaignParts are the segment and campaign services of an engine.
type campaignParts struct {
	segs     *segment.Service
	svc      *campaign.Service
	notifier *campaign.Notifier
}

// SchedulerInterval is how often due campaigns are looked for.
const SchedulerInterval = 15 * time.Second

// openCampaigns builds the services over the DB (no LINE: the CLI can read
// reports and plans, and resume email/SMS).
func (e *Engine) openCampaigns(clock func() time.Time) error {
	exts := survey.SegmentExtensions() // survey answers: survey.go
	maps.Copy(exts, clicks.SegmentExtensions())
	maps.Copy(exts, forms.SegmentExtensions()) // web form answers
	e.camp.segs = segment.New(e.db, clock, exts)
	cfg := campaign.Config{DB: e.db, Segments: e.camp.segs, Clock: clock, Logger: e.log,
		Mailer: e.mailer, SMS: e.smsSender, Links: e.Clicks()}
	if e.client != nil {
		cfg.Line, cfg.Quota = e.client, e.client
	}
	svc, err := campaign.New(cfg)
	if err != nil {
		return err
	}
	if e.camp.svc != nil {
		e.camp.svc.Close()
	}
	e.camp.svc = svc
	e.camp.notifier = campaign.NewNotifier(e.db, e.mailer, e.smsSender, clock)
	return nil
}

// startCampaigns rebuilds the services with the LINE client and starts the
// scheduler, which first resumes campaigns a crash left sending.
func (e *Engine) startCampaigns(opts Options) error {
	if err := e.openCampaigns(opts.Clock); err != nil {
		return err
	}
	e.camp.svc.Start(SchedulerInterval)
	return nil
}

func (e *Engine) closeCampaigns() {
	if e.camp.svc != nil {
		e.camp.svc.Close()
	}
}

// Segments evaluates and stores segments.
func (e *Engine) Segments() *segment.Service { return e.camp.segs }

// Campaigns manages and sends campaigns.
func (e *Engine) Campaigns() *campaign.Service { return e.camp.svc }

// Notifier sends one-off emails and SMS idempotently (linking codes).
func (e *Engine) Notifier() *campaign.Notifier { return e.camp.notifier }

// Mailer returns an SMTP client from the stored settings and the keychain.
func (e *Engine) Mailer(ctx context.Context) (*mail.Client, error) {
	s, ok, err := campaign.LoadMailSettings(ctx, e.db)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, campaign.ErrNoMailer
	}
	pw := ""
	if s.User != "" {
		if pw, err = e.secrets.DeliverySecret(ctx, secrets.ItemSMTPPassword); err != nil {
			return nil, fmt.Errorf("SMTP password: %w", err)
		}
	}
	return mail.New(s, pw, mail.Options{})
}

func (e *Engine) mailer(ctx context.Context) (campaign.Mailer, error) {
	m, err := e.Mailer(ctx)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// SMSSender returns the configured SMS adapter with its keychain credential.
func (e *Engine) SMSSender(ctx context.Context) (sms.Sender, error) {
	s, ok, err := campaign.LoadSMSSettings(ctx, e.db)
	if err != nil {
		return nil, err
	}
	if !ok || s.Provider == sms.ProviderNone {
		return nil, campaign.ErrNoSMS
	}
	switch s.Provider {
	case sms.ProviderTwilio:
		tok, err := e.secrets.DeliverySecret(ctx, secrets.ItemTwilioToken)
		if err != nil {
			return nil, fmt.Errorf("Twilio token: %w", err)
		}
		return sms.NewTwilio("", s.AccountSID, tok, s.From, nil)
	case sms.ProviderWebhook:
		sec, err := e.secrets.DeliverySecret(ctx, secrets.ItemSMSWebhookSecret)
		if err != nil {
			return nil, fmt.Errorf("SMS webhook secret: %w", err)
		}
		return sms.NewWebhook(s.WebhookURL, sec, nil, nil)
	}
	return nil, errors.New("unknown SMS provider")
}

func (e *Engine) smsSender(ctx context.Context) (sms.Sender, error) { return e.SMSSender(ctx) }
