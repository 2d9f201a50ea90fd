package inbox

import (
	"context"
	"errors"
	"testing"

	"github.com/line/line-bot-sdk-go/v8/linebot/webhook"

	"tsunagu/internal/audit"
	"tsunagu/internal/line"
	"tsunagu/internal/linesim"
)

func (e *simEnv) readTokens(t *testing.T, convID int64) int {
	t.Helper()
	var n int
	if err := e.db.Reader().QueryRow(`SELECT count(*) FROM messages WHERE conversation_id = ? AND mark_as_read_token IS NOT NULL`, convID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func markReadRequests(s *linesim.Server) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Endpoint == linesim.EndpointMarkAsReadByToken {
			n++
		}
	}
	return n
}

// TestMarkReadOnLINE runs the read token from the simulator's signed webhook
// through the real verifier, the DB and the SDK client back to the
// simulator, which shows 既読 on the customer's phone.
func TestMarkReadOnLINE(t *testing.T) {
	e := newSimEnv(t)
	u := e.customer(t, "hanako")
	ctx := context.Background()
	if _, err := e.sim.SendText(ctx, u, "一通目"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sim.SendText(ctx, u, "二通目"); err != nil {
		t.Fatal(err)
	}
	c, _ := e.conversation(t, u)
	if n := e.readTokens(t, c.ID); n != 2 {
		t.Fatalf("%d read tokens stored, want 2", n)
	}
	lastLineID := func() string {
		t.Helper()
		var id string
		if err := e.db.Reader().QueryRow(`SELECT line_message_id FROM messages WHERE conversation_id = ? AND direction = 'in' ORDER BY id DESC LIMIT 1`, c.ID).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}

	// Off by default: reading in Tsunagu shows the customer nothing.
	if on, err := e.ib.MarkReadOnLINEEnabled(ctx); err != nil || on {
		t.Fatalf("enabled by default: %v %v", on, err)
	}
	if err := e.ib.MarkRead(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if markReadRequests(e.sim) != 0 || e.sim.ReadUpTo(u) != "" {
		t.Fatal("marked read on LINE although the setting is off")
	}

	if err := e.ib.SetMarkReadOnLINE(ctx, audit.StaffActor("admin"), true); err != nil {
		t.Fatal(err)
	}
	entries, err := audit.List(ctx, e.db.Reader(), audit.Filter{Action: audit.ActionSettings, Target: SettingMarkReadOnLINE})
	if err != nil || len(entries) != 1 || entries[0].Actor != "staff:admin" || entries[0].Detail["new"] != "on" {
		t.Fatalf("setting audit: %+v %v", entries, err)
	}
	if err := e.ib.MarkRead(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if got, want := e.sim.ReadUpTo(u), lastLineID(); got != want || markReadRequests(e.sim) != 1 {
		t.Fatalf("read up to %q, want %q (%d requests)", got, want, markReadRequests(e.sim))
	}
	if n := e.readTokens(t, c.ID); n != 0 {
		t.Fatalf("%d read tokens kept after marking", n)
	}
	// Nothing new: nothing sent.
	if err := e.ib.MarkRead(ctx, c.ID); err != nil || markReadRequests(e.sim) != 1 {
		t.Fatalf("second mark: %v, %d requests", err, markReadRequests(e.sim))
	}

	// LINE failing does not fail MarkRead, and the token is kept for the
	// next time.
	if _, err := e.sim.SendText(ctx, u, "三通目"); err != nil {
		t.Fatal(err)
	}
	e.sim.InjectFaults(linesim.EndpointMarkAsReadByToken, linesim.Fault{Status: 500}, linesim.Fault{Status: 500})
	if err := e.ib.MarkRead(ctx, c.ID); err != nil {
		t.Fatalf("MarkRead failed with LINE: %v", err)
	}
	if c2, _ := e.conversation(t, u); c2.Unread != 0 {
		t.Fatalf("unread = %d after MarkRead", c2.Unread)
	}
	if n := e.readTokens(t, c.ID); n != 1 || e.sim.ReadUpTo(u) == lastLineID() {
		t.Fatalf("after a failure: %d tokens, read up to %s", n, e.sim.ReadUpTo(u))
	}
	if err := e.ib.MarkReadOnLINE(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if got, want := e.sim.ReadUpTo(u), lastLineID(); got != want {
		t.Fatalf("read up to %q, want %q", got, want)
	}

	// A withdrawn message's token is dropped with its text.
	if _, err := e.sim.SendText(ctx, u, "取り消します"); err != nil {
		t.Fatal(err)
	}
	lineID := lastLineID()
	if _, err := e.sim.Unsend(ctx, u, lineID); err != nil {
		t.Fatal(err)
	}
	if n := e.readTokens(t, c.ID); n != 0 {
		t.Fatalf("unsent message keeps its read token (%d)", n)
	}

	if err := e.ib.SetMarkReadOnLINE(ctx, audit.StaffActor("admin"), false); err != nil {
		t.Fatal(err)
	}
	if on, _ := e.ib.MarkReadOnLINEEnabled(ctx); on {
		t.Fatal("still on")
	}
}

func TestMarkReadOnLINEOffline(t *testing.T) {
	f := newFixture(t)
	f.receive(t, textEvent(userA, "質問です", f.clock.Now()))
	c := f.onlyConversation(t)
	if err := f.ib.MarkReadOnLINE(context.Background(), c.ID); !errors.Is(err, ErrOffline) {
		t.Fatalf("err = %v", err)
	}
	// Enabled but without LINE (the CLI): MarkRead still works.
	if err := f.ib.SetMarkReadOnLINE(context.Background(), audit.StaffActor("admin"), true); err != nil {
		t.Fatal(err)
	}
	if err := f.ib.MarkRead(context.Background(), c.ID); err != nil {
		t.Fatal(err)
	}
}

// A token is stored with its message event, except in standby mode (another
// channel answers that chat, so marking it read is not the inbox's call).
func TestReadTokenStored(t *testing.T) {
	f := newFixture(t)
	active := textEvent(userA, "こんにちは", f.clock.Now())
	standby := textEvent(userA, "もしもし", f.clock.Now())
	standby.Mode = webhook.EventMode_STANDBY
	req := &line.Webhook{
		CallbackRequest:  &webhook.CallbackRequest{Destination: "Ubot", Events: []webhook.EventInterface{active, standby}},
		MarkAsReadTokens: map[string]string{active.WebhookEventId: "tok-active", standby.WebhookEventId: "tok-standby"},
	}
	if err := f.ib.HandleWebhook(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	rows, err := f.db.Reader().Query(`SELECT body, COALESCE(mark_as_read_token, '') FROM messages ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]string{}
	for rows.Next() {
		var body, tok string
		if err := rows.Scan(&body, &tok); err != nil {
			t.Fatal(err)
		}
		got[body] = tok
	}
	if len(got) != 2 || got["こんにちは"] != "tok-active" || got["もしもし"] != "" {
		t.Fatalf("stored tokens = %v", got)
	}
}
