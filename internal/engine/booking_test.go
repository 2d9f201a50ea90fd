package engine

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"tsunagu/internal/booking"
	"tsunagu/internal/forms"
	"tsunagu/internal/relay"
	"tsunagu/internal/relay/relaytest"
	"tsunagu/internal/relay/wire"
	"tsunagu/internal/relayclient"
	"tsunagu/internal/secrets/secretstest"
)

// TestBookingThroughTheRelay: the engine publishes the availability to its
// relay when a consultation type is saved, and a customer's sealed booking
// request, queued with the webhooks, reaches the booking service through
// the pull loop (checked with forms' LINE Login check), is stored against
// the LINE user, confirmed in LINE, and counted in the next publish.
func TestBookingThroughTheRelay(t *testing.T) {
	kr := secretstest.Keyring(t)
	ctx := context.Background()
	rs := relaytest.Start(t, relay.Config{DataDir: t.TempDir()})
	code := rs.Tenant(t, "本店")
	sim, cust, dir := liveFolder(t, kr, dlSecret, dlToken, "佐藤 一郎")
	eng, err := Start(ctx, Options{DataDir: dir, Keyring: kr, LineEndpoint: sim.URL()})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	en, err := eng.RelayEnroll(ctx, "staff:admin", rs.URL, code, relayclient.HTTPLoopback)
	if err != nil {
		t.Fatal(err)
	}
	sim.SetWebhookURL(en.WebhookURL)
	if _, err := eng.Forms().SetSettings(ctx, "staff:admin", forms.Settings{LoginChannelID: sim.LoginChannelID(), LIFFID: sim.LoginChannelID() + "-EngTest1"}); err != nil {
		t.Fatal(err)
	}
	if err := eng.DB().Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO staff (id, login, display_name, role, password_hash, created_at, updated_at) VALUES (901, 'yoyaku', '予約担当', 'operator', 'x', 0, 0)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	svc := eng.Bookings()
	var spans []booking.Span
	for wd := range 7 {
		spans = append(spans, booking.Span{Weekday: wd, Open: "00:00", Close: "24:00"})
	}
	if err := svc.SetHours(ctx, "staff:admin", spans); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateType(ctx, "staff:admin", booking.TypeDraft{Name: "保険の見直し", DurationMin: 30, Capacity: 1, LeadMin: 60, HorizonDays: 7, Staff: []int64{901}, Active: true}); err != nil {
		t.Fatal(err)
	}
	res, err := http.Get(rs.URL + "/b/" + en.Tenant + "/slots.json")
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		LIFFID string             `json:"liffId"`
		BoxKey []byte             `json:"boxKey"`
		Slots  []wire.BookingSlot `json:"slots"`
	}
	json.NewDecoder(res.Body).Decode(&page)
	res.Body.Close()
	if len(page.Slots) == 0 || page.LIFFID != sim.LoginChannelID()+"-EngTest1" {
		t.Fatalf("published %+v", page)
	}
	slot := page.Slots[0]
	var key [32]byte
	copy(key[:], page.BoxKey)
	tok, err := sim.IssueIDToken(cust.UserID, "")
	if err != nil {
		t.Fatal(err)
	}
	id := func() string {
		var b [18]byte
		rand.Read(b[:])
		return base64.RawURLEncoding.EncodeToString(b[:])
	}
	hold := id()
	sealed, err := wire.SealBooking(&key, wire.BookingRequest{Kind: wire.BookNew, SubmitID: id(), IDToken: tok, HoldID: hold, TypeID: slot.TypeID, Start: slot.Start})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(wire.HoldRequest{Slot: slot.Key(), HoldID: hold, Sealed: sealed})
	pr, err := http.Post(rs.URL+"/b/"+en.Tenant+"/hold", "application/json", bytes.NewReader(body))
	if err != nil || pr.StatusCode != http.StatusAccepted {
		t.Fatalf("hold: %v %v", pr, err)
	}
	io.Copy(io.Discard, pr.Body)
	pr.Body.Close()
	waitUntil(t, 30*time.Second, "the booking stored", func() bool {
		bs, err := svc.List(ctx, 0, 1<<62, 0)
		return err == nil && len(bs) == 1 && bs[0].StaffName == "予約担当"
	})
	waitUntil(t, 30*time.Second, "the LINE confirmation", func() bool {
		for _, d := range sim.Deliveries(cust.UserID) {
			if strings.Contains(d.Text, "ご予約を承りました") && strings.Contains(d.Text, "【保険の見直し】") {
				return true
			}
		}
		return false
	})
	if n := eng.relay.junk.Load() + eng.relay.forged.Load(); n != 0 {
		t.Fatalf("%d relay events dropped as junk or forged", n)
	}
}
