package automation

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"tsunagu/internal/campaign"
	"tsunagu/internal/clicks"
	"tsunagu/internal/inbox"
	"tsunagu/internal/linesim"
	"tsunagu/internal/outbox"
	"tsunagu/internal/relay/wire"
	"tsunagu/internal/segment"
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

// TestReminderTrackedLinks: a reminder's LINE link is tracked per
// recipient (a link marked 「計測しない」 goes as written); nothing is sent
// until the links are on the relay; a click is attributed to the customer
// and named by the reminder.
func TestReminderTrackedLinks(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) // 09:00 Tokyo
	e := newEnv(t, start, false)
	const base = "https://relay.example.jp/c/t0123456789ab/"
	pub := &fakePub{fail: errors.New("relay down")}
	lnk, err := clicks.New(clicks.Config{DB: e.db, Clock: e.clock.now,
		Relay: func(context.Context) (string, clicks.Publisher, bool) { return base, pub, true }})
	if err != nil {
		t.Fatal(err)
	}
	ob, err := outbox.New(outbox.Config{DB: e.db, Sender: e.cl, Clock: e.clock.now, Workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	if e.svc, err = New(Config{DB: e.db, Segments: segment.New(e.db, e.clock.now, nil), Outbox: ob, Links: lnk, Clock: e.clock.now}); err != nil {
		t.Fatal(err)
	}
	ps := []person{
		{no: "A", lineUser: linesim.NewUserID(), consent: true, maturesOn: "2026-12-08"},
		{no: "B", lineUser: linesim.NewUserID(), consent: true, maturesOn: "2026-12-08"},
	}
	e.load(t, ps)
	const teiki, terms = "https://www.example.jp/teiki", "https://www.example.jp/terms"
	d := reminderDraft("満期7日前", -7, "10:00")
	d.Spec.Channels = []string{campaign.ChannelLine}
	d.Spec.Content.Line[0].Text = "{氏名} 様\n満期のご案内 " + teiki + " 規定 " + terms
	d.Spec.Content.Untracked = []string{terms}
	r := e.active(t, d)

	// The relay is down: the occurrences are claimed, nothing is sent.
	e.clock.set(start.Add(65 * time.Minute))
	e.tick(t)
	for _, p := range ps {
		if n := len(e.sim.Deliveries(p.lineUser)); n != 0 {
			t.Fatalf("%s: %d deliveries before the links were published", p.no, n)
		}
	}
	// It is back: the next pass publishes, then sends.
	pub.mu.Lock()
	pub.fail = nil
	pub.mu.Unlock()
	e.tick(t)
	if len(pub.got) != 2 {
		t.Fatalf("published %d links, want 2 (one per recipient)", len(pub.got))
	}
	tokens := map[string]string{}
	for _, p := range ps {
		ds := e.sim.Deliveries(p.lineUser)
		if len(ds) != 1 {
			t.Fatalf("%s: %d deliveries", p.no, len(ds))
		}
		text := ds[0].Text
		i := strings.Index(text, base)
		if i < 0 || strings.Contains(text, teiki) || !strings.Contains(text, " 規定 "+terms) {
			t.Fatalf("%s got %q", p.no, text)
		}
		tok := text[i+len(base) : i+len(base)+wire.TokenLen]
		for _, other := range tokens {
			if other == tok {
				t.Fatal("two recipients share a token")
			}
		}
		tokens[p.no] = tok
	}
	for _, l := range pub.got {
		if l.URL != teiki {
			t.Fatalf("published %q", l.URL)
		}
	}
	// A's click: attributed, named by the reminder.
	var id [wire.ClickIDLen]byte
	id[0] = 1
	if rec, err := lnk.Record(ctx, []wire.Click{{ID: id, Token: tokens["A"], At: start.Add(2 * time.Hour).UnixMilli()}}); err != nil || rec.Stored != 1 {
		t.Fatalf("record: %+v %v", rec, err)
	}
	cc, err := lnk.ForCustomer(ctx, ps[0].id)
	if err != nil || len(cc) != 1 || cc[0].Source != clicks.KindReminder || cc[0].SourceName != "満期7日前" || cc[0].URL != teiki || cc[0].CampaignID != 0 {
		t.Fatalf("A's clicks: %+v %v", cc, err)
	}
	st, err := lnk.ForSource(ctx, clicks.Source{Kind: clicks.SourceAutomation, ID: r.ID})
	if err != nil || len(st) != 1 || st[0] != (clicks.LinkStats{URL: teiki, Recipients: 2, Clickers: 1, Clicks: 1}) {
		t.Fatalf("reminder's links: %+v %v", st, err)
	}
	if o := e.occurrences(t, r.ID); o[ps[0].id].status != "sent" || o[ps[1].id].status != "sent" {
		t.Fatalf("occurrences: %+v", o)
	}
}

// TestWelcomeTrackedLinks: a welcome step's LINE link is tracked per new
// friend (only a LINE user yet), a link marked 「計測しない」 goes as
// written, nothing is sent before the links are on the relay, and a click
// is written in the friend's conversation named by the welcome series and,
// once the friend is linked, shown on the customer's card.
func TestWelcomeTrackedLinks(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC) // 10:00 Tokyo
	e := newEnv(t, start, false)
	const base = "https://relay.example.jp/c/t0123456789ab/"
	pub := &fakePub{fail: errors.New("relay down")}
	lnk, err := clicks.New(clicks.Config{DB: e.db, Clock: e.clock.now,
		Relay: func(context.Context) (string, clicks.Publisher, bool) { return base, pub, true }})
	if err != nil {
		t.Fatal(err)
	}
	ob, err := outbox.New(outbox.Config{DB: e.db, Sender: e.cl, Clock: e.clock.now, Workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	if e.svc, err = New(Config{DB: e.db, Segments: segment.New(e.db, e.clock.now, nil), Outbox: ob, Links: lnk, Clock: e.clock.now}); err != nil {
		t.Fatal(err)
	}
	const guide, terms = "https://www.example.jp/guide", "https://www.example.jp/terms"
	r := e.active(t, Draft{Name: "ようこそ", Kind: KindWelcome, Spec: Spec{Steps: []Step{{
		Messages:  []campaign.LineMessage{{Kind: "text", Text: "友だち追加ありがとうございます。ご案内 " + guide + " 規定 " + terms}},
		Untracked: []string{terms},
	}}}})
	if got, err := e.svc.Get(ctx, r.ID); err != nil || len(got.Spec.Steps[0].Untracked) != 1 {
		t.Fatalf("the step's choice was not kept: %+v %v", got.Spec.Steps, err)
	}
	users := []string{linesim.NewUserID(), linesim.NewUserID()}
	convs := map[string]int64{}
	for _, u := range users {
		e.sim.AddCustomer(linesim.Customer{UserID: u, Following: true})
		err := e.db.Write(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO line_users (user_id, follow_state, created_at) VALUES (?, 'following', 0)`, u); err != nil {
				return err
			}
			var conv int64
			if err := tx.QueryRowContext(ctx, `INSERT INTO conversations (line_user_id, created_at) VALUES (?, 0) RETURNING id`, u).Scan(&conv); err != nil {
				return err
			}
			convs[u] = conv
			_, err := NewHook().HandleEvent(ctx, tx, inbox.HookEvent{Type: "follow", UserID: u, At: e.clock.now()})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// The relay is down: the step is claimed, nothing is sent.
	e.tick(t)
	for _, u := range users {
		if n := len(e.sim.Deliveries(u)); n != 0 {
			t.Fatalf("%d deliveries before the links were published", n)
		}
	}
	pub.mu.Lock()
	pub.fail = nil
	pub.mu.Unlock()
	e.tick(t)
	if len(pub.got) != 2 {
		t.Fatalf("published %d links, want 2 (one per friend)", len(pub.got))
	}
	tokens := map[string]string{}
	for _, u := range users {
		ds := e.sim.Deliveries(u)
		if len(ds) != 1 || ds[0].Via != linesim.ViaPush {
			t.Fatalf("deliveries %+v, want one push", ds)
		}
		text := ds[0].Text
		i := strings.Index(text, base)
		if i < 0 || strings.Contains(text, guide) || !strings.Contains(text, " 規定 "+terms) {
			t.Fatalf("got %q", text)
		}
		tokens[u] = text[i+len(base) : i+len(base)+wire.TokenLen]
	}
	if tokens[users[0]] == tokens[users[1]] {
		t.Fatal("two friends share a token")
	}
	var occ string
	e.db.Reader().QueryRow(`SELECT status FROM automation_occurrences WHERE line_user_id = ? AND occurs_on = 'step-1'`, users[0]).Scan(&occ)
	if occ != "sent" {
		t.Fatalf("occurrence %q", occ)
	}
	// The first friend clicks: a line in their conversation, from the series.
	var id [wire.ClickIDLen]byte
	id[0] = 7
	rec, err := lnk.Record(ctx, []wire.Click{{ID: id, Token: tokens[users[0]], At: start.Add(time.Hour).UnixMilli()}})
	if err != nil || rec.Stored != 1 || len(rec.Conversations) != 1 || rec.Conversations[0] != convs[users[0]] {
		t.Fatalf("record: %+v %v", rec, err)
	}
	var src, body string
	e.db.Reader().QueryRow(`SELECT source, body FROM messages WHERE conversation_id = ? AND kind = ?`, convs[users[0]], clicks.KindClick).Scan(&src, &body)
	if src != "automation:"+strconv.FormatInt(r.ID, 10) || body != guide {
		t.Fatalf("click line: source %q body %q", src, body)
	}
	// Linked later, the customer's card names the welcome series.
	var cust int64
	err = e.db.Write(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO customers (customer_no, name, created_at, updated_at) VALUES ('W1', '連携 花子', 0, 0) RETURNING id`).Scan(&cust); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO customer_line_links (customer_id, line_user_id, linked_at, method) VALUES (?, ?, 0, 'code')`, cust, users[0])
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	cc, err := lnk.ForCustomer(ctx, cust)
	if err != nil || len(cc) != 1 || cc[0].Source != clicks.KindWelcome || cc[0].SourceName != "ようこそ" || cc[0].URL != guide {
		t.Fatalf("card clicks: %+v %v", cc, err)
	}
}
