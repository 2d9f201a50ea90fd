package booking

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"tsunagu/internal/audit"
	"tsunagu/internal/fielderr"
)

// Request is a booking to make: from LINE (the relay held the place) or by
// staff on a customer's behalf.
type Request struct {
	TypeID int64 `json:"typeId"`
	Start  int64 `json:"start"` // unix ms, a slot's start
	// The customer: a LINE user (the customer linked to it is found), a
	// customer, or both.
	LineUserID string `json:"-"`
	CustomerID int64  `json:"customerId"`
	Note       string `json:"note"`
	// StaffID: this member of staff (they must take the type and be free);
	// 0: the eligible free one with the fewest bookings that day.
	StaffID int64 `json:"staffId"`
	// SubmitID: the phone's ID of the request, so a double submit is
	// stored once ("" for staff bookings).
	SubmitID string `json:"-"`
	Source   string `json:"-"`
}

// Booking is one booking as the calendar shows it.
type Booking struct {
	ID           int64  `json:"id"`
	TypeID       int64  `json:"typeId"`
	TypeName     string `json:"typeName"`
	Start        int64  `json:"start"`
	End          int64  `json:"end"`
	StaffID      int64  `json:"staffId"`
	StaffName    string `json:"staffName"`
	CustomerID   int64  `json:"customerId"`   // 0: a LINE friend not linked to a customer
	CustomerName string `json:"customerName"` // "" when not linked
	FriendName   string `json:"friendName"`   // the LINE display name ("" booked by staff for a customer without LINE)
	Status       string `json:"status"`
	Note         string `json:"note"`
	Source       string `json:"source"`
	MovedTo      int64  `json:"movedTo"` // the new booking of a rescheduled one
	CreatedAt    int64  `json:"createdAt"`
	// OnLine: the customer is told in LINE of changes (the booking's LINE
	// user, or the linked LINE of the customer booked for by staff).
	OnLine bool `json:"onLine"`

	lineUser string
	tellUser string // who is told in LINE ("" nobody)
	cutoff   int    // the type's cancel cut-off, minutes
}

// Book makes a booking; audited. It is refused with ErrFull when the slot
// has no place (or the chosen staff member is busy), ErrNoSlot when no
// slot of the type starts then. A request from LINE must also be inside
// the type's lead time and horizon; staff may book sooner or further ahead.
// created is false when the SubmitID was already stored (the booking made
// then is returned).
//
// A new booking gets its change/cancel key and the customer on LINE its
// confirmation (the message a page booking gets, Confirmation), enqueued
// in the booking's transaction (retry key first) and sent after the
// commit; a customer not on LINE is sent nothing (Booking.OnLine).
func (s *Service) Book(ctx context.Context, actor string, r Request) (b Booking, created bool, err error) {
	st, err := s.Settings(ctx)
	if err != nil {
		return Booking{}, false, fmt.Errorf("booking: book: %w", err)
	}
	var id, sendID int64
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		id, created, err = s.bookTx(ctx, tx, actor, r, 0)
		if err != nil || !created {
			return err
		}
		sendID, err = s.confirmTx(ctx, tx, id, st)
		return err
	})
	if err != nil {
		return Booking{}, false, fmt.Errorf("booking: book: %w", err)
	}
	if created {
		s.sendNow(ctx, sendID)
		s.republish(ctx)
	}
	b, err = s.Get(ctx, id)
	return b, created, err
}

