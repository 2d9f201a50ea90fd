package campaign

import (
	"context"
	"errors"
	"testing"
)

// 差し戻し: an approver sends a draft back with a required comment
// (audited); it no longer waits for approval and cannot be approved until
// its author, who sees the comment, requests approval again.
func TestReturnWithCommentAndRequestAgain(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.load(t, staffSegment())
	ctx := context.Background()
	svc := e.svc
	d := staffDraft()
	d.Content.Missing = map[string]MissingRule{"{担当者}": {Action: MissingFallback, Text: "窓口係"}}
	c, err := svc.Create(ctx, author, d)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := svc.WaitingFor(ctx, approver); n != 1 {
		t.Fatalf("waiting for the approver: %d", n)
	}
	if n, _ := svc.WaitingFor(ctx, author); n != 0 {
		t.Fatalf("the author's own campaign counted for them: %d", n)
	}
	if _, err := svc.Return(ctx, approver, c.ID, c.Version, "  "); !errors.Is(err, ErrComment) {
		t.Fatalf("send back without a comment: %v", err)
	}
	if _, err := svc.Return(ctx, author, c.ID, c.Version, "自分で戻す"); !errors.Is(err, ErrOwnApproval) {
		t.Fatalf("author sends back their own: %v", err)
	}
	const comment = "担当者のいないお客さまへの文面を確認してください"
	r, err := svc.Return(ctx, approver, c.ID, c.Version, comment)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != StatusDraft || r.ReturnComment != comment || r.ReturnedBy != approver || r.ReturnedAt == 0 || r.WaitingForApproval() {
		t.Fatalf("returned: %+v", r)
	}
	var detail string
	if err := e.db.Reader().QueryRow(`SELECT detail FROM audit_log WHERE action = ? AND target = ?`, ActionReturn, target(c.ID)).Scan(&detail); err != nil {
		t.Fatalf("no audit entry for the return: %v", err)
	}
	if n, _ := svc.WaitingFor(ctx, approver); n != 0 {
		t.Fatalf("a returned campaign still counted as waiting: %d", n)
	}
	if _, err := svc.Approve(ctx, approver, c.ID, c.Version); !errors.Is(err, ErrReturned) {
		t.Fatalf("approve a returned campaign: %v", err)
	}
	// The author edits (it stays sent back) and requests approval again.
	d.Content.Missing["{担当者}"] = MissingRule{Action: MissingSkip}
	r, err = svc.Update(ctx, author, c.ID, r.Version, d)
	if err != nil || r.ReturnedAt == 0 {
		t.Fatalf("edit of a returned campaign: %+v %v", r, err)
	}
	if r, err = svc.RequestApproval(ctx, author, c.ID, r.Version); err != nil || !r.WaitingForApproval() || r.ReturnComment != "" {
		t.Fatalf("request again: %+v %v", r, err)
	}
	if _, err := svc.Approve(ctx, approver, c.ID, r.Version); err != nil {
		t.Fatal(err)
	}
	// Send, then send again (a second click): the second answer is the
	// campaign as it is, not an error, and nothing is sent twice.
	first, err := svc.SendNow(ctx, approver, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	again, err := svc.SendNow(ctx, approver, c.ID)
	if err != nil || (again.Status != StatusSending && again.Status != StatusDone) || again.StartedAt != first.StartedAt {
		t.Fatalf("second send: %+v %v", again, err)
	}
	waitDone(t, svc, c.ID)
	var sends int
	e.db.Reader().QueryRow(`SELECT count(*) FROM audit_log WHERE action = ? AND target = ?`, ActionSend, target(c.ID)).Scan(&sends)
	if sends != 1 {
		t.Fatalf("%d send starts audited, want 1", sends)
	}
	// A request that no approver could approve is refused at once.
	c2, err := svc.Create(ctx, author, staffDraft())
	if err != nil {
		t.Fatal(err)
	}
	if c2, err = svc.Return(ctx, approver, c2.ID, c2.Version, "差し込みの扱いを決めてください"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RequestApproval(ctx, author, c2.ID, c2.Version); !errors.Is(err, ErrPlaceholder) {
		t.Fatalf("request with a hole: %v", err)
	}
}

// A customer skipped for a channel the campaign does not use is reported
// as such, not as having no contact details.
func TestSkipReasonNamesTheUnchosenChannel(t *testing.T) {
	e := newEnv(t, envOptions{})
	ps := staffSegment()
	ps[5].mobile = "09012345678"
	ps = append(ps, person{no: "S7", name: "中村 翼", active: true, mobile: "09087654321", consentSMS: true})
	e.load(t, ps)
	d := staffDraft()
	d.Channels = []string{ChannelLine}
	d.Content.Missing = map[string]MissingRule{"{担当者}": {Action: MissingFallback, Text: "窓口係"}}
	p, err := e.svc.PlanDraft(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	// S5, S6 have email (S6 a mobile too): email not chosen; S7 only a mobile.
	if p.Line != 4 || p.Skipped[SkipEmailOff] != 2 || p.Skipped[SkipSMSOff] != 1 || p.Skipped[SkipNoContact] != 0 {
		t.Fatalf("plan: %+v", p)
	}
}
