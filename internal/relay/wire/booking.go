package wire

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"unicode/utf8"

	"golang.org/x/crypto/nacl/box"
)

// Consultation booking (issue 21). The desktop publishes the bookable
// slots as bare capacity (BookingAvail: start, type, places left; no
// names), signed like a form definition; the relay serves them to the
// booking page at GET /b/TENANT. The phone asks the relay to hold one
// place (POST /b/TENANT/hold: the slot and a hold ID in the clear, the
// request sealed to the desktop with the customer's LINE ID token); the
// relay takes the place atomically (JetStream KV compare-and-set, so
// several relay instances on one cluster never give the last place
// twice) and queues the sealed request like a form answer. Cancellations
// and changes are sealed requests too (POST /b/TENANT/request). The
// relay's reconciliation is in internal/relay/booking.go and
// docs/booking.md.

// PurposeBooking is the statement purpose of an availability upload.
const PurposeBooking = "booking"

// bookingVersion is the first byte of an opened booking request.
const bookingVersion = 5

// Limits of booking on the wire.
const (
	MaxBookingUpload = 1 << 20 // bytes of a signed availability upload
	MaxBookingSlots  = 5000
	MaxBookingTypes  = 50
	MaxBookingNote   = 400 // characters
	MaxBookingHolds  = 20000
)

// BookingType is a consultation type as the page lists it.
type BookingType struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	DurationMin int    `json:"durationMin"`
}

// BookingSlot is one bookable time: no one's name, only places left.
type BookingSlot struct {
	TypeID    int64 `json:"typeId"`
	Start     int64 `json:"start"` // unix ms
	Remaining int   `json:"remaining"`
	// Until is the last moment it may be booked from LINE (unix ms: its
	// start less the type's lead time; 0: its start). The relay stops
	// offering it then by its own clock, between the desktop's publishes:
	// the time, not the rule.
	Until int64 `json:"until,omitempty"`
}

// Key is the slot's name in holds and on the page: "TYPE-START".
func (s BookingSlot) Key() string { return fmt.Sprintf("%d-%d", s.TypeID, s.Start) }

// BookingAvail is what the desktop publishes: the slots, the places left
// as the desktop counts them, and the holds it has handled (Counted:
// booked or refused); the relay subtracts only the holds not in Counted,
// so a publish made before a hold reached the desktop cannot give the
// held place back. BoxKey must be the tenant's own (requests are sealed to
// it).
type BookingAvail struct {
	Version int64         `json:"version"` // unix ms; an older one than the stored is refused
	Branch  string        `json:"branch"`
	LIFFID  string        `json:"liffId"`
	BoxKey  []byte        `json:"boxKey"`
	Types   []BookingType `json:"types"`
	Slots   []BookingSlot `json:"slots"`
	Counted []string      `json:"counted"`
}

// BookingUpload is the body of POST /v1/booking.
type BookingUpload struct {
	Avail *BookingAvail `json:"avail,omitempty"`
	// Remove takes the booking page down.
	Remove bool `json:"remove,omitempty"`
}

// ErrBookingAvail: availability the relay will not serve.
var ErrBookingAvail = errors.New("relay: malformed booking availability")

var holdIDRe = regexp.MustCompile(`^[A-Za-z0-9_-]{16,64}$`)

// ValidHoldID says whether id is a hold ID the page could have made.
func ValidHoldID(id string) bool { return holdIDRe.MatchString(id) }

var slotKeyRe = regexp.MustCompile(`^[0-9]{1,19}-[0-9]{1,19}$`)

// ValidSlotKey says whether k has BookingSlot.Key's shape.
func ValidSlotKey(k string) bool { return slotKeyRe.MatchString(k) }