// bookTx books inside tx; movedFrom is the booking a reschedule replaces
// (already no longer confirmed).
func (s *Service) bookTx(ctx context.Context, tx *sql.Tx, actor string, r Request, movedFrom int64) (int64, bool, error) {
	r.Note = strings.TrimSpace(r.Note)
	if r.Source == "" {
		r.Source = SourceStaff
	}
	if r.SubmitID != "" {
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM bookings WHERE submit_id = ?`, r.SubmitID).Scan(&id)
		if err == nil {
			return id, false, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return 0, false, err
		}
	}
	var l fielderr.List
	if utf8.RuneCountInString(r.Note) > MaxNote {
		l.AddMax("note", fielderr.TooLong, MaxNote)
	}
	if r.LineUserID == "" && r.CustomerID == 0 {
		l.Add("customerId", fielderr.Required)
	}
	if r.CustomerID != 0 {
		var ok bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM customers WHERE id = ?)`, r.CustomerID).Scan(&ok); err != nil {
			return 0, false, err
		}
		if !ok {
			l.Add("customerId", fielderr.Choose)
		}
	}
	ts, err := s.types(ctx, tx, r.TypeID)
	if err != nil {
		return 0, false, err
	}
	if r.TypeID == 0 || len(ts) == 0 || !ts[0].Active {
		l.Add("typeId", fielderr.Choose)
	}
	if err := l.Err(ErrInvalid); err != nil {
		return 0, false, err
	}
	t := ts[0]
	cal, err := loadCalendar(ctx, tx)
	if err != nil {
		return 0, false, err
	}
	now := s.now()
	start := time.UnixMilli(r.Start)
	if !cal.onGrid(start, t.DurationMin) || !start.After(now) {
		return 0, false, ErrNoSlot
	}
	if from, to := window(t, now); r.Source == SourceLINE && (start.Before(from) || !start.Before(to)) {
		return 0, false, ErrNoSlot
	}
	end := start.Add(time.Duration(t.DurationMin) * time.Minute).UnixMilli()
	bs, err := loadBusy(ctx, tx, r.Start, end)
	if err != nil {
		return 0, false, err
	}
	rem, staff := free(t, r.Start, end, bs)
	if rem == 0 {
		return 0, false, ErrFull
	}
	if r.StaffID != 0 {
		if !slices.Contains(t.Staff, r.StaffID) {
			return 0, false, fielderr.New(ErrInvalid, "staffId", fielderr.Choose)
		}
		if !slices.Contains(staff, r.StaffID) {
			return 0, false, ErrFull
		}
	} else {
		load, err := dayLoad(ctx, tx, start)
		if err != nil {
			return 0, false, err
		}
		// staff is in ID order; the first with the fewest bookings wins.
		r.StaffID = staff[0]
		for _, st := range staff[1:] {
			if load[st] < load[r.StaffID] {
				r.StaffID = st
			}
		}
	}
	if r.CustomerID == 0 {
		err := tx.QueryRowContext(ctx, `SELECT customer_id FROM customer_line_links WHERE line_user_id = ?`, r.LineUserID).Scan(&r.CustomerID)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return 0, false, err
		}
	}
	var staffName string
	if err := tx.QueryRowContext(ctx, `SELECT display_name FROM staff WHERE id = ?`, r.StaffID).Scan(&staffName); err != nil {
		return 0, false, fmt.Errorf("staff %d: %w", r.StaffID, err)
	}
	var id int64
	at := now.UnixMilli()
	err = tx.QueryRowContext(ctx, `INSERT INTO bookings (type_id, starts_at, ends_at, staff_id, line_user_id, customer_id, note, source, submit_id, created_at, updated_at)
		VALUES (?, ?, ?, ?, nullif(?, ''), nullif(?, 0), ?, ?, nullif(?, ''), ?, ?) RETURNING id`,
		t.ID, r.Start, end, r.StaffID, r.LineUserID, r.CustomerID, r.Note, r.Source, r.SubmitID, at, at).Scan(&id)
	if err != nil {
		return 0, false, fmt.Errorf("store booking: %w", err)
	}
	action, detail := ActionCreate, map[string]string{"type": t.Name, "start": startText(start), "staff": staffName, "source": r.Source}
	if movedFrom != 0 {
		action, detail["movedFrom"] = ActionReschedule, strconv.FormatInt(movedFrom, 10)
		if _, err := tx.ExecContext(ctx, `UPDATE bookings SET moved_to = ? WHERE id = ?`, id, movedFrom); err != nil {
			return 0, false, err
		}
	}
	if _, err := audit.Record(ctx, tx, audit.Entry{At: at, Actor: actor, Action: action, Target: bookingTarget(id), Detail: detail}); err != nil {
		return 0, false, err
	}
	return id, true, nil
}

// startText is a start as the audit trail shows it: "2026-12-08 10:00".
func startText(t time.Time) string { return t.In(JST).Format("2006-01-02 15:04") }

