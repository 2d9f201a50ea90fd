package engine

import (
	"context"
	"errors"
	"sync"

	"tsunagu/internal/booking"
	"tsunagu/internal/forms"
	"tsunagu/internal/line"
	"tsunagu/internal/relayclient"
)

// Consultation booking (package booking, issue 21). The service keeps the
// consultation types, hours and bookings; it publishes the availability to
// the enrolled relay after every change, and the booking page's requests
// come back sealed in the relay's queue with the webhooks: relayBatch hands
// each to the service, which checks the LINE ID token with forms' check.

// bookingParts is the engine's booking state.
type bookingParts struct {
	once sync.Once
	svc  *booking.Service
}

// Bookings is the consultation booking service (nil if it could not be
// built).
func (e *Engine) Bookings() *booking.Service {
	e.book.once.Do(func() {
		cfg := booking.Config{DB: e.db, Clock: e.now, Relay: e.bookingRelay, Log: e.log, IDTokens: formsIDTokens{e}}
		if e.outbox != nil {
			cfg.Send = e.outbox
		}
		svc, err := booking.New(cfg)
		if err != nil {
			e.log.Warn("consultation booking is off", "err", err)
			return
		}
		e.book.svc = svc
	})
	return e.book.svc
}

// bookingRelay is the enrolled relay's client, if any (none in sandbox
// mode, as for forms).
func (e *Engine) bookingRelay(ctx context.Context) (booking.Publisher, bool) {
	pub, ok := e.formRelay(ctx)
	if !ok {
		return nil, false
	}
	c, ok := pub.(*relayclient.Client)
	return c, ok
}

// storeBookings handles the booking requests of a relay batch, one
// transaction each. A refused one (forged, expired, replayed ID token) is
// recorded and acked; one that cannot be handled yet (LINE unreachable,
// LINE Login not set up) stays unacked and comes again.
func (e *Engine) storeBookings(ctx context.Context, events []relayclient.Event, out []error) {
	var svc *booking.Service
	for i, ev := range events {
		if ev.Booking == nil && ev.Released == nil {
			continue
		}
		if svc == nil {
			if svc = e.Bookings(); svc == nil {
				out[i] = errors.New("consultation booking is off")
				continue
			}
		}
		if ev.Released != nil {
			e.log.Warn("booking request that does not open: its hold released")
			out[i] = svc.ReleaseHold(ctx, ev.Released.Hold, ev.Released.Slot, ev.ReceivedAt)
			continue
		}
		res, err := svc.Intake(ctx, ev.Booking, ev.ReceivedAt)
		if err != nil {
			e.log.Warn("booking request not handled yet", "err", err)
		} else if res == booking.Rejected {
			e.log.Warn("booking request refused")
		}
		out[i] = err
	}
}

// formsIDTokens is forms' ID-token check, looked up when used: the forms
// service is built on first use, after the LINE side is known.
type formsIDTokens struct{ e *Engine }

func (f formsIDTokens) CheckIDToken(ctx context.Context, tok string, receivedAt int64) (line.IDTokenInfo, string, error) {
	svc := f.e.Forms()
	if svc == nil {
		return line.IDTokenInfo{}, "", forms.ErrNoLogin
	}
	return svc.CheckIDToken(ctx, tok, receivedAt)
}

func (f formsIDTokens) LIFFID(ctx context.Context) string {
	if svc := f.e.Forms(); svc != nil {
		return svc.LIFFID(ctx)
	}
	return ""
}

// bookingReminders is the automation scheduler's booking trigger: the
// reminders the day before (booking.Service.RunDue), and the relay's
// availability refreshed when it is older than booking.RepublishAfter.
type bookingReminders struct{ e *Engine }

func (b bookingReminders) RunDue(ctx context.Context) (int, error) {
	svc := b.e.Bookings()
	if svc == nil {
		return 0, nil
	}
	if err := svc.PublishIfOlder(ctx, booking.RepublishAfter); err != nil {
		b.e.log.Warn("booking availability not refreshed", "err", err)
	}
	return svc.RunDue(ctx)
}
