package inbox

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"tsunagu/internal/audit"
	"tsunagu/internal/erasure"
	"tsunagu/internal/fielderr"
	"tsunagu/internal/linesim"
	"tsunagu/internal/store"
)

// workEnv is the inbox behind the real verifier and SDK client, fed by the
// simulator, with a clock the test moves (it starts at the real time, which
// the simulator stamps its events with) and optional hooks.
type workEnv struct {
	*simEnv
	clock *fakeClock
}

func newWorkEnv(t *testing.T, hooks []Hook, media MediaHost) *workEnv {
	t.Helper()
	clock := &fakeClock{t: time.Now()}
	return &workEnv{simEnv: newSimEnvWith(t, Config{Clock: clock.Now, Hooks: hooks, MediaHost: media}), clock: clock}
}

func (e *workEnv) say(t *testing.T, user, text string) string {
	t.Helper()
	id, err := e.sim.SendText(context.Background(), user, text)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (e *workEnv) convID(t *testing.T, user string) int64 {
	t.Helper()
	c, _ := e.conversation(t, user)
	return c.ID
}

func countRequests(sim *linesim.Server, endpoint string) int {
	n := 0
	for _, r := range sim.Requests() {
		if r.Endpoint == endpoint {
			n++
		}
	}
	return n
}

// keywordHook answers "営業時間" and records each event it saw.
type keywordHook struct {
	mu   sync.Mutex
	seen []HookEvent
}

func (h *keywordHook) HandleEvent(_ context.Context, _ *sql.Tx, ev HookEvent) (HookResult, error) {
	h.mu.Lock()
	h.seen = append(h.seen, ev)
	h.mu.Unlock()
	if ev.Text == "営業時間" {
		return HookResult{Replies: []HookReply{{Text: "平日9時から15時までです。", SentBy: "自動応答", Audit: "system:test"}}}, nil
	}
	return HookResult{}, nil
}

// hookFunc adapts a function to Hook.
type hookFunc func(ctx context.Context, tx *sql.Tx, ev HookEvent) (HookResult, error)

func (f hookFunc) HandleEvent(ctx context.Context, tx *sql.Tx, ev HookEvent) (HookResult, error) {
	return f(ctx, tx, ev)
}

func TestHookReplySentOnceByReplyTokenEvenWhenRedelivered(t *testing.T) {
	h := &keywordHook{}
	e := newWorkEnv(t, []Hook{h}, nil)
	ctx := context.Background()
	u := e.customer(t, "hanako")
	ev := e.say(t, u, "営業時間")
	if err := e.sim.Redeliver(ctx, ev); err != nil {
		t.Fatal(err)
	}
	ds := e.sim.Deliveries(u)
	if len(ds) != 1 || ds[0].Via != linesim.ViaReply || ds[0].Text != "平日9時から15時までです。" {
		t.Fatalf("deliveries = %+v", ds)
	}
	if len(h.seen) != 1 || h.seen[0].Type != "message" || h.seen[0].Kind != "text" || h.seen[0].MessageID == 0 || h.seen[0].UserID != u {
		t.Fatalf("hook saw %+v", h.seen)
	}
	c, msgs := e.conversation(t, u)
	out := msgs[len(msgs)-1]
	if out.Direction != "out" || out.SentBy != "自動応答" || out.Via != "reply" || out.Status != "sent" || c.Unread != 1 {
		t.Fatalf("stored reply %+v, conversation %+v", out, c)
	}
	// The token is spent: a staff reply now goes by push.
	m, err := e.ib.Reply(ctx, c.ID, Actor{Audit: "staff:tanaka", Name: "田中"}, "担当の田中です。")
	if err != nil || m.Via != "push" {
		t.Fatalf("staff reply after hook: %+v %v", m, err)
	}
	entries, _ := audit.List(ctx, e.db.Reader(), audit.Filter{Actor: "system:test"})
	if len(entries) != 1 || entries[0].Action != audit.ActionMessageSend || entries[0].Detail["via"] != "reply" {
		t.Fatalf("audit = %+v", entries)
	}
}

func TestHookReplyToStaleEventIsPushedWithStoredKey(t *testing.T) {
	h := hookFunc(func(_ context.Context, _ *sql.Tx, ev HookEvent) (HookResult, error) {
		return HookResult{Replies: []HookReply{{Text: "受け付けました。", SentBy: "自動応答", Audit: "system:test"}}}, nil
	})
	e := newWorkEnv(t, []Hook{h}, nil)
	// The webhook reaches the app late (a relay outage): its token is too
	// old to use.
	e.clock.Add(2 * time.Minute)
	u := e.customer(t, "kenichi")
	e.say(t, u, "こんにちは")
	ds := e.sim.Deliveries(u)
	if len(ds) != 1 || ds[0].Via != linesim.ViaPush || ds[0].RetryKey == "" {
		t.Fatalf("deliveries = %+v", ds)
	}
	var key string
	if err := e.db.Reader().QueryRow(`SELECT retry_key FROM messages WHERE direction = 'out'`).Scan(&key); err != nil || key != ds[0].RetryKey {
		t.Fatalf("stored key %q, sent %q (%v)", key, ds[0].RetryKey, err)
	}
}

func TestHookChainStopInternalAndFailure(t *testing.T) {
	var calls []string
	failing := hookFunc(func(ctx context.Context, tx *sql.Tx, ev HookEvent) (HookResult, error) {
		calls = append(calls, "failing")
		// Its write must be rolled back with it, and only it.
		if _, err := tx.ExecContext(ctx, `INSERT INTO postback_labels (data, label, created_at) VALUES ('x', 'y', 1)`); err != nil {
			return HookResult{}, err
		}
		return HookResult{}, errors.New("boom")
	})
	linking := hookFunc(func(_ context.Context, _ *sql.Tx, ev HookEvent) (HookResult, error) {
		calls = append(calls, "linking")
		if strings.HasPrefix(ev.Text, "CODE") {
			return HookResult{Stop: true, Internal: true,
				Replies: []HookReply{{Text: "連携しました。", SentBy: "連携", Audit: "system:linking"}}}, nil
		}
		return HookResult{}, nil
	})
	later := hookFunc(func(_ context.Context, _ *sql.Tx, ev HookEvent) (HookResult, error) {
		calls = append(calls, "later")
		return HookResult{}, nil
	})
	e := newWorkEnv(t, []Hook{failing, linking, later}, nil)
	u := e.customer(t, "misaki")
	e.say(t, u, "CODE-1234")
	if !slices.Equal(calls, []string{"failing", "linking"}) {
		t.Fatalf("calls = %v", calls)
	}
	c, msgs := e.conversation(t, u)
	if c.Unread != 0 || !msgs[0].Internal || msgs[0].Body != "CODE-1234" {
		t.Fatalf("internal message: %+v %+v", c, msgs[0])
	}
	var n int
	e.db.Reader().QueryRow(`SELECT count(*) FROM postback_labels`).Scan(&n)
	if n != 0 {
		t.Fatal("the failing hook's write was kept")
	}
	e.say(t, u, "ありがとう")
	if c, _ = e.conversation(t, u); c.Unread != 1 || len(calls) != 5 {
		t.Fatalf("after a normal message: unread %d, calls %v", c.Unread, calls)
	}
	if ds := e.sim.Deliveries(u); len(ds) != 1 || ds[0].Text != "連携しました。" {
		t.Fatalf("deliveries %+v", ds)
	}
}

func TestReplyTokenOrPush(t *testing.T) {
	for _, tt := range []struct {
		name    string
		prepare func(e *workEnv, convID int64)
		want    string
	}{
		{"fresh token", func(*workEnv, int64) {}, linesim.ViaReply},
		// Past the token's TTL counted from now, however long the set-up
		// took (the simulator stamps events with the real time).
		{"expired token", func(e *workEnv, _ int64) {
			e.clock.Add(time.Since(e.clock.Now()) + DefaultReplyTokenTTL + time.Second)
		}, linesim.ViaPush},
		{"used token", func(e *workEnv, id int64) {
			if _, err := e.ib.Reply(context.Background(), id, Actor{Audit: "staff:a", Name: "A"}, "一通目"); err != nil {
				panic(err)
			}
		}, linesim.ViaPush},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newWorkEnv(t, nil, nil)
			u := e.customer(t, "hanako")
			e.say(t, u, "質問があります")
			id := e.convID(t, u)
			tt.prepare(e, id)
			m, err := e.ib.Reply(context.Background(), id, Actor{Audit: "staff:a", Name: "A"}, "お答えします")
			if err != nil {
				t.Fatal(err)
			}
			ds := e.sim.Deliveries(u)
			last := ds[len(ds)-1]
			if last.Via != tt.want || m.Via != tt.want || m.Status != "sent" || last.Text != "お答えします" {
				t.Fatalf("sent via %s (stored %+v), want %s", last.Via, m, tt.want)
			}
			if tt.want == linesim.ViaPush && last.RetryKey == "" {
				t.Fatal("push without a retry key")
			}
		})
	}
}

