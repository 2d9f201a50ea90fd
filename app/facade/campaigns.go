package facade

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"time"
	"tsunagu/internal/msgcode"

	"tsunagu/internal/auth"
	"tsunagu/internal/campaign"
	"tsunagu/internal/engine"
	"tsunagu/internal/mail"
	"tsunagu/internal/secrets"
	"tsunagu/internal/segment"
	"tsunagu/internal/sms"
)

// Segments and campaigns (issue 8).
//
// Permissions: counting and previewing a segment is reading customers
// (PermCustomersRead; the preview is masked for the agency role); saving
// segments and writing campaigns is PermDrafts; approving is PermApprove
// (the service refuses the author). Releasing a campaign — send now,
// schedule, resume after a pause — is PermApprove too: the person who
// approves is the one who lets it go out. Stopping one (cancel before it
// starts, pause) is PermDrafts: stopping never reaches a customer, so
// whoever works on campaigns may do it. Reports are PermDrafts (counts, no
// personal data; the delivery list is masked for agency); the CSV export is
// PermExport. Email/SMS settings and test sends are PermSettings.

func (a *App) campaignEngine(eng *engine.Engine) (*campaign.Service, *segment.Service, error) {
	if eng == nil || eng.Campaigns() == nil {
		return nil, nil, msgcode.New(msgcode.NotStarted)
	}
	return eng.Campaigns(), eng.Segments(), nil
}

// --- segments ---

// SegmentCount counts a rule tree's customers per reachable channel.
func (a *App) SegmentCount(rules segment.Node) (segment.Counts, error) {
	_, _, eng, err := a.requireService(auth.PermCustomersRead)
	if err != nil {
		return segment.Counts{}, err
	}
	_, segs, err := a.campaignEngine(eng)
	if err != nil {
		return segment.Counts{}, err
	}
	c, err := segs.Count(a.context(), rules)
	return c, a.userError(err)
}

// SegmentPreview lists a page of a rule tree's customers (masked for agency).
func (a *App) SegmentPreview(rules segment.Node, offset, limit int) (segment.Preview, error) {
	st, _, eng, err := a.requireService(auth.PermCustomersRead)
	if err != nil {
		return segment.Preview{}, err
	}
	_, segs, err := a.campaignEngine(eng)
	if err != nil {
		return segment.Preview{}, err
	}
	p, err := segs.Preview(a.context(), rules, offset, limit)
	if err != nil {
		return segment.Preview{}, a.userError(err)
	}
	if st.Role.Masked() {
		for i := range p.Rows {
			r := &p.Rows[i]
			r.Name, r.Email, r.Mobile = MaskName(r.Name), MaskEmail(r.Email), MaskPhone(r.Mobile)
		}
	}
	return p, nil
}

// Segments lists the saved segments.
func (a *App) Segments() ([]segment.Segment, error) {
	_, _, eng, err := a.requireService(auth.PermDrafts)
	if err != nil {
		return nil, err
	}
	_, segs, err := a.campaignEngine(eng)
	if err != nil {
		return nil, err
	}
	list, err := segs.List(a.context())
	return list, a.userError(err)
}

// SaveSegment creates (ID 0) or replaces a saved segment; audited.
func (a *App) SaveSegment(seg segment.Segment) (segment.Segment, error) {
	st, _, eng, err := a.requireService(auth.PermDrafts)
	if err != nil {
		return segment.Segment{}, err
	}
	_, segs, err := a.campaignEngine(eng)
	if err != nil {
		return segment.Segment{}, err
	}
	out, err := segs.Save(a.context(), st.Actor(), seg)
	return out, a.userError(err)
}

// DeleteSegment removes a saved segment; audited.
func (a *App) DeleteSegment(id int64) error {
	st, _, eng, err := a.requireService(auth.PermDrafts)
	if err != nil {
		return err
	}
	_, segs, err := a.campaignEngine(eng)
	if err != nil {
		return err
	}
	return a.userError(segs.Delete(a.context(), st.Actor(), id))
}

// --- campaigns ---

