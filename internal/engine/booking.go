package engine

import (
	"sync"

	"tsunagu/internal/booking"
)

// Consultation booking (package booking, issue 21). The service keeps the
// consultation types, hours and bookings; availability is published to the
// relay and bookings come back through the relay batch like form answers.

// bookingParts is the engine's booking state.
type bookingParts struct {
	once sync.Once
	svc  *booking.Service
}

// Bookings is the consultation booking service (nil if it could not be
// built).
func (e *Engine) Bookings() *booking.Service {
	e.book.once.Do(func() {
		svc, err := booking.New(booking.Config{DB: e.db, Clock: e.now})
		if err != nil {
			e.log.Warn("consultation booking is off", "err", err)
			return
		}
		e.book.svc = svc
	})
	return e.book.svc
}