func TestBlockedUserIsNotAttempted(t *testing.T) {
	e := newWorkEnv(t, []Hook{&keywordHook{}}, &memHost{})
	ctx := context.Background()
	u := e.customer(t, "makoto")
	e.say(t, u, "こんにちは")
	id := e.convID(t, u)
	if err := e.sim.Unfollow(ctx, u); err != nil {
		t.Fatal(err)
	}
	before := len(e.sim.Requests())
	if _, err := e.ib.Reply(ctx, id, Actor{Audit: "staff:a", Name: "A"}, "届きますか"); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("reply to blocked: %v", err)
	}
	if _, err := e.ib.ReplyImage(ctx, id, Actor{Audit: "staff:a", Name: "A"}, testPNG(t, 50, 50)); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("image to blocked: %v", err)
	}
	var profiles int
	for _, r := range e.sim.Requests()[before:] {
		if r.Endpoint != linesim.EndpointProfile {
			t.Fatalf("request to LINE for a blocked user: %+v", r)
		}
		profiles++
	}
	c, msgs := e.conversation(t, u)
	for _, m := range msgs {
		if m.Direction == "out" {
			t.Fatalf("stored a send to a blocked user: %+v", m)
		}
	}
	if c.FollowState != "unfollowed" {
		t.Fatalf("follow state %q", c.FollowState)
	}
	page, err := e.ib.List(ctx, ListQuery{Follow: "blocked"})
	if err != nil || len(page.Conversations) != 1 {
		t.Fatalf("blocked filter: %+v %v", page, err)
	}
}

