package inbox

import (
	"context"
	"database/sql"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"
	"tsunagu/internal/store/storetest"

	"tsunagu/internal/store"
)

// Benchmark_inbox fills an encrypted DB with 100,000 conversations and
// 1,000,000 messages (direct SQL in one transaction; the full-text index is
// kept by the same triggers as in use) and measures, 200 times each, what a
// clerk waits for: the first page of the conversation list (default
// filters: everything, unread first), opening a conversation (its latest 50
// messages) and a Japanese full-text search (first page of results).
// Targets: first page p99 < 50 ms, search p99 < 100 ms; ratio is the worse
// of the two against its target (< 1 meets both).
//
//	make bench BENCH=inbox
func Benchmark_inbox(b *testing.B) {
	convs, msgs := 100_000, 1_000_000
	if s := os.Getenv("TSUNAGU_BENCH_N"); s != "" {
		msgs, _ = strconv.Atoi(s)
		convs = max(msgs/10, 1)
	}
	ctx := context.Background()
	db := storetest.New(b)
	start := time.Now()
	if err := fillInbox(ctx, db, convs, msgs); err != nil {
		b.Fatal(err)
	}
	b.Logf("generated %d conversations, %d messages in %s", convs, msgs, time.Since(start).Round(time.Millisecond))
	ib, err := New(Config{DB: db})
	if err != nil {
		b.Fatal(err)
	}
	const n = 200
	rng := mrand.New(mrand.NewPCG(7, 7))
	b.ResetTimer()
	first := measure(b, n, func(int) error {
		_, err := ib.List(ctx, ListQuery{})
		return err
	})
	open := measure(b, n, func(int) error {
		page, err := ib.RecentMessages(ctx, int64(1+rng.IntN(convs)), 0, DefaultMessagePage)
		if err == nil && len(page.Messages) == 0 {
			err = fmt.Errorf("empty conversation")
		}
		return err
	})
	queries := []string{"住宅ローン", "定期預金の満期", "振込手数料", "住所変更の手続き", "キャッシュカード"}
	search := measure(b, n, func(i int) error {
		page, err := ib.List(ctx, ListQuery{Search: queries[i%len(queries)]})
		if err == nil && len(page.Conversations) == 0 {
			err = fmt.Errorf("no result for %s", queries[i%len(queries)])
		}
		return err
	})
	// Not in the BENCH line: the filtered first page and the short-query
	// fallback, for the record.
	mine := measure(b, n, func(int) error {
		_, err := ib.List(ctx, ListQuery{Assignee: "mine", Me: 1, Status: "open"})
		return err
	})
	short := measure(b, 20, func(int) error {
		_, err := ib.List(ctx, ListQuery{Search: "預金"})
		return err
	})
	b.StopTimer()
	b.Logf("first page mine+open p50 %.1f ms p99 %.1f ms; 2-character search (LIKE) p50 %.1f ms p99 %.1f ms",
		mine.p50, mine.p99, short.p50, short.p99)
	ratio := max(first.p99/50, search.p99/100)
	fmt.Printf("BENCH inbox first_page_p50_ms=%.2f first_page_p99_ms=%.2f open_p50_ms=%.2f open_p99_ms=%.2f search_p50_ms=%.2f search_p99_ms=%.2f ratio=%.3f\n",
		first.p50, first.p99, open.p50, open.p99, search.p50, search.p99, ratio)
}

type percentiles struct{ p50, p99 float64 }

func measure(b *testing.B, n int, fn func(i int) error) percentiles {
	ds := make([]float64, n)
	for i := range n {
		t := time.Now()
		if err := fn(i); err != nil {
			b.Fatal(err)
		}
		ds[i] = float64(time.Since(t).Microseconds()) / 1000
	}
	slices.Sort(ds)
	at := func(q float64) float64 { return ds[min(n-1, int(q*float64(n)))] }
	return percentiles{at(0.50), at(0.99)}
}

// Words of the generated messages: a branch's everyday questions.
var (
	benchTopics = []string{"住宅ローン", "定期預金", "普通預金", "投資信託", "外貨預金", "教育ローン", "カードローン",
		"NISA口座", "振込手数料", "キャッシュカード", "通帳", "インターネットバンキング", "口座振替", "相続の手続き", "住所変更の手続き"}
	benchIn = []string{"%sについて相談したいのですが、来週お時間ありますか",
		"%sの件でお電話いただいた者です", "%sはどこで申し込めますか", "先日お願いした%sはどうなりましたか",
		"%sの金利を教えてください", "%sの満期が近いので継続したいです", "%sの書類を郵送してもらえますか"}
	benchOut = []string{"お問い合わせありがとうございます。%sについては担当よりご連絡いたします。",
		"%sの件、承知いたしました。必要書類をお送りします。", "%sは窓口またはアプリでお手続きいただけます。"}
)

type benchMsg struct {
	conv  int32
	kind  uint8 // 0 in text, 1 out text, 2 sticker
	tpl   uint8
	topic uint8
}