// Campaigns lists every campaign, newest first.
func (a *App) Campaigns() ([]campaign.Campaign, error) {
	_, _, eng, err := a.requireService(auth.PermDrafts)
	if err != nil {
		return nil, err
	}
	svc, _, err := a.campaignEngine(eng)
	if err != nil {
		return nil, err
	}
	list, err := svc.List(a.context())
	return list, a.userError(err)
}

// Campaign returns one campaign.
func (a *App) Campaign(id int64) (campaign.Campaign, error) {
	_, _, eng, err := a.requireService(auth.PermDrafts)
	if err != nil {
		return campaign.Campaign{}, err
	}
	svc, _, err := a.campaignEngine(eng)
	if err != nil {
		return campaign.Campaign{}, err
	}
	c, err := svc.Get(a.context(), id)
	return c, a.userError(err)
}

// CreateCampaign stores a new draft; audited.
func (a *App) CreateCampaign(d campaign.Draft) (campaign.Campaign, error) {
	st, _, eng, err := a.requireService(auth.PermDrafts)
	if err != nil {
		return campaign.Campaign{}, err
	}
	svc, _, err := a.campaignEngine(eng)
	if err != nil {
		return campaign.Campaign{}, err
	}
	c, err := svc.Create(a.context(), st.Actor(), d)
	return c, a.userError(err)
}

// UpdateCampaign replaces a campaign's draft (version: the one the editor
// loaded); any approval is reset. Audited.
func (a *App) UpdateCampaign(id int64, version int, d campaign.Draft) (campaign.Campaign, error) {
	st, _, eng, err := a.requireService(auth.PermDrafts)
	if err != nil {
		return campaign.Campaign{}, err
	}
	svc, _, err := a.campaignEngine(eng)
	if err != nil {
		return campaign.Campaign{}, err
	}
	c, err := svc.Update(a.context(), st.Actor(), id, version, d)
	return c, a.userError(err)
}

// CampaignPlan is a saved campaign's channel plan (counts, skip reasons,
// LINE requests and the monthly quota numbers).
func (a *App) CampaignPlan(id int64) (campaign.Plan, error) {
	_, _, eng, err := a.requireService(auth.PermDrafts)
	if err != nil {
		return campaign.Plan{}, err
	}
	svc, _, err := a.campaignEngine(eng)
	if err != nil {
		return campaign.Plan{}, err
	}
	p, err := svc.Plan(a.context(), id)
	return p, a.userError(err)
}

// CampaignPlanDraft is the plan of an unsaved draft (the editor's live plan).
func (a *App) CampaignPlanDraft(d campaign.Draft) (campaign.Plan, error) {
	_, _, eng, err := a.requireService(auth.PermDrafts)
	if err != nil {
		return campaign.Plan{}, err
	}
	svc, _, err := a.campaignEngine(eng)
	if err != nil {
		return campaign.Plan{}, err
	}
	p, err := svc.PlanDraft(a.context(), d)
	return p, a.userError(err)
}

// ContentPreview is a campaign's content rendered for a sample customer,
// for the phone-like preview.
type ContentPreview struct {
	Line         []json.RawMessage    `json:"line"` // LINE message objects as sent
	EmailSubject string               `json:"emailSubject"`
	EmailText    string               `json:"emailText"`
	SMSText      string               `json:"smsText"`
	SMSLength    campaign.SMSLength   `json:"smsLength"`
	Templates    []campaign.Template  `json:"templates"`
	Placeholders []string             `json:"placeholders"`
	Errors       map[string]string    `json:"errors"` // channel -> message code of what is wrong
	Sample       campaign.PreviewUser `json:"sample"`
}

