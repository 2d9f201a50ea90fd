package booking_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"tsunagu/internal/booking"
	"tsunagu/internal/linesim"
	"tsunagu/internal/relay"
	"tsunagu/internal/relay/wire"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type phoneResult struct {
	Heading string `json:"heading"`
	Text    string `json:"text"`
	Alert   int    `json:"alert"`
}

// labels are a slot as the page shows it: its day button and time button.
func labels(s booking.Slot) (day, tm string) {
	a, b := time.UnixMilli(s.Start).In(booking.JST), time.UnixMilli(s.End).In(booking.JST)
	w := []string{"日", "月", "火", "水", "木", "金", "土"}[a.Weekday()]
	return fmt.Sprintf("%d月%d日（%s）", a.Month(), a.Day(), w), a.Format("15:04") + "〜" + b.Format("15:04")
}

// TestPhonesEndToEnd: the relay (loopback, its own data folder and log),
// the desktop side (relay client, encrypted DB, booking and forms'
// ID-token check, outbox), the LINE simulator (LIFF stand-in, LINE Login's
// published keys, Messaging API) and Debian's Chromium at 375×667 playing phones:
//   - outside LINE the page explains how to open it in LINE;
//   - two phones press 予約する on the last place of one slot at the same
//     moment: one is booked, the other is told at once with the other free
//     times; the desktop stores one booking and confirms it in LINE;
//   - the winner opens the confirmation's link and cancels: the slot is
//     free again at the relay and the cancellation is confirmed;
//   - a phone with a forged LINE sign-in gets a place held, the desktop
//     refuses it and the place is given back;
//   - the reminder goes the day before, once (again after a restart);
//   - the relay's files and log hold no name or note.
//
// Screenshots: test-artifacts/ui/booking-phone-*.png.
func TestPhonesEndToEnd(t *testing.T) {
	chromium := os.Getenv("TSUNAGU_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("Chromium is needed at %s (Debian's chromium package): %v", chromium, err)
	}
	dataDir := t.TempDir()
	var relayLog lockedBuffer
	e := newRelayEnv(t, relay.Config{DataDir: dataDir, Logger: slog.New(slog.NewTextHandler(&relayLog, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	ctx := context.Background()
	slots, err := e.svc.Availability(ctx, e.typ.ID)
	if err != nil || len(slots) < 3 {
		t.Fatalf("availability: %d %v", len(slots), err)
	}
	x, y := slots[0], slots[1]
	hanako, taro := e.friend(t, "山田花子ＨＨＨ"), e.friend(t, "佐藤太郎ＴＴＴ")
	const noteA, noteB = "住宅ローンの借り換えＡＡＡ", "投資信託の見直しＢＢＢ"
	base := e.client.BookingURL()
	lifff := func(u, url string) string {
		s, err := e.sim.LIFFURL(u, url)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	shots, _ := filepath.Abs(filepath.Join("..", "..", "test-artifacts", "ui"))
	os.MkdirAll(shots, 0o755)
	script, _ := filepath.Abs(filepath.Join("..", "..", "frontend", "forms-page", "test", "booking-phone.mjs"))
	run := func(arg map[string]any, out any) {
		t.Helper()
		arg["shots"] = shots
		b, _ := json.Marshal(arg)
		cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		cmd := osexec.CommandContext(cctx, "node", script, string(b))
		cmd.Env = append(os.Environ(), "TSUNAGU_CHROMIUM="+chromium)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		outb, err := cmd.Output()
		if err != nil {
			t.Fatalf("phones: %v\n%s", err, stderr.String())
		}
		if err := json.Unmarshal(outb, out); err != nil {
			t.Fatalf("phones said %s (%v)", outb, err)
		}
	}

	// The race for the last place of x.
	dayX, timeX := labels(x)
	var race struct {
		Outside    string      `json:"outside"`
		A          phoneResult `json:"a"`
		B          phoneResult `json:"b"`
		OtherTimes int         `json:"otherTimes"`
	}
	run(map[string]any{"step": "race", "outside": base, "a": lifff(hanako, base), "b": lifff(taro, base), "day": dayX, "time": timeX, "noteA": noteA, "noteB": noteB}, &race)
	if !strings.Contains(race.Outside, "LINEアプリの中で") || strings.Contains(race.Outside, "予約する") {
		t.Fatalf("outside LINE: %q", race.Outside)
	}
	won := func(r phoneResult) bool { return strings.Contains(r.Heading, "ご予約を受け付けました") }
	if won(race.A) == won(race.B) {
		t.Fatalf("both or neither booked:\nA %+v\nB %+v", race.A, race.B)
	}
	winner, loser, winnerNote, lost := hanako, taro, noteA, race.B
	if won(race.B) {
		winner, loser, winnerNote, lost = taro, hanako, noteB, race.A
	}
	if !strings.Contains(lost.Heading, "満席") || lost.Alert == 0 || race.OtherTimes == 0 || !strings.Contains(lost.Text, "ほかの空いている時間") {
		t.Fatalf("the other phone was not told at once with the free times: %+v (%d times)", lost, race.OtherTimes)
	}
	if got := e.drain(t); fmt.Sprint(got) != "[stored]" {
		t.Fatalf("intake after the race: %v", got)
	}
	bs, _ := e.svc.List(ctx, 0, 1<<62, 0)
	if len(bs) != 1 || bs[0].Start != x.Start || bs[0].Note != winnerNote {
		t.Fatalf("bookings %+v", bs)
	}
	msgs := e.texts(winner)
	if len(msgs) != 1 || !strings.Contains(msgs[0], booking.When(x.Start, x.End)) {
		t.Fatalf("winner's LINE: %q", msgs)
	}
	m := manageLink.FindString(msgs[0])
	if m == "" {
		t.Fatalf("no manage link in %q", msgs[0])
	}

	// The winner cancels from the link; a forged sign-in books y.
	now := time.Now()
	forged, _ := e.sim.SignIDToken(linesim.IDTokenClaims{Iss: linesim.IDTokenIssuer, Sub: loser, Aud: "1999999999", Iat: now.Unix(), Exp: now.Add(time.Hour).Unix()})
	dayY, timeY := labels(y)
	var manage struct {
		Manage    string `json:"manage"`
		Cancelled string `json:"cancelled"`
		Forged    string `json:"forged"`
	}
	run(map[string]any{"step": "manage", "manage": lifff(winner, base+m), "forged": base + "#linesim_id_token=" + forged, "day": dayY, "time": timeY}, &manage)
	if !strings.Contains(manage.Manage, booking.When(x.Start, x.End)) || !strings.Contains(manage.Manage, "資産運用相談") {
		t.Fatalf("manage view: %q", manage.Manage)
	}
	if !strings.Contains(manage.Forged, "ご予約を受け付けました") {
		t.Fatalf("forged phone: %q", manage.Forged)
	}
	p := e.phone(t)
	keyX, keyY := wire.BookingSlot{TypeID: x.TypeID, Start: x.Start}.Key(), wire.BookingSlot{TypeID: y.TypeID, Start: y.Start}.Key()
	if got := p.slots(t); got[keyY] != 0 || got[keyX] != 0 {
		t.Fatalf("before the desktop: %v", got)
	}
	if got := e.drain(t); fmt.Sprint(got) != "[stored rejected]" {
		t.Fatalf("intake of cancel and forged: %v", got)
	}
	if b, _ := e.svc.Get(ctx, bs[0].ID); b.Status != booking.StatusCancelled {
		t.Fatalf("not cancelled: %+v", b)
	}
	if got := p.slots(t); got[keyX] != 1 || got[keyY] != 1 {
		t.Fatalf("the cancellation and the refused hold did not free the places: %v", got)
	}
	if msgs := e.texts(winner); len(msgs) != 2 || !strings.Contains(msgs[1], "キャンセルしました") {
		t.Fatalf("winner's LINE after cancelling: %q", msgs)
	}

	// The reminder: the loser books a slot two days or more ahead; the day
	// before at 10:30 it goes, once, also after a restart.
	var z booking.Slot
	for _, s := range slots {
		if s.Start > time.Now().Add(50*time.Hour).UnixMilli() {
			z = s
			break
		}
	}
	if z.Start == 0 {
		t.Fatal("no slot two days ahead")
	}
	tok, _ := e.sim.IssueIDToken(loser, "")
	if st, _ := p.send(t, wire.BookingRequest{Kind: wire.BookNew, SubmitID: randomID(t), IDToken: tok, HoldID: randomID(t), TypeID: z.TypeID, Start: z.Start}); st != 202 {
		t.Fatalf("booking z: %d", st)
	}
	if got := e.drain(t); fmt.Sprint(got) != "[stored]" {
		t.Fatalf("intake of z: %v", got)
	}
	before := len(e.texts(loser))
	dayBefore := booking.DayOf(time.UnixMilli(z.Start)).AddDays(-1).Start().Add(10*time.Hour + 30*time.Minute)
	e.shift = dayBefore.Sub(time.Now())
	if n, err := e.svc.RunDue(ctx); err != nil || n != 1 {
		t.Fatalf("reminder: %d %v", n, err)
	}
	if n, _ := e.svc.RunDue(ctx); n != 0 {
		t.Fatalf("second pass: %d", n)
	}
	if n, _ := e.service(t).RunDue(ctx); n != 0 {
		t.Fatalf("after a restart: %d", n)
	}
	reminders := 0
	for _, s := range e.texts(loser)[before:] {
		if strings.Contains(s, "明日はご相談のご予約日です") && strings.Contains(s, booking.When(z.Start, z.End)) {
			reminders++
		}
	}
	if reminders != 1 {
		t.Fatalf("%d reminders: %q", reminders, e.texts(loser))
	}

	// No name, note or LINE user ID in the relay's files or log.
	secrets := []string{noteA, noteB, "山田花子ＨＨＨ", "佐藤太郎ＴＴＴ", hanako, taro}
	filepath.WalkDir(dataDir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		data, _ := os.ReadFile(p)
		for _, s := range secrets {
			if bytes.Contains(data, []byte(s)) {
				t.Errorf("relay file %s holds %q", p, s)
			}
		}
		return nil
	})
	log := relayLog.String()
	for _, s := range secrets {
		if strings.Contains(log, s) {
			t.Errorf("relay log holds %q", s)
		}
	}
}
