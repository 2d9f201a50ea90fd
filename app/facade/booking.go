package facade

import (
	"context"
	"fmt"
	"io"
	"time"

	"tsunagu/internal/auth"
	"tsunagu/internal/booking"
	"tsunagu/internal/engine"
)

// Consultation booking (issue 21). Types, hours, closed days and the
// branch's booking settings are settings (PermSettings); the calendar and
// bookings are customers' data (PermCustomersRead to see them,
// PermCustomersEdit to book on a customer's behalf, cancel, move or record
// a no-show); the ICS file is an export (PermExport). The staff screens
// come in the next slice; these are their calls.

func bookingCall[T any](a *Client, p auth.Permission, do func(ctx context.Context, st auth.Staff, svc *booking.Service) (T, error)) (T, error) {
	return featureCall(a, p, (*engine.Engine).Bookings, "consultation booking", do)
}

// BookingTypes lists the consultation types.
func (s *BookingService) BookingTypes() ([]booking.Type, error) {
	return bookingCall(s.a, auth.PermCustomersRead, func(ctx context.Context, _ auth.Staff, svc *booking.Service) ([]booking.Type, error) {
		return svc.Types(ctx)
	})
}

// SaveBookingType creates (id 0) or changes a consultation type; audited.
func (s *BookingService) SaveBookingType(id int64, d booking.TypeDraft) (booking.Type, error) {
	return bookingCall(s.a, auth.PermSettings, func(ctx context.Context, st auth.Staff, svc *booking.Service) (booking.Type, error) {
		if id == 0 {
			return svc.CreateType(ctx, st.Actor(), d)
		}
		return svc.UpdateType(ctx, st.Actor(), id, d)
	})
}

// BookingHours returns the consultation hours per weekday.
func (s *BookingService) BookingHours() ([]booking.Span, error) {
	return bookingCall(s.a, auth.PermCustomersRead, func(ctx context.Context, _ auth.Staff, svc *booking.Service) ([]booking.Span, error) {
		return svc.Hours(ctx)
	})
}

// SetBookingHours replaces the consultation hours; audited.
func (s *BookingService) SetBookingHours(hours []booking.Span) error {
	_, err := bookingCall(s.a, auth.PermSettings, func(ctx context.Context, st auth.Staff, svc *booking.Service) (struct{}, error) {
		return struct{}{}, svc.SetHours(ctx, st.Actor(), hours)
	})
	return err
}

// BookingClosedDays lists the branch's closed days from today on.
func (s *BookingService) BookingClosedDays() ([]booking.ClosedDay, error) {
	return bookingCall(s.a, auth.PermCustomersRead, func(ctx context.Context, _ auth.Staff, svc *booking.Service) ([]booking.ClosedDay, error) {
		return svc.ClosedDays(ctx)
	})
}

// SetBookingClosedDay closes or reopens a day; audited.
func (s *BookingService) SetBookingClosedDay(day booking.ClosedDay, closed bool) error {
	_, err := bookingCall(s.a, auth.PermSettings, func(ctx context.Context, st auth.Staff, svc *booking.Service) (struct{}, error) {
		return struct{}{}, svc.SetClosedDay(ctx, st.Actor(), day, closed)
	})
	return err
}

// BookingSettings returns the branch name and phone bookings show.
func (s *BookingService) BookingSettings() (booking.Settings, error) {
	return bookingCall(s.a, auth.PermCustomersRead, func(ctx context.Context, _ auth.Staff, svc *booking.Service) (booking.Settings, error) {
		return svc.Settings(ctx)
	})
}

// SetBookingSettings stores them; audited.
func (s *BookingService) SetBookingSettings(st booking.Settings) (booking.Settings, error) {
	return bookingCall(s.a, auth.PermSettings, func(ctx context.Context, staff auth.Staff, svc *booking.Service) (booking.Settings, error) {
		return svc.SetSettings(ctx, staff.Actor(), st)
	})
}

// BookingReminder returns the day-before reminder's settings.
func (s *BookingService) BookingReminder() (booking.Reminder, error) {
	return bookingCall(s.a, auth.PermCustomersRead, func(ctx context.Context, _ auth.Staff, svc *booking.Service) (booking.Reminder, error) {
		return svc.Reminder(ctx)
	})
}

// SetBookingReminder stores them; audited.
func (s *BookingService) SetBookingReminder(r booking.Reminder) (booking.Reminder, error) {
	return bookingCall(s.a, auth.PermSettings, func(ctx context.Context, staff auth.Staff, svc *booking.Service) (booking.Reminder, error) {
		return svc.SetReminder(ctx, staff.Actor(), r)
	})
}

