package engine

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"tsunagu/internal/automation"
	"tsunagu/internal/campaign"
	"tsunagu/internal/linesim"
	"tsunagu/internal/secrets/secretstest"
)

// TestSandboxWelcomeSeries: a follow that arrives through the simulator's
// webhook and the engine's hook chain enrols the friend; the scheduler sends
// step 1; the friend's reply (through the same chain) stops the series.
func TestSandboxWelcomeSeries(t *testing.T) {
	kr := secretstest.Keyring(t)
	dir := filepath.Join(t.TempDir(), "data")
	secretstest.CleanupDataDir(t, kr, dir)
	ctx := context.Background()
	clk := &clock{t: time.Now()}
	eng, err := Start(ctx, Options{DataDir: dir, Keyring: kr, Emitter: newEvents(), Clock: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	svc := eng.Automations()
	text := func(s string) []campaign.LineMessage { return []campaign.LineMessage{{Kind: "text", Text: s}} }
	r, err := svc.Create(ctx, "staff:author", automation.Draft{Name: "ようこそ", Kind: automation.KindWelcome, Spec: automation.Spec{Steps: []automation.Step{
		{Messages: text("友だち追加ありがとうございます。")},
		{DelayDays: 3, Messages: text("連携のご案内")},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	if r, err = svc.Approve(ctx, "staff:approver", r.ID, r.Version); err != nil {
		t.Fatal(err)
	}
	if _, err = svc.Activate(ctx, "staff:approver", r.ID); err != nil {
		t.Fatal(err)
	}
	user := linesim.NewUserID()
	eng.Sim().AddCustomer(linesim.Customer{UserID: user, DisplayName: "新しい友だち"})
	if err := eng.Sim().Follow(ctx, user); err != nil {
		t.Fatal(err)
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor("the welcome message", func() bool {
		if _, err := svc.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		return len(eng.Sim().Deliveries(user)) == 1
	})
	if _, err := eng.Sim().SendText(ctx, user, "よろしくお願いします"); err != nil {
		t.Fatal(err)
	}
	waitFor("the reply to be stored", func() bool {
		var n int
		eng.DB().Reader().QueryRow(`SELECT count(*) FROM automation_welcome WHERE line_user_id = ? AND stop_reason = 'replied'`, user).Scan(&n)
		return n == 1
	})
	clk.Add(4 * 24 * time.Hour)
	if _, err := svc.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(eng.Sim().Deliveries(user)); n != 1 {
		t.Fatalf("%d messages after the reply, want 1", n)
	}
}