// Check bounds what the relay stores.
func (a *BookingAvail) Check() error {
	if a.Version <= 0 || len(a.BoxKey) != KeySize || !short(a.Branch) || len(a.LIFFID) > 64 ||
		len(a.Types) > MaxBookingTypes || len(a.Slots) > MaxBookingSlots || len(a.Counted) > MaxBookingHolds {
		return ErrBookingAvail
	}
	types := map[int64]bool{}
	for _, t := range a.Types {
		if t.ID <= 0 || t.Name == "" || !short(t.Name) || t.DurationMin <= 0 || t.DurationMin > 24*60 {
			return ErrBookingAvail
		}
		types[t.ID] = true
	}
	for _, s := range a.Slots {
		if !types[s.TypeID] || s.Start <= 0 || s.Remaining < 0 || s.Remaining > 1000 || s.Until < 0 || s.Until > s.Start {
			return ErrBookingAvail
		}
	}
	for _, h := range a.Counted {
		if !ValidHoldID(h) {
			return ErrBookingAvail
		}
	}
	return nil
}

// HoldRequest is the body of POST /b/TENANT/hold: the slot in the clear
// (the relay counts places by it) and the request sealed in the phone.
type HoldRequest struct {
	Slot   string `json:"slot"` // BookingSlot.Key
	HoldID string `json:"holdId"`
	Sealed []byte `json:"sealed"`
}

// HeldPlace is a place the relay held, as queued beside the request's box
// (wire.Event.Hold, Slot).
type HeldPlace struct {
	Hold string
	Slot string
}

// Hold answers: 202 held (the request is queued), 409 with this body when
// the slot has no place left.
type HoldAnswer struct {
	Taken bool          `json:"taken"`
	Slots []BookingSlot `json:"slots,omitempty"` // the free times left, when taken
}

// Booking request kinds.
const (
	BookNew        = "book"
	BookCancel     = "cancel"
	BookReschedule = "reschedule"
)

// BookingRequest is what the phone seals: who (the LINE ID token), what
// (book a slot; cancel or move the booking Manage names) and a random
// submission ID (a double submit is stored once). The note is the
// customer's own text; it only ever travels sealed.
type BookingRequest struct {
	Kind     string `json:"kind"`
	SubmitID string `json:"submitId"`
	IDToken  string `json:"idToken"`
	HoldID   string `json:"holdId,omitempty"` // the place held for book and reschedule
	TypeID   int64  `json:"typeId,omitempty"`
	Start    int64  `json:"start,omitempty"`
	Note     string `json:"note,omitempty"`
	Manage   string `json:"manage,omitempty"` // the booking's manage token (cancel, reschedule)
	SentAt   int64  `json:"sentAt"`
}

func openBooking(msg []byte) (*BookingRequest, error) {
	var b BookingRequest
	if err := json.Unmarshal(msg[1:], &b); err != nil || len(b.SubmitID) < 16 || len(b.SubmitID) > 64 || b.IDToken == "" ||
		utf8.RuneCountInString(b.Note) > MaxBookingNote {
		return nil, ErrEnvelope
	}
	switch b.Kind {
	case BookNew:
		if !ValidHoldID(b.HoldID) || b.TypeID <= 0 || b.Start <= 0 {
			return nil, ErrEnvelope
		}
	case BookReschedule:
		if !ValidHoldID(b.HoldID) || b.TypeID <= 0 || b.Start <= 0 || !ValidToken(b.Manage) {
			return nil, ErrEnvelope
		}
	case BookCancel:
		if !ValidToken(b.Manage) {
			return nil, ErrEnvelope
		}
	default:
		return nil, ErrEnvelope
	}
	return &b, nil
}

// SealBooking seals a request as the page does (tests and tools; the page
// seals with its own code, checked against OpenAny).
func SealBooking(recipient *[KeySize]byte, b BookingRequest) ([]byte, error) {
	body, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	msg := append([]byte{bookingVersion}, body...)
	out, err := box.SealAnonymous(nil, msg, recipient, rand.Reader)
	clear(msg)
	if err != nil {
		return nil, fmt.Errorf("relay: seal booking: %w", err)
	}
	return out, nil
}

// BookingStatement is the extra data an availability upload's signature
// covers.
func BookingStatement(body []byte) []byte { return LinksStatement(body) }
