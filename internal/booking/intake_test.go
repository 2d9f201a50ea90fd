package booking_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"tsunagu/internal/booking"
	"tsunagu/internal/forms"
	"tsunagu/internal/line"
	"tsunagu/internal/linesim"
	"tsunagu/internal/linesim/linesimtest"
	"tsunagu/internal/outbox"
	"tsunagu/internal/relay"
	"tsunagu/internal/relay/relaytest"
	"tsunagu/internal/relay/wire"
	"tsunagu/internal/relayclient"
	"tsunagu/internal/store"
	"tsunagu/internal/store/storetest"
)

// relayEnv is the booking path on loopback: a relay, an enrolled desktop
// (relay client, encrypted DB, outbox, forms' ID-token check) and the LINE
// simulator (pushes and LINE Login's published keys). The clock is the real one:
// the simulator's ID tokens are checked against it.
type relayEnv struct {
	db     *store.DB
	sim    *linesimtest.Sim
	relay  *relaytest.Relay
	client *relayclient.Client
	svc    *booking.Service
	typ    booking.Type
	fs     *forms.Service
	ob     *outbox.Outbox
	shift  time.Duration // moves the desktop's clock (reminders)
}

func (e *relayEnv) now() time.Time { return time.Now().Add(e.shift) }

// service is another booking service on the same DB and relay: the
// desktop after a restart.
func (e *relayEnv) service(t *testing.T) *booking.Service {
	t.Helper()
	svc, err := booking.New(booking.Config{DB: e.db, IDTokens: e.fs, Send: e.ob, Clock: e.now,
		Relay: func(context.Context) (booking.Publisher, bool) { return e.client, true }})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func newRelayEnv(t *testing.T, rcfg relay.Config) *relayEnv {
	t.Helper()
	ctx := context.Background()
	e := &relayEnv{db: storetest.New(t)}
	e.sim = linesimtest.Start(t, linesim.Config{ChannelSecret: "s3cr3t", AccessToken: "tok"}, line.Config{})
	if rcfg.LIFFSDK == "" {
		rcfg.LIFFSDK = e.sim.URL() + linesim.LIFFSDKPath
	}
	e.relay = relaytest.Start(t, rcfg)
	keys, err := relayclient.GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	en, err := relayclient.Enroll(ctx, nil, e.relay.URL, e.relay.Tenant(t, "本店"), keys, relayclient.HTTPLoopback)
	if err != nil {
		t.Fatal(err)
	}
	if e.client, err = relayclient.New(relayclient.Config{Enrollment: en, Keys: keys}); err != nil {
		t.Fatal(err)
	}
	verifier, err := line.NewIDTokenVerifier(line.IDTokenConfig{Endpoint: e.sim.URL(), ChannelID: e.sim.LoginChannelID()})
	if err != nil {
		t.Fatal(err)
	}
	if e.ob, err = outbox.New(outbox.Config{DB: e.db, Sender: e.sim.Client}); err != nil {
		t.Fatal(err)
	}
	if e.fs, err = forms.New(forms.Config{DB: e.db, Verifier: verifier, LIFFID: func(context.Context) string { return "1657000000-Book" }}); err != nil {
		t.Fatal(err)
	}
	e.svc = e.service(t)
	exec(t, e.db, `INSERT INTO staff (id, login, display_name, role, password_hash, created_at, updated_at) VALUES (1, 's1', '佐藤', 'operator', 'x', 0, 0)`)
	if _, err := e.svc.SetSettings(ctx, "staff:admin", booking.Settings{Branch: "つなぐ銀行 本店", Phone: "03-1234-5678"}); err != nil {
		t.Fatal(err)
	}
	var spans []booking.Span
	for wd := range 7 {
		spans = append(spans, booking.Span{Weekday: wd, Open: "00:00", Close: "24:00"})
	}
	if err := e.svc.SetHours(ctx, "staff:admin", spans); err != nil {
		t.Fatal(err)
	}
	// One place per slot, cancellable until an hour before.
	if e.typ, err = e.svc.CreateType(ctx, "staff:admin", booking.TypeDraft{Name: "資産運用相談", DurationMin: 60, Capacity: 1, LeadMin: 120,
		HorizonDays: 14, CancelCutoffMin: 60, Staff: []int64{1}, Active: true}); err != nil {
		t.Fatal(err)
	}
	return e
}

// friend adds a following LINE friend to the simulator and the DB.
func (e *relayEnv) friend(t *testing.T, name string) string {
	t.Helper()
	u := linesim.NewUserID()
	e.sim.AddCustomer(linesim.Customer{UserID: u, DisplayName: name, Following: true})
	exec(t, e.db, `INSERT INTO line_users (user_id, display_name, created_at) VALUES (?, ?, 0)`, u, name)
	return u
}

func randomID(t *testing.T) string {
	var b [18]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// phone plays the booking page: it seals a request to the key the relay
// serves and posts it (to /hold with a place, else /request).
type phone struct {
	base string // https://RELAY/b/TENANT
	key  [32]byte
}

func (e *relayEnv) phone(t *testing.T) phone {
	p := phone{base: e.client.BookingURL()}
	copy(p.key[:], e.client.BoxKey())
	return p
}

func (p phone) send(t *testing.T, req wire.BookingRequest) (int, wire.HoldAnswer) {
	t.Helper()
	sealed, err := wire.SealBooking(&p.key, req)
	if err != nil {
		t.Fatal(err)
	}
	path, body := "/request", wire.HoldRequest{Sealed: sealed}
	if req.HoldID != "" {
		path, body.Slot, body.HoldID = "/hold", wire.BookingSlot{TypeID: req.TypeID, Start: req.Start}.Key(), req.HoldID
	}
	b, _ := json.Marshal(body)
	res, err := http.Post(p.base+path, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var a wire.HoldAnswer
	if res.StatusCode == http.StatusConflict {
		json.NewDecoder(res.Body).Decode(&a)
	}
	return res.StatusCode, a
}

func (p phone) slots(t *testing.T) map[string]int {
	t.Helper()
	res, err := http.Get(p.base + "/slots.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var a struct{ Slots []wire.BookingSlot }
	if err := json.NewDecoder(res.Body).Decode(&a); err != nil {
		t.Fatalf("slots.json (%d): %v", res.StatusCode, err)
	}
	out := map[string]int{}
	for _, s := range a.Slots {
		out[s.Key()] = s.Remaining
	}
	return out
}

// drain hands everything queued at the relay to Intake, as the engine's
// relay batch handler does, and returns the outcomes.
func (e *relayEnv) drain(t *testing.T) []string {
	t.Helper()
	var out []string
	_, err := e.client.DrainBatch(context.Background(), func(ctx context.Context, evs []relayclient.Event) []error {
		errs := make([]error, len(evs))
		for i, ev := range evs {
			if ev.Released != nil {
				// As the engine does: a hold whose box is not its request.
				errs[i] = e.svc.ReleaseHold(ctx, ev.Released.Hold, ev.Released.Slot, ev.ReceivedAt)
				if errs[i] == nil {
					out = append(out, "released")
				}
				continue
			}
			if ev.Booking == nil {
				t.Errorf("event %d is not a booking request", i)
				continue
			}
			res, err := e.svc.Intake(ctx, ev.Booking, ev.ReceivedAt)
			errs[i] = err
			if err == nil {
				out = append(out, res)
			}
		}
		return errs
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (e *relayEnv) texts(user string) []string {
	var out []string
	for _, d := range e.sim.Deliveries(user) {
		out = append(out, d.Text)
	}
	return out
}

var manageLink = regexp.MustCompile(`\?m=([A-Za-z0-9_-]{32})&t=(\d+)&s=(\d+)`)
var calLink = regexp.MustCompile(`https?://\S+/cal\.ics\?\S+`)

// The desktop's side of booking from LINE: the last place goes to one
// phone, the other is told at once; the request is opened, the ID token
// checked (forms' check), the booking stored against the LINE user and a
// confirmation (date with weekday, type, branch, calendar and manage
// links) pushed once; a double submit is stored once; a forged and a
// replayed token are refused and their holds released; a cancellation from
// LINE frees the slot at the relay and is confirmed; another friend cannot
// cancel with the link.
func TestIntakeThroughTheRelay(t *testing.T) {
	e := newRelayEnv(t, relay.Config{})
	ctx := context.Background()
	slots, err := e.svc.Availability(ctx, e.typ.ID)
	if err != nil || len(slots) < 2 {
		t.Fatalf("availability: %d slots, %v", len(slots), err)
	}
	x, y := slots[0], slots[1]
	keyX, keyY := wire.BookingSlot{TypeID: x.TypeID, Start: x.Start}.Key(), wire.BookingSlot{TypeID: y.TypeID, Start: y.Start}.Key()
	p := e.phone(t)
	if got := p.slots(t); got[keyX] != 1 || got[keyY] != 1 {
		t.Fatalf("published slots %v", got)
	}
	hanako, taro := e.friend(t, "花子"), e.friend(t, "太郎")
	tokH, _ := e.sim.IssueIDToken(hanako, "")
	tokT, _ := e.sim.IssueIDToken(taro, "")
	book := wire.BookingRequest{Kind: wire.BookNew, SubmitID: randomID(t), IDToken: tokH, HoldID: randomID(t), TypeID: x.TypeID, Start: x.Start, Note: "NISAの始め方"}
	if st, _ := p.send(t, book); st != http.StatusAccepted {
		t.Fatalf("hanako's hold: %d", st)
	}
	st, taken := p.send(t, wire.BookingRequest{Kind: wire.BookNew, SubmitID: randomID(t), IDToken: tokT, HoldID: randomID(t), TypeID: x.TypeID, Start: x.Start})
	if st != http.StatusConflict || !taken.Taken || len(taken.Slots) == 0 || taken.Slots[0].Key() != keyY {
		t.Fatalf("taro's hold of the last place: %d %+v", st, taken)
	}
	// The double tap: the same request again.
	if st, _ := p.send(t, book); st != http.StatusAccepted {
		t.Fatalf("double submit: %d", st)
	}
	if got := e.drain(t); fmt.Sprint(got) != "[stored duplicate]" {
		t.Fatalf("intake: %v", got)
	}
	bs, _ := e.svc.List(ctx, 0, 1<<62, 0)
	if len(bs) != 1 || bs[0].FriendName != "花子" || bs[0].Note != "NISAの始め方" || bs[0].Source != booking.SourceLINE || bs[0].StaffName != "佐藤" {
		t.Fatalf("bookings %+v", bs)
	}
	msgs := e.texts(hanako)
	if len(msgs) != 1 {
		t.Fatalf("hanako got %d messages: %q", len(msgs), msgs)
	}
	msg := msgs[0]
	for _, want := range []string{"ご予約を承りました", "【資産運用相談】", booking.When(x.Start, x.End), "つなぐ銀行 本店", "カレンダーに追加", "予約の確認・変更・キャンセル"} {
		if !strings.Contains(msg, want) {
			t.Errorf("confirmation lacks %q:\n%s", want, msg)
		}
	}
	if !regexp.MustCompile(`（[日月火水木金土]）`).MatchString(msg) || strings.Contains(msg, "NISA") || strings.Contains(msg, "花子") {
		t.Errorf("confirmation:\n%s", msg)
	}
	// The calendar link: the type, the time, the branch; nothing of hers.
	cal := calLink.FindString(msg)
	res, err := http.Get(cal)
	if err != nil {
		t.Fatal(err)
	}
	ics, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(ics), "SUMMARY:資産運用相談") || !strings.Contains(string(ics), "つなぐ銀行 本店") ||
		strings.Contains(cal, hanako) || strings.Contains(string(ics), "花子") {
		t.Errorf("calendar %s: %d\n%s", cal, res.StatusCode, ics)
	}
	if got := p.slots(t); got[keyX] != 0 {
		t.Errorf("after the booking: %v", got)
	}

	// Forged (another channel's token) and replayed (hanako's again, a new
	// submission): refused; their holds on y are given back.
	now := time.Now()
	forged, _ := e.sim.SignIDToken(linesim.IDTokenClaims{Iss: linesim.IDTokenIssuer, Sub: taro, Aud: "1999999999", Iat: now.Unix(), Exp: now.Add(time.Hour).Unix()})
	if st, _ := p.send(t, wire.BookingRequest{Kind: wire.BookNew, SubmitID: randomID(t), IDToken: forged, HoldID: randomID(t), TypeID: y.TypeID, Start: y.Start}); st != http.StatusAccepted {
		t.Fatalf("forged hold: %d", st)
	}
	if got := p.slots(t); got[keyY] != 0 {
		t.Fatalf("held by the forged request: %v", got)
	}
	if got := e.drain(t); fmt.Sprint(got) != "[rejected]" {
		t.Fatalf("forged: %v", got)
	}
	if st, _ := p.send(t, wire.BookingRequest{Kind: wire.BookNew, SubmitID: randomID(t), IDToken: tokH, HoldID: randomID(t), TypeID: y.TypeID, Start: y.Start}); st != http.StatusAccepted {
		t.Fatalf("replayed hold: %d", st)
	}
	if got := e.drain(t); fmt.Sprint(got) != "[rejected]" {
		t.Fatalf("replayed: %v", got)
	}
	if got := p.slots(t); got[keyY] != 1 {
		t.Errorf("the refused holds were not released: %v", got)
	}
	if n := count(t, e.db, `SELECT count(*) FROM bookings`); n != 1 {
		t.Errorf("%d bookings after refusals", n)
	}
	if n := count(t, e.db, `SELECT count(*) FROM audit_log WHERE action = ?`, booking.ActionReject); n != 2 {
		t.Errorf("%d refusals audited", n)
	}

	// Cancelling from LINE: taro with hanako's link is not her; she can.
	m := manageLink.FindStringSubmatch(msg)
	if m == nil {
		t.Fatalf("no manage link in\n%s", msg)
	}
	// Past the cut-off (an hour before) the desktop answers in LINE with
	// the branch's phone, and the booking stays.
	e.shift = time.UnixMilli(x.Start).Add(-30 * time.Minute).Sub(time.Now())
	tokLate, _ := e.sim.IssueIDToken(hanako, "")
	if st, _ := p.send(t, wire.BookingRequest{Kind: wire.BookCancel, SubmitID: randomID(t), IDToken: tokLate, Manage: m[1]}); st != http.StatusAccepted {
		t.Fatalf("late cancel: %d", st)
	}
	if got := e.drain(t); fmt.Sprint(got) != "[stored]" {
		t.Fatalf("late cancel: %v", got)
	}
	e.shift = 0
	if got := e.texts(hanako); len(got) != 2 || !strings.Contains(got[1], "受付期限を過ぎている") || !strings.Contains(got[1], "つなぐ銀行 本店（03-1234-5678）") {
		t.Fatalf("late cancel answer %q", got)
	}
	if b, _ := e.svc.Get(ctx, bs[0].ID); b.Status != booking.StatusConfirmed {
		t.Fatalf("cancelled past the cut-off: %+v", b)
	}
	tokT2, _ := e.sim.IssueIDToken(taro, "")
	if st, _ := p.send(t, wire.BookingRequest{Kind: wire.BookCancel, SubmitID: randomID(t), IDToken: tokT2, Manage: m[1]}); st != http.StatusAccepted {
		t.Fatalf("taro's cancel: %d", st)
	}
	tokH2, _ := e.sim.IssueIDToken(hanako, "")
	if st, _ := p.send(t, wire.BookingRequest{Kind: wire.BookCancel, SubmitID: randomID(t), IDToken: tokH2, Manage: m[1]}); st != http.StatusAccepted {
		t.Fatalf("hanako's cancel: %d", st)
	}
	if got := e.drain(t); fmt.Sprint(got) != "[stored stored]" {
		t.Fatalf("cancels: %v", got)
	}
	if b, _ := e.svc.Get(ctx, bs[0].ID); b.Status != booking.StatusCancelled {
		t.Errorf("after her cancel: %+v", b)
	}
	if got := e.texts(taro); len(got) != 1 || !strings.Contains(got[0], "ご予約が見つかりませんでした") {
		t.Errorf("taro got %q", got)
	}
	if got := e.texts(hanako); len(got) != 3 || !strings.Contains(got[2], "キャンセルしました") {
		t.Errorf("hanako got %q", got)
	}
	if got := p.slots(t); got[keyX] != 1 {
		t.Errorf("the cancellation did not free the slot: %v", got)
	}
	results := map[string]int{}
	rows, err := e.db.Reader().Query(`SELECT result, count(*) FROM booking_requests GROUP BY result`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var r string
		var n int
		rows.Scan(&r, &n)
		results[r] = n
	}
	rows.Close()
	if fmt.Sprint(results) != "map[booked:1 cancelled:1 cutoff:1 forged:1 not_found:1 replayed:1]" {
		t.Errorf("requests recorded %v", results)
	}
}

// Moving a booking from LINE: the page holds the new slot with the
// booking's link key; the desktop moves it (the old slot free again at the
// relay, the new one taken), confirms the new time in LINE with a link that
// still works, and the schedule's refresh publishes only when the last
// publish is old.
func TestRescheduleFromLINE(t *testing.T) {
	e := newRelayEnv(t, relay.Config{})
	ctx := context.Background()
	slots, _ := e.svc.Availability(ctx, e.typ.ID)
	x, y := slots[0], slots[3]
	keyX, keyY := wire.BookingSlot{TypeID: x.TypeID, Start: x.Start}.Key(), wire.BookingSlot{TypeID: y.TypeID, Start: y.Start}.Key()
	p := e.phone(t)
	u := e.friend(t, "花子")
	tok, _ := e.sim.IssueIDToken(u, "")
	if st, _ := p.send(t, wire.BookingRequest{Kind: wire.BookNew, SubmitID: randomID(t), IDToken: tok, HoldID: randomID(t), TypeID: x.TypeID, Start: x.Start, Note: "相続"}); st != http.StatusAccepted {
		t.Fatalf("book: %d", st)
	}
	e.drain(t)
	m := manageLink.FindStringSubmatch(e.texts(u)[0])
	tok2, _ := e.sim.IssueIDToken(u, "")
	if st, _ := p.send(t, wire.BookingRequest{Kind: wire.BookReschedule, SubmitID: randomID(t), IDToken: tok2, HoldID: randomID(t), TypeID: y.TypeID, Start: y.Start, Manage: m[1]}); st != http.StatusAccepted {
		t.Fatalf("reschedule hold: %d", st)
	}
	if got := e.drain(t); fmt.Sprint(got) != "[stored]" {
		t.Fatalf("reschedule: %v", got)
	}
	bs, _ := e.svc.List(ctx, 0, 1<<62, 0)
	if len(bs) != 2 || bs[0].Status != booking.StatusRescheduled || bs[1].Status != booking.StatusConfirmed || bs[1].Start != y.Start || bs[1].Note != "相続" {
		t.Fatalf("bookings %+v", bs)
	}
	msgs := e.texts(u)
	if len(msgs) != 2 || !strings.Contains(msgs[1], "日時を変更しました") || !strings.Contains(msgs[1], booking.When(y.Start, y.End)) || !strings.Contains(msgs[1], m[1]) {
		t.Fatalf("LINE: %q", msgs)
	}
	if got := p.slots(t); got[keyX] != 1 || got[keyY] != 0 {
		t.Fatalf("relay after the move: %v", got)
	}
	// The refresh: nothing within RepublishAfter of the last publish.
	var published int
	svc, _ := booking.New(booking.Config{DB: e.db, Clock: e.now, Relay: func(context.Context) (booking.Publisher, bool) { published++; return e.client, true }})
	if err := svc.PublishIfOlder(ctx, booking.RepublishAfter); err != nil || published != 1 {
		t.Fatalf("first refresh: %d %v", published, err)
	}
	if svc.PublishIfOlder(ctx, booking.RepublishAfter); published != 1 {
		t.Fatalf("a refresh right after published again")
	}
	e.shift = booking.RepublishAfter + time.Minute
	if svc.PublishIfOlder(ctx, booking.RepublishAfter); published != 2 {
		t.Fatalf("no refresh after %v", booking.RepublishAfter)
	}
}

// Staff's changes are told to the customer in LINE (the move with the new
// time and the same change/cancel link, the cancellation); a customer
// without LINE is told nothing, and the calendar knows it (OnLine).
func TestStaffChangesAreToldInLINE(t *testing.T) {
	e := newRelayEnv(t, relay.Config{})
	ctx := context.Background()
	slots, _ := e.svc.Availability(ctx, e.typ.ID)
	x, y := slots[0], slots[3]
	p := e.phone(t)
	u := e.friend(t, "花子")
	tok, _ := e.sim.IssueIDToken(u, "")
	if st, _ := p.send(t, wire.BookingRequest{Kind: wire.BookNew, SubmitID: randomID(t), IDToken: tok, HoldID: randomID(t), TypeID: x.TypeID, Start: x.Start}); st != http.StatusAccepted {
		t.Fatalf("book: %d", st)
	}
	e.drain(t)
	m := manageLink.FindStringSubmatch(e.texts(u)[0])
	if m == nil {
		t.Fatalf("no manage link in %q", e.texts(u))
	}
	bs, _ := e.svc.List(ctx, 0, 1<<62, 0)
	if len(bs) != 1 || !bs[0].OnLine {
		t.Fatalf("bookings %+v", bs)
	}
	moved, err := e.svc.Reschedule(ctx, "staff:1", bs[0].ID, y.Start, false)
	if err != nil {
		t.Fatal(err)
	}
	msgs := e.texts(u)
	if len(msgs) != 2 || !strings.Contains(msgs[1], "日時を変更しました") || !strings.Contains(msgs[1], booking.When(y.Start, y.End)) || !strings.Contains(msgs[1], m[1]) {
		t.Fatalf("after the staff's move: %q", msgs)
	}
	if err := e.svc.Cancel(ctx, "staff:1", moved.ID, false); err != nil {
		t.Fatal(err)
	}
	msgs = e.texts(u)
	if len(msgs) != 3 || !strings.Contains(msgs[2], "キャンセルしました") || !strings.Contains(msgs[2], booking.When(y.Start, y.End)) || strings.Contains(msgs[2], m[1]) {
		t.Fatalf("after the staff's cancellation: %q", msgs)
	}

	// A customer without LINE, booked by staff: nothing is sent.
	exec(t, e.db, `INSERT INTO customers (id, customer_no, name, created_at, updated_at) VALUES (7, 'C7', '顧客七', 0, 0)`)
	b, _, err := e.svc.Book(ctx, "staff:1", booking.Request{TypeID: x.TypeID, Start: x.Start, CustomerID: 7, Source: booking.SourceStaff})
	if err != nil {
		t.Fatal(err)
	}
	if b.OnLine {
		t.Fatalf("a customer without LINE shown as told in LINE: %+v", b)
	}
	before := count(t, e.db, `SELECT count(*) FROM outbox_sends`)
	if err := e.svc.Cancel(ctx, "staff:1", b.ID, false); err != nil {
		t.Fatal(err)
	}
	if n := count(t, e.db, `SELECT count(*) FROM outbox_sends`); n != before {
		t.Fatalf("%d sends enqueued for a customer without LINE", n-before)
	}
}

// A booking staff make on a customer's behalf is confirmed by the engine
// like a page booking: the message Confirmation previews (date with
// weekday, type, branch, calendar link, change/cancel link), pushed once
// to the customer's linked LINE; its change/cancel link works from that
// LINE. A customer not on LINE: the preview says so and nothing is sent.
func TestStaffBookingIsConfirmedLikeAPageBooking(t *testing.T) {
	e := newRelayEnv(t, relay.Config{})
	ctx := context.Background()
	slots, _ := e.svc.Availability(ctx, e.typ.ID)
	x := slots[1]
	u := e.friend(t, "花子")
	exec(t, e.db, `INSERT INTO customers (id, customer_no, name, created_at, updated_at) VALUES (5, 'C5', '山田 花子', 0, 0)`)
	exec(t, e.db, `INSERT INTO customer_line_links (customer_id, line_user_id, linked_at, method) VALUES (5, ?, 0, 'manual')`, u)
	req := booking.Request{TypeID: x.TypeID, Start: x.Start, CustomerID: 5, Source: booking.SourceStaff}
	pv, err := e.svc.Confirmation(ctx, req)
	if err != nil || !pv.OnLine {
		t.Fatalf("preview %+v %v", pv, err)
	}
	b, created, err := e.svc.Book(ctx, "staff:1", req)
	if err != nil || !created || !b.OnLine {
		t.Fatalf("book %+v %v %v", b, created, err)
	}
	msgs := e.texts(u)
	if len(msgs) != 1 {
		t.Fatalf("sent %q", msgs)
	}
	got := msgs[0]
	for _, want := range []string{"ご予約を承りました。", "【資産運用相談】", booking.When(x.Start, x.End), "つなぐ銀行 本店", "カレンダーに追加:", "予約の確認・変更・キャンセル:"} {
		if !strings.Contains(got, want) {
			t.Errorf("confirmation lacks %q: %q", want, got)
		}
	}
	if !calLink.MatchString(got) {
		t.Errorf("no calendar link: %q", got)
	}
	m := manageLink.FindStringSubmatch(got)
	if m == nil {
		t.Fatalf("no change/cancel link: %q", got)
	}
	// The preview is the same message, the key (made at booking) shown as "…".
	if want := strings.Replace(got, "m="+m[1], "m=…", 1); pv.Text != want {
		t.Errorf("preview differs from the message sent:\n%s\n---\n%s", pv.Text, want)
	}
	if n := count(t, e.db, `SELECT count(*) FROM bookings WHERE id = ? AND confirm_send IS NOT NULL`, b.ID); n != 1 {
		t.Errorf("the confirmation's send not noted on the booking")
	}
	// The link cancels from the customer's LINE.
	tok, _ := e.sim.IssueIDToken(u, "")
	if st, _ := e.phone(t).send(t, wire.BookingRequest{Kind: wire.BookCancel, SubmitID: randomID(t), IDToken: tok, Manage: m[1]}); st != http.StatusAccepted {
		t.Fatalf("cancel: %d", st)
	}
	if res := e.drain(t); fmt.Sprint(res) != "[stored]" {
		t.Fatalf("cancel: %v", res)
	}
	if b, _ := e.svc.Get(ctx, b.ID); b.Status != booking.StatusCancelled {
		t.Fatalf("not cancelled from LINE: %+v", b)
	}

	// A customer not on LINE.
	exec(t, e.db, `INSERT INTO customers (id, customer_no, name, created_at, updated_at) VALUES (6, 'C6', '佐藤 健一', 0, 0)`)
	req.CustomerID = 6
	if pv, err := e.svc.Confirmation(ctx, req); err != nil || pv.OnLine || pv.Text != "" {
		t.Fatalf("preview for a customer without LINE %+v %v", pv, err)
	}
	before := count(t, e.db, `SELECT count(*) FROM outbox_sends`)
	if b, _, err := e.svc.Book(ctx, "staff:1", req); err != nil || b.OnLine {
		t.Fatalf("book %+v %v", b, err)
	}
	if n := count(t, e.db, `SELECT count(*) FROM outbox_sends`); n != before {
		t.Fatalf("%d sends for a customer without LINE", n-before)
	}
}

// A hold whose box the desktop cannot open (junk posted to /hold), or
// whose box is a request for another hold, takes the place at the relay
// until the desktop has seen it: then the next publish counts it as
// released and the place is free again; a real request afterwards books.
func TestJunkHoldsAreReleased(t *testing.T) {
	e := newRelayEnv(t, relay.Config{})
	ctx := context.Background()
	if err := e.svc.Publish(ctx); err != nil {
		t.Fatal(err)
	}
	slots, _ := e.svc.Availability(ctx, e.typ.ID)
	x := slots[0]
	key := wire.BookingSlot{TypeID: x.TypeID, Start: x.Start}.Key()
	p := e.phone(t)
	post := func(hold string, sealed []byte) int {
		b, _ := json.Marshal(wire.HoldRequest{Slot: key, HoldID: hold, Sealed: sealed})
		res, err := http.Post(p.base+"/hold", "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	// Junk: random bytes where a sealed box should be.
	junk := make([]byte, 200)
	rand.Read(junk)
	if st := post(randomID(t), junk); st != http.StatusAccepted {
		t.Fatalf("junk hold: %d", st)
	}
	if got := p.slots(t)[key]; got != 0 {
		t.Fatalf("the junk hold does not take the place: %d", got)
	}
	if got := e.drain(t); fmt.Sprint(got) != "[released]" {
		t.Fatalf("junk: %v", got)
	}
	if got := p.slots(t)[key]; got != 1 {
		t.Fatalf("after the desktop saw the junk, the place is not free: %d", got)
	}
	// A real box for another hold ID than the one it was posted under.
	u := e.friend(t, "花子")
	tok, _ := e.sim.IssueIDToken(u, "")
	sealed, err := wire.SealBooking(&p.key, wire.BookingRequest{Kind: wire.BookNew, SubmitID: randomID(t), IDToken: tok, HoldID: randomID(t), TypeID: x.TypeID, Start: x.Start})
	if err != nil {
		t.Fatal(err)
	}
	if st := post(randomID(t), sealed); st != http.StatusAccepted {
		t.Fatalf("mismatched hold: %d", st)
	}
	if got := e.drain(t); fmt.Sprint(got) != "[released]" {
		t.Fatalf("mismatched: %v", got)
	}
	if got := p.slots(t)[key]; got != 1 {
		t.Fatalf("after a mismatched box, the place is not free: %d", got)
	}
	if bs, _ := e.svc.List(ctx, 0, 1<<62, 0); len(bs) != 0 {
		t.Fatalf("booked from a mismatched box: %+v", bs)
	}
	// The place is bookable for real.
	if st, _ := p.send(t, wire.BookingRequest{Kind: wire.BookNew, SubmitID: randomID(t), IDToken: tok, HoldID: randomID(t), TypeID: x.TypeID, Start: x.Start}); st != http.StatusAccepted {
		t.Fatalf("book: %d", st)
	}
	if got := e.drain(t); fmt.Sprint(got) != "[stored]" {
		t.Fatalf("book: %v", got)
	}
	if got := p.slots(t)[key]; got != 0 {
		t.Fatalf("booked, yet %d places left", got)
	}
}

// Between publishes, a slot that moves inside its type's lead time (two
// hours here) is no longer offered by the relay: the desktop publishes
// each slot's last bookable moment and the relay checks it by its clock.
func TestSlotsCloseAtTheLeadTimeBetweenPublishes(t *testing.T) {
	var mu sync.Mutex
	var relayShift time.Duration
	e := newRelayEnv(t, relay.Config{Clock: func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return time.Now().Add(relayShift)
	}})
	ctx := context.Background()
	if err := e.svc.Publish(ctx); err != nil {
		t.Fatal(err)
	}
	slots, _ := e.svc.Availability(ctx, e.typ.ID)
	x, y := slots[0], slots[len(slots)-1]
	key := func(s booking.Slot) string { return wire.BookingSlot{TypeID: s.TypeID, Start: s.Start}.Key() }
	p := e.phone(t)
	if got := p.slots(t); got[key(x)] != 1 || got[key(y)] != 1 {
		t.Fatalf("published: %v", got)
	}
	mu.Lock()
	relayShift = time.Until(time.UnixMilli(x.Start).Add(-2*time.Hour + time.Minute)) // a minute inside x's lead time
	mu.Unlock()
	got := p.slots(t)
	if _, ok := got[key(x)]; ok || got[key(y)] != 1 {
		t.Fatalf("a slot inside the lead time still offered, without a publish: %v", got)
	}
}