func TestSearchJapanese(t *testing.T) {
	e := newWorkEnv(t, nil, nil)
	ctx := context.Background()
	a, b, c := e.customer(t, "a"), e.customer(t, "b"), e.customer(t, "c")
	e.say(t, a, "来月から住宅ローンの返済額が変わると聞いたのですが、本当でしょうか")
	e.say(t, b, "定期預金の満期が近いので、継続の手続きについて教えてください")
	e.say(t, c, "普通預金の残高を確認したいです")
	e.say(t, c, "ＡＴＭの利用時間は？")
	ida, idb, idc := e.convID(t, a), e.convID(t, b), e.convID(t, c)
	if _, err := e.ib.Reply(ctx, ida, Actor{Audit: "staff:a", Name: "A"}, "住宅ローンの件、担当からご連絡します"); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		q    string
		want []int64
	}{
		{"住宅ローン", []int64{ida}},
		{"定期預金", []int64{idb}},
		{"満期が近い", []int64{idb}},
		{"預金", []int64{idc, idb}}, // 2 characters: the LIKE fallback
		{"残高", []int64{idc}},
		{"atm", []int64{idc}}, // full-width text folds to ASCII (textfold)
		{"ａｔｍの利用", []int64{idc}},
		{"ＡＴＭ", []int64{idc}},
		{"外貨", []int64{}},
		{`"; DROP`, []int64{}},
		{"100%", []int64{}},
	} {
		page, err := e.ib.List(ctx, ListQuery{Search: tt.q})
		if err != nil {
			t.Fatalf("%s: %v", tt.q, err)
		}
		var got []int64
		for _, c := range page.Conversations {
			got = append(got, c.ID)
			if c.Snippet == "" || c.MatchMessageID == 0 {
				t.Errorf("%s: no snippet: %+v", tt.q, c)
			}
		}
		if !slices.Equal(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
			t.Errorf("search %q = %v, want %v", tt.q, got, tt.want)
		}
	}
	// Filters apply to search results too.
	if err := e.ib.SetStatus(ctx, Staff{Actor: "staff:a"}, idb, "closed"); err != nil {
		t.Fatal(err)
	}
	page, _ := e.ib.List(ctx, ListQuery{Search: "預金", Status: "open"})
	if len(page.Conversations) != 1 || page.Conversations[0].ID != idc {
		t.Fatalf("search with filter: %+v", page.Conversations)
	}
}