// PreviewCampaignContent renders content for a sample customer (name
// "山田 花子") and validates each channel.
func (a *App) PreviewCampaignContent(content campaign.Content) (ContentPreview, error) {
	if _, err := a.require(auth.PermDrafts); err != nil {
		return ContentPreview{}, err
	}
	sample := campaign.SamplePerson()
	p := ContentPreview{Line: []json.RawMessage{}, Templates: campaign.Templates, Placeholders: campaign.Placeholders,
		Errors: map[string]string{}, Sample: campaign.PreviewUser{Name: sample.Name, Branch: sample.Branch, Staff: sample.Staff}}
	if len(content.Line) > 0 {
		msgs, err := content.RenderLine(sample)
		if err != nil {
			p.Errors[campaign.ChannelLine] = msgcode.Code(err)
		}
		for _, m := range msgs {
			p.Line = append(p.Line, json.RawMessage(m.Bytes()))
		}
	}
	p.EmailSubject, p.EmailText = content.RenderEmail(sample)
	if content.Email.Subject != "" || content.Email.Text != "" {
		if err := content.Validate([]string{campaign.ChannelEmail}); err != nil {
			p.Errors[campaign.ChannelEmail] = msgcode.Code(err)
		}
	}
	p.SMSText = content.RenderSMS(sample)
	p.SMSLength = campaign.MeasureSMS(p.SMSText)
	if content.SMS.Text != "" {
		if err := content.Validate([]string{campaign.ChannelSMS}); err != nil {
			p.Errors[campaign.ChannelSMS] = msgcode.Code(err)
		}
	}
	return p, nil
}

// campaignAction runs one audited state change of a campaign (approve,
// schedule, send, cancel, pause, resume) for the signed-in staff member,
// after the guard for p.
func (a *App) campaignAction(p auth.Permission, do func(ctx context.Context, svc *campaign.Service, actor string) (campaign.Campaign, error)) (campaign.Campaign, error) {
	st, _, eng, err := a.requireService(p)
	if err != nil {
		return campaign.Campaign{}, err
	}
	svc, _, err := a.campaignEngine(eng)
	if err != nil {
		return campaign.Campaign{}, err
	}
	c, err := do(a.context(), svc, st.Actor())
	return c, a.userError(err)
}

// ApproveCampaign approves the given version; never the author's own. Audited.
func (a *App) ApproveCampaign(id int64, version int) (campaign.Campaign, error) {
	return a.campaignAction(auth.PermApprove, func(ctx context.Context, svc *campaign.Service, actor string) (campaign.Campaign, error) {
		return svc.Approve(ctx, actor, id, version)
	})
}

// ScheduleCampaign schedules an approved campaign at local wall time
// "2006-01-02T15:04" in timeZone ("" is Asia/Tokyo). Audited.
func (a *App) ScheduleCampaign(id int64, local, timeZone string) (campaign.Campaign, error) {
	return a.campaignAction(auth.PermApprove, func(ctx context.Context, svc *campaign.Service, actor string) (campaign.Campaign, error) {
		return svc.Schedule(ctx, actor, id, local, timeZone)
	})
}

// SendCampaign starts sending an approved campaign now (after the quota
// check; refused with errors.campaignQuota, see CampaignPlan for the
// numbers). Audited.
func (a *App) SendCampaign(id int64) (campaign.Campaign, error) {
	return a.campaignAction(auth.PermApprove, func(ctx context.Context, svc *campaign.Service, actor string) (campaign.Campaign, error) {
		return svc.SendNow(ctx, actor, id)
	})
}

// CancelCampaign cancels a campaign that has not started. Audited.
func (a *App) CancelCampaign(id int64) (campaign.Campaign, error) {
	return a.campaignAction(auth.PermDrafts, func(ctx context.Context, svc *campaign.Service, actor string) (campaign.Campaign, error) {
		return svc.Cancel(ctx, actor, id)
	})
}

// PauseCampaign pauses a sending campaign. Audited.
func (a *App) PauseCampaign(id int64) (campaign.Campaign, error) {
	return a.campaignAction(auth.PermDrafts, func(ctx context.Context, svc *campaign.Service, actor string) (campaign.Campaign, error) {
		return svc.Pause(ctx, actor, id)
	})
}

