package inbox

import (
	"bytes"
	"context"
	"database/sql"
	"net/http"
	"strconv"
	"testing"
	"time"
	"tsunagu/internal/store/storetest"

	"tsunagu/internal/line"
	"tsunagu/internal/linesim"
	"tsunagu/internal/linesim/linesimtest"
	"tsunagu/internal/store"
)

const (
	simSecret = "inbox-sim-secret"
	simToken  = "inbox-sim-token"
)

// simEnv is the inbox behind the real webhook verifier, fed by the
// simulator, with the real SDK client for profiles and content.
type simEnv struct {
	ib   *Inbox
	db   *store.DB
	sim  *linesim.Server
	hook string
}

func newSimEnv(t *testing.T) *simEnv {
	t.Helper()
	return newSimEnvWith(t, Config{})
}

// newSimEnvWith is newSimEnv with an inbox configured as cfg; its DB and
// LINE client (sender, content, read marker) are set here.
func newSimEnvWith(t *testing.T, cfg Config) *simEnv {
	t.Helper()
	db := storetest.New(t)
	s := linesimtest.Start(t, linesim.Config{ChannelSecret: simSecret, AccessToken: simToken},
		line.Config{Retry: line.RetryPolicy{MaxAttempts: 2, MinBackoff: time.Millisecond}})
	sim, cl := s.Server, s.Client
	cfg.DB, cfg.Sender, cfg.Content, cfg.ReadMarker = db, cl, cl, cl
	ib, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hook := s.ServeWebhook(t, settled(ib))
	return &simEnv{ib: ib, db: db, sim: sim, hook: hook}
}

func (e *simEnv) customer(t *testing.T, name string) string {
	t.Helper()
	id := linesim.NewUserID()
	e.sim.AddCustomer(linesim.Customer{UserID: id, DisplayName: name, PictureURL: "https://example.com/" + name + ".png", Following: true})
	return id
}

