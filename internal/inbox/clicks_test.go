package inbox

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"testing"

	"tsunagu/internal/clicks"
	"tsunagu/internal/line"
	"tsunagu/internal/relay/wire"
)

type fakePub struct {
	mu   sync.Mutex
	got  []wire.Link
	fail error
}

func (f *fakePub) PublishLinks(_ context.Context, ls []wire.Link) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	f.got = append(f.got, ls...)
	return nil
}

// textSender records the text of each message object it is given.
type textSender struct {
	*fakeSender
}

func (s textSender) Push(ctx context.Context, to string, msgs []line.Message, key string) (line.SendResult, error) {
	return s.PushText(ctx, to, messageText(msgs), key)
}

func (s textSender) Reply(ctx context.Context, token string, msgs []line.Message) (line.SendResult, error) {
	return s.ReplyText(ctx, token, messageText(msgs))
}

func messageText(msgs []line.Message) string {
	b, _ := line.MarshalMessages(msgs)
	return string(b)
}

// TestReplyTrackedLinks: a staff reply's links go as written unless the
// clerk chose to track one; a tracked link is the friend's own token,
// stored with the reply, published before the request leaves (a relay
// that is down holds the reply, 送信待ち, nothing sent), while the
// conversation shows the link as written; the friend's click is a quiet
// line naming the staff member's reply.
func TestReplyTrackedLinks(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	const base = "https://relay.example.jp/c/t0123456789ab/"
	pub := &fakePub{fail: errors.New("relay down")}
	lnk, err := clicks.New(clicks.Config{DB: f.db, Clock: f.clock.Now,
		Relay: func(context.Context) (string, clicks.Publisher, bool) { return base, pub, true }})
	if err != nil {
		t.Fatal(err)
	}
	snd := textSender{f.send}
	ib, err := New(Config{DB: f.db, Sender: snd, Emitter: f.emit, Clock: f.clock.Now, Links: lnk})
	if err != nil {
		t.Fatal(err)
	}
	f.receive(t, textEvent(userA, "手続きの案内はありますか", f.clock.Now()))
	c := f.onlyConversation(t)
	const guide, terms = "https://www.example.jp/guide", "https://www.example.jp/terms"
	text := "こちらをご覧ください " + guide + " 規定 " + terms

	// Not chosen: as written, nothing minted.
	plain, err := ib.ReplyTracked(ctx, c.ID, by("佐藤"), "先にこちら "+guide, nil)
	if err != nil || plain.Status != "sent" {
		t.Fatalf("plain reply: %+v %v", plain, err)
	}
	var minted int
	f.db.Reader().QueryRow(`SELECT count(*) FROM tracked_links`).Scan(&minted)
	if minted != 0 || len(f.send.replies) != 1 || f.send.replies[0].text != "先にこちら "+guide {
		t.Fatalf("an untracked reply: %d links minted, sent %+v", minted, f.send.replies)
	}

	// The guide chosen; the relay is down: the reply waits, nothing leaves.
	m, err := ib.ReplyTracked(ctx, c.ID, by("佐藤"), text, []string{guide, "https://not.in.text/"})
	if err != nil || m.Status != "pending" || m.Error != SendErrWaiting || m.Body != text {
		t.Fatalf("tracked reply with the relay down: %+v %v", m, err)
	}
	if n := len(f.send.pushes) + len(f.send.replies); n != 1 {
		t.Fatalf("%d requests, want only the first reply's", n)
	}
	var key sql.NullString
	f.db.Reader().QueryRow(`SELECT retry_key FROM messages WHERE id = ?`, m.ID).Scan(&key)
	if key.String == "" {
		t.Fatal("no retry key stored with the reply")
	}
	// Back: the sender publishes, then sends.
	pub.mu.Lock()
	pub.fail = nil
	pub.mu.Unlock()
	if err := ib.DeliverPending(ctx); err != nil {
		t.Fatal(err)
	}
	if len(pub.got) != 1 || pub.got[0].URL != guide {
		t.Fatalf("published %+v, want the guide only", pub.got)
	}
	all := append(append([]sent{}, f.send.replies...), f.send.pushes...)
	if len(all) != 2 {
		t.Fatalf("requests %+v", all)
	}
	got := all[1].text
	i := strings.Index(got, base)
	if i < 0 || strings.Contains(got, guide) || !strings.Contains(got, " 規定 "+terms) {
		t.Fatalf("sent %q", got)
	}
	tok := got[i+len(base) : i+len(base)+wire.TokenLen]
	msgs, err := ib.Messages(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range msgs {
		if strings.Contains(x.Body, base) {
			t.Fatalf("the conversation shows a token: %q", x.Body)
		}
		if x.ID == m.ID && x.Status != "sent" {
			t.Fatalf("reply status %q", x.Status)
		}
	}

	// The friend clicks: a quiet line naming 佐藤's reply.
	var id [wire.ClickIDLen]byte
	id[0] = 3
	if rec, err := lnk.Record(ctx, []wire.Click{{ID: id, Token: tok, At: f.clock.Now().UnixMilli()}}); err != nil || rec.Stored != 1 || len(rec.Conversations) != 1 {
		t.Fatalf("record: %+v %v", rec, err)
	}
	msgs, _ = ib.Messages(ctx, c.ID)
	last := msgs[len(msgs)-1]
	if last.Kind != clicks.KindClick || last.Origin != OriginReply || last.OriginName != "佐藤" || last.Body != guide {
		t.Fatalf("click line %+v", last)
	}

	// No relay now: a link chosen to be tracked is refused, nothing stored
	// or sent (never sent untracked behind the clerk's back).
	off, err := clicks.New(clicks.Config{DB: f.db, Clock: f.clock.Now,
		Relay: func(context.Context) (string, clicks.Publisher, bool) { return "", nil, false }})
	if err != nil {
		t.Fatal(err)
	}
	ib2, err := New(Config{DB: f.db, Sender: snd, Clock: f.clock.Now, Links: off})
	if err != nil {
		t.Fatal(err)
	}
	before := len(msgs)
	if _, err := ib2.ReplyTracked(ctx, c.ID, by("佐藤"), text, []string{guide}); !errors.Is(err, ErrLinksUntrackable) {
		t.Fatalf("tracked reply without a relay: %v, want ErrLinksUntrackable", err)
	}
	if msgs, _ = ib.Messages(ctx, c.ID); len(msgs) != before || len(f.send.replies)+len(f.send.pushes) != 2 {
		t.Fatalf("a refused reply was stored or sent: %d messages (was %d)", len(msgs), before)
	}
}