// A search finds conversations by name too: the LINE display name and the
// linked customer's name and kana, folded like the messages (異体字, width,
// kana), before the conversations that only mention it.
func TestSearchNamesAcrossConversationsAndCustomers(t *testing.T) {
	e := newWorkEnv(t, nil, nil)
	ctx := context.Background()
	kenichi, hanako, mention, line := e.customer(t, "けんいち"), e.customer(t, "はなこ"), e.customer(t, "m"), e.customer(t, "ＬＩＮＥ太郎")
	e.say(t, kenichi, "こんにちは")
	e.say(t, hanako, "口座のことで")
	e.say(t, mention, "佐藤さんに伝えてください")
	e.say(t, line, "はい")
	linkCustomer(t, e.db, kenichi, "佐藤 健一")
	linkCustomer(t, e.db, hanako, "山﨑 花子")
	if _, err := e.db.Writer().Exec(`UPDATE customers SET name_kana = 'ヤマサキ ハナコ' WHERE name = '山﨑 花子'`); err != nil {
		t.Fatal(err)
	}
	idK, idH, idM, idL := e.convID(t, kenichi), e.convID(t, hanako), e.convID(t, mention), e.convID(t, line)
	for _, tt := range []struct {
		q    string
		want []int64
	}{
		{"佐藤", []int64{idK, idM}}, // the customer by name first, then the message
		{"佐藤健一", []int64{idK}},
		{"山崎", []int64{idH}},   // 異体字: 山﨑
		{"やまさき", []int64{idH}}, // kana
		{"ｹﾝｲﾁ", []int64{idK}}, // the LINE name, half-width
		{"line", []int64{idL}}, // the LINE name, full-width
		{"ＬＩＮＥ太", []int64{idL}},
	} {
		page, err := e.ib.List(ctx, ListQuery{Search: tt.q})
		if err != nil {
			t.Fatalf("%s: %v", tt.q, err)
		}
		var got []int64
		for _, c := range page.Conversations {
			got = append(got, c.ID)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("search %q = %v, want %v", tt.q, got, tt.want)
		}
		if len(page.Conversations) > 0 && page.Conversations[0].ID == idK && !page.Conversations[0].MatchedName {
			t.Errorf("search %q: the name match is not marked", tt.q)
		}
	}
	// Filters apply to name matches too.
	page, err := e.ib.List(ctx, ListQuery{Search: "佐藤", Link: "unlinked"})
	if err != nil || len(page.Conversations) != 1 || page.Conversations[0].ID != idM {
		t.Fatalf("name search with filter: %+v %v", page.Conversations, err)
	}
	// A page full of names continues with the messages.
	page, err = e.ib.List(ctx, ListQuery{Search: "佐藤", Limit: 1})
	if err != nil || len(page.Conversations) != 1 || page.Conversations[0].ID != idK || page.Next == "" {
		t.Fatalf("first page: %+v %v", page, err)
	}
	page, err = e.ib.List(ctx, ListQuery{Search: "佐藤", Limit: 1, Cursor: page.Next})
	if err != nil || len(page.Conversations) != 1 || page.Conversations[0].ID != idM {
		t.Fatalf("second page: %+v %v", page, err)
	}
	// The names' key follows the link and the customer: unlinked, a
	// customer's name no longer finds the conversation; renamed, the new
	// name does.
	if _, err := e.db.Writer().Exec(`UPDATE customers SET name = '佐藤 健二' WHERE name = '佐藤 健一'`); err != nil {
		t.Fatal(err)
	}
	if page, _ := e.ib.List(ctx, ListQuery{Search: "健二"}); len(page.Conversations) != 1 || page.Conversations[0].ID != idK {
		t.Fatalf("renamed customer: %+v", page.Conversations)
	}
	if _, err := e.db.Writer().Exec(`DELETE FROM customer_line_links WHERE line_user_id = ?`, hanako); err != nil {
		t.Fatal(err)
	}
	if page, _ := e.ib.List(ctx, ListQuery{Search: "山崎"}); len(page.Conversations) != 0 {
		t.Fatalf("unlinked customer's name still finds: %+v", page.Conversations)
	}
	var keys int
	if err := e.db.Reader().QueryRow(`SELECT count(*) FROM line_user_search WHERE key LIKE '%ヤマサキ%'`).Scan(&keys); err != nil || keys != 0 {
		t.Fatalf("an unlinked customer's kana is kept in %d keys: %v", keys, err)
	}
}

