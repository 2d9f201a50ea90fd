package facade

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"tsunagu/internal/mask"
	"tsunagu/internal/msgcode"

	"tsunagu/internal/auth"
	"tsunagu/internal/campaign"
	"tsunagu/internal/mail"
	"tsunagu/internal/segment"
)

func TestCampaignFacadeApprovalAndMasking(t *testing.T) {
	app := startApp(t, nil)
	camp, sess := &CampaignService{app}, &SessionService{app}
	firstAdmin(t, app)
	for _, s := range []auth.NewStaff{
		{Login: "op", DisplayName: "作成者", Role: auth.RoleOperator, Password: "operator password 1"},
		{Login: "ap", DisplayName: "承認者", Role: auth.RoleApprover, Password: "approver password 1"},
		{Login: "ag", DisplayName: "代理店", Role: auth.RoleAgency, Password: "agency password 12"},
	} {
		if _, err := addStaff(app, s); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	err := app.eng.DB().Write(ctx, func(tx *sql.Tx) error {
		for i := range 20 {
			var id int64
			if err := tx.QueryRowContext(ctx, `INSERT INTO customers (customer_no, name, branch, email, created_at, updated_at) VALUES (?, ?, '本店', ?, 0, 0) RETURNING id`,
				fmt.Sprintf("N%03d", i), fmt.Sprintf("山田 %d", i), fmt.Sprintf("y%d@example.jp", i)).Scan(&id); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO consents VALUES (?, 'email', ?, 'test', 0)`, id, i%2); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	signIn := func(login, pw string) {
		t.Helper()
		if _, err := sess.SignIn(login, pw); err != nil {
			t.Fatal(err)
		}
	}
	rules := segment.Node{Op: "and", Children: []segment.Node{{Cond: &segment.Condition{Kind: segment.KindField, Field: "branch", Cmp: "eq", Value: "本店"}}}}

	signIn("ag", "agency password 12")
	counts, err := camp.SegmentCount(rules)
	if err != nil || counts.Total != 20 || counts.Email != 10 {
		t.Fatalf("SegmentCount = %+v, %v", counts, err)
	}
	p, err := camp.SegmentPreview(rules, 0, 5)
	if err != nil || len(p.Rows) != 5 || p.Rows[0].Name != mask.Placeholder || p.Rows[0].Email == "y0@example.jp" {
		t.Fatalf("agency preview not masked: %+v, %v", p.Rows, err)
	}

	signIn("op", "operator password 1")
	d := campaign.Draft{Name: "お知らせ", Rules: rules, Channels: []string{campaign.ChannelEmail},
		Content: campaign.Content{Email: campaign.Email{Subject: "お知らせ", Text: "{氏名} 様"}}}
	c, err := camp.CreateCampaign(d)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := camp.ApproveCampaign(c.ID, c.Version); err == nil || err.Error() != msgcode.Forbidden {
		t.Fatalf("operator approves: %v", err)
	}
	plan, err := camp.CampaignPlan(c.ID)
	if err != nil || plan.Email != 10 || plan.Skipped[campaign.SkipNoConsent] != 10 {
		t.Fatalf("plan = %+v, %v", plan, err)
	}
	prev, err := camp.PreviewCampaignContent(d.Content, nil)
	if err != nil || prev.EmailText != "山田 花子 様" {
		t.Fatalf("preview = %+v, %v", prev, err)
	}

	signIn("ap", "approver password 1")
	own, err := camp.CreateCampaign(d)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := camp.ApproveCampaign(own.ID, own.Version); err == nil || err.Error() != msgcode.CampaignOwnApproval {
		t.Fatalf("approver approves own campaign: %v", err)
	}
	if _, err := camp.SendCampaign(c.ID); err == nil || err.Error() != msgcode.CampaignNotApproved {
		t.Fatalf("send unapproved: %v", err)
	}
	if _, err := camp.ApproveCampaign(c.ID, c.Version); err != nil {
		t.Fatal(err)
	}
	// Email is not set up: refused before anything is written.
	if _, err := camp.SendCampaign(c.ID); err == nil || err.Error() != msgcode.CampaignNoMailer {
		t.Fatalf("send without a mailer: %v", err)
	}

	signIn("admin", testAdminPW)
	// Refused, and the form is told which field: the encryption.
	if err := camp.SaveMailSettings(mail.Settings{Host: "smtp.example.jp", Port: 587, TLS: mail.TLSNone, From: "info@example.jp"}, ""); err == nil ||
		msgcode.Code(err) != msgcode.MailSettings || fmt.Sprint(msgcode.For(err).Fields) != "[{tls errors.fieldLoopback 0 0}]" {
		t.Fatalf("unencrypted remote SMTP: %v", err)
	}
	if err := camp.SaveMailSettings(mail.Settings{Host: "smtp.example.jp", Port: 587, TLS: mail.TLSStartTLS, User: "u", From: "info@example.jp"}, "smtp secret 1"); err != nil {
		t.Fatal(err)
	}
	ds, err := camp.GetDeliverySettings()
	if err != nil || !ds.MailConfigured || !ds.MailPasswordSet || ds.Mail.Host != "smtp.example.jp" {
		t.Fatalf("delivery settings = %+v, %v", ds, err)
	}
}
