package relay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"tsunagu/internal/relay/formpage"
	"tsunagu/internal/relay/ical"
	"tsunagu/internal/relay/wire"
)

// Consultation booking (issue 21, docs/booking.md). The desktop publishes
// the bookable slots (wire.BookingAvail: start, type, places left, no
// names) and the relay serves them to the booking page:
//
//	POST /v1/booking              availability, signed (purpose "booking")
//	GET  /b/TENANT                the booking page
//	GET  /b/TENANT/slots.json     the slots with the places left now
//	POST /b/TENANT/hold           hold one place and queue the sealed request
//	POST /b/TENANT/request        queue a sealed cancellation
//	GET  /b/TENANT/cal.ics?t=&s=  one calendar event (type, time, branch)
//
// Holding a place. The tenant's holds are one KV entry (bookingHolds,
// key TENANT): slot key -> the holds taken there. A hold reads the
// published availability, drops the holds the desktop has counted (and
// those of past slots), and writes the holds back with the revision it
// read (compare-and-set): two relay instances on one NATS cluster taking
// the last place race on that revision, one wins, the other reads again,
// finds no place and answers "taken" at once.
//
// Reconciliation. The places left of a slot are the published Remaining
// less the holds not in the publish's Counted list. The desktop counts a
// hold (puts its ID in Counted) only in a publish computed after it
// handled the hold (booked it, so Remaining already reflects it, or
// refused it, so its place is free again). A publish computed before a
// hold reached the desktop leaves the hold uncounted, still subtracted:
// no publish can give back a place a hold took. Publishes are ordered by
// Version (an older one is refused), so a late upload cannot undo one.

// bookingRecord is the availability as stored: the desktop's upload,
// re-encoded.
type bookingRecord = wire.BookingAvail

// holdsRecord is a tenant's holds: slot key -> hold IDs.
type holdsRecord struct {
	Slots map[string][]string `json:"s"`
}