// end moves a confirmed booking to status; a customer (byCustomer) must be
// before the type's cancel cut-off.
func (s *Service) end(ctx context.Context, tx *sql.Tx, id int64, status string, byCustomer bool) (Booking, error) {
	b, err := getBooking(ctx, tx, id)
	if err != nil {
		return Booking{}, err
	}
	if b.Status != StatusConfirmed {
		return Booking{}, ErrNotConfirmed
	}
	now := s.now()
	if byCustomer && now.After(time.UnixMilli(b.Start).Add(-time.Duration(b.cutoff)*time.Minute)) {
		return Booking{}, ErrCutoff
	}
	if status == StatusNoShow && now.Before(time.UnixMilli(b.Start)) {
		return Booking{}, ErrNotStarted
	}
	if _, err := tx.ExecContext(ctx, `UPDATE bookings SET status = ?, updated_at = ? WHERE id = ?`, status, now.UnixMilli(), id); err != nil {
		return Booking{}, fmt.Errorf("update booking: %w", err)
	}
	return b, nil
}

// Cancel cancels a confirmed booking, which frees its place; audited. A
// customer's cancellation (byCustomer) must be before the type's cut-off.
// Staff's cancellation tells the customer in LINE (enqueued in the same
// transaction, retry key first).
func (s *Service) Cancel(ctx context.Context, actor string, id int64, byCustomer bool) error {
	st, err := s.Settings(ctx)
	if err != nil {
		return fmt.Errorf("booking: cancel %d: %w", id, err)
	}
	var sendID int64
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		b, err := s.cancelTx(ctx, tx, actor, id, byCustomer)
		if err != nil || byCustomer {
			return err
		}
		sendID, err = s.tell(ctx, tx, b, st, "ご予約をキャンセルしました。", false)
		return err
	})
	if err != nil {
		return fmt.Errorf("booking: cancel %d: %w", id, err)
	}
	s.sendNow(ctx, sendID)
	s.republish(ctx)
	return nil
}

// ConfirmedHead opens a new booking's LINE confirmation.
const ConfirmedHead = "ご予約を承りました。"

// confirmTx gives the new booking id its manage key and enqueues its
// confirmation in tx (0: the customer is not on LINE), noting the send on
// the booking.
func (s *Service) confirmTx(ctx context.Context, tx *sql.Tx, id int64, st Settings) (int64, error) {
	token, err := newManageToken()
	if err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE bookings SET manage_token = ? WHERE id = ?`, token, id); err != nil {
		return 0, err
	}
	b, err := getBooking(ctx, tx, id)
	if err != nil {
		return 0, err
	}
	sendID, err := s.tell(ctx, tx, b, st, ConfirmedHead, true)
	if err != nil || sendID == 0 {
		return 0, err
	}
	_, err = tx.ExecContext(ctx, `UPDATE bookings SET confirm_send = ? WHERE id = ?`, sendID, id)
	return sendID, err
}

// Preview is the LINE confirmation a booking will get, before it is made.
type Preview struct {
	Text   string `json:"text"`   // "" when OnLine is false
	OnLine bool   `json:"onLine"` // false: the customer is not on LINE, nothing is sent
}

// previewKey stands for the booking's change/cancel key, made when it is
// booked, in a preview.
const previewKey = "…"

// Confirmation is the message Book will send for r (built by the same
// code; the change/cancel key is shown as "…"), or OnLine false when the
// customer has no LINE. It checks only what the message needs: the type,
// and the customer when one is named.
func (s *Service) Confirmation(ctx context.Context, r Request) (Preview, error) {
	st, err := s.Settings(ctx)
	if err != nil {
		return Preview{}, fmt.Errorf("booking: confirmation: %w", err)
	}
	q := s.db.Reader()
	ts, err := s.types(ctx, q, r.TypeID)
	if err != nil {
		return Preview{}, fmt.Errorf("booking: confirmation: %w", err)
	}
	if r.TypeID == 0 || len(ts) == 0 {
		return Preview{}, fmt.Errorf("booking: confirmation: %w", fielderr.New(ErrInvalid, "typeId", fielderr.Choose))
	}
	user := r.LineUserID
	if user == "" && r.CustomerID != 0 {
		err := q.QueryRowContext(ctx, `SELECT line_user_id FROM customer_line_links WHERE customer_id = ? ORDER BY line_user_id LIMIT 1`, r.CustomerID).Scan(&user)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return Preview{}, fmt.Errorf("booking: confirmation: %w", err)
		}
	}
	if user == "" {
		return Preview{}, nil
	}
	t := ts[0]
	b := Booking{TypeID: t.ID, TypeName: t.Name, Start: r.Start, End: time.UnixMilli(r.Start).Add(time.Duration(t.DurationMin) * time.Minute).UnixMilli()}
	return Preview{Text: compose(ConfirmedHead, s.describe(ctx, b, st, previewKey)), OnLine: true}, nil
}

// compose is every booking message: head, a blank line, the booking.
func compose(head, booking string) string { return head + "\n\n" + booking }

// tell enqueues, in tx, a LINE message about b to the customer (0 when
// they have no LINE). withManage adds the change/cancel link.
func (s *Service) tell(ctx context.Context, tx *sql.Tx, b Booking, st Settings, head string, withManage bool) (int64, error) {
	if b.tellUser == "" {
		return 0, nil
	}
	text, err := s.message(ctx, tx, b, st, head, withManage)
	if err != nil {
		return 0, err
	}
	return s.enqueue(ctx, tx, b.tellUser, text), nil
}

// message is a LINE message about b: head, then the booking (describe),
// with the change/cancel link of its manage key if withManage.
func (s *Service) message(ctx context.Context, tx *sql.Tx, b Booking, st Settings, head string, withManage bool) (string, error) {
	var token string
	if withManage {
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(manage_token, '') FROM bookings WHERE id = ?`, b.ID).Scan(&token); err != nil {
			return "", err
		}
	}
	return compose(head, s.describe(ctx, b, st, token)), nil
}

