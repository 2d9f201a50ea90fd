package facade

import (
	"context"
	"io"
	"time"

	"tsunagu/internal/auth"
	"tsunagu/internal/campaign"
	"tsunagu/internal/clicks"
	"tsunagu/internal/engine"
	"tsunagu/internal/insights"
	"tsunagu/internal/mail"
	"tsunagu/internal/msgcode"
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

// --- segments ---

// SegmentCount counts a rule tree's customers per reachable channel.
func (s *CampaignService) SegmentCount(rules segment.Node) (segment.Counts, error) {
	return call(s.a, auth.PermCustomersRead, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) (segment.Counts, error) {
		return eng.Segments().Count(ctx, rules)
	})
}

// SegmentPreview lists a page of a rule tree's customers (masked for agency).
func (s *CampaignService) SegmentPreview(rules segment.Node, offset, limit int) (segment.Preview, error) {
	return call(s.a, auth.PermCustomersRead, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (segment.Preview, error) {
		p, err := eng.Segments().Preview(ctx, rules, offset, limit)
		if err == nil && st.Role.Masked() {
			p.Mask()
		}
		return p, err
	})
}

// Segments lists the saved segments.
func (s *CampaignService) Segments() ([]segment.Segment, error) {
	return call(s.a, auth.PermDrafts, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) ([]segment.Segment, error) {
		return eng.Segments().List(ctx)
	})
}

// SaveSegment creates (ID 0) or replaces a saved segment; audited.
func (s *CampaignService) SaveSegment(seg segment.Segment) (segment.Segment, error) {
	return call(s.a, auth.PermDrafts, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (segment.Segment, error) {
		return eng.Segments().Save(ctx, st.Actor(), seg)
	})
}

// DeleteSegment removes a saved segment; audited.
func (s *CampaignService) DeleteSegment(id int64) error {
	return run(s.a, auth.PermDrafts, func(ctx context.Context, st auth.Staff, eng *engine.Engine) error {
		return eng.Segments().Delete(ctx, st.Actor(), id)
	})
}

// --- campaigns ---

// Campaigns lists every campaign, newest first.
func (s *CampaignService) Campaigns() ([]campaign.Campaign, error) {
	return call(s.a, auth.PermDrafts, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) ([]campaign.Campaign, error) {
		return eng.Campaigns().List(ctx)
	})
}

// Campaign returns one campaign.
func (s *CampaignService) Campaign(id int64) (campaign.Campaign, error) {
	return call(s.a, auth.PermDrafts, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) (campaign.Campaign, error) {
		return eng.Campaigns().Get(ctx, id)
	})
}

// CreateCampaign stores a new draft; audited.
func (s *CampaignService) CreateCampaign(d campaign.Draft) (campaign.Campaign, error) {
	return campaignAct(s.a, auth.PermDrafts, func(ctx context.Context, svc *campaign.Service, actor string) (campaign.Campaign, error) {
		return svc.Create(ctx, actor, d)
	})
}

// UpdateCampaign replaces a campaign's draft (version: the one the editor
// loaded); any approval is reset. Audited.
func (s *CampaignService) UpdateCampaign(id int64, version int, d campaign.Draft) (campaign.Campaign, error) {
	return campaignAct(s.a, auth.PermDrafts, func(ctx context.Context, svc *campaign.Service, actor string) (campaign.Campaign, error) {
		return svc.Update(ctx, actor, id, version, d)
	})
}

// CampaignPlan is a saved campaign's channel plan (counts, skip reasons,
// LINE requests and the monthly quota numbers).
func (s *CampaignService) CampaignPlan(id int64) (campaign.Plan, error) {
	return call(s.a, auth.PermDrafts, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) (campaign.Plan, error) {
		return eng.Campaigns().Plan(ctx, id)
	})
}

// CampaignPlanDraft is the plan of an unsaved draft (the editor's live plan).
func (s *CampaignService) CampaignPlanDraft(d campaign.Draft) (campaign.Plan, error) {
	return call(s.a, auth.PermDrafts, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) (campaign.Plan, error) {
		return eng.Campaigns().PlanDraft(ctx, d)
	})
}

// ContentPreview is a campaign's content rendered for a sample customer.
type ContentPreview = campaign.ContentPreview

// PreviewCampaignContent renders content for the worst case: a sample
// customer (name "山田 花子") without the placeholders in lacking (those the
// plan's gaps say some recipients have no value for); validates each
// channel; what is wrong comes back per channel as a message code.
func (s *CampaignService) PreviewCampaignContent(content campaign.Content, lacking []string) (ContentPreview, error) {
	return call(s.a, auth.PermDrafts, func(context.Context, auth.Staff, *engine.Engine) (ContentPreview, error) {
		p, problems := campaign.PreviewContent(content, lacking)
		for ch, err := range problems {
			p.Errors[ch] = msgcode.Code(err)
		}
		return p, nil
	})
}