func (s *Server) handleBookingUpload(w http.ResponseWriter, r *http.Request) {
	t, body, ok := s.signedBody(w, r, wire.PurposeBooking, wire.MaxBookingUpload, wire.BookingStatement)
	if !ok {
		return
	}
	var up wire.BookingUpload
	if err := json.Unmarshal(body, &up); err != nil {
		http.Error(w, "malformed availability", http.StatusBadRequest)
		return
	}
	switch {
	case up.Remove:
		if err := s.o.booking.Purge(r.Context(), t.ID); err != nil {
			http.Error(w, "not removed", http.StatusServiceUnavailable)
			return
		}
		s.o.holds.Purge(r.Context(), t.ID)
	case up.Avail != nil:
		// Requests are sealed to the key in the availability: it must be
		// the tenant's own.
		if err := up.Avail.Check(); err != nil || string(up.Avail.BoxKey) != string(t.BoxKey) {
			http.Error(w, "malformed availability", http.StatusBadRequest)
			return
		}
		val, _ := json.Marshal(up.Avail)
		if err := s.putAvail(r.Context(), t.ID, up.Avail.Version, val); err != nil {
			if errors.Is(err, errStaleAvail) {
				http.Error(w, "older than the stored availability", http.StatusConflict)
				return
			}
			s.log.Warn("availability not stored", "tenant", t.ID, "err", err)
			http.Error(w, "not stored", http.StatusServiceUnavailable)
			return
		}
	default:
		http.Error(w, "malformed availability", http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

var errStaleAvail = errors.New("relay: availability older than the stored one")

// putAvail stores val unless a newer version is stored (compare-and-set
// on the entry, so two instances taking uploads cannot reorder them).
func (s *Server) putAvail(ctx context.Context, tenant string, version int64, val []byte) error {
	for {
		e, err := s.o.booking.Get(ctx, tenant)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
			if _, err := s.o.booking.Create(ctx, tenant, val); errors.Is(err, jetstream.ErrKeyExists) {
				continue
			} else {
				return err
			}
		case err != nil:
			return err
		}
		var old bookingRecord
		if json.Unmarshal(e.Value(), &old) == nil && old.Version >= version {
			return errStaleAvail
		}
		if _, err := s.o.booking.Update(ctx, tenant, val, e.Revision()); err == nil || !isWrongRevision(err) {
			return err
		}
	}
}

func isWrongRevision(err error) bool {
	var apiErr *jetstream.APIError
	return errors.Is(err, jetstream.ErrKeyExists) || (errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence)
}

// avail is a usable tenant's published availability, or nil.
func (s *Server) avail(ctx context.Context, tenant string) (*Tenant, *bookingRecord) {
	t := s.tenant(ctx, tenant, nil)
	if !usable(t) {
		return nil, nil
	}
	e, err := s.o.booking.Get(ctx, tenant)
	if err != nil {
		return nil, nil
	}
	var a bookingRecord
	if json.Unmarshal(e.Value(), &a) != nil {
		return nil, nil
	}
	return t, &a
}

// holds reads the tenant's holds and their revision (0: none yet).
func (s *Server) holds(ctx context.Context, tenant string) (holdsRecord, uint64, error) {
	h := holdsRecord{Slots: map[string][]string{}}
	e, err := s.o.holds.Get(ctx, tenant)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return h, 0, nil
	}
	if err != nil {
		return h, 0, err
	}
	if err := json.Unmarshal(e.Value(), &h); err != nil || h.Slots == nil {
		h.Slots = map[string][]string{}
	}
	return h, e.Revision(), nil
}

// openPlaces is what is left of each slot now: the published places less the
// holds the desktop has not counted; past slots are dropped from h.
func openPlaces(a *bookingRecord, h *holdsRecord, now time.Time) []wire.BookingSlot {
	counted := map[string]bool{}
	for _, id := range a.Counted {
		counted[id] = true
	}
	published := map[string]bool{}
	out := make([]wire.BookingSlot, 0, len(a.Slots))
	for _, sl := range a.Slots {
		if sl.Start <= now.UnixMilli() {
			continue
		}
		k := sl.Key()
		if sl.Until != 0 && sl.Until <= now.UnixMilli() {
			// Inside the type's lead time now: no longer offered, its
			// holds kept (below) until the desktop counts them.
			continue
		}
		published[k] = true
		live := slices.DeleteFunc(h.Slots[k], func(id string) bool { return counted[id] })
		h.Slots[k] = live
		sl.Remaining = max(sl.Remaining-len(live), 0)
		out = append(out, sl)
	}
	for k, ids := range h.Slots {
		// A slot no longer published has passed (or was taken off by the
		// desktop, which has then counted its holds); drop what is
		// counted, keep the rest until the desktop counts it.
		if !published[k] {
			h.Slots[k] = slices.DeleteFunc(ids, func(id string) bool { return counted[id] })
		}
		if len(h.Slots[k]) == 0 {
			delete(h.Slots, k)
		}
	}
	return out
}

// bookingPage is what slots.json answers: the availability as the page
// needs it, the places left now.
type bookingPage struct {
	Branch string             `json:"branch"`
	LIFFID string             `json:"liffId"`
	BoxKey []byte             `json:"boxKey"`
	Types  []wire.BookingType `json:"types"`
	Slots  []wire.BookingSlot `json:"slots"`
}

func (s *Server) handleBookingSlots(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	page, ok := s.bookingNow(r.Context(), r.PathValue("tenant"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(page)
}

func (s *Server) bookingNow(ctx context.Context, tenant string) (bookingPage, bool) {
	_, a := s.avail(ctx, tenant)
	if a == nil {
		return bookingPage{}, false
	}
	h, _, err := s.holds(ctx, tenant)
	if err != nil {
		return bookingPage{}, false
	}
	return bookingPage{Branch: a.Branch, LIFFID: a.LIFFID, BoxKey: a.BoxKey, Types: a.Types, Slots: openPlaces(a, &h, s.cfg.Clock())}, true
}

// handleBookingHold takes one place of a slot and queues the sealed
// request (202), or answers 409 with the free times at once when none is
// left. The place is taken before the request is queued; if queueing
// fails the place is given back.
func (s *Server) handleBookingHold(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	tenant := r.PathValue("tenant")
	t, a := s.avail(r.Context(), tenant)
	if a == nil {
		s.metrics.bookings.WithLabelValues("", "unknown").Inc()
		http.NotFound(w, r)
		return
	}
	var req wire.HoldRequest
	if !s.readSealedJSON(w, r, t, &req) {
		return
	}
	if !wire.ValidHoldID(req.HoldID) || len(req.Sealed) <= 48 {
		s.metrics.bookings.WithLabelValues(t.ID, "malformed").Inc()
		http.Error(w, "malformed", http.StatusBadRequest)
		return
	}
	held, free, err := s.takePlace(r.Context(), t.ID, a, req.Slot, req.HoldID)
	if err != nil {
		s.log.Warn("booking hold failed", "tenant", t.ID, "err", err)
		s.metrics.bookings.WithLabelValues(t.ID, "store").Inc()
		w.Header().Set("Retry-After", "2")
		http.Error(w, "not stored", http.StatusServiceUnavailable)
		return
	}
	if !held {
		s.metrics.bookings.WithLabelValues(t.ID, "taken").Inc()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusConflict)
		json.NewEncoder(w).Encode(wire.HoldAnswer{Taken: true, Slots: free})
		return
	}
	// The hold and slot go beside the box, outside the seal: a box the
	// desktop cannot open still gets its place released (docs/booking.md).
	hdr := nats.Header{}
	hdr.Set(hdrHold, req.HoldID)
	hdr.Set(hdrSlot, req.Slot)
	if !s.queueSealed(w, r, t, req.Sealed, hdr, "booking request", s.countBooking(t.ID)) {
		// Not queued: the desktop will never count this hold, so give the
		// place back now.
		if err := s.releasePlace(context.WithoutCancel(r.Context()), t.ID, req.Slot, req.HoldID); err != nil {
			s.log.Warn("booking hold not released", "tenant", t.ID, "err", err)
		}
		return
	}
	s.metrics.bookings.WithLabelValues(t.ID, "held").Inc()
	w.WriteHeader(http.StatusAccepted)
}

// handleBookingRequest queues a sealed request that takes no place (a
// cancellation).
func (s *Server) handleBookingRequest(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	t, a := s.avail(r.Context(), r.PathValue("tenant"))
	if a == nil {
		http.NotFound(w, r)
		return
	}
	var req wire.HoldRequest
	if !s.readSealedJSON(w, r, t, &req) {
		return
	}
	if len(req.Sealed) <= 48 {
		http.Error(w, "malformed", http.StatusBadRequest)
		return
	}
	if s.queueSealed(w, r, t, req.Sealed, nil, "booking request", s.countBooking(t.ID)) {
		s.metrics.bookings.WithLabelValues(t.ID, "request").Inc()
		w.WriteHeader(http.StatusAccepted)
	}
}

// readSealedJSON reads a phone's request body (bounded like a form
// submission, under the per-address and tenant rates).
func (s *Server) readSealedJSON(w http.ResponseWriter, r *http.Request, t *Tenant, v any) bool {
	if r.ContentLength > 2*wire.MaxSubmission {
		http.Error(w, "too large", http.StatusRequestEntityTooLarge)
		return false
	}
	http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.cfg.BodyTimeout))
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 2*wire.MaxSubmission))
	if err != nil {
		http.Error(w, "too large or could not read body", http.StatusRequestEntityTooLarge)
		return false
	}
	if !s.clickClients.allow(s.clickClient(r), s.cfg.Clock()) || !s.limiter(t.ID).Allow() {
		s.metrics.bookings.WithLabelValues(t.ID, "rate").Inc()
		w.Header().Set("Retry-After", "2")
		http.Error(w, "too many requests", http.StatusTooManyRequests)
		return false
	}
	if err := json.Unmarshal(body, v); err != nil {
		http.Error(w, "malformed", http.StatusBadRequest)
		return false
	}
	return true
}

