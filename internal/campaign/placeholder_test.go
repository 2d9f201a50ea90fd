package campaign

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"

	"tsunagu/internal/linesim"
	"tsunagu/internal/segment"
)

// staffSegment: four LINE friends and two email-only customers; half of
// each have no staff in charge.
func staffSegment() []person {
	ps := []person{
		{no: "S1", name: "山田 花子", staff: "田中"},
		{no: "S2", name: "佐藤 健一", staff: ""},
		{no: "S3", name: "鈴木 美咲", staff: "田中"},
		{no: "S4", name: "高橋 誠", staff: "  "}, // blank is no value
		{no: "S5", name: "伊藤 正", staff: "渡辺", email: "s5@example.jp"},
		{no: "S6", name: "渡辺 京子", staff: "", email: "s6@example.jp"},
	}
	for i := range ps {
		p := &ps[i]
		p.active, p.branch = true, "本店"
		p.consentLine, p.consentEmail = true, true
		if p.email == "" {
			p.lineUser, p.following = linesim.NewUserID(), true
		}
	}
	return ps
}

func staffDraft() Draft {
	return Draft{
		Name:     "担当者からのご挨拶",
		Rules:    segment.Node{Op: "and"},
		Channels: []string{ChannelLine, ChannelEmail},
		Content: Content{
			Line:  []LineMessage{{Kind: "text", Text: "{氏名} 様\n担当：{担当者}"}},
			Email: Email{Subject: "ご挨拶", Text: "{氏名} 様\n担当：{担当者}"},
		},
	}
}