// ResumeCampaign continues a paused campaign. Audited.
func (a *App) ResumeCampaign(id int64) (campaign.Campaign, error) {
	return a.campaignAction(auth.PermApprove, func(ctx context.Context, svc *campaign.Service, actor string) (campaign.Campaign, error) {
		return svc.Resume(ctx, actor, id)
	})
}

// CampaignReport summarises a campaign's deliveries (for the charts).
func (a *App) CampaignReport(id int64) (campaign.Report, error) {
	_, _, eng, err := a.requireService(auth.PermDrafts)
	if err != nil {
		return campaign.Report{}, err
	}
	svc, _, err := a.campaignEngine(eng)
	if err != nil {
		return campaign.Report{}, err
	}
	r, err := svc.Report(a.context(), id)
	return r, a.userError(err)
}

// CampaignDeliveries lists per-recipient records (masked for agency).
func (a *App) CampaignDeliveries(id int64, f campaign.DeliveryFilter) (campaign.DeliveryPage, error) {
	st, _, eng, err := a.requireService(auth.PermDrafts)
	if err != nil {
		return campaign.DeliveryPage{}, err
	}
	svc, _, err := a.campaignEngine(eng)
	if err != nil {
		return campaign.DeliveryPage{}, err
	}
	p, err := svc.Deliveries(a.context(), id, f)
	if err != nil {
		return campaign.DeliveryPage{}, a.userError(err)
	}
	if st.Role.Masked() {
		for i := range p.Rows {
			d := &p.Rows[i]
			d.Name = MaskName(d.Name)
			switch d.Channel {
			case campaign.ChannelEmail:
				d.Address = MaskEmail(d.Address)
			case campaign.ChannelSMS:
				d.Address = MaskPhone(d.Address)
			default:
				d.Address = MaskName(d.Address)
			}
		}
	}
	return p, nil
}

// ExportResult says where a report went.
type ExportResult struct {
	Path string `json:"path"`
	Rows int    `json:"rows"`
}

// ExportCampaignReport writes the per-recipient report as CSV to a file the
// person picks (customer numbers and states, no names). Audited.
func (a *App) ExportCampaignReport(id int64) (ExportResult, error) {
	st, _, eng, err := a.requireService(auth.PermExport)
	if err != nil {
		return ExportResult{}, err
	}
	svc, _, err := a.campaignEngine(eng)
	if err != nil {
		return ExportResult{}, err
	}
	if a.opts.FilePicker == nil {
		return ExportResult{}, msgcode.New(msgcode.NoFilePicker)
	}
	name := "campaign-" + time.Now().Format("20060102") + ".csv"
	path, err := a.opts.FilePicker.SaveFile(a.context(), "CSV", name)
	if err != nil || path == "" {
		return ExportResult{}, a.userError(err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return ExportResult{}, a.userError(err)
	}
	n, err := svc.ExportReport(a.context(), st.Actor(), id, f, nil)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return ExportResult{}, a.userError(err)
	}
	return ExportResult{Path: path, Rows: n}, nil
}

// --- email and SMS settings ---

// DeliverySettings are the email and SMS settings; secrets are never read
// back, only whether they are set.
type DeliverySettings struct {
	Mail             mail.Settings `json:"mail"`
	MailConfigured   bool          `json:"mailConfigured"`
	MailPasswordSet  bool          `json:"mailPasswordSet"`
	SMS              sms.Settings  `json:"sms"`
	SMSConfigured    bool          `json:"smsConfigured"`
	SMSCredentialSet bool          `json:"smsCredentialSet"` // the Twilio token or webhook secret of the chosen provider
}

// GetDeliverySettings returns the email and SMS settings.
func (a *App) GetDeliverySettings() (DeliverySettings, error) {
	_, _, eng, err := a.requireService(auth.PermSettings)
	if err != nil {
		return DeliverySettings{}, err
	}
	ctx := a.context()
	var out DeliverySettings
	if out.Mail, out.MailConfigured, err = campaign.LoadMailSettings(ctx, eng.DB()); err != nil {
		return out, a.userError(err)
	}
	if out.SMS, out.SMSConfigured, err = campaign.LoadSMSSettings(ctx, eng.DB()); err != nil {
		return out, a.userError(err)
	}
	if out.MailPasswordSet, err = eng.Secrets().HasDeliverySecret(ctx, secrets.ItemSMTPPassword); err != nil {
		return out, a.userError(err)
	}
	if item, ok := smsItem(out.SMS.Provider); ok {
		if out.SMSCredentialSet, err = eng.Secrets().HasDeliverySecret(ctx, item); err != nil {
			return out, a.userError(err)
		}
	}
	return out, nil
}

