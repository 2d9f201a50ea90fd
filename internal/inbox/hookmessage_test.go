package inbox

import (
	"bytes"
	"context"
	"database/sql"
	"testing"
	"time"

	"tsunagu/internal/line"
	"tsunagu/internal/linesim"
)

// A hook reply with a full message object (quick replies) goes out as it is,
// first by the reply token and then, for a stale event, by push with the
// stored key; the message's payload is stored, so a retry resends the same
// bytes. Postback params reach hooks.
func TestHookReplyMessage(t *testing.T) {
	quick, err := line.ParseMessage([]byte(`{"type":"text","text":"どちらですか？","quickReply":{"items":[
		{"type":"action","action":{"type":"postback","label":"はい","data":"yes"}},
		{"type":"action","action":{"type":"datetimepicker","label":"日付","data":"when","mode":"date"}}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	var params []map[string]string
	h := hookFunc(func(_ context.Context, _ *sql.Tx, ev HookEvent) (HookResult, error) {
		if ev.Type == "postback" {
			params = append(params, ev.PostbackParams)
			return HookResult{}, nil
		}
		return HookResult{Replies: []HookReply{{Text: "どちらですか？", SentBy: "アンケート", Audit: "system:test", Message: &quick}}}, nil
	})
	e := newWorkEnv(t, []Hook{h}, nil)
	ctx := context.Background()
	u := e.customer(t, "hanako")
	e.say(t, u, "こんにちは")
	e.clock.Add(2 * time.Minute) // the next event's token is too old
	e.say(t, u, "もしもし")
	ds := e.sim.Deliveries(u)
	if len(ds) != 2 || ds[0].Via != linesim.ViaReply || ds[1].Via != linesim.ViaPush || ds[1].RetryKey == "" {
		t.Fatalf("deliveries = %+v", ds)
	}
	for _, d := range ds {
		if !bytes.Equal(d.Message, quick.Bytes()) {
			t.Fatalf("sent %s, want %s", d.Message, quick.Bytes())
		}
	}
	var body, payload string
	if err := e.db.Reader().QueryRow(`SELECT body, payload FROM messages WHERE direction = 'out' ORDER BY id LIMIT 1`).Scan(&body, &payload); err != nil {
		t.Fatal(err)
	}
	if body != "どちらですか？" || payload != "["+string(quick.Bytes())+"]" {
		t.Fatalf("stored body %q payload %s", body, payload)
	}
	if _, err := e.sim.PostbackParams(ctx, u, "2026-05-01", "when", map[string]string{"date": "2026-05-01"}); err != nil {
		t.Fatal(err)
	}
	if len(params) != 1 || params[0]["date"] != "2026-05-01" {
		t.Fatalf("postback params = %v", params)
	}
}