// mailText is an email's decoded text body.
func mailText(t *testing.T, raw []byte) string {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var r io.Reader = m.Body
	switch strings.ToLower(m.Header.Get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, r)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// sent is every LINE text and email body that went out.
func (e *env) sent(t *testing.T, ps []person) []string {
	var out []string
	for _, p := range ps {
		for _, d := range e.sim.Deliveries(p.lineUser) {
			out = append(out, d.Text)
		}
	}
	for _, m := range e.smtp.Messages() {
		out = append(out, mailText(t, m.Body))
	}
	return out
}

func noHole(t *testing.T, texts []string) {
	t.Helper()
	for _, s := range texts {
		if strings.Contains(s, "{担当者}") || strings.Contains(s, "担当：\n") || strings.HasSuffix(strings.TrimRight(s, "\r\n"), "担当：") ||
			strings.Contains(s, "担当：\r\n") {
			t.Fatalf("a message went out with an empty or raw placeholder: %q", s)
		}
	}
}

// A campaign with {担当者} to a segment where some customers have no staff
// in charge cannot go out with an empty placeholder: the plan counts who
// lacks it, approval and the send refuse until a rule covers them, the
// check runs again at send time, and a fallback or skip rule is honoured.
func TestPlaceholderWithoutValueCannotGoOut(t *testing.T) {
	e := newEnv(t, envOptions{})
	ps := staffSegment()
	e.load(t, ps)
	ctx := context.Background()
	svc := e.svc

	// The plan names the gap: 3 recipients (S2, S4, S6) have no 担当者.
	p, err := svc.PlanDraft(ctx, staffDraft())
	if err != nil {
		t.Fatal(err)
	}
	if p.Unresolved != 3 || len(p.Gaps) != 2 || p.Gaps[0].Token != "{氏名}" || p.Gaps[0].Missing != 0 ||
		p.Gaps[1] != (PlaceholderGap{Token: "{担当者}", Missing: 3}) {
		t.Fatalf("plan gaps: %+v unresolved %d", p.Gaps, p.Unresolved)
	}

	// Approval is refused, with the count.
	c, err := svc.Create(ctx, author, staffDraft())
	if err != nil {
		t.Fatal(err)
	}
	_, err = svc.Approve(ctx, approver, c.ID, c.Version)
	var pe *PlaceholderError
	if !errors.Is(err, ErrPlaceholder) || !errors.As(err, &pe) || len(pe.Gaps) != 1 || pe.Gaps[0].Missing != 3 {
		t.Fatalf("approve with a hole: %v", err)
	}

	// Even an approval that slipped through (stored directly, as an older
	// version of the app might have) cannot send it: the send checks again.
	if _, err := e.db.Writer().Exec(`UPDATE campaigns SET status = 'approved', approved_by = ?, approved_version = version WHERE id = ?`, approver, c.ID); err != nil {
		t.Fatal(err)
	}
	if err := svc.Run(ctx, approver, c.ID); !errors.Is(err, ErrPlaceholder) {
		t.Fatalf("send with a hole: %v", err)
	}
	if _, err := svc.SendNow(ctx, approver, c.ID); !errors.Is(err, ErrPlaceholder) {
		t.Fatalf("send now with a hole: %v", err)
	}
	if got, _ := svc.Get(ctx, c.ID); got.Status != StatusApproved {
		t.Fatalf("refused send changed the status: %s", got.Status)
	}
	if s := e.sent(t, ps); len(s) != 0 {
		t.Fatalf("sent %d messages from a refused campaign", len(s))
	}

	// The data changes between approval and send: approved while everyone
	// had staff, then S3 loses theirs. The send is refused.
	exec := func(q string) {
		t.Helper()
		if _, err := e.db.Writer().Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	exec(`UPDATE customers SET staff_in_charge = '後藤' WHERE customer_no IN ('S2', 'S4', 'S6')`)
	everyone := staffDraft()
	everyone.Name = "全員に担当者がいる間に承認"
	c2 := e.approved(t, svc, everyone)
	exec(`UPDATE customers SET staff_in_charge = '' WHERE customer_no = 'S3'`)
	if err := svc.Run(ctx, approver, c2.ID); !errors.Is(err, ErrPlaceholder) || !errors.As(err, &pe) || pe.Gaps[0].Missing != 1 {
		t.Fatalf("send after the data changed: %v", err)
	}
	if s := e.sent(t, ps); len(s) != 0 {
		t.Fatalf("sent %d messages after the data changed", len(s))
	}
	// From here S2, S3, S4 and S6 have no staff in charge.
	exec(`UPDATE customers SET staff_in_charge = '' WHERE customer_no IN ('S2', 'S4', 'S6')`)

	// The clerk's choice, fallback text: everyone receives a filled text.
	if _, err := svc.Cancel(ctx, author, c.ID); err != nil {
		t.Fatal(err)
	}
	fb := staffDraft()
	fb.Content.Missing = map[string]MissingRule{"{担当者}": {Action: MissingFallback, Text: "窓口係"}}
	c3 := e.approved(t, svc, fb)
	if p, err := svc.Plan(ctx, c3.ID); err != nil || p.Unresolved != 0 || p.Gaps[1].Missing != 4 || p.Gaps[1].Action != MissingFallback {
		t.Fatalf("plan with a fallback: %+v %v", p, err)
	}
	if err := svc.Run(ctx, approver, c3.ID); err != nil {
		t.Fatal(err)
	}
	texts := e.sent(t, ps)
	if len(texts) != 6 {
		t.Fatalf("fallback campaign: %d messages, want 6: %q", len(texts), texts)
	}
	noHole(t, texts)
	joined := strings.Join(texts, "|")
	if strings.Count(joined, "担当：窓口係") != 4 || strings.Count(joined, "担当：田中") != 1 || strings.Count(joined, "担当：渡辺") != 1 {
		t.Fatalf("fallback texts: %q", texts)
	}

	// The other choice, skip them: only customers with staff get it, the
	// others are reported as skipped for the placeholder.
	before := len(texts)
	sk := staffDraft()
	sk.Name = "担当者からのご挨拶（担当者のいる方のみ）"
	sk.Content.Missing = map[string]MissingRule{"{担当者}": {Action: MissingSkip}}
	c4 := e.approved(t, svc, sk)
	if err := svc.Run(ctx, approver, c4.ID); err != nil {
		t.Fatal(err)
	}
	texts = e.sent(t, ps)
	noHole(t, texts)
	// Only S1 and S5 have staff in charge now.
	if got := len(texts) - before; got != 2 {
		t.Fatalf("skip campaign sent %d, want 2: %q", got, texts[before:])
	}
	rep, err := svc.Report(ctx, c4.ID)
	if err != nil || rep.Skipped[SkipPlaceholder] != 4 {
		t.Fatalf("skip report: %+v %v", rep, err)
	}
}

// The renderer itself never leaves a hole: without a value and a rule it
// fails, whichever channel.
func TestRendererRefusesAHole(t *testing.T) {
	c := staffDraft().Content
	c.SMS.Text = "担当 {担当者}"
	who := Person{Name: "山田 花子"}
	if _, err := c.RenderLine(who); !errors.Is(err, ErrPlaceholder) {
		t.Fatalf("LINE: %v", err)
	}
	if _, _, err := c.RenderEmail(who); !errors.Is(err, ErrPlaceholder) {
		t.Fatalf("email: %v", err)
	}
	if _, err := c.RenderSMS(who); !errors.Is(err, ErrPlaceholder) {
		t.Fatalf("SMS: %v", err)
	}
}