func (s *Server) countBooking(tenant string) func(string) {
	return func(reason string) { s.metrics.bookings.WithLabelValues(tenant, reason).Inc() }
}

// takePlace adds hold to slot if a place is left (compare-and-set on the
// tenant's holds, retried on a concurrent change). held false: none left;
// free then lists the slots of the same type that have places.
func (s *Server) takePlace(ctx context.Context, tenant string, a *bookingRecord, slot, hold string) (held bool, free []wire.BookingSlot, err error) {
	for {
		h, rev, err := s.holds(ctx, tenant)
		if err != nil {
			return false, nil, err
		}
		if slices.Contains(h.Slots[slot], hold) {
			return true, nil, nil // the same request again: its place is already held
		}
		slots := openPlaces(a, &h, s.cfg.Clock())
		i := slices.IndexFunc(slots, func(sl wire.BookingSlot) bool { return sl.Key() == slot })
		if i < 0 || slots[i].Remaining <= 0 {
			for _, sl := range slots {
				if sl.Remaining > 0 && (i < 0 || sl.TypeID == slots[i].TypeID) {
					free = append(free, sl)
				}
			}
			return false, free, nil
		}
		h.Slots[slot] = append(h.Slots[slot], hold)
		if ok, err := s.writeHolds(ctx, tenant, h, rev); ok || err != nil {
			return ok, nil, err
		}
	}
}