// sendNow sends an enqueued message after its commit, best effort: an
// unsent one is resumed by the outbox.
func (s *Service) sendNow(ctx context.Context, sendID int64) {
	if sendID != 0 && s.send != nil {
		_, _ = s.send.Send(ctx, sendID)
	}
}

func (s *Service) cancelTx(ctx context.Context, tx *sql.Tx, actor string, id int64, byCustomer bool) (Booking, error) {
	b, err := s.end(ctx, tx, id, StatusCancelled, byCustomer)
	if err != nil {
		return Booking{}, err
	}
	_, err = audit.Record(ctx, tx, audit.Entry{At: s.now().UnixMilli(), Actor: actor, Action: ActionCancel, Target: bookingTarget(id),
		Detail: map[string]string{"type": b.TypeName, "start": startText(time.UnixMilli(b.Start)), "byCustomer": strconv.FormatBool(byCustomer)}})
	return b, err
}

// Reschedule moves a confirmed booking to another slot of its type: the
// old one ends as rescheduled (pointing at the new one) and a new one is
// booked, in one transaction, so a full slot leaves the old booking as it
// was. The same staff member keeps it when free; the LINE links' manage
// key moves to the new booking. Audited.
func (s *Service) Reschedule(ctx context.Context, actor string, id, start int64, byCustomer bool) (Booking, error) {
	st, err := s.Settings(ctx)
	if err != nil {
		return Booking{}, fmt.Errorf("booking: reschedule %d: %w", id, err)
	}
	var newID, sendID int64
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		var err error
		newID, err = s.rescheduleTx(ctx, tx, actor, id, start, byCustomer, "")
		if err != nil || byCustomer {
			return err
		}
		// Staff's change is told to the customer, with the new time's links.
		b, err := getBooking(ctx, tx, newID)
		if err != nil {
			return err
		}
		sendID, err = s.tell(ctx, tx, b, st, "ご予約の日時を変更しました。", true)
		return err
	})
	if err != nil {
		return Booking{}, fmt.Errorf("booking: reschedule %d: %w", id, err)
	}
	s.sendNow(ctx, sendID)
	s.republish(ctx)
	return s.Get(ctx, newID)
}