func TestSearchIndexFollowsUnsendAndErasure(t *testing.T) {
	e := newWorkEnv(t, nil, nil)
	ctx := context.Background()
	u, v := e.customer(t, "u"), e.customer(t, "v")
	e.say(t, u, "住宅ローンの繰上返済をしたい")
	e.say(t, v, "住宅ローンの借り換えを検討中です")
	_, msgs := e.conversation(t, u)
	lineID := ""
	e.db.Reader().QueryRow(`SELECT line_message_id FROM messages WHERE id = ?`, msgs[0].ID).Scan(&lineID)
	if _, err := e.sim.Unsend(ctx, u, lineID); err != nil {
		t.Fatal(err)
	}
	found := func(q string) int {
		page, err := e.ib.List(ctx, ListQuery{Search: q})
		if err != nil {
			t.Fatal(err)
		}
		return len(page.Conversations)
	}
	indexed := func() int {
		var n int
		e.db.Reader().QueryRow(`SELECT count(*) FROM messages_fts WHERE messages_fts MATCH '"住宅ローン"'`).Scan(&n)
		return n
	}
	if found("繰上返済") != 0 || found("住宅ローン") != 1 || indexed() != 1 {
		t.Fatalf("after unsend: %d %d %d", found("繰上返済"), found("住宅ローン"), indexed())
	}
	if _, err := erasure.New(e.db, erasure.Hooks{}, nil).EraseConversation(ctx, "staff:admin", e.convID(t, v)); err != nil {
		t.Fatal(err)
	}
	if found("借り換え") != 0 || indexed() != 0 {
		t.Fatal("erased text still in the index")
	}
}

func addStaff(t *testing.T, db *store.DB, login, name, role string) int64 {
	t.Helper()
	res, err := db.Writer().Exec(`INSERT INTO staff (login, display_name, role, password_hash, created_at, updated_at) VALUES (?, ?, ?, 'x', 1, 1)`,
		login, name, role)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := res.LastInsertId()
	return id
}

func linkCustomer(t *testing.T, db *store.DB, user, name string) {
	t.Helper()
	res, err := db.Writer().Exec(`INSERT INTO customers (customer_no, name, created_at, updated_at) VALUES (?, ?, 1, 1)`, "C-"+user[:8], name)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := res.LastInsertId()
	if _, err := db.Writer().Exec(`INSERT INTO customer_line_links (customer_id, line_user_id, linked_at, method) VALUES (?, ?, 1, 'manual')`, id, user); err != nil {
		t.Fatal(err)
	}
}

