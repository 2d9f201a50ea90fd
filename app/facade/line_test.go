package facade

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
	"tsunagu/internal/msgcode"

	"tsunagu/internal/audit"
	"tsunagu/internal/engine"
	"tsunagu/internal/inbox"
	"tsunagu/internal/line"
	"tsunagu/internal/linesim"
)

func TestLineCodes(t *testing.T) {
	monthly := fmt.Errorf("send 3: %w", fmt.Errorf("%w: %w", line.ErrMonthlyLimit, &line.APIError{Status: 429, Message: "You have reached your monthly limit."}))
	tests := []struct {
		err  error
		want string
	}{
		// The monthly limit wraps LINE's 429; its own wording wins over
		// the generic send failure.
		{monthly, msgcode.MonthlyLimit},
		{fmt.Errorf("campaign: %w", line.ErrQuotaExceeded), msgcode.QuotaExceeded},
		{fmt.Errorf("send: %w", &line.APIError{Status: 429, Message: "The API rate limit has been exceeded. Try again later."}), msgcode.SendFailed},
		// What the inbox refuses a masked role, and the sandbox outside
		// sandbox mode or with a bad drill.
		{fmt.Errorf("content: %w", inbox.ErrMasked), msgcode.ContentMasked},
		{engine.ErrNotSandbox, msgcode.NotSandbox},
		{fmt.Errorf("sandbox outage: %w", linesim.ErrBadOutage), msgcode.InvalidInput},
	}
	for _, tt := range tests {
		if got := msgcode.Code(tt.err); got != tt.want {
			t.Errorf("msgcode.Code(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

// Opening a conversation shows 既読 on the customer's phone only after an
// administrator turns it on.
func TestMarkReadOnLineSetting(t *testing.T) {
	app := startApp(t, nil)
	firstAdmin(t, app)
	cs, err := sandboxSvc(app).SandboxCustomers()
	if err != nil {
		t.Fatal(err)
	}
	if err := sandboxSvc(app).SandboxSend(cs[0].UserID, "残高を教えてください"); err != nil {
		t.Fatal(err)
	}
	convs, err := inboxSvc(app).Conversations()
	if err != nil || len(convs) != 1 {
		t.Fatalf("conversations: %v %v", convs, err)
	}
	sim, err := app.eng.Simulator()
	if err != nil {
		t.Fatal(err)
	}
	if s, err := (&ChannelService{app}).LineSettings(); err != nil || s.MarkReadOnLine {
		t.Fatalf("default: %+v %v", s, err)
	}
	if err := inboxSvc(app).MarkRead(convs[0].ID); err != nil {
		t.Fatal(err)
	}
	if sim.ReadUpTo(cs[0].UserID) != "" {
		t.Fatal("marked read on LINE while the setting is off")
	}
	if s, err := (&ChannelService{app}).SetLineSettings(LineSettings{MarkReadOnLine: true}); err != nil || !s.MarkReadOnLine {
		t.Fatalf("set: %+v %v", s, err)
	}
	if err := inboxSvc(app).MarkRead(convs[0].ID); err != nil {
		t.Fatal(err)
	}
	if sim.ReadUpTo(cs[0].UserID) == "" {
		t.Fatal("not marked read on LINE with the setting on")
	}
	rep, err := (&AuditService{app}).AuditEntries(audit.Filter{Action: audit.ActionSettings, Target: inbox.SettingMarkReadOnLINE})
	if err != nil || len(rep.Entries) != 1 || rep.Entries[0].Actor != "staff:admin" {
		t.Fatalf("setting audit: %+v %v", rep.Entries, err)
	}
}

// A reply through the bound object is audited by the inbox, once, under the
// staff member's login, without its text; the chain verifies.
func TestReplyAuditedThroughFacade(t *testing.T) {
	app := startApp(t, nil)
	firstAdmin(t, app)
	cs, err := sandboxSvc(app).SandboxCustomers()
	if err != nil {
		t.Fatal(err)
	}
	if err := sandboxSvc(app).SandboxSend(cs[0].UserID, "質問です"); err != nil {
		t.Fatal(err)
	}
	convs, err := inboxSvc(app).Conversations()
	if err != nil || len(convs) != 1 {
		t.Fatalf("conversations: %v %v", convs, err)
	}
	const text = "ご来店の際は通帳をお持ちください"
	m, err := inboxSvc(app).Reply(convs[0].ID, text)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := (&AuditService{app}).AuditEntries(audit.Filter{Action: "message."})
	if err != nil || len(rep.Entries) != 1 {
		t.Fatalf("send audit: %+v %v", rep.Entries, err)
	}
	e := rep.Entries[0]
	if e.Actor != "staff:admin" || e.Action != audit.ActionMessageSend || e.Target != fmt.Sprintf("conversation:%d", convs[0].ID) ||
		e.Detail["message"] != fmt.Sprint(m.ID) {
		t.Fatalf("entry = %+v", e)
	}
	for k, v := range e.Detail {
		if strings.Contains(v, "通帳") || strings.Contains(k, "通帳") {
			t.Fatalf("message text in the audit trail: %+v", e)
		}
	}
	_, eng, err := app.authService()
	if err != nil {
		t.Fatal(err)
	}
	if v, err := audit.Verify(context.Background(), eng.DB().Reader()); err != nil || !v.OK {
		t.Fatalf("chain: %+v %v", v, err)
	}
}

// The outage drill through the bound object: the simulated LINE API stops
// answering, the status area says so and counts what waits, a photo sent
// meanwhile arrives by itself once LINE is back; expired content is marked
// and can be fetched again.
func TestSandboxOutageDrill(t *testing.T) {
	app := startApp(t, nil)
	firstAdmin(t, app)
	cs, err := sandboxSvc(app).SandboxCustomers()
	if err != nil {
		t.Fatal(err)
	}
	if err := sandboxSvc(app).SandboxSetOutage("meteor", 0); err == nil || err.Error() != msgcode.InvalidInput {
		t.Fatalf("bad mode: %v", err)
	}
	if err := sandboxSvc(app).SandboxSetOutage("refuse", 0); err != nil {
		t.Fatal(err)
	}
	if err := sandboxSvc(app).SandboxSendImage(cs[0].UserID); err != nil {
		t.Fatal(err)
	}
	poll := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 30 s", what)
			}
		}
	}
	poll("LINE reported unreachable", func() bool {
		st, err := inboxSvc(app).LineStatus()
		return err == nil && !st.Reachable && st.DownSince > 0 && st.PendingContent == 1 && st.PendingProfiles == 1
	})
	convs, err := inboxSvc(app).Conversations()
	if err != nil || len(convs) != 1 || convs[0].DisplayName != "" {
		t.Fatalf("conversation during the outage: %+v %v", convs, err)
	}
	photo := func() inbox.Message {
		msgs, err := inboxSvc(app).Messages(convs[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		for i := len(msgs) - 1; i >= 0; i-- {
			if msgs[i].Kind == "image" {
				return msgs[i]
			}
		}
		t.Fatal("no photo")
		return inbox.Message{}
	}
	if m := photo(); m.HasContent || m.Fetch != inbox.FetchPending {
		t.Fatalf("photo during the outage: %+v", m)
	}
	if err := sandboxSvc(app).SandboxSetOutage("", 0); err != nil {
		t.Fatal(err)
	}
	poll("photo and profile filled in", func() bool {
		st, err := inboxSvc(app).LineStatus()
		return err == nil && st.Reachable && photo().HasContent && st.PendingProfiles == 0
	})

	if err := sandboxSvc(app).SandboxExpireContent(true); err != nil {
		t.Fatal(err)
	}
	if err := sandboxSvc(app).SandboxSendImage(cs[0].UserID); err != nil {
		t.Fatal(err)
	}
	poll("marked expired", func() bool { return photo().Fetch == inbox.FetchExpired })
	if err := sandboxSvc(app).SandboxExpireContent(false); err != nil {
		t.Fatal(err)
	}
	if err := inboxSvc(app).FetchContent(photo().ID); err != nil {
		t.Fatal(err)
	}
	poll("fetched again", func() bool { return photo().HasContent })
}