func (m benchMsg) text() string {
	switch m.kind {
	case 0:
		return fmt.Sprintf(benchIn[int(m.tpl)%len(benchIn)], benchTopics[m.topic])
	case 1:
		return fmt.Sprintf(benchOut[int(m.tpl)%len(benchOut)], benchTopics[m.topic])
	}
	return "11537/52002734"
}

// fillInbox writes the data set in one transaction: staff, customers linked
// to a third of the LINE users, conversations (5% unread, a quarter
// assigned, statuses mixed) and messages spread unevenly over them (a few
// conversations are long), in time order.
func fillInbox(ctx context.Context, db *store.DB, convs, msgs int) error {
	rng := mrand.New(mrand.NewPCG(1, 2))
	list := make([]benchMsg, msgs)
	type last struct {
		at   int64
		kind uint8
		text string
	}
	lasts := make([]last, convs+1)
	t0 := time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC).UnixMilli()
	for i := range list {
		// Squaring skews the spread: low IDs get more messages.
		f := rng.Float64()
		m := benchMsg{conv: int32(1 + int(f*f*float64(convs))%convs), tpl: uint8(rng.IntN(32)), topic: uint8(rng.IntN(len(benchTopics)))}
		switch r := rng.IntN(10); {
		case r < 7:
			m.kind = 0
		case r < 9:
			m.kind = 1
		default:
			m.kind = 2
		}
		list[i] = m
		lasts[m.conv] = last{at: t0 + int64(i)*30_000, kind: m.kind}
	}
	for c := 1; c <= convs; c++ {
		if lasts[c].at == 0 {
			// A friend who never wrote: a follow only.
			lasts[c] = last{at: t0, kind: 3}
		}
	}
	return db.Write(ctx, func(tx *sql.Tx) error {
		for i := 1; i <= 5; i++ {
			if _, err := tx.ExecContext(ctx, `INSERT INTO staff (id, login, display_name, role, password_hash, created_at, updated_at)
				VALUES (?, ?, ?, 'operator', 'x', 1, 1)`, i, fmt.Sprintf("staff%d", i), fmt.Sprintf("職員%d", i)); err != nil {
				return err
			}
		}
		user, err := tx.PrepareContext(ctx, `INSERT INTO line_users (user_id, display_name, follow_state, profile_at, created_at) VALUES (?, ?, ?, 1, 1)`)
		if err != nil {
			return err
		}
		conv, err := tx.PrepareContext(ctx, `INSERT INTO conversations (id, line_user_id, status, unread, last_message_at, last_kind, last_preview, assignee_id, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)`)
		if err != nil {
			return err
		}
		cust, err := tx.PrepareContext(ctx, `INSERT INTO customers (id, customer_no, name, created_at, updated_at) VALUES (?, ?, ?, 1, 1)`)
		if err != nil {
			return err
		}
		link, err := tx.PrepareContext(ctx, `INSERT INTO customer_line_links (customer_id, line_user_id, linked_at, method) VALUES (?, ?, 1, 'import')`)
		if err != nil {
			return err
		}
		statuses := []string{"open", "open", "pending", "closed", "closed"}
		for c := 1; c <= convs; c++ {
			uid := fmt.Sprintf("U%032x", c)
			follow := "following"
			if rng.IntN(20) == 0 {
				follow = "unfollowed"
			}
			if _, err := user.ExecContext(ctx, uid, fmt.Sprintf("お客さま%d", c), follow); err != nil {
				return err
			}
			unread := 0
			if rng.IntN(20) == 0 {
				unread = 1 + rng.IntN(3)
			}
			var assignee any
			if rng.IntN(4) == 0 {
				assignee = 1 + rng.IntN(5)
			}
			l := lasts[c]
			kinds := []string{"text", "text", "sticker", "follow"}
			preview := ""
			if l.kind < 2 {
				preview = "（最後のメッセージ）"
			}
			if _, err := conv.ExecContext(ctx, c, uid, statuses[rng.IntN(len(statuses))], unread, l.at, kinds[l.kind], preview, assignee); err != nil {
				return err
			}
			if c%3 == 0 {
				if _, err := cust.ExecContext(ctx, c, fmt.Sprintf("C%08d", c), fmt.Sprintf("顧客 %d", c)); err != nil {
					return err
				}
				if _, err := link.ExecContext(ctx, c, uid); err != nil {
					return err
				}
			}
		}
		msg, err := tx.PrepareContext(ctx, `INSERT INTO messages (conversation_id, direction, kind, body, sent_by, via, status, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		for i, m := range list {
			dir, kind, by, via, status := "in", "text", any(nil), any(nil), "received"
			switch m.kind {
			case 1:
				dir, by, via, status = "out", "職員1", "push", "sent"
			case 2:
				kind = "sticker"
			}
			if _, err := msg.ExecContext(ctx, m.conv, dir, kind, m.text(), by, via, status, t0+int64(i)*30_000); err != nil {
				return err
			}
		}
		return nil
	})
}
