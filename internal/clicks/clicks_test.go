package clicks

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"testing"
	"time"

	"tsunagu/internal/relay/wire"
	"tsunagu/internal/store"
	"tsunagu/internal/store/storetest"
)

type fakePub struct {
	got  []wire.Link
	fail error
}

func (f *fakePub) PublishLinks(_ context.Context, ls []wire.Link) error {
	if f.fail != nil {
		return f.fail
	}
	f.got = append(f.got, ls...)
	return nil
}

// seed adds n customers, each linked to a LINE user with a conversation,
// and a campaign; it returns the customer IDs and the campaign ID.
func seed(tb testing.TB, db *store.DB, n int) ([]int64, int64) {
	tb.Helper()
	ctx := context.Background()
	ids := make([]int64, n)
	var campaign int64
	err := db.Write(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO campaigns (name, rules, content, channels, author, created_at, updated_at)
			VALUES ('満期のご案内', '{}', '{}', '["line"]', 'staff:op', 0, 0) RETURNING id`).Scan(&campaign); err != nil {
			return err
		}
		for i := range n {
			if err := tx.QueryRowContext(ctx, `INSERT INTO customers (customer_no, name, created_at, updated_at) VALUES (?, ?, 0, 0) RETURNING id`,
				fmt.Sprintf("C%07d", i), "顧客").Scan(&ids[i]); err != nil {
				return err
			}
			u := fmt.Sprintf("U%032x", i)
			if _, err := tx.ExecContext(ctx, `INSERT INTO line_users (user_id, created_at) VALUES (?, 0)`, u); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO conversations (line_user_id, created_at) VALUES (?, 0)`, u); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO customer_line_links VALUES (?, ?, 0, 'manual', '')`, ids[i], u); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return ids, campaign
}

// mint makes the tracked links of customers for urls in one transaction.
func mint(tb testing.TB, s *Service, campaign int64, customers []int64, urls []string) []map[string]string {
	tb.Helper()
	ctx := context.Background()
	out := make([]map[string]string, len(customers))
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		m, err := s.NewMinter(ctx, tx, campaign, "https://relay.example.jp/c/t0123456789ab/")
		if err != nil {
			return err
		}
		defer m.Close()
		for i, c := range customers {
			if out[i], err = m.Links(ctx, c, urls); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func click(tb testing.TB, link string, at int64) wire.Click {
	var c wire.Click
	rand.Read(c.ID[:])
	c.Token = link[len(link)-wire.TokenLen:]
	c.At = at
	return c
}

func TestMintPublishRecord(t *testing.T) {
	ctx := context.Background()
	db := storetest.New(t)
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	pub := &fakePub{}
	s, err := New(Config{DB: db, Clock: func() time.Time { return now },
		Relay: func(context.Context) (string, Publisher, bool) {
			return "https://relay.example.jp/c/t0123456789ab/", pub, true
		}})
	if err != nil {
		t.Fatal(err)
	}
	ids, camp := seed(t, db, 3)
	urls := []string{"https://www.example.jp/a", "https://www.example.jp/b"}
	links := mint(t, s, camp, ids, urls)
	// A retried expansion gets the same links; every token is distinct.
	again := mint(t, s, camp, ids, urls)
	seen := map[string]bool{}
	for i := range ids {
		for _, u := range urls {
			if links[i][u] != again[i][u] || seen[links[i][u]] || !wire.ValidToken(links[i][u][len(links[i][u])-wire.TokenLen:]) {
				t.Fatalf("customer %d link %s: %q then %q", i, u, links[i][u], again[i][u])
			}
			seen[links[i][u]] = true
		}
	}
	// Publishing: a failure leaves them unpublished; then all six go once.
	pub.fail = errors.New("relay down")
	if err := s.Publish(ctx, camp); err == nil {
		t.Fatal("publish with the relay down succeeded")
	}
	pub.fail = nil
	if err := s.Publish(ctx, camp); err != nil || len(pub.got) != 6 {
		t.Fatalf("published %d: %v", len(pub.got), err)
	}
	if err := s.Publish(ctx, camp); err != nil || len(pub.got) != 6 {
		t.Fatalf("published again: %d %v", len(pub.got), err)
	}
	for _, l := range pub.got {
		if l.ExpiresAt != now.Add(DefaultTTL).UnixMilli() {
			t.Fatalf("expiry %d", l.ExpiresAt)
		}
	}
	// Clicks: customer 0 on a twice, customer 1 on b, a duplicate delivery
	// and an unknown token.
	c1 := click(t, links[0][urls[0]], 1000)
	var unknown wire.Click
	rand.Read(unknown.ID[:])
	unknown.Token = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	r, err := s.Record(ctx, []wire.Click{c1, click(t, links[0][urls[0]], 2000), click(t, links[1][urls[1]], 3000), c1, unknown})
	if err != nil {
		t.Fatal(err)
	}
	if r.Stored != 3 || r.Duplicates != 1 || r.Unknown != 1 || len(r.Conversations) != 2 {
		t.Fatalf("recorded %+v", r)
	}
	if r, _ := s.Record(ctx, []wire.Click{c1}); r.Duplicates != 1 || r.Stored != 0 {
		t.Fatalf("redelivery: %+v", r)
	}
	cc, err := s.ForCustomer(ctx, ids[0])
	if err != nil || len(cc) != 1 || cc[0] != (CustomerClick{Source: KindCampaign, SourceName: "満期のご案内", CampaignID: camp, CampaignName: "満期のご案内",
		URL: urls[0], Clicks: 2, FirstAt: 1000, LastAt: 2000}) {
		t.Fatalf("customer 0: %+v %v", cc, err)
	}
	if cc, _ := s.ForCustomer(ctx, ids[2]); len(cc) != 0 {
		t.Fatalf("customer 2: %+v", cc)
	}
	st, err := s.ForCampaign(ctx, camp)
	if err != nil || len(st) != 2 || st[0] != (LinkStats{URL: urls[0], Recipients: 3, Clickers: 1, Clicks: 2}) ||
		st[1] != (LinkStats{URL: urls[1], Recipients: 3, Clickers: 1, Clicks: 1}) {
		t.Fatalf("campaign: %+v %v", st, err)
	}
	// One line per person and link in the conversation, with the campaign.
	var lines int
	var body, source string
	db.Reader().QueryRow(`SELECT COUNT(*), MIN(body), MIN(source) FROM messages WHERE kind = ?`, KindClick).Scan(&lines, &body, &source)
	if lines != 2 || body != urls[0] || source != fmt.Sprintf("campaign:%d", camp) {
		t.Fatalf("lines %d %q %q", lines, body, source)
	}
	// Erasing a customer erases their links and clicks.
	if err := db.Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.Exec(`DELETE FROM customer_line_links WHERE customer_id = ?`, ids[0]); err != nil {
			return err
		}
		_, err := tx.Exec(`DELETE FROM customers WHERE id = ?`, ids[0])
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var n, left int
	db.Reader().QueryRow(`SELECT (SELECT COUNT(*) FROM tracked_links WHERE customer_id = ?), (SELECT COUNT(*) FROM link_clicks)`, ids[0]).Scan(&n, &left)
	if n != 0 || left != 1 { // customer 1's click stays
		t.Fatalf("%d links of the erased customer, %d clicks left", n, left)
	}
	if r, _ := s.Record(ctx, []wire.Click{click(t, links[0][urls[1]], 4000)}); r.Unknown != 1 {
		t.Fatalf("click of an erased customer: %+v", r)
	}
}

func TestFindAndReplaceLinks(t *testing.T) {
	text := "詳しくは https://www.example.jp/a?x=1&y=2 をご覧ください。(https://www.example.jp/b). 再掲 https://www.example.jp/a?x=1&y=2"
	got := FindLinks(text)
	if len(got) != 2 || got[0] != "https://www.example.jp/a?x=1&y=2" || got[1] != "https://www.example.jp/b" {
		t.Fatalf("links: %q", got)
	}
	out := ReplaceLinks(text, map[string]string{got[0]: "https://r/c/t/A", got[1]: "https://r/c/t/B"})
	want := "詳しくは https://r/c/t/A をご覧ください。(https://r/c/t/B). 再掲 https://r/c/t/A"
	if out != want {
		t.Fatalf("replaced: %q", out)
	}
	// A link that only starts like a tracked one is left alone.
	if s := ReplaceLinks("https://www.example.jp/abc", map[string]string{"https://www.example.jp/a": "X"}); s != "https://www.example.jp/abc" {
		t.Fatalf("prefix replaced: %q", s)
	}
}

// TestClickTag: a send whose content names a click tag tags each customer
// at their first click, once, audited as the system's in the click's
// transaction; a customer who already carries the tag is not tagged (nor
// audited) again; a send without one tags nobody.
func TestClickTag(t *testing.T) {
	ctx := context.Background()
	db := storetest.New(t)
	s, err := New(Config{DB: db})
	if err != nil {
		t.Fatal(err)
	}
	ids, camp := seed(t, db, 3)
	const tag = "定期預金に関心"
	if err := db.Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.Exec(`UPDATE campaigns SET content = ? WHERE id = ?`, `{"clickTag":" `+tag+` "}`, camp); err != nil {
			return err
		}
		// Customer 2 carries the tag already.
		if _, err := tx.Exec(`INSERT INTO tags (name) VALUES (?)`, tag); err != nil {
			return err
		}
		_, err := tx.Exec(`INSERT INTO customer_tags (customer_id, tag_id) SELECT ?, id FROM tags WHERE name = ?`, ids[2], tag)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	urls := []string{"https://www.example.jp/a", "https://www.example.jp/b"}
	links := mint(t, s, camp, ids, urls)
	r, err := s.Record(ctx, []wire.Click{click(t, links[0][urls[0]], 1000), click(t, links[0][urls[0]], 1100), click(t, links[2][urls[0]], 1200)})
	if err != nil || r.Tagged != 1 {
		t.Fatalf("first batch: %+v %v", r, err)
	}
	// Customer 0's first click on the other link: tagged already.
	if r, err := s.Record(ctx, []wire.Click{click(t, links[0][urls[1]], 2000), click(t, links[1][urls[1]], 2100)}); err != nil || r.Tagged != 1 {
		t.Fatalf("second batch: %+v %v", r, err)
	}
	var tagged int
	db.Reader().QueryRow(`SELECT COUNT(*) FROM customer_tags k JOIN tags g ON g.id = k.tag_id WHERE g.name = ?`, tag).Scan(&tagged)
	if tagged != 3 {
		t.Fatalf("%d customers carry the tag, want 3", tagged)
	}
	rows, err := db.Reader().Query(`SELECT actor, target, detail FROM audit_log WHERE action = 'customer.tag_add' ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var actor, target, detail string
		rows.Scan(&actor, &target, &detail)
		got = append(got, actor+" "+target+" "+detail)
	}
	rows.Close()
	want := []string{
		fmt.Sprintf(`system customer:%d {"clickedIn":"満期のご案内","customerNo":"C0000000","tag":"%s"}`, ids[0], tag),
		fmt.Sprintf(`system customer:%d {"clickedIn":"満期のご案内","customerNo":"C0000001","tag":"%s"}`, ids[1], tag),
	}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("audit:\n%q\nwant\n%q", got, want)
	}
}
