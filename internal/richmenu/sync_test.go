package richmenu_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"
	"time"
	"tsunagu/internal/store/storetest"

	"tsunagu/internal/audit"
	"tsunagu/internal/line"
	"tsunagu/internal/linesim"
	"tsunagu/internal/richmenu"
	"tsunagu/internal/segment"
	"tsunagu/internal/store"
)

const simToken = "richmenu-test-token"

// world is an encrypted DB and a LINE simulator with followers: a fifth
// not linked, three fifths linked, a fifth linked with a loan; every 50th
// has blocked the account.
type world struct {
	t      *testing.T
	db     *store.DB
	sim    *linesim.Server
	client *line.Client
	segs   *segment.Service
	users  []string
	kind   map[string]string // user -> unlinked, linked, loan
	nextID int64
}

func newWorld(t *testing.T, n int) *world {
	t.Helper()
	ctx := context.Background()
	db := storetest.New(t)
	sim := linesim.New(linesim.Config{ChannelSecret: "0123456789abcdef0123456789abcdef", AccessToken: simToken})
	if err := sim.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	client, err := line.New(line.Config{Endpoint: sim.URL(), AccessToken: simToken,
		Retry: line.RetryPolicy{MaxAttempts: 4, MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, db: db, sim: sim, client: client, segs: segment.New(db, nil, nil), kind: map[string]string{}}
	err = db.Write(ctx, func(tx *sql.Tx) error {
		for i := range n {
			u := linesim.NewUserID()
			following := i%50 != 49
			sim.AddCustomer(linesim.Customer{UserID: u, DisplayName: fmt.Sprint("友", i), Following: following})
			state := map[bool]string{true: "following", false: "unfollowed"}[following]
			if _, err := tx.ExecContext(ctx, `INSERT INTO line_users (user_id, follow_state, created_at) VALUES (?, ?, 0)`, u, state); err != nil {
				return err
			}
			w.users = append(w.users, u)
			switch i % 5 {
			case 0:
				w.kind[u] = "unlinked"
			case 1, 2, 3:
				w.kind[u] = "linked"
				if err := w.linkTx(ctx, tx, u, false); err != nil {
					return err
				}
			case 4:
				w.kind[u] = "loan"
				if err := w.linkTx(ctx, tx, u, true); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) linkTx(ctx context.Context, tx *sql.Tx, u string, loan bool) error {
	w.nextID++
	id := w.nextID
	if _, err := tx.ExecContext(ctx, `INSERT INTO customers (id, customer_no, name, created_at, updated_at) VALUES (?, ?, ?, 0, 0)`,
		id, fmt.Sprintf("C%06d", id), fmt.Sprint("客", id)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO customer_line_links VALUES (?, ?, ?, 'manual', '')`, id, u, time.Now().UnixMilli()); err != nil {
		return err
	}
	if loan {
		if _, err := tx.ExecContext(ctx, `INSERT INTO products (customer_id, type, created_at) VALUES (?, '住宅ローン', 0)`, id); err != nil {
			return err
		}
	}
	return nil
}

func (w *world) service(l richmenu.LINE, bulk int) *richmenu.Service {
	w.t.Helper()
	s, err := richmenu.New(richmenu.Config{DB: w.db, Line: l, Segments: w.segs, BulkSize: bulk})
	if err != nil {
		w.t.Fatal(err)
	}
	return s
}

func (w *world) design(s *richmenu.Service, name, tmpl string) richmenu.Design {
	w.t.Helper()
	ctx := context.Background()
	var tp richmenu.Template
	for _, t := range richmenu.Templates() {
		if t.Key == tmpl {
			tp = t
		}
	}
	d, err := s.SaveDesign(ctx, "staff:admin", richmenu.Design{Name: name, Width: tp.Width, Height: tp.Height, ChatBarText: name, Areas: tp.Areas})
	if err != nil {
		w.t.Fatal(err)
	}
	img, err := richmenu.Placeholder(d.Width, d.Height, d.Areas)
	if err != nil {
		w.t.Fatal(err)
	}
	if d, err = s.SetImage(ctx, "staff:admin", d.ID, img); err != nil {
		w.t.Fatal(err)
	}
	return d
}

// check asserts every follower sees the menu of their kind and blocked
// users were left alone.
func (w *world) check(menus map[string]string) {
	w.t.Helper()
	wrong := 0
	for _, u := range w.users {
		shown, ok := w.sim.ShownRichMenu(u)
		if w.kind[u] == "blocked" || !following(w, u) {
			if w.sim.RichMenu(u) != "" {
				w.t.Errorf("blocked user %s got a per-user menu", u)
			}
			continue
		}
		if want := menus[w.kind[u]]; ok != (want != "") || shown.ID != want {
			wrong++
		}
	}
	if wrong > 0 {
		w.t.Fatalf("%d followers see the wrong menu", wrong)
	}
}

func following(w *world, u string) bool {
	var st string
	w.db.Reader().QueryRow(`SELECT follow_state FROM line_users WHERE user_id = ?`, u).Scan(&st)
	return st == "following"
}

// failAfter lets n bulk link calls through and then fails, as a crash or an
// outage in the middle of a sync would.
type failAfter struct {
	richmenu.LINE
	n, calls int
}

func (f *failAfter) LinkRichMenuToUsers(ctx context.Context, id string, users []string) error {
	f.calls++
	if f.calls > f.n {
		return errors.New("injected failure")
	}
	return f.LINE.LinkRichMenuToUsers(ctx, id, users)
}

func TestSyncBySegment(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 1200)
	s := w.service(w.client, 0)
	loanSeg, err := w.segs.Save(ctx, "staff:admin", segment.Segment{Name: "ローン利用者",
		Rules: segment.Node{Cond: &segment.Condition{Kind: segment.KindProduct, ProductType: "住宅ローン"}}})
	if err != nil {
		t.Fatal(err)
	}
	guest := w.design(s, "ゲスト", "compact3")
	member := w.design(s, "会員", "large6")
	loan := w.design(s, "ローン", "large3")
	if err := s.SetAssignments(ctx, "staff:admin", richmenu.Assignments{
		Rules:           []richmenu.Rule{{Match: richmenu.MatchSegment, SegmentID: loanSeg.ID, DesignID: loan.ID}, {Match: richmenu.MatchLinked, DesignID: member.ID}},
		DefaultDesignID: guest.ID,
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sync(ctx, "staff:admin", true); err != nil {
		t.Fatal(err) // nothing published yet: every rule is skipped, nothing to do
	}
	pub, err := s.Publish(ctx, "staff:admin")
	if err != nil || pub.Created != 3 {
		t.Fatalf("publish = %+v, %v", pub, err)
	}
	run, err := s.Sync(ctx, "staff:admin", false)
	if err != nil {
		t.Fatal(err)
	}
	menuOf := func(id int64) string {
		d, err := s.Design(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return d.LineMenuID
	}
	menus := map[string]string{"unlinked": menuOf(guest.ID), "linked": menuOf(member.ID), "loan": menuOf(loan.ID)}
	w.check(menus)
	if w.sim.DefaultRichMenu() != menus["unlinked"] {
		t.Fatal("default menu not set")
	}
	// 960 linked followers minus the blocked: ~700 members in two calls
	// (500 + the rest), ~235 loan customers in one.
	if run.Planned != run.Applied || run.Calls != 3 || run.Planned < 930 {
		t.Fatalf("run = %+v", run)
	}
	for _, n := range w.sim.RichMenuBulkCalls() {
		if n > line.MaxRichMenuBulkUsers {
			t.Fatalf("a bulk call carried %d users", n)
		}
	}

	// Nothing changed: nothing is called.
	before := len(w.sim.RichMenuBulkCalls())
	if run, err := s.Sync(ctx, "system", false); err != nil || run.State != "noop" || len(w.sim.RichMenuBulkCalls()) != before {
		t.Fatalf("idle sync = %+v, %v", run, err)
	}

	// A guest links their account and takes out a loan: the next sync moves
	// just them.
	var guestUser string
	for _, u := range w.users {
		if w.kind[u] == "unlinked" && following(w, u) {
			guestUser = u
			break
		}
	}
	if err := w.db.Write(ctx, func(tx *sql.Tx) error { return w.linkTx(ctx, tx, guestUser, true) }); err != nil {
		t.Fatal(err)
	}
	w.kind[guestUser] = "loan"
	if run, err := s.Sync(ctx, "system", false); err != nil || run.Planned != 1 || run.Calls != 1 {
		t.Fatalf("sync after a link = %+v, %v", run, err)
	}
	w.check(menus)

	// The member menu changes: republished as a new LINE menu, the sync
	// moves its users in calls of 100; the third call fails (a crash).
	member.ChatBarText = "会員メニュー"
	if _, err := s.SaveDesign(ctx, "staff:admin", member); err != nil {
		t.Fatal(err)
	}
	oldMember := menus["linked"]
	if pub, err := s.Publish(ctx, "staff:admin"); err != nil || pub.Created != 1 || pub.Current != 2 {
		t.Fatalf("republish = %+v, %v", pub, err)
	}
	menus["linked"] = menuOf(member.ID)
	flaky := &failAfter{LINE: w.client, n: 2}
	if _, err := w.service(flaky, 100).Sync(ctx, "system", false); err == nil {
		t.Fatal("the injected failure was not reported")
	}
	st, err := s.Status(ctx)
	if err != nil || st.Pending == 0 || st.LastRun.State != "failed" || st.LastRun.Applied != 200 {
		t.Fatalf("status after the failure = %+v, %v", st, err)
	}
	if _, ok := w.sim.RichMenuByID(oldMember); !ok {
		t.Fatal("the old menu was deleted while users still had it")
	}
	calls := len(w.sim.RichMenuBulkCalls())
	run, err = s.Sync(ctx, "system", false)
	if err != nil || !run.Resumed || run.Planned != st.Pending || run.Calls != 2 {
		t.Fatalf("resumed run = %+v, %v (pending was %d)", run, err, st.Pending)
	}
	if got := len(w.sim.RichMenuBulkCalls()) - calls; got != 2 {
		t.Fatalf("resume made %d bulk calls", got)
	}
	w.check(menus)
	if _, ok := w.sim.RichMenuByID(oldMember); ok {
		t.Fatal("the replaced menu is still on LINE")
	}
	entries, err := audit.List(ctx, w.db.Reader(), audit.Filter{Action: "richmenu."})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, e := range entries {
		seen[e.Action]++
	}
	for _, a := range []string{richmenu.ActionDesignSave, richmenu.ActionDesignImage, richmenu.ActionAssign, richmenu.ActionPublish, richmenu.ActionSync} {
		if seen[a] == 0 {
			t.Errorf("no %s in the audit trail", a)
		}
	}
}

// TestSyncAfterSimulatorRestart: sandbox mode's simulator starts empty;
// the next sync recreates the menus and relinks everyone.
func TestSyncAfterSimulatorRestart(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 30)
	s := w.service(w.client, 0)
	member := w.design(s, "会員", "compact2")
	if err := s.SetAssignments(ctx, "a", richmenu.Assignments{Rules: []richmenu.Rule{{Match: richmenu.MatchLinked, DesignID: member.ID}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Publish(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sync(ctx, "a", false); err != nil {
		t.Fatal(err)
	}
	old, _ := s.Design(ctx, member.ID)
	if err := w.client.DeleteRichMenu(ctx, old.LineMenuID); err != nil { // what a restart loses
		t.Fatal(err)
	}
	// LINE is busy: a 429 and a 503 on the rich menu endpoints are ridden out.
	w.sim.InjectFaults(linesim.EndpointRichMenu, linesim.Fault{Status: 429}, linesim.Fault{Status: 503})
	if _, err := s.Sync(ctx, "a", false); err != nil {
		t.Fatal(err)
	}
	now, _ := s.Design(ctx, member.ID)
	if now.LineMenuID == old.LineMenuID {
		t.Fatal("menu not recreated")
	}
	w.check(map[string]string{"linked": now.LineMenuID, "loan": now.LineMenuID})
}

func TestDeleteAssignedDesign(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 0)
	s := w.service(nil, 0)
	d := w.design(s, "x", "compact1")
	if err := s.SetAssignments(ctx, "a", richmenu.Assignments{DefaultDesignID: d.ID}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteDesign(ctx, "a", d.ID); !errors.Is(err, richmenu.ErrInUse) {
		t.Fatalf("delete assigned = %v", err)
	}
	if err := s.SetAssignments(ctx, "a", richmenu.Assignments{}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteDesign(ctx, "a", d.ID); err != nil {
		t.Fatal(err)
	}
}

// TestResumeAfterMenuVanished: a plan stored for a menu LINE no longer has
// (deleted on LINE between the crash and the resume) is dropped, and the
// following sync recreates the menu and links its users.
func TestResumeAfterMenuVanished(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 30)
	s := w.service(w.client, 0)
	member := w.design(s, "会員", "compact2")
	if err := s.SetAssignments(ctx, "a", richmenu.Assignments{Rules: []richmenu.Rule{{Match: richmenu.MatchLinked, DesignID: member.ID}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Publish(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.service(&failAfter{LINE: w.client}, 0).Sync(ctx, "a", false); err == nil {
		t.Fatal("the injected failure was not reported")
	}
	d, _ := s.Design(ctx, member.ID)
	if err := w.client.DeleteRichMenu(ctx, d.LineMenuID); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := s.Sync(ctx, "a", false); err != nil {
			t.Fatal(err)
		}
	}
	st, err := s.Status(ctx)
	if err != nil || st.Pending != 0 || st.Dirty {
		t.Fatalf("status = %+v, %v", st, err)
	}
	d, _ = s.Design(ctx, member.ID)
	w.check(map[string]string{"linked": d.LineMenuID, "loan": d.LineMenuID})
}