// ApproveCampaign approves the given version; never the author's own. Audited.
func (s *CampaignService) ApproveCampaign(id int64, version int) (campaign.Campaign, error) {
	return campaignAct(s.a, auth.PermApprove, func(ctx context.Context, svc *campaign.Service, actor string) (campaign.Campaign, error) {
		return svc.Approve(ctx, actor, id, version)
	})
}

// ReturnCampaign sends a draft back to its author with a required comment
// (差し戻し); never the author's own. Audited.
func (s *CampaignService) ReturnCampaign(id int64, version int, comment string) (campaign.Campaign, error) {
	return campaignAct(s.a, auth.PermApprove, func(ctx context.Context, svc *campaign.Service, actor string) (campaign.Campaign, error) {
		return svc.Return(ctx, actor, id, version, comment)
	})
}

// RequestCampaignApproval puts a campaign that was sent back in front of the
// approvers again, after its placeholders are checked. Audited.
func (s *CampaignService) RequestCampaignApproval(id int64, version int) (campaign.Campaign, error) {
	return campaignAct(s.a, auth.PermDrafts, func(ctx context.Context, svc *campaign.Service, actor string) (campaign.Campaign, error) {
		return svc.RequestApproval(ctx, actor, id, version)
	})
}

// CampaignsWaitingForApproval counts the campaigns the signed-in approver
// may approve (not their own), for the navigation badge.
func (s *CampaignService) CampaignsWaitingForApproval() (int, error) {
	return call(s.a, auth.PermApprove, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (int, error) {
		return eng.Campaigns().WaitingFor(ctx, st.Actor())
	})
}

// CampaignChannelSetup says which channels can send now (the editor's
// defaults; the others are shown disabled with the way to their settings).
func (s *CampaignService) CampaignChannelSetup() (campaign.ChannelSetup, error) {
	return call(s.a, auth.PermDrafts, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) (campaign.ChannelSetup, error) {
		return eng.Campaigns().Setup(ctx), nil
	})
}

// ScheduleCampaign schedules an approved campaign at local wall time
// "2006-01-02T15:04" in timeZone ("" is Asia/Tokyo). Audited.
func (s *CampaignService) ScheduleCampaign(id int64, local, timeZone string) (campaign.Campaign, error) {
	return campaignAct(s.a, auth.PermApprove, func(ctx context.Context, svc *campaign.Service, actor string) (campaign.Campaign, error) {
		return svc.Schedule(ctx, actor, id, local, timeZone)
	})
}

// SendCampaign starts sending an approved campaign now (after the quota
// check; refused with errors.campaignQuota, see CampaignPlan for the
// numbers). Audited.
func (s *CampaignService) SendCampaign(id int64) (campaign.Campaign, error) {
	return campaignAct(s.a, auth.PermApprove, func(ctx context.Context, svc *campaign.Service, actor string) (campaign.Campaign, error) {
		return svc.SendNow(ctx, actor, id)
	})
}

// CancelCampaign cancels a campaign that has not started. Audited.
func (s *CampaignService) CancelCampaign(id int64) (campaign.Campaign, error) {
	return campaignAct(s.a, auth.PermDrafts, func(ctx context.Context, svc *campaign.Service, actor string) (campaign.Campaign, error) {
		return svc.Cancel(ctx, actor, id)
	})
}

// PauseCampaign pauses a sending campaign. Audited.
func (s *CampaignService) PauseCampaign(id int64) (campaign.Campaign, error) {
	return campaignAct(s.a, auth.PermDrafts, func(ctx context.Context, svc *campaign.Service, actor string) (campaign.Campaign, error) {
		return svc.Pause(ctx, actor, id)
	})
}

// ResumeCampaign continues a paused campaign. Audited.
func (s *CampaignService) ResumeCampaign(id int64) (campaign.Campaign, error) {
	return campaignAct(s.a, auth.PermApprove, func(ctx context.Context, svc *campaign.Service, actor string) (campaign.Campaign, error) {
		return svc.Resume(ctx, actor, id)
	})
}

// CampaignReport summarises a campaign's deliveries (for the charts).
func (s *CampaignService) CampaignReport(id int64) (campaign.Report, error) {
	return call(s.a, auth.PermDrafts, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) (campaign.Report, error) {
		return eng.Campaigns().Report(ctx, id)
	})
}

// CampaignInsights is LINE's own statistics of a campaign as last fetched
// (opens, clicks, plays; withheld under 20 people).
func (s *CampaignService) CampaignInsights(id int64) (insights.Report, error) {
	return call(s.a, auth.PermDrafts, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) (insights.Report, error) {
		return eng.CampaignInsights(ctx, id)
	})
}

// RefreshCampaignInsights asks LINE for a campaign's statistics now (not
// before LINE's delay, and within its hourly limit) and returns them.
func (s *CampaignService) RefreshCampaignInsights(id int64) (insights.Report, error) {
	return call(s.a, auth.PermDrafts, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) (insights.Report, error) {
		return eng.RefreshCampaignInsights(ctx, id)
	})
}