func TestFiltersAssignmentStatusAndPages(t *testing.T) {
	e := newWorkEnv(t, nil, nil)
	ctx := context.Background()
	tanaka := addStaff(t, e.db, "tanaka", "田中", "operator")
	auditor := addStaff(t, e.db, "kansa", "監査", "auditor")
	users := make([]string, 5)
	ids := make([]int64, 5)
	for i := range users {
		users[i] = e.customer(t, fmt.Sprintf("客%d", i))
		e.say(t, users[i], fmt.Sprintf("お問い合わせ %d", i))
		ids[i] = e.convID(t, users[i])
	}
	me := Staff{ID: tanaka, Actor: "staff:tanaka", Name: "田中"}
	if err := e.ib.Assign(ctx, me, ids[0], tanaka); err != nil {
		t.Fatal(err)
	}
	if err := e.ib.Assign(ctx, me, ids[1], auditor); !errors.Is(err, ErrBadAssignee) {
		t.Fatalf("assign to auditor: %v", err)
	}
	if err := e.ib.SetStatus(ctx, me, ids[1], "pending"); err != nil {
		t.Fatal(err)
	}
	if err := e.ib.SetStatus(ctx, me, ids[2], "closed"); err != nil {
		t.Fatal(err)
	}
	if err := e.ib.SetStatus(ctx, me, ids[2], "done"); !errors.Is(err, ErrBadStatus) {
		t.Fatal(err)
	}
	linkCustomer(t, e.db, users[3], "山田 花子")
	if err := e.sim.Unfollow(ctx, users[4]); err != nil {
		t.Fatal(err)
	}
	if err := e.ib.MarkRead(ctx, ids[1]); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		q    ListQuery
		want []int64
	}{
		{ListQuery{Assignee: "mine", Me: tanaka}, []int64{ids[0]}},
		{ListQuery{Assignee: "unassigned"}, []int64{ids[4], ids[3], ids[2], ids[1]}},
		{ListQuery{Status: "pending"}, []int64{ids[1]}},
		{ListQuery{Status: "closed"}, []int64{ids[2]}},
		{ListQuery{Status: "open"}, []int64{ids[4], ids[3], ids[0]}},
		{ListQuery{Link: "linked"}, []int64{ids[3]}},
		{ListQuery{Link: "unlinked", Follow: "following"}, []int64{ids[2], ids[0], ids[1]}},
		{ListQuery{Follow: "blocked"}, []int64{ids[4]}},
		// Unread first (ids[1] was read), then the most recent.
		{ListQuery{}, []int64{ids[4], ids[3], ids[2], ids[0], ids[1]}},
	} {
		page, err := e.ib.List(ctx, tt.q)
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, c := range page.Conversations {
			got = append(got, c.ID)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%+v = %v, want %v", tt.q, got, tt.want)
		}
	}
	c, _ := e.ib.Conversation(ctx, ids[3])
	if !c.Linked || c.CustomerName != "山田 花子" {
		t.Fatalf("linked conversation %+v", c)
	}
	c, _ = e.ib.Conversation(ctx, ids[0])
	if c.AssigneeID != tanaka || c.AssigneeName != "田中" {
		t.Fatalf("assigned conversation %+v", c)
	}
	// Pages of 2 walk the whole list once, in order.
	var walked []int64
	q := ListQuery{Limit: 2}
	for {
		page, err := e.ib.List(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page.Conversations {
			walked = append(walked, c.ID)
		}
		if page.Next == "" {
			break
		}
		q.Cursor = page.Next
	}
	if !slices.Equal(walked, []int64{ids[4], ids[3], ids[2], ids[0], ids[1]}) {
		t.Fatalf("paged walk %v", walked)
	}
	if _, err := e.ib.List(ctx, ListQuery{Status: "bogus"}); !errors.Is(err, ErrBadQuery) {
		t.Fatal(err)
	}
	if _, err := e.ib.List(ctx, ListQuery{Cursor: "zzz"}); !errors.Is(err, ErrBadQuery) {
		t.Fatal(err)
	}
	entries, _ := audit.List(ctx, e.db.Reader(), audit.Filter{Actor: "staff:tanaka"})
	var actions []string
	for _, en := range entries {
		actions = append(actions, en.Action)
	}
	slices.Sort(actions)
	if !slices.Equal(actions, []string{ActionAssign, ActionStatus, ActionStatus}) {
		t.Fatalf("audited %v", actions)
	}
}

