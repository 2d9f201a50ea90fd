package routes

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"
	"time"

	"tsunagu/internal/fielderr"
	"tsunagu/internal/inbox"
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

const base = "https://relay.example.jp/r/t0123456789ab/"

func newService(t *testing.T, now *time.Time) (*Service, *store.DB, *fakePub) {
	t.Helper()
	db := storetest.New(t)
	pub := &fakePub{}
	svc, err := New(Config{DB: db, Clock: func() time.Time { return *now },
		Relay: func(context.Context) (string, Publisher, bool) { return base, pub, true },
		Account: func(context.Context) (Account, error) {
			return Account{Name: "つなぐ信用金庫 本店", BasicID: "@123abcde"}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	return svc, db, pub
}

func audits(t *testing.T, db *store.DB, action string) int {
	t.Helper()
	var n int
	if err := db.Reader().QueryRow(`SELECT COUNT(*) FROM audit_log WHERE action = ?`, action).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func fieldCodes(err error) map[string]string {
	out := map[string]string{}
	for _, f := range fielderr.Fields(err) {
		out[f.Field] = f.Code
	}
	return out
}

func TestCreateUpdateArchivePublish(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, jst)
	svc, db, pub := newService(t, &now)
	var tag int64
	if err := db.Write(ctx, func(tx *sql.Tx) error {
		return tx.QueryRow(`INSERT INTO tags (name) VALUES ('窓口ポスター') RETURNING id`).Scan(&tag)
	}); err != nil {
		t.Fatal(err)
	}

	// Every wrong field is named at once.
	_, err := svc.Create(ctx, "staff:op", Draft{Name: " ", Target: "shop", Tag: "ない"})
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("invalid draft: %v", err)
	}
	if got := fieldCodes(err); got["name"] != fielderr.Required || got["target"] != fielderr.Choose || got["tag"] != fielderr.Choose {
		t.Fatalf("fields %v", got)
	}
	_, err = svc.Create(ctx, "staff:op", Draft{Name: "チラシ", Target: TargetPage, PageURL: "http://www.example.jp/", Welcome: strings.Repeat("あ", MaxWelcome+1)})
	if got := fieldCodes(err); got["pageUrl"] != fielderr.HTTPS || got["welcome"] != fielderr.TooLong || len(got) != 2 {
		t.Fatalf("fields %v", got)
	}
	if audits(t, db, ActionCreate) != 0 {
		t.Fatal("a refused route was audited as created")
	}

	a, err := svc.Create(ctx, "staff:op", Draft{Name: " 窓口ポスター ", Target: TargetFriend, Tag: "窓口ポスター", Welcome: "ご登録ありがとうございます。"})
	if err != nil {
		t.Fatal(err)
	}
	if a.Name != "窓口ポスター" || !a.Published || !strings.HasPrefix(a.URL, base) || len(a.URL) != len(base)+wire.TokenLen || a.Tag != "窓口ポスター" {
		t.Fatalf("created %+v", a)
	}
	b, err := svc.Create(ctx, "staff:op", Draft{Name: "チラシ", Target: TargetPage, PageURL: "https://www.example.jp/line"})
	if err != nil {
		t.Fatal(err)
	}
	// The relay got token, target and expiry only: LINE's add-friend URL
	// for the account, the page for a page route.
	if len(pub.got) != 2 || pub.got[0].URL != "https://line.me/R/ti/p/@123abcde" || pub.got[1].URL != "https://www.example.jp/line" ||
		a.URL != base+pub.got[0].Token || pub.got[0].ExpiresAt != now.Add(publishTTL).UnixMilli() {
		t.Fatalf("published %+v", pub.got)
	}
	if _, err := svc.Create(ctx, "staff:op", Draft{Name: "チラシ", Target: TargetFriend}); fieldCodes(err)["name"] != fielderr.Taken {
		t.Fatalf("same name: %v", err)
	}

	// An update keeps the URL, republishes a changed target only.
	b2, err := svc.Update(ctx, "staff:op", b.ID, Draft{Name: "チラシ（秋）", Target: TargetFriend})
	if err != nil {
		t.Fatal(err)
	}
	if b2.URL != b.URL || len(pub.got) != 3 || pub.got[2].URL != "https://line.me/R/ti/p/@123abcde" {
		t.Fatalf("updated %+v, published %+v", b2, pub.got)
	}
	if n, err := svc.Publish(ctx); err != nil || n != 0 {
		t.Fatalf("nothing to publish: %d %v", n, err)
	}
	// A month later the relay is reminded of every route.
	now = now.Add(republishEvery + time.Hour)
	if n, err := svc.Publish(ctx); err != nil || n != 2 {
		t.Fatalf("republished %d, %v", n, err)
	}
	// A relay that is down leaves the change unpublished, shown as such.
	pub.fail = errors.New("relay down")
	b3, err := svc.Update(ctx, "staff:op", b.ID, Draft{Name: "チラシ（秋）", Target: TargetPage, PageURL: "https://www.example.jp/aki"})
	if err != nil || b3.Published && b3.URL == "" {
		t.Fatalf("update with the relay down: %+v %v", b3, err)
	}
	var have string
	db.Reader().QueryRow(`SELECT published_url FROM routes WHERE id = ?`, b.ID).Scan(&have)
	if have == "https://www.example.jp/aki" {
		t.Fatal("marked published while the relay was down")
	}
	pub.fail = nil
	if n, err := svc.Publish(ctx); err != nil || n != 1 {
		t.Fatalf("published after the outage %d, %v", n, err)
	}

	if err := svc.Archive(ctx, "staff:op", b.ID); err != nil {
		t.Fatal(err)
	}
	if err := svc.Archive(ctx, "staff:op", b.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("archived twice: %v", err)
	}
	if _, err := svc.Update(ctx, "staff:op", b.ID, Draft{Name: "x", Target: TargetFriend}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update of an archived route: %v", err)
	}
	list, _ := svc.List(ctx, false)
	all, _ := svc.List(ctx, true)
	if len(list) != 1 || list[0].ID != a.ID || len(all) != 2 {
		t.Fatalf("list %+v, all %+v", list, all)
	}
	if audits(t, db, ActionCreate) != 2 || audits(t, db, ActionUpdate) != 2 || audits(t, db, ActionArchive) != 1 {
		t.Fatal("changes not audited")
	}
}

// friend adds a LINE user (not linked) and, if linkTo != 0, links them.
func friend(t *testing.T, db *store.DB, user string) {
	t.Helper()
	err := db.Write(context.Background(), func(tx *sql.Tx) error {
		if _, err := tx.Exec(`INSERT INTO line_users (user_id, follow_state, created_at) VALUES (?, 'following', 0)`, user); err != nil {
			return err
		}
		_, err := tx.Exec(`INSERT INTO conversations (line_user_id, created_at) VALUES (?, 0)`, user)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// follow runs the routes hook on a follow of user at at, as the inbox does.
func follow(t *testing.T, svc *Service, db *store.DB, user string, at time.Time, unblocked bool) inbox.HookResult {
	t.Helper()
	var res inbox.HookResult
	err := db.Write(context.Background(), func(tx *sql.Tx) error {
		var conv, msg int64
		if err := tx.QueryRow(`SELECT id FROM conversations WHERE line_user_id = ?`, user).Scan(&conv); err != nil {
			return err
		}
		body := ""
		if unblocked {
			body = "unblocked"
		}
		if err := tx.QueryRow(`INSERT INTO messages (conversation_id, direction, kind, body, status, created_at) VALUES (?, 'in', 'follow', ?, 'received', ?) RETURNING id`,
			conv, body, at.UnixMilli()).Scan(&msg); err != nil {
			return err
		}
		var err error
		res, err = svc.Hook().HandleEvent(context.Background(), tx, inbox.HookEvent{Type: "follow", UserID: user, ConversationID: conv, MessageID: msg, At: at})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func visit(t *testing.T, svc *Service, r Route, at time.Time) wire.Click {
	t.Helper()
	v := wire.Click{Token: r.URL[len(base):], At: at.UnixMilli()}
	rand.Read(v.ID[:])
	if rec, err := svc.RecordVisits(context.Background(), []wire.Click{v}); err != nil || rec.Stored != 1 {
		t.Fatalf("visit: %+v %v", rec, err)
	}
	return v
}

func routeOf(t *testing.T, db *store.DB, user string) (int64, string) {
	t.Helper()
	var (
		id     sql.NullInt64
		reason string
	)
	if err := db.Reader().QueryRow(`SELECT route_id, reason FROM route_friends WHERE line_user_id = ?`, user).Scan(&id, &reason); err != nil {
		t.Fatalf("%s: %v", user, err)
	}
	return id.Int64, reason
}

func TestAttribution(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, jst)
	svc, db, _ := newService(t, &now)
	var tag int64
	db.Write(ctx, func(tx *sql.Tx) error {
		return tx.QueryRow(`INSERT INTO tags (name) VALUES ('ポスター経由') RETURNING id`).Scan(&tag)
	})
	a, err := svc.Create(ctx, "staff:op", Draft{Name: "窓口", Target: TargetFriend, Tag: "ポスター経由", Welcome: "窓口からのご登録ありがとうございます。"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := svc.Create(ctx, "staff:op", Draft{Name: "チラシ", Target: TargetFriend})
	if err != nil {
		t.Fatal(err)
	}
	users := make([]string, 9)
	for i := range users {
		users[i] = fmt.Sprintf("U%032x", i+1)
		friend(t, db, users[i])
	}
	t0 := now

	// One visit of A, a follow 40 s later: A, with its welcome message.
	v := visit(t, svc, a, t0)
	res := follow(t, svc, db, users[0], t0.Add(40*time.Second), false)
	if id, why := routeOf(t, db, users[0]); id != a.ID || why != ReasonVisit {
		t.Fatalf("friend 0: %d %s", id, why)
	}
	if len(res.Replies) != 1 || res.Replies[0].Text != "窓口からのご登録ありがとうございます。" || res.Replies[0].Source != fmt.Sprintf("route:%d", a.ID) {
		t.Fatalf("welcome %+v", res.Replies)
	}
	// The same visit redelivered is stored once and explains no one else.
	if rec, err := svc.RecordVisits(ctx, []wire.Click{v}); err != nil || rec.Duplicates != 1 || rec.Stored != 0 {
		t.Fatalf("redelivered visit: %+v %v", rec, err)
	}
	if res := follow(t, svc, db, users[1], t0.Add(50*time.Second), false); len(res.Replies) != 0 {
		t.Fatal("a second friend got A's welcome from a claimed visit")
	}
	if id, why := routeOf(t, db, users[1]); id != 0 || why != ReasonNone {
		t.Fatalf("friend 1 (no visit left): %d %s", id, why)
	}

	// Route B with no welcome: attributed, nothing sent.
	t1 := t0.Add(time.Hour)
	visit(t, svc, b, t1)
	if res := follow(t, svc, db, users[2], t1.Add(2*time.Minute), false); len(res.Replies) != 0 {
		t.Fatalf("B has no welcome: %+v", res.Replies)
	}
	if id, _ := routeOf(t, db, users[2]); id != b.ID {
		t.Fatalf("friend 2: %d", id)
	}

	// Two visits of A: two friends, both A.
	t2 := t0.Add(2 * time.Hour)
	visit(t, svc, a, t2)
	visit(t, svc, a, t2.Add(3*time.Second))
	follow(t, svc, db, users[3], t2.Add(30*time.Second), false)
	follow(t, svc, db, users[4], t2.Add(35*time.Second), false)
	for _, u := range users[3:5] {
		if id, _ := routeOf(t, db, u); id != a.ID {
			t.Fatalf("%s: %d", u, id)
		}
	}

	// A and B within seconds: unknown for both (never a guess).
	t3 := t0.Add(3 * time.Hour)
	visit(t, svc, a, t3)
	visit(t, svc, b, t3.Add(2*time.Second))
	follow(t, svc, db, users[5], t3.Add(20*time.Second), false)
	follow(t, svc, db, users[6], t3.Add(25*time.Second), false)
	for _, u := range users[5:7] {
		if id, why := routeOf(t, db, u); id != 0 || why != ReasonAmbiguous {
			t.Fatalf("%s: %d %s", u, id, why)
		}
	}

	// A visit older than the window explains nothing.
	t4 := t0.Add(4 * time.Hour)
	visit(t, svc, b, t4)
	follow(t, svc, db, users[7], t4.Add(DefaultWindow+time.Second), false)
	if id, why := routeOf(t, db, users[7]); id != 0 || why != ReasonNone {
		t.Fatalf("friend 7: %d %s", id, why)
	}

	// An unblock is a friend from before: not a route's.
	t5 := t0.Add(5 * time.Hour)
	visit(t, svc, a, t5)
	follow(t, svc, db, users[8], t5.Add(10*time.Second), true)
	if id, why := routeOf(t, db, users[8]); id != 0 || why != ReasonRefollow {
		t.Fatalf("friend 8: %d %s", id, why)
	}

	// Friend 0 blocks and comes back after a visit of B: still A's.
	visit(t, svc, b, t5.Add(time.Minute))
	if res := follow(t, svc, db, users[0], t5.Add(70*time.Second), false); len(res.Replies) != 0 {
		t.Fatal("re-attributed friend got a welcome again")
	}
	if id, _ := routeOf(t, db, users[0]); id != a.ID {
		t.Fatalf("friend 0 re-attributed to %d", id)
	}

	// The tag reaches the customer when the friend is linked.
	var cust int64
	db.Write(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRow(`INSERT INTO customers (customer_no, name, created_at, updated_at) VALUES ('C1', '顧客', 0, 0) RETURNING id`).Scan(&cust); err != nil {
			return err
		}
		_, err := tx.Exec(`INSERT INTO customer_line_links VALUES (?, ?, 0, 'manual', '')`, cust, users[0])
		return err
	})
	var tagged bool
	db.Reader().QueryRow(`SELECT EXISTS (SELECT 1 FROM customer_tags WHERE customer_id = ? AND tag_id = ?)`, cust, tag).Scan(&tagged)
	if !tagged {
		t.Fatal("the route's tag was not applied at the link")
	}

	// Erasing friend 4 (an A friend, not linked) keeps A's count and drops
	// the LINE user ID.
	err = db.Write(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{`DELETE FROM messages WHERE conversation_id IN (SELECT id FROM conversations WHERE line_user_id = ?)`,
			`DELETE FROM conversations WHERE line_user_id = ?`, `DELETE FROM line_users WHERE user_id = ?`} {
			if _, err := tx.Exec(q, users[4]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var left int
	db.Reader().QueryRow(`SELECT (SELECT COUNT(*) FROM route_friends WHERE line_user_id = ?) + (SELECT COUNT(*) FROM route_visits WHERE claimed_by = ?)`, users[4], users[4]).Scan(&left)
	if left != 0 {
		t.Fatal("an erased LINE user is still in the route tables")
	}

	// A visit of a token that is no route's stores nothing.
	var junk wire.Click
	rand.Read(junk.ID[:])
	junk.Token = strings.Repeat("A", wire.TokenLen)
	if rec, err := svc.RecordVisits(ctx, []wire.Click{junk}); err != nil || rec.Unknown != 1 || rec.Stored != 0 {
		t.Fatalf("unknown visit: %+v %v", rec, err)
	}

	// The report: per route, per day, blocks and links.
	db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`UPDATE line_users SET follow_state = 'unfollowed' WHERE user_id = ?`, users[3])
		return err
	})
	now = t0.Add(6 * time.Hour)
	rep, err := svc.Report(ctx, 7)
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]ReportRow{}
	for _, r := range rep.Rows {
		rows[fmt.Sprint(r.RouteID, r.Reason)] = r
	}
	ra, rb := rows[fmt.Sprint(a.ID, "")], rows[fmt.Sprint(b.ID, "")]
	if ra.Friends != 3 || ra.Blocked != 1 || ra.Linked != 1 || ra.Visits != 5 || ra.PerDay[6] != 3 || rep.Days[6] != "2026-12-06" {
		t.Fatalf("route A %+v", ra)
	}
	if rb.Friends != 1 || rb.PerDay[6] != 1 {
		t.Fatalf("route B %+v", rb)
	}
	if rows["0"+ReasonNone].Friends != 2 || rows["0"+ReasonAmbiguous].Friends != 2 || rows["0"+ReasonRefollow].Friends != 1 {
		t.Fatalf("unknown rows %+v", rep.Rows)
	}
	var csvOut bytes.Buffer
	n, err := svc.ExportCSV(ctx, "staff:op", 7, &csvOut)
	if err != nil || n != len(rep.Rows) || !strings.Contains(csvOut.String(), "窓口,利用中,5,3,1,1,") || !strings.Contains(csvOut.String(), "経路不明（複数の経路が同時刻）") {
		t.Fatalf("csv %d %v:\n%s", n, err, csvOut.String())
	}
	if audits(t, db, ActionExport) != 1 {
		t.Fatal("report export not audited")
	}
}

func TestQRCodeAndPoster(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, jst)
	svc, db, _ := newService(t, &now)
	r, err := svc.Create(ctx, "staff:op", Draft{Name: "窓口", Target: TargetFriend})
	if err != nil {
		t.Fatal(err)
	}
	var qr bytes.Buffer
	if _, err := svc.SaveQRCode(ctx, "staff:op", r.ID, &qr); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&qr)
	if err != nil || img.Bounds().Dx() != QRSize {
		t.Fatalf("QR code: %v %v", img.Bounds(), err)
	}
	page := image.NewGray(image.Rect(0, 0, PosterWidth, PosterHeight))
	for i := range page.Pix {
		page.Pix[i] = 0xff
	}
	page.Set(10, 10, color.Black)
	var pb bytes.Buffer
	png.Encode(&pb, page)
	poster := "data:image/png;base64," + base64.StdEncoding.EncodeToString(pb.Bytes())
	var pdf, pngOut bytes.Buffer
	if _, err := svc.SavePoster(ctx, "staff:op", r.ID, "pdf", poster, &pdf); err != nil {
		t.Fatal(err)
	}
	// One A4 page (595.28 × 841.89 pt) with the image.
	if !bytes.HasPrefix(pdf.Bytes(), []byte("%PDF-")) || !bytes.Contains(pdf.Bytes(), []byte("/MediaBox [0 0 595.28 841.89]")) || !bytes.Contains(pdf.Bytes(), []byte("/Subtype /Image")) {
		t.Fatalf("not an A4 PDF with an image: %q", pdf.Bytes()[:min(400, pdf.Len())])
	}
	if _, err := svc.SavePoster(ctx, "staff:op", r.ID, "png", poster, &pngOut); err != nil || !bytes.Equal(pngOut.Bytes(), pb.Bytes()) {
		t.Fatalf("png poster: %v", err)
	}
	small := image.NewGray(image.Rect(0, 0, 100, 100))
	var sb bytes.Buffer
	png.Encode(&sb, small)
	if _, err := svc.SavePoster(ctx, "staff:op", r.ID, "pdf", base64.StdEncoding.EncodeToString(sb.Bytes()), &bytes.Buffer{}); !errors.Is(err, ErrBadPoster) {
		t.Fatalf("small poster: %v", err)
	}
	if audits(t, db, ActionExport) != 3 {
		t.Fatalf("exports audited: %d", audits(t, db, ActionExport))
	}

	// Without a relay a route has no URL and no QR code.
	off, _ := New(Config{DB: db, Clock: func() time.Time { return now }})
	if _, err := off.QRDataURL(ctx, r.ID); !errors.Is(err, ErrNoURL) {
		t.Fatalf("no relay: %v", err)
	}
}