// CampaignDeliveries lists per-recipient records (masked for agency).
func (s *CampaignService) CampaignDeliveries(id int64, f campaign.DeliveryFilter) (campaign.DeliveryPage, error) {
	return call(s.a, auth.PermDrafts, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (campaign.DeliveryPage, error) {
		p, err := eng.Campaigns().Deliveries(ctx, id, f)
		if err == nil && st.Role.Masked() {
			p.Mask()
		}
		return p, err
	})
}

// ExportResult says where a report went.
type ExportResult struct {
	Path string `json:"path"`
	Rows int    `json:"rows"`
}

// ExportCampaignReport writes the per-recipient report as CSV to a file the
// person picks (customer numbers and states, no names). Audited.
func (s *CampaignService) ExportCampaignReport(id int64) (ExportResult, error) {
	return call(s.a, auth.PermExport, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (ExportResult, error) {
		return s.a.exportFile(ctx, "campaign-"+time.Now().Format("20060102")+".csv", func(w io.Writer) (int, error) {
			return eng.Campaigns().ExportReport(ctx, st.Actor(), id, w, nil)
		})
	})
}

// --- email and SMS settings ---

// DeliverySettings are the email and SMS settings; secrets are never read
// back, only whether they are set.
type DeliverySettings = campaign.DeliverySettings

// GetDeliverySettings returns the email and SMS settings.
func (s *CampaignService) GetDeliverySettings() (DeliverySettings, error) {
	return call(s.a, auth.PermSettings, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) (DeliverySettings, error) {
		return eng.DeliverySettings(ctx)
	})
}

// SaveMailSettings stores the SMTP settings; a non-empty password goes to
// the keychain ("" keeps the stored one). Audited.
func (s *CampaignService) SaveMailSettings(ms mail.Settings, password string) error {
	return run(s.a, auth.PermSettings, func(ctx context.Context, st auth.Staff, eng *engine.Engine) error {
		return eng.SaveMailSettings(ctx, st.Actor(), ms, password)
	})
}

// SaveSMSSettings stores the SMS provider settings; a non-empty credential
// (the Twilio auth token, or the webhook signing secret) goes to the
// keychain ("" keeps the stored one). Audited.
func (s *CampaignService) SaveSMSSettings(ss sms.Settings, credential string) error {
	return run(s.a, auth.PermSettings, func(ctx context.Context, st auth.Staff, eng *engine.Engine) error {
		return eng.SaveSMSSettings(ctx, st.Actor(), ss, credential)
	})
}

// SendTestEmail sends a test message with the stored settings.
func (s *CampaignService) SendTestEmail(to string) error {
	return run(s.a, auth.PermSettings, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) error {
		return eng.SendTestEmail(ctx, to)
	})
}

// SendTestSMS sends a test SMS with the stored settings.
func (s *CampaignService) SendTestSMS(to string) error {
	return run(s.a, auth.PermSettings, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) error {
		return eng.SendTestSMS(ctx, to)
	})
}

// --- helpers ---

// campaignAct is call for a change of a campaign by the signed-in staff
// member (the service audits it under actor). Every window hears of the
// change (the approvers' badge, open lists and details).
func campaignAct(a *Client, p auth.Permission, do func(ctx context.Context, svc *campaign.Service, actor string) (campaign.Campaign, error)) (campaign.Campaign, error) {
	c, err := call(a, p, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (campaign.Campaign, error) {
		return do(ctx, eng.Campaigns(), st.Actor())
	})
	if err == nil && a.emit != nil {
		a.emit.Emit(campaign.EventChanged, campaign.ChangedEvent{CampaignID: c.ID})
	}
	return c, err
}

// exportFile asks the person where to save a report (suggesting name) and
// writes it there with write; a cancelled dialog is no error and writes
// nothing.
func (a *Client) exportFile(ctx context.Context, name string, write func(io.Writer) (int, error)) (ExportResult, error) {
	path, save, err := a.saveTo(ctx, "CSV", name)
	if err != nil || path == "" {
		return ExportResult{}, err
	}
	n, err := save(write)
	if err != nil {
		return ExportResult{}, err
	}
	return ExportResult{Path: path, Rows: n}, nil
}

// CampaignLinkPlan lists the links of a draft's LINE messages with their
// track / do-not-track choice, and whether links can be tracked here.
func (s *CampaignService) CampaignLinkPlan(content campaign.Content) (campaign.LinkPlan, error) {
	return call(s.a, auth.PermDrafts, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) (campaign.LinkPlan, error) {
		return content.LinkPlan(eng.Clicks().Base(ctx) != ""), nil
	})
}

// CampaignLinkClicks gives a campaign's per-person link figures (tracked
// recipients, who opened, clicks), at once (no personal data).
func (s *CampaignService) CampaignLinkClicks(id int64) ([]clicks.LinkStats, error) {
	return call(s.a, auth.PermDrafts, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) ([]clicks.LinkStats, error) {
		return eng.Clicks().ForCampaign(ctx, id)
	})
}