// releasePlace removes a hold whose request could not be queued.
func (s *Server) releasePlace(ctx context.Context, tenant, slot, hold string) error {
	for {
		h, rev, err := s.holds(ctx, tenant)
		if err != nil {
			return err
		}
		h.Slots[slot] = slices.DeleteFunc(h.Slots[slot], func(id string) bool { return id == hold })
		if ok, err := s.writeHolds(ctx, tenant, h, rev); ok || err != nil {
			return err
		}
	}
}

// writeHolds stores h if the entry is still at rev (0: absent); ok false
// means another instance changed it first.
func (s *Server) writeHolds(ctx context.Context, tenant string, h holdsRecord, rev uint64) (bool, error) {
	val, _ := json.Marshal(h)
	var err error
	if rev == 0 {
		_, err = s.o.holds.Create(ctx, tenant, val)
	} else {
		_, err = s.o.holds.Update(ctx, tenant, val, rev)
	}
	if err != nil && isWrongRevision(err) {
		return false, nil
	}
	return err == nil, err
}

// deleteTenantBooking removes a removed tenant's availability and holds.
func (o *jsObjects) deleteTenantBooking(ctx context.Context, tenant string) error {
	for _, kv := range []jetstream.KeyValue{o.booking, o.holds} {
		if err := kv.Purge(ctx, tenant); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
			return err
		}
	}
	return nil
}

// handleBookingCalendar answers the LINE confirmation's 「カレンダーに追加」
// link with one calendar event: the consultation type, the time and the
// branch from the published availability. The link carries only the type
// and the start, so the event holds nothing about the customer.
func (s *Server) handleBookingCalendar(w http.ResponseWriter, r *http.Request) {
	_, a := s.avail(r.Context(), r.PathValue("tenant"))
	typeID, err1 := strconv.ParseInt(r.URL.Query().Get("t"), 10, 64)
	start, err2 := strconv.ParseInt(r.URL.Query().Get("s"), 10, 64)
	if a == nil || err1 != nil || err2 != nil || start <= 0 {
		http.NotFound(w, r)
		return
	}
	i := slices.IndexFunc(a.Types, func(t wire.BookingType) bool { return t.ID == typeID })
	if i < 0 {
		http.NotFound(w, r)
		return
	}
	t := a.Types[i]
	from := time.UnixMilli(start)
	ev := ical.Event{UID: fmt.Sprintf("booking-%d-%d@tsunagu", typeID, start), Start: from, End: from.Add(time.Duration(t.DurationMin) * time.Minute),
		Summary: t.Name, Location: a.Branch}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="booking.ics"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(ical.Write([]ical.Event{ev}, s.cfg.Clock()))
}

// handleBookingPage serves the booking page (its script reads slots.json);
// 404 with the neutral page for a tenant that publishes no availability.
func (s *Server) handleBookingPage(w http.ResponseWriter, r *http.Request) {
	_, a := s.avail(r.Context(), r.PathValue("tenant"))
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if a == nil {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, neutralPage)
		return
	}
	s.bookOnce.Do(func() {
		s.bookPage = inlinePage(s.cfg.LIFFSDK, "相談のご予約", formpage.BookingScript(), formpage.BookingStyle())
	})
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Security-Policy", s.bookPage.csp)
	w.Header().Set("Vary", "Accept-Encoding")
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(s.bookPage.gz)
		return
	}
	w.Write(s.bookPage.html)
}
