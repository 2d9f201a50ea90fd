package campaign

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"tsunagu/internal/inbox"
)

// What a campaign sends is in each LINE recipient's conversation, as the
// recipient got it (personalised), marked as the campaign's, with the
// delivery status of the request that carried it, exactly once; nobody
// else's conversation has it.
func TestCampaignIsInRecipientsConversations(t *testing.T) {
	e := newEnv(t, envOptions{})
	ps := mixed(60)
	e.load(t, ps)
	ctx := context.Background()
	c := e.approved(t, e.svc, testDraft())
	if err := e.svc.Run(ctx, approver, c.ID); err != nil {
		t.Fatal(err)
	}
	// The copies are written after the send, in the background; a second
	// writer (as after a crash) writes nothing twice.
	if err := e.svc.recordThreads(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.recordThreads(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	var left int
	e.db.Reader().QueryRow(`SELECT count(*) FROM campaign_line_requests WHERE campaign_id = ? AND in_threads = 0`, c.ID).Scan(&left)
	if left != 0 {
		t.Fatalf("%d requests not in the threads", left)
	}
	ib, err := inbox.New(inbox.Config{DB: e.db})
	if err != nil {
		t.Fatal(err)
	}
	wantLine, _, _, _ := expect(ps)
	if len(wantLine) == 0 {
		t.Fatal("the fixture has no LINE recipient")
	}
	seen := 0
	for _, p := range ps {
		if p.lineUser == "" {
			continue
		}
		var conv int64
		if err := e.db.Reader().QueryRow(`SELECT id FROM conversations WHERE line_user_id = ?`, p.lineUser).Scan(&conv); err != nil {
			if wantLine[p.lineUser] {
				t.Fatalf("recipient %s has no conversation: %v", p.no, err)
			}
			continue
		}
		msgs, err := ib.Messages(ctx, conv)
		if err != nil {
			t.Fatal(err)
		}
		if !wantLine[p.lineUser] {
			if len(msgs) != 0 {
				t.Errorf("%s was not a recipient but has %+v", p.no, msgs)
			}
			continue
		}
		seen++
		if len(msgs) != 2 {
			t.Fatalf("%s: want the campaign's 2 messages, got %+v", p.no, msgs)
		}
		if !strings.HasPrefix(msgs[0].Body, p.name+" 様\n年末年始") || msgs[1].Body == "" {
			t.Errorf("%s: bodies %q / %q", p.no, msgs[0].Body, msgs[1].Body)
		}
		for _, m := range msgs {
			if m.Direction != "out" || m.Origin != inbox.OriginCampaign || m.OriginName != "年末のお知らせ" || m.Status != "sent" || !m.Tracked {
				t.Errorf("%s: %+v", p.no, m)
			}
		}
	}
	if seen != len(wantLine) {
		t.Errorf("%d recipients have the campaign in their conversation, want %d", seen, len(wantLine))
	}

	// As if the app stopped before writing them: the scheduler's next
	// tick writes them.
	var copies int
	e.db.Reader().QueryRow(`SELECT count(*) FROM messages WHERE campaign_request IS NOT NULL`).Scan(&copies)
	if err := e.db.Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM messages WHERE campaign_request IS NOT NULL`); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE campaign_line_requests SET in_threads = 0`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	svc := e.service(t, e.db, nil)
	svc.Tick(ctx, false)
	defer svc.Close()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var left int
		e.db.Reader().QueryRow(`SELECT count(*) FROM campaign_line_requests WHERE in_threads = 0`).Scan(&left)
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d requests still not in the threads after the tick", left)
		}
	}
	var again int
	e.db.Reader().QueryRow(`SELECT count(*) FROM messages WHERE campaign_request IS NOT NULL`).Scan(&again)
	if copies != 2*len(wantLine) || again != copies {
		t.Errorf("copies: %d after the send, %d after the tick; want %d", copies, again, 2*len(wantLine))
	}
}