// BookingAvailability lists the slots customers can book now (typeID 0:
// every type), with the places left.
func (s *BookingService) BookingAvailability(typeID int64) ([]booking.Slot, error) {
	return bookingCall(s.a, auth.PermCustomersRead, func(ctx context.Context, _ auth.Staff, svc *booking.Service) ([]booking.Slot, error) {
		return svc.Availability(ctx, typeID)
	})
}

// Bookings lists the bookings starting in [from, to) (unix ms) of one
// staff member (staffID > 0) or the whole branch: the calendar.
func (s *BookingService) Bookings(from, to, staffID int64) ([]booking.Booking, error) {
	return bookingCall(s.a, auth.PermCustomersRead, func(ctx context.Context, _ auth.Staff, svc *booking.Service) ([]booking.Booking, error) {
		return svc.List(ctx, from, to, staffID)
	})
}

// BookingConfirmation is the LINE message BookOnBehalf will send for r
// (the engine's builder), or onLine false when the customer has no LINE.
func (s *BookingService) BookingConfirmation(r booking.Request) (booking.Preview, error) {
	return bookingCall(s.a, auth.PermCustomersRead, func(ctx context.Context, _ auth.Staff, svc *booking.Service) (booking.Preview, error) {
		r.Source, r.SubmitID = booking.SourceStaff, ""
		return svc.Confirmation(ctx, r)
	})
}

// BookOnBehalf books a consultation for a customer (from the inbox or the
// customer card); audited. The engine confirms it in LINE like a page
// booking (nothing for a customer without LINE: Booking.onLine).
func (s *BookingService) BookOnBehalf(r booking.Request) (booking.Booking, error) {
	return bookingCall(s.a, auth.PermCustomersEdit, func(ctx context.Context, st auth.Staff, svc *booking.Service) (booking.Booking, error) {
		r.Source, r.SubmitID = booking.SourceStaff, ""
		b, _, err := svc.Book(ctx, st.Actor(), r)
		return b, err
	})
}

// CancelBooking cancels a booking (staff: no cut-off); audited.
func (s *BookingService) CancelBooking(id int64) error {
	_, err := bookingCall(s.a, auth.PermCustomersEdit, func(ctx context.Context, st auth.Staff, svc *booking.Service) (struct{}, error) {
		return struct{}{}, svc.Cancel(ctx, st.Actor(), id, false)
	})
	return err
}

// RescheduleBooking moves a booking to another slot of its type; audited.
func (s *BookingService) RescheduleBooking(id, start int64) (booking.Booking, error) {
	return bookingCall(s.a, auth.PermCustomersEdit, func(ctx context.Context, st auth.Staff, svc *booking.Service) (booking.Booking, error) {
		return svc.Reschedule(ctx, st.Actor(), id, start, false)
	})
}

// RecordNoShow records that the customer did not come; audited.
func (s *BookingService) RecordNoShow(id int64) error {
	_, err := bookingCall(s.a, auth.PermCustomersEdit, func(ctx context.Context, st auth.Staff, svc *booking.Service) (struct{}, error) {
		return struct{}{}, svc.NoShow(ctx, st.Actor(), id)
	})
	return err
}

// ExportBookingsICS saves the confirmed bookings in [from, to) of one staff
// member (or all) as an ICS calendar where the person chooses; audited.
// The events name the consultation and the staff member, not the customer.
func (s *BookingService) ExportBookingsICS(from, to, staffID int64) (ExportResult, error) {
	return bookingCall(s.a, auth.PermExport, func(ctx context.Context, st auth.Staff, svc *booking.Service) (ExportResult, error) {
		return s.a.exportFile(ctx, "bookings-"+time.Now().Format("20060102")+".ics", func(w io.Writer) (int, error) {
			b, err := svc.ExportICS(ctx, st.Actor(), from, to, staffID)
			if err != nil {
				return 0, err
			}
			return w.Write(b)
		})
	})
}

// BookingHolidays lists the days in [from, to] ("2026-12-01") the branch is
// closed by law (public holidays with their names, 12/31–1/3), so the
// staff screens show them as closed.
func (s *BookingService) BookingHolidays(from, to string) ([]booking.ClosedDay, error) {
	return bookingCall(s.a, auth.PermCustomersRead, func(_ context.Context, _ auth.Staff, _ *booking.Service) ([]booking.ClosedDay, error) {
		days, err := booking.LegalClosures(from, to)
		if err != nil {
			return nil, fmt.Errorf("facade: holidays %q–%q: %w", from, to, err)
		}
		return days, nil
	})
}
