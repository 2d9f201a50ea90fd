package relay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"tsunagu/internal/relay"
	"tsunagu/internal/relay/wire"
	"tsunagu/internal/relayclient"
)

const secretNote = "相続した土地の売却について相談したい"

type bookingSink struct {
	mu   sync.Mutex
	reqs []wire.BookingRequest
}

func (s *bookingSink) handle(_ context.Context, evs []relayclient.Event) []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ev := range evs {
		if ev.Booking != nil {
			s.reqs = append(s.reqs, *ev.Booking)
		}
	}
	return make([]error, len(evs))
}

type slotsAnswer struct {
	Branch string             `json:"branch"`
	Slots  []wire.BookingSlot `json:"slots"`
}

func slotsAt(t *testing.T, base, tenant string) (int, slotsAnswer) {
	t.Helper()
	res, err := http.Get(base + "/b/" + tenant + "/slots.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var a slotsAnswer
	if res.StatusCode == http.StatusOK {
		if err := json.NewDecoder(res.Body).Decode(&a); err != nil {
			t.Fatal(err)
		}
	}
	return res.StatusCode, a
}

func remaining(a slotsAnswer, key string) int {
	for _, s := range a.Slots {
		if s.Key() == key {
			return s.Remaining
		}
	}
	return -1
}

func hold(t *testing.T, url string, pub []byte, slot wire.BookingSlot, holdID string) (int, wire.HoldAnswer) {
	t.Helper()
	var key [32]byte
	copy(key[:], pub)
	sealed, err := wire.SealBooking(&key, wire.BookingRequest{Kind: wire.BookNew, SubmitID: "submit-" + holdID, IDToken: "eyJ.x.y",
		HoldID: holdID, TypeID: slot.TypeID, Start: slot.Start, Note: secretNote})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(wire.HoldRequest{Slot: slot.Key(), HoldID: holdID, Sealed: sealed})
	res, err := http.Post(url+"/hold", "application/json", bytes.NewReader(body))
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

// Two relay instances on one NATS cluster share the places of a slot:
// eight phones racing for the last place through both get one 202 and
// seven immediate "taken" answers listing the other free times; a publish
// computed before the desktop counted the hold cannot give the place back;
// a hold the desktop refused is released by the publish that counts it;
// an older publish is refused; the queued requests reach the desktop
// sealed, the relay's files never hold the note; tenant remove deletes the
// availability and the holds.
func TestBookingHoldsAcrossTwoRelays(t *testing.T) {
	ns := startNATS(t, 2<<20)
	ra := newRelay(t, relay.Config{NATSURL: ns.ClientURL()})
	rb := newRelay(t, relay.Config{NATSURL: ns.ClientURL()})
	tn := ra.addTenant(t, "本店")
	ctx := context.Background()
	client, err := relayclient.New(relayclient.Config{Enrollment: tn.enroll, Keys: tn.keys})
	if err != nil {
		t.Fatal(err)
	}
	day := time.Now().Add(48 * time.Hour).Truncate(time.Hour).UnixMilli()
	last := wire.BookingSlot{TypeID: 1, Start: day, Remaining: 1}
	other := wire.BookingSlot{TypeID: 1, Start: day + 3600_000, Remaining: 2}
	publish := func(version int64, lastRem, otherRem int, counted ...string) error {
		return client.PublishAvailability(ctx, wire.BookingAvail{Version: version, Branch: "つなぐ銀行 本店", LIFFID: "1657000000-Book",
			Types: []wire.BookingType{{ID: 1, Name: "資産運用相談", DurationMin: 60}},
			Slots: []wire.BookingSlot{{TypeID: 1, Start: last.Start, Remaining: lastRem}, {TypeID: 1, Start: other.Start, Remaining: otherRem}}, Counted: counted})
	}
	if err := publish(1, 1, 2); err != nil {
		t.Fatal(err)
	}
	urlA, urlB := ra.http.URL+"/b/"+tn.id, rb.http.URL+"/b/"+tn.id
	// B learns of the tenant through the KV watch.
	for deadline := time.Now().Add(30 * time.Second); ; {
		if st, a := slotsAt(t, rb.http.URL, tn.id); st == http.StatusOK && remaining(a, last.Key()) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("relay B never served the slots")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if st, a := slotsAt(t, ra.http.URL, tn.id); st != http.StatusOK || a.Branch != "つなぐ銀行 本店" || remaining(a, other.Key()) != 2 {
		t.Fatalf("slots: %d %+v", st, a)
	}

	const phones = 8
	codes := make([]int, phones)
	answers := make([]wire.HoldAnswer, phones)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range phones {
		wg.Add(1)
		go func() {
			defer wg.Done()
			url := urlA
			if i%2 == 1 {
				url = urlB
			}
			<-start
			codes[i], answers[i] = hold(t, url, tn.keys.BoxPub[:], last, fmt.Sprintf("hold-%02d-abcdefghijkl", i))
		}()
	}
	close(start)
	wg.Wait()
	winner := ""
	for i, c := range codes {
		switch c {
		case http.StatusAccepted:
			if winner != "" {
				t.Fatalf("two phones got the last place: %v", codes)
			}
			winner = fmt.Sprintf("hold-%02d-abcdefghijkl", i)
		case http.StatusConflict:
			if !answers[i].Taken || len(answers[i].Slots) != 1 || answers[i].Slots[0].Key() != other.Key() {
				t.Errorf("taken answer %+v", answers[i])
			}
		default:
			t.Fatalf("hold answered %d", c)
		}
	}
	if winner == "" {
		t.Fatalf("nobody got the place: %v", codes)
	}
	// The same request again (a double tap) keeps its one place.
	if st, _ := hold(t, urlB, tn.keys.BoxPub[:], last, winner); st != http.StatusAccepted {
		t.Fatalf("repeated hold: %d", st)
	}
	// A publish computed before the desktop saw the hold: still taken.
	if err := publish(2, 1, 2); err != nil {
		t.Fatal(err)
	}
	if _, a := slotsAt(t, urlB[:strings.Index(urlB, "/b/")], tn.id); remaining(a, last.Key()) != 0 {
		t.Fatalf("an uncounting publish gave the held place back: %+v", a)
	}
	// An older publish is refused.
	if err := publish(1, 5, 5); err == nil {
		t.Fatal("an older availability was accepted")
	}
	// A hold on the other slot that the desktop refuses (forged token):
	// counted with the places unchanged, it is free again.
	refused := "hold-refused-abcdefgh"
	if st, _ := hold(t, urlA, tn.keys.BoxPub[:], other, refused); st != http.StatusAccepted {
		t.Fatalf("hold other: %d", st)
	}
	if _, a := slotsAt(t, ra.http.URL, tn.id); remaining(a, other.Key()) != 1 {
		t.Fatalf("held other: %+v", a)
	}
	if err := publish(3, 0, 2, winner, refused); err != nil {
		t.Fatal(err)
	}
	if _, a := slotsAt(t, rb.http.URL, tn.id); remaining(a, last.Key()) != 0 || remaining(a, other.Key()) != 2 {
		t.Fatalf("after counting: %+v", a)
	}

	// The desktop gets the queued requests (the winner twice: stored once
	// there by submit ID; the refused one), sealed; a cancellation request
	// is queued without a place.
	var key [32]byte
	copy(key[:], tn.keys.BoxPub[:])
	cancelSealed, _ := wire.SealBooking(&key, wire.BookingRequest{Kind: wire.BookCancel, SubmitID: "submit-cancel-0123456", IDToken: "eyJ.x.y", Manage: newToken(t)})
	body, _ := json.Marshal(wire.HoldRequest{Sealed: cancelSealed})
	if st := postBytes(t, urlB+"/request", body); st != http.StatusAccepted {
		t.Fatalf("cancel request: %d", st)
	}
	filepath.WalkDir(ns.JetStreamConfig().StoreDir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		data, _ := os.ReadFile(p)
		if bytes.Contains(data, []byte(secretNote)) || bytes.Contains(data, []byte("eyJ.x.y")) {
			t.Errorf("%s holds the note or the ID token in clear", p)
		}
		return nil
	})
	var s bookingSink
	if n, err := client.DrainBatch(ctx, s.handle); err != nil || n != 4 {
		t.Fatalf("drained %d: %v", n, err)
	}
	kinds := map[string]int{}
	for _, r := range s.reqs {
		kinds[r.Kind]++
		if r.Kind == wire.BookNew && (r.Note != secretNote || (r.Start != last.Start && r.Start != other.Start) || r.IDToken != "eyJ.x.y") {
			t.Errorf("opened %+v", r)
		}
	}
	if kinds[wire.BookNew] != 3 || kinds[wire.BookCancel] != 1 {
		t.Errorf("requests by kind %v", kinds)
	}

	// Removing the tenant removes its availability and holds.
	if err := ra.srv.Admin().RemoveTenant(ctx, tn.id); err != nil {
		t.Fatal(err)
	}
	if st, _ := slotsAt(t, ra.http.URL, tn.id); st != http.StatusNotFound {
		t.Fatalf("removed tenant's slots: %d", st)
	}
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	for _, bucket := range []string{"tsunagu_relay_booking", "tsunagu_relay_holds"} {
		kv, err := js.KeyValue(ctx, bucket)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := kv.Get(ctx, tn.id); !errors.Is(err, jetstream.ErrKeyNotFound) {
			t.Errorf("%s still holds the removed tenant: %v", bucket, err)
		}
	}
}

// A slot stops being offered when it moves inside its type's lead time
// (the Until the desktop publishes), by the relay's clock, without a new
// publish: gone from slots.json, and a hold is answered "taken" with the
// times still open.
func TestBookingSlotClosesAtItsUntil(t *testing.T) {
	var mu sync.Mutex
	shift := time.Duration(0)
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return time.Now().Add(shift)
	}
	r := newRelay(t, relay.Config{Clock: clock})
	tn := r.addTenant(t, "本店")
	client, err := relayclient.New(relayclient.Config{Enrollment: tn.enroll, Keys: tn.keys})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(48 * time.Hour).Truncate(time.Hour)
	soon := wire.BookingSlot{TypeID: 1, Start: start.UnixMilli(), Remaining: 1, Until: start.Add(-2 * time.Hour).UnixMilli()}
	later := wire.BookingSlot{TypeID: 1, Start: start.Add(24 * time.Hour).UnixMilli(), Remaining: 1, Until: start.Add(22 * time.Hour).UnixMilli()}
	if err := client.PublishAvailability(context.Background(), wire.BookingAvail{Version: 1, Branch: "つなぐ銀行 本店",
		Types: []wire.BookingType{{ID: 1, Name: "資産運用相談", DurationMin: 60}}, Slots: []wire.BookingSlot{soon, later}}); err != nil {
		t.Fatal(err)
	}
	if _, a := slotsAt(t, r.http.URL, tn.id); remaining(a, soon.Key()) != 1 || remaining(a, later.Key()) != 1 {
		t.Fatalf("before the lead time: %+v", a)
	}
	mu.Lock()
	shift = time.Until(start.Add(-90 * time.Minute)) // inside soon's lead time, before its start
	mu.Unlock()
	if _, a := slotsAt(t, r.http.URL, tn.id); remaining(a, soon.Key()) != -1 || remaining(a, later.Key()) != 1 {
		t.Fatalf("inside the lead time, still offered: %+v", a)
	}
	st, ans := hold(t, r.http.URL+"/b/"+tn.id, tn.keys.BoxPub[:], soon, "hold-late-abcdefghijkl")
	if st != http.StatusConflict || !ans.Taken || len(ans.Slots) != 1 || ans.Slots[0].Key() != later.Key() {
		t.Fatalf("hold inside the lead time: %d %+v", st, ans)
	}
	// An Until after the start is refused at upload.
	bad := soon
	bad.Until = bad.Start + 1
	if err := client.PublishAvailability(context.Background(), wire.BookingAvail{Version: 2, Branch: "つなぐ銀行 本店",
		Types: []wire.BookingType{{ID: 1, Name: "資産運用相談", DurationMin: 60}}, Slots: []wire.BookingSlot{bad}}); err == nil {
		t.Fatal("an Until after the start was accepted")
	}
}

// A box the desktop cannot open still carries its hold and slot beside
// it, outside the seal, so the desktop can release the place.
func TestBookingHoldQueuedBesideTheBox(t *testing.T) {
	r := newRelay(t, relay.Config{})
	tn := r.addTenant(t, "本店")
	client, err := relayclient.New(relayclient.Config{Enrollment: tn.enroll, Keys: tn.keys})
	if err != nil {
		t.Fatal(err)
	}
	slot := wire.BookingSlot{TypeID: 1, Start: time.Now().Add(48 * time.Hour).Truncate(time.Hour).UnixMilli(), Remaining: 1}
	if err := client.PublishAvailability(context.Background(), wire.BookingAvail{Version: 1, Branch: "つなぐ銀行 本店",
		Types: []wire.BookingType{{ID: 1, Name: "資産運用相談", DurationMin: 60}}, Slots: []wire.BookingSlot{slot}}); err != nil {
		t.Fatal(err)
	}
	junk := bytes.Repeat([]byte{0x5a}, 120)
	body, _ := json.Marshal(wire.HoldRequest{Slot: slot.Key(), HoldID: "hold-junk-abcdefghijkl", Sealed: junk})
	if st := postBytes(t, r.http.URL+"/b/"+tn.id+"/hold", body); st != http.StatusAccepted {
		t.Fatalf("junk hold: %d", st)
	}
	var got []wire.HeldPlace
	if _, err := client.DrainBatch(context.Background(), func(_ context.Context, evs []relayclient.Event) []error {
		for _, ev := range evs {
			if ev.Released != nil {
				got = append(got, *ev.Released)
			}
		}
		return make([]error, len(evs))
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Hold != "hold-junk-abcdefghijkl" || got[0].Slot != slot.Key() {
		t.Fatalf("released %+v", got)
	}
}