func smsItem(provider string) (secrets.Item, bool) {
	switch provider {
	case sms.ProviderTwilio:
		return secrets.ItemTwilioToken, true
	case sms.ProviderWebhook:
		return secrets.ItemSMSWebhookSecret, true
	}
	return "", false
}

// SaveMailSettings stores the SMTP settings; a non-empty password goes to
// the keychain ("" keeps the stored one). Audited.
func (a *App) SaveMailSettings(s mail.Settings, password string) error {
	st, _, eng, err := a.requireService(auth.PermSettings)
	if err != nil {
		return err
	}
	if err := s.Validate(); err != nil {
		return a.userError(err)
	}
	if password != "" {
		if err := eng.Secrets().SetDeliverySecret(a.context(), secrets.ItemSMTPPassword, password); err != nil {
			if errors.Is(err, secrets.ErrInvalid) {
				return msgcode.New(msgcode.MailSettings)
			}
			return a.userError(err)
		}
	}
	return a.userError(campaign.SaveMailSettings(a.context(), eng.DB(), st.Actor(), a.now(), s))
}

// SaveSMSSettings stores the SMS provider settings; a non-empty credential
// (the Twilio auth token, or the webhook signing secret) goes to the
// keychain ("" keeps the stored one). Audited.
func (a *App) SaveSMSSettings(s sms.Settings, credential string) error {
	st, _, eng, err := a.requireService(auth.PermSettings)
	if err != nil {
		return err
	}
	if item, ok := smsItem(s.Provider); ok && credential != "" {
		if err := eng.Secrets().SetDeliverySecret(a.context(), item, credential); err != nil {
			if errors.Is(err, secrets.ErrInvalid) {
				return msgcode.New(msgcode.SMSSettings)
			}
			return a.userError(err)
		}
	}
	return a.userError(campaign.SaveSMSSettings(a.context(), eng.DB(), st.Actor(), a.now(), s))
}

// SendTestEmail sends a test message with the stored settings.
func (a *App) SendTestEmail(to string) error {
	_, _, eng, err := a.requireService(auth.PermSettings)
	if err != nil {
		return err
	}
	m, err := eng.Mailer(a.context())
	if err != nil {
		return a.userError(err)
	}
	key := "test-" + time.Now().Format("20060102150405.000000")
	err = m.Send(a.context(), mail.Message{To: to, Subject: "Tsunagu テストメール", MessageID: mail.MessageID(key, m.From()),
		Text: "Tsunagu からのテストメールです。このメールが届いていれば、メール送信の設定は正しく動作しています。"})
	if err != nil && !errors.Is(err, mail.ErrInvalid) {
		a.opts.Logger.Warn("test email failed", "err", err)
		return msgcode.New(msgcode.TestSendFailed)
	}
	return a.userError(err)
}

// SendTestSMS sends a test SMS with the stored settings.
func (a *App) SendTestSMS(to string) error {
	_, _, eng, err := a.requireService(auth.PermSettings)
	if err != nil {
		return err
	}
	snd, err := eng.SMSSender(a.context())
	if err != nil {
		return a.userError(err)
	}
	_, err = snd.Send(a.context(), to, "Tsunagu からのテストSMSです。", "test-"+time.Now().Format("20060102150405.000000"))
	if err != nil && !errors.Is(err, sms.ErrInvalid) {
		a.opts.Logger.Warn("test SMS failed", "err", err)
		return msgcode.New(msgcode.TestSendFailed)
	}
	return a.userError(err)
}