func (e *simEnv) conversation(t *testing.T, userID string) (Conversation, []Message) {
	t.Helper()
	ctx := context.Background()
	convs, err := e.ib.Conversations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range convs {
		if c.LineUserID == userID {
			msgs, err := e.ib.Messages(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			return c, msgs
		}
	}
	t.Fatalf("no conversation for %s", userID)
	return Conversation{}, nil
}

func TestEveryOneToOneEventType(t *testing.T) {
	e := newSimEnv(t)
	u := e.customer(t, "hanako")
	ctx := context.Background()
	img := []byte("\x89PNG\r\n\x1a\nphoto of a passbook")

	if _, err := e.sim.SendText(ctx, u, "口座を開きたいです"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sim.SendSticker(ctx, u, "446", "1988"); err != nil {
		t.Fatal(err)
	}
	_, imgID, err := e.sim.SendImage(ctx, u, img, "image/png")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.sim.Postback(ctx, u, "予約する", "action=reserve&branch=12"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sim.VideoPlayComplete(ctx, u, "video-nisa-1"); err != nil {
		t.Fatal(err)
	}
	tok, err := line.New(line.Config{Endpoint: e.sim.URL(), AccessToken: simToken})
	if err != nil {
		t.Fatal(err)
	}
	linkToken, err := tok.IssueLinkToken(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.sim.AccountLink(ctx, u, linkToken, "nonce-1"); err != nil {
		t.Fatal(err)
	}

	conv, msgs := e.conversation(t, u)
	type row struct{ kind, body string }
	want := []row{
		{"text", "口座を開きたいです"}, {"sticker", "446/1988"}, {"image", ""},
		{"postback", "action=reserve&branch=12"}, {"videoPlayComplete", "video-nisa-1"}, {"accountLink", "ok"},
	}
	if len(msgs) != len(want) {
		t.Fatalf("%d messages, want %d: %+v", len(msgs), len(want), msgs)
	}
	for i, w := range want {
		if msgs[i].Kind != w.kind || msgs[i].Body != w.body || msgs[i].Direction != "in" {
			t.Fatalf("message %d = %s %q, want %s %q", i, msgs[i].Kind, msgs[i].Body, w.kind, w.body)
		}
	}
	// Text, sticker, image and postback want an answer; the others are
	// markers.
	if conv.Unread != 4 {
		t.Fatalf("unread = %d, want 4", conv.Unread)
	}
	if conv.DisplayName != "hanako" || conv.Unreachable {
		t.Fatalf("conversation = %+v", conv)
	}
	// The image was downloaded into the encrypted DB.
	if !msgs[2].HasContent {
		t.Fatal("image content not downloaded")
	}
	data, typ, err := e.ib.MessageContent(ctx, msgs[2].ID)
	if err != nil || !bytes.Equal(data, img) || typ != "image/png" {
		t.Fatalf("MessageContent = %q, %q, %v", data, typ, err)
	}

	// Unsend hides the image: no content, no body, and the row says so.
	if _, err := e.sim.Unsend(ctx, u, imgID); err != nil {
		t.Fatal(err)
	}
	_, msgs = e.conversation(t, u)
	if !msgs[2].Unsent || msgs[2].HasContent {
		t.Fatalf("after unsend: %+v", msgs[2])
	}
	if _, _, err := e.ib.MessageContent(ctx, msgs[2].ID); err == nil {
		t.Fatal("content of an unsent message is still served")
	}
	if err := e.ib.FetchContent(ctx, msgs[2].ID); err == nil {
		t.Fatal("content of an unsent message was downloaded again")
	}
}

func TestUnsendOfTheLastMessageClearsThePreview(t *testing.T) {
	e := newSimEnv(t)
	u := e.customer(t, "kenichi")
	ctx := context.Background()
	if _, err := e.sim.SendText(ctx, u, "暗証番号は1234です"); err != nil {
		t.Fatal(err)
	}
	// The simulator's message IDs count up from the first one issued.
	var lineID string
	e.db.Reader().QueryRow(`SELECT line_message_id FROM messages WHERE kind = 'text'`).Scan(&lineID)
	if _, err := e.sim.Unsend(ctx, u, lineID); err != nil {
		t.Fatal(err)
	}
	conv, msgs := e.conversation(t, u)
	if conv.LastPreview != "" || msgs[0].Body != "" || !msgs[0].Unsent {
		t.Fatalf("conversation %+v, message %+v: the unsent text is still visible", conv, msgs[0])
	}
	var n int
	e.db.Reader().QueryRow(`SELECT COUNT(*) FROM messages WHERE body LIKE '%1234%'`).Scan(&n)
	if n != 0 {
		t.Fatal("the unsent text is still stored")
	}
}

func TestBlockedUserProfile404MarksUnreachable(t *testing.T) {
	e := newSimEnv(t)
	u := e.customer(t, "misaki")
	ctx := context.Background()
	if _, err := e.sim.SendText(ctx, u, "こんにちは"); err != nil {
		t.Fatal(err)
	}
	if c, _ := e.conversation(t, u); c.Unreachable || c.DisplayName != "misaki" {
		t.Fatalf("before blocking: %+v", c)
	}
	if err := e.sim.Unfollow(ctx, u); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ib.RefreshProfile(ctx, u); err != nil {
		t.Fatal(err)
	}
	c, _ := e.conversation(t, u)
	if !c.Unreachable || c.FollowState != "unfollowed" || c.DisplayName != "misaki" {
		t.Fatalf("after a profile 404: %+v; want unreachable, name kept", c)
	}
	// Unblocking (follow with isUnblocked) makes them reachable again.
	if err := e.sim.Follow(ctx, u); err != nil {
		t.Fatal(err)
	}
	c, msgs := e.conversation(t, u)
	if c.Unreachable || c.FollowState != "following" {
		t.Fatalf("after unblocking: %+v", c)
	}
	if last := msgs[len(msgs)-1]; last.Kind != "follow" || last.Body != "unblocked" {
		t.Fatalf("last message = %+v, want a follow marked unblocked", last)
	}
}

func TestProfileIsCached(t *testing.T) {
	e := newSimEnv(t)
	u := e.customer(t, "makoto")
	ctx := context.Background()
	for _, text := range []string{"1", "2", "3"} {
		if _, err := e.sim.SendText(ctx, u, text); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	for _, r := range e.sim.Requests() {
		if r.Endpoint == linesim.EndpointProfile {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d profile requests for 3 messages, want 1 (cached)", n)
	}
}

// postSigned posts a hand-made webhook body, signed, to the inbox.
func (e *simEnv) postSigned(t *testing.T, body string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.hook, bytes.NewBufferString(body))
	req.Header.Set("X-Line-Signature", linesim.Sign(simSecret, []byte(body)))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("webhook answered %d", res.StatusCode)
	}
}

func TestStandbyUnknownAndEmptyWebhooks(t *testing.T) {
	e := newSimEnv(t)
	u := e.customer(t, "hanako")
	ts := time.Now().UnixMilli()
	// A connection check: no events, 200, nothing stored.
	e.postSigned(t, `{"destination":"Uffffffffffffffffffffffffffffffff","events":[]}`)
	// Standby: another channel answers this chat; the message is kept,
	// its reply token is not.
	e.postSigned(t, `{"destination":"x","events":[{"type":"message","mode":"standby","timestamp":`+itoa(ts)+
		`,"webhookEventId":"01STANDBY0000000000000000","deliveryContext":{"isRedelivery":false},"replyToken":"standby-token",`+
		`"source":{"type":"user","userId":"`+u+`"},"message":{"id":"1","type":"text","quoteToken":"q","text":"待機中"}}]}`)
	// A type LINE may add later, twice (a redelivery), and a group event.
	unknown := `{"destination":"x","events":[{"type":"somethingNew","mode":"active","timestamp":` + itoa(ts) +
		`,"webhookEventId":"01UNKNOWN0000000000000000","deliveryContext":{"isRedelivery":false},"source":{"type":"user","userId":"` + u + `"}}]}`
	e.postSigned(t, unknown)
	e.postSigned(t, unknown)
	e.postSigned(t, `{"destination":"x","events":[{"type":"join","mode":"active","timestamp":`+itoa(ts)+
		`,"webhookEventId":"01JOIN000000000000000000","deliveryContext":{"isRedelivery":false},"replyToken":"t","source":{"type":"group","groupId":"Cabc"}}]}`)

	var events, withToken int
	e.db.Reader().QueryRow(`SELECT COUNT(*) FROM webhook_events`).Scan(&events)
	e.db.Reader().QueryRow(`SELECT COUNT(*) FROM messages WHERE reply_token IS NOT NULL`).Scan(&withToken)
	if events != 3 || withToken != 0 {
		t.Fatalf("%d events stored (want 3: standby, unknown once, join), %d reply tokens kept (want 0)", events, withToken)
	}
	_, msgs := e.conversation(t, u)
	if len(msgs) != 1 || msgs[0].Body != "待機中" {
		t.Fatalf("messages = %+v", msgs)
	}
	var typ sql.NullString
	e.db.Reader().QueryRow(`SELECT type FROM webhook_events WHERE webhook_event_id = '01UNKNOWN0000000000000000'`).Scan(&typ)
	if typ.String != "somethingNew" {
		t.Fatalf("unknown event stored as %q", typ.String)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