func (s *Service) rescheduleTx(ctx context.Context, tx *sql.Tx, actor string, id, start int64, byCustomer bool, submitID string) (int64, error) {
	old, err := s.end(ctx, tx, id, StatusRescheduled, byCustomer)
	if err != nil {
		return 0, err
	}
	r := Request{TypeID: old.TypeID, Start: start, LineUserID: old.lineUser, CustomerID: old.CustomerID, Note: old.Note, Source: SourceStaff, StaffID: old.StaffID, SubmitID: submitID}
	if byCustomer {
		r.Source = SourceLINE
	}
	newID, _, err := s.bookTx(ctx, tx, actor, r, id)
	if errors.Is(err, ErrFull) || errors.Is(err, ErrInvalid) {
		// The same staff member if free and still taking the type,
		// else anyone free.
		r.StaffID = 0
		newID, _, err = s.bookTx(ctx, tx, actor, r, id)
	}
	if err != nil {
		return 0, err
	}
	var token sql.NullString
	if err := tx.QueryRowContext(ctx, `SELECT manage_token FROM bookings WHERE id = ?`, id).Scan(&token); err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE bookings SET manage_token = NULL WHERE id = ?`, id); err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE bookings SET manage_token = ? WHERE id = ?`, token, newID); err != nil {
		return 0, err
	}
	return newID, nil
}

// NoShow records that the customer did not come; audited.
func (s *Service) NoShow(ctx context.Context, actor string, id int64) error {
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		b, err := s.end(ctx, tx, id, StatusNoShow, false)
		if err != nil {
			return err
		}
		_, err = audit.Record(ctx, tx, audit.Entry{At: s.now().UnixMilli(), Actor: actor, Action: ActionNoShow, Target: bookingTarget(id),
			Detail: map[string]string{"type": b.TypeName, "start": startText(time.UnixMilli(b.Start))}})
		return err
	})
	if err != nil {
		return fmt.Errorf("booking: no-show %d: %w", id, err)
	}
	return nil
}

const selectBooking = `SELECT b.id, b.type_id, t.name, t.cancel_cutoff_min, b.starts_at, b.ends_at, b.staff_id, st.display_name,
	coalesce(b.customer_id, l.customer_id, 0), coalesce(c.name, ''), coalesce(u.display_name, ''), b.status, b.note, b.source,
	coalesce(b.moved_to, 0), b.created_at, coalesce(b.line_user_id, ''),
	coalesce(b.line_user_id, (SELECT k.line_user_id FROM customer_line_links k WHERE k.customer_id = b.customer_id ORDER BY k.line_user_id LIMIT 1), '')
	FROM bookings b JOIN booking_types t ON t.id = b.type_id JOIN staff st ON st.id = b.staff_id
	LEFT JOIN customer_line_links l ON l.line_user_id = b.line_user_id
	LEFT JOIN customers c ON c.id = coalesce(b.customer_id, l.customer_id)
	LEFT JOIN line_users u ON u.user_id = b.line_user_id`

func scanBooking(row interface{ Scan(...any) error }) (Booking, error) {
	var b Booking
	err := row.Scan(&b.ID, &b.TypeID, &b.TypeName, &b.cutoff, &b.Start, &b.End, &b.StaffID, &b.StaffName, &b.CustomerID, &b.CustomerName,
		&b.FriendName, &b.Status, &b.Note, &b.Source, &b.MovedTo, &b.CreatedAt, &b.lineUser, &b.tellUser)
	b.OnLine = b.tellUser != ""
	return b, err
}

func getBooking(ctx context.Context, q querier, id int64) (Booking, error) {
	b, err := scanBooking(q.QueryRowContext(ctx, selectBooking+` WHERE b.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Booking{}, ErrNotFound
	}
	return b, err
}

// Get returns one booking.
func (s *Service) Get(ctx context.Context, id int64) (Booking, error) {
	b, err := getBooking(ctx, s.db.Reader(), id)
	if err != nil {
		return Booking{}, fmt.Errorf("booking: %d: %w", id, err)
	}
	return b, nil
}

// List returns the bookings starting in [from, to) (unix ms), of one staff
// member (staffID > 0) or all, by start; every status.
func (s *Service) List(ctx context.Context, from, to, staffID int64) ([]Booking, error) {
	rows, err := s.db.Reader().QueryContext(ctx, selectBooking+` WHERE b.starts_at >= ? AND b.starts_at < ? AND (? = 0 OR b.staff_id = ?)
		ORDER BY b.starts_at, b.id`, from, to, staffID, staffID)
	if err != nil {
		return nil, fmt.Errorf("booking: list: %w", err)
	}
	defer rows.Close()
	out := []Booking{}
	for rows.Next() {
		b, err := scanBooking(rows)
		if err != nil {
			return nil, fmt.Errorf("booking: list: %w", err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}