func TestNotesNeverSentAndCannedReplies(t *testing.T) {
	e := newWorkEnv(t, nil, nil)
	ctx := context.Background()
	tanaka := addStaff(t, e.db, "tanaka", "田中 一郎", "operator")
	u, v := e.customer(t, "山田 花子"), e.customer(t, "佐藤 健一")
	e.say(t, u, "住所が変わりました")
	e.say(t, v, "こんにちは")
	linkCustomer(t, e.db, v, "佐藤 健一郎")
	id := e.convID(t, u)
	me := Staff{ID: tanaka, Actor: "staff:tanaka", Name: "田中 一郎"}
	before := len(e.sim.Requests())
	n, err := e.ib.AddNote(ctx, me, id, "転居届の用紙を郵送済み。口座番号 1234567")
	if err != nil || n.AuthorName != "田中 一郎" {
		t.Fatal(n, err)
	}
	if len(e.sim.Requests()) != before || len(e.sim.Deliveries(u)) != 0 {
		t.Fatal("a note reached LINE")
	}
	notes, _ := e.ib.Notes(ctx, id)
	if len(notes) != 1 || notes[0].Body != n.Body {
		t.Fatalf("notes %+v", notes)
	}
	entries, _ := audit.List(ctx, e.db.Reader(), audit.Filter{Action: ActionNoteAdd})
	if len(entries) != 1 || strings.Contains(fmt.Sprint(entries[0].Detail), "1234567") {
		t.Fatalf("note audit %+v", entries)
	}
	if err := e.ib.DeleteNote(ctx, Staff{ID: tanaka + 99, Actor: "staff:x"}, n.ID); !errors.Is(err, ErrNotAuthor) {
		t.Fatalf("delete by another: %v", err)
	}
	if _, err := e.ib.AddNote(ctx, me, id, "  "); !errors.Is(err, ErrEmpty) {
		t.Fatal(err)
	}

	cr, err := e.ib.SaveCannedReply(ctx, "staff:admin", CannedReply{Title: "住所変更", Body: "{氏名}様\n担当の{担当者}です。住所変更の書類をお送りします。"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ib.SaveCannedReply(ctx, "staff:admin", CannedReply{Title: "", Body: "x"}); !errors.Is(err, ErrBadCanned) {
		t.Fatal(err)
	}
	// Each wrong field by its JSON name, both at once (issue 19 item 6).
	for _, tt := range []struct {
		c    CannedReply
		want []fielderr.FieldError
	}{
		{CannedReply{Title: " ", Body: "\n"}, []fielderr.FieldError{{Field: "title", Code: fielderr.Required}, {Field: "body", Code: fielderr.Required}}},
		{CannedReply{Title: strings.Repeat("題", MaxCannedTitle+1), Body: "x"}, []fielderr.FieldError{{Field: "title", Code: fielderr.TooLong, Max: MaxCannedTitle}}},
		{CannedReply{Title: "長文", Body: strings.Repeat("あ", MaxCannedBody+1)}, []fielderr.FieldError{{Field: "body", Code: fielderr.TooLong, Max: MaxCannedBody}}},
	} {
		_, err := e.ib.SaveCannedReply(ctx, "staff:admin", tt.c)
		if got := fielderr.Fields(err); !errors.Is(err, ErrBadCanned) || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("SaveCannedReply(%.20q…) = %v, fields %+v, want %+v", tt.c.Title, err, got, tt.want)
		}
	}
	for _, tt := range []struct {
		conv int64
		want string
	}{
		{id, "山田 花子様\n担当の田中 一郎です。住所変更の書類をお送りします。"},              // LINE display name
		{e.convID(t, v), "佐藤 健一郎様\n担当の田中 一郎です。住所変更の書類をお送りします。"}, // the linked customer's name wins
	} {
		got, err := e.ib.ExpandCannedReply(ctx, tt.conv, cr.ID, "田中 一郎")
		if err != nil || got != tt.want {
			t.Errorf("expand = %q %v, want %q", got, err, tt.want)
		}
	}
	if got := Expand("{氏名}様", map[string]string{VarName: UnknownName}); got != "お客様" {
		t.Fatal(got)
	}
}

// memHost is a MediaHost that keeps uploads in memory.
type memHost struct {
	mu      sync.Mutex
	uploads map[string][]byte
}

func (h *memHost) UploadMedia(_ context.Context, data []byte, typ string) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.uploads == nil {
		h.uploads = map[string][]byte{}
	}
	url := fmt.Sprintf("https://media.example/%d", len(h.uploads))
	h.uploads[url] = data
	return url, nil
}

func testPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 200, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestCheckImage(t *testing.T) {
	var g bytes.Buffer
	gif.Encode(&g, image.NewPaletted(image.Rect(0, 0, 4, 4), []color.Color{color.Black}), nil)
	for _, tt := range []struct {
		name    string
		data    []byte
		typ     string
		err     error
		maxSide int
	}{
		{"small png", testPNG(t, 100, 60), "image/png", nil, 100},
		{"large png", testPNG(t, 1200, 800), "image/png", nil, PreviewSide},
		{"portrait", testPNG(t, 300, 900), "image/png", nil, PreviewSide},
		{"gif", g.Bytes(), "", ErrBadImage, 0},
		{"text", []byte("not an image"), "", ErrBadImage, 0},
		{"too large", make([]byte, MaxImageBytes+1), "", ErrImageSize, 0},
		{"truncated png", testPNG(t, 100, 100)[:80], "", ErrBadImage, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			typ, prev, err := CheckImage(tt.data)
			if !errors.Is(err, tt.err) || typ != tt.typ {
				t.Fatalf("CheckImage = %q, %v; want %q, %v", typ, err, tt.typ, tt.err)
			}
			if err != nil {
				return
			}
			cfg, format, err := image.DecodeConfig(bytes.NewReader(prev))
			if err != nil || format != "jpeg" || max(cfg.Width, cfg.Height) != tt.maxSide || len(prev) > MaxPreviewBytes {
				t.Fatalf("preview %s %dx%d (%d bytes) %v", format, cfg.Width, cfg.Height, len(prev), err)
			}
		})
	}
}

