package campaign

import (
	"context"
	"strings"
	"testing"

	"tsunagu/internal/inbox"
)

// What a campaign sends is in each LINE recipient's conversation, as the
// recipient got it (personalised), marked as the campaign's, with the
// delivery status of the request that carried it; nobody else's
// conversation has it.
func TestCampaignIsInRecipientsConversations(t *testing.T) {
	e := newEnv(t, envOptions{})
	ps := mixed(60)
	e.load(t, ps)
	ctx := context.Background()
	c := e.approved(t, e.svc, testDraft())
	if err := e.svc.Run(ctx, approver, c.ID); err != nil {
		t.Fatal(err)
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
}
