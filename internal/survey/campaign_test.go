package survey_test

import (
	"strings"
	"testing"

	"tsunagu/internal/campaign"
	"tsunagu/internal/outbox"
)

// A campaign's "survey" Flex card starts the survey for whoever taps it;
// each tapper gets tokens of their own, and a made-up start is forged.
func TestCampaignSurveyCard(t *testing.T) {
	e := newEnv(t)
	e.defineAttributes()
	sv := e.openSurvey()
	start, err := e.svc.StartData(e.ctx, sv.ID)
	e.must(err)
	content := campaign.Content{Line: []campaign.LineMessage{{Kind: "flex", Template: "survey",
		Fields: map[string]string{"title": "{氏名}様 アンケートのお願い", "body": "3分で終わります。", "survey": start}}}}
	msgs, err := content.RenderLine(campaign.Person{Name: "山田"})
	e.must(err)
	a, b := e.friend("一"), e.friend("二")
	_, err = e.ob.Submit(e.ctx, outbox.Request{Source: "campaign:9", To: []string{a, b}, Messages: msgs})
	e.must(err)
	for _, u := range []string{a, b} {
		e.tap(u, "回答する", "")
		e.expectAsked(u, "資産運用に関心")
	}
	if ta, tb := e.dataOf(a, "ある"), e.dataOf(b, "ある"); ta == tb {
		t.Fatal("two tappers share a token")
	}
	_, err = e.sim.Postback(e.ctx, a, "回答する", "svs:"+strings.Repeat("A", 22))
	e.must(err)
	if n := e.count(`SELECT count(*) FROM survey_rejects WHERE reason = 'forged'`); n != 1 {
		t.Fatalf("forged starts = %d", n)
	}
	bad := content
	bad.Line = []campaign.LineMessage{{Kind: "flex", Template: "survey", Fields: map[string]string{"title": "x", "survey": "action=reserve"}}}
	if _, err := bad.RenderLine(campaign.Person{}); err == nil {
		t.Fatal("a survey card without a start token rendered")
	}
}