func TestReplyImage(t *testing.T) {
	host := &memHost{}
	e := newWorkEnv(t, nil, host)
	ctx := context.Background()
	u := e.customer(t, "hanako")
	e.say(t, u, "地図を送ってください")
	id := e.convID(t, u)
	e.clock.Add(time.Hour) // token expired: a keyed push
	photo := testPNG(t, 640, 480)
	m, err := e.ib.ReplyImage(ctx, id, Actor{Audit: "staff:a", Name: "窓口 A"}, photo)
	if err != nil || m.Kind != "image" || m.Status != "sent" || !m.HasContent || m.SentBy != "窓口 A" || m.Via != "push" {
		t.Fatalf("image reply %+v %v", m, err)
	}
	ds := e.sim.Deliveries(u)
	if len(ds) != 1 || ds[0].Type != "image" || !strings.Contains(string(ds[0].Message), "https://media.example/") {
		t.Fatalf("deliveries %+v", ds)
	}
	data, typ, err := e.ib.MessageContent(ctx, m.ID)
	if err != nil || typ != "image/png" || !bytes.Equal(data, photo) || len(host.uploads) != 2 {
		t.Fatalf("stored content %s %v, %d uploads", typ, err, len(host.uploads))
	}
	// A retry resends the same message object with the same key.
	e.db.Writer().Exec(`UPDATE messages SET status = 'failed' WHERE id = ?`, m.ID)
	if _, err := e.ib.RetryMessage(ctx, m.ID, Actor{Audit: "staff:a"}); err != nil {
		t.Fatal(err)
	}
	reqs := e.sim.Requests()
	pushes := []linesim.Request{}
	for _, r := range reqs {
		if r.Endpoint == linesim.EndpointPush {
			pushes = append(pushes, r)
		}
	}
	if len(pushes) != 2 || pushes[0].BodySHA256 != pushes[1].BodySHA256 || pushes[0].RetryKey != pushes[1].RetryKey || len(e.sim.Deliveries(u)) != 1 {
		t.Fatalf("retry pushes %+v", pushes)
	}
	noHost := newWorkEnv(t, nil, nil)
	if _, err := noHost.ib.ReplyImage(ctx, 1, Actor{Audit: "staff:a"}, photo); !errors.Is(err, ErrNoMediaHost) {
		t.Fatal(err)
	}
}

func TestMessagePagesAndPostbackLabels(t *testing.T) {
	e := newWorkEnv(t, nil, nil)
	ctx := context.Background()
	u := e.customer(t, "hanako")
	for i := range 7 {
		e.say(t, u, fmt.Sprintf("メッセージ%d", i))
	}
	err := e.db.Write(ctx, func(tx *sql.Tx) error {
		return RegisterPostbackLabel(ctx, tx, "action=reserve&branch=12", "来店予約をする", time.Now())
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.sim.Postback(ctx, u, "来店予約をする", "action=reserve&branch=12"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sim.Postback(ctx, u, "?", "action=unknown"); err != nil {
		t.Fatal(err)
	}
	id := e.convID(t, u)
	page, err := e.ib.RecentMessages(ctx, id, 0, 4)
	if err != nil || len(page.Messages) != 4 || !page.More {
		t.Fatalf("first page %+v %v", page, err)
	}
	pb := page.Messages[2:]
	if pb[0].Label != "来店予約をする" || pb[1].Label != "" || pb[1].Body != "action=unknown" {
		t.Fatalf("postbacks %+v", pb)
	}
	older, err := e.ib.RecentMessages(ctx, id, page.Messages[0].ID, 4)
	if err != nil || len(older.Messages) != 4 || !older.More || older.Messages[3].ID >= page.Messages[0].ID {
		t.Fatalf("older page %+v %v", older, err)
	}
	last, _ := e.ib.RecentMessages(ctx, id, older.Messages[0].ID, 4)
	if len(last.Messages) != 1 || last.More || last.Messages[0].Body != "メッセージ0" {
		t.Fatalf("last page %+v", last)
	}
	if _, err := e.ib.RecentMessages(ctx, 999, 0, 0); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
}

func TestSnippet(t *testing.T) {
	long := strings.Repeat("あ", 50) + "住宅ローン" + strings.Repeat("い", 50)
	for _, tt := range []struct{ text, q, want string }{
		{"短い文", "短い", "短い文"},
		{long, "住宅ローン", "…" + strings.Repeat("あ", 10) + "住宅ローン" + strings.Repeat("い", 15) + "…"},
		{"ATM " + strings.Repeat("x", 40), "atm", "ATM " + strings.Repeat("x", 26) + "…"},
	} {
		if got := snippet(tt.text, tt.q, 30); got != tt.want {
			t.Errorf("snippet(%q) = %q, want %q", tt.q, got, tt.want)
		}
	}
}
