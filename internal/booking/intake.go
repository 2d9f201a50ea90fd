package booking

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"tsunagu/internal/audit"
	"tsunagu/internal/forms"
	"tsunagu/internal/line"
	"tsunagu/internal/outbox"
	"tsunagu/internal/relay/wire"
)

// Publisher puts the availability on the relay (relayclient.Client).
type Publisher interface {
	PublishAvailability(ctx context.Context, a wire.BookingAvail) error
	BookingURL() string
}

// IDTokens is the one ID-token check of the relay's pages
// (*forms.Service): who a LINE ID token belongs to, and the LIFF app.
type IDTokens interface {
	CheckIDToken(ctx context.Context, tok string, receivedAt int64) (line.IDTokenInfo, string, error)
	LIFFID(ctx context.Context) string
}

// Sender sends LINE messages through the outbox: enqueued in the
// booking's transaction (retry key stored first), sent after the commit
// (*outbox.Outbox).
type Sender interface {
	EnqueueTx(ctx context.Context, tx *sql.Tx, req outbox.Request) (int64, error)
	Send(ctx context.Context, sendID int64) (outbox.Result, error)
}

// Outcomes of a request from the booking page.
const (
	Stored    = "stored"
	Duplicate = "duplicate"
	Rejected  = "rejected"
)

// publishState orders the versions this service publishes.
type publishState struct {
	mu    sync.Mutex
	last  int64 // the last version published (unix ms)
	tried int64 // when PublishIfOlder last ran (unix ms)
}

// countedFor is how long a handled hold stays in the published Counted
// list: longer than any hold can wait at the relay before the desktop sees
// it counted (the relay also drops holds of past slots).
const countedFor = 14 * 24 * time.Hour

// Publish puts the bookable slots on the relay: every active type's slots
// with the places left, and the holds handled (Counted). The handled holds
// are read before the availability, so a hold handled in between is
// subtracted twice for a moment (never given back): docs/booking.md.
func (s *Service) Publish(ctx context.Context) error {
	if s.relay == nil {
		return nil
	}
	pub, ok := s.relay(ctx)
	if !ok {
		return nil
	}
	counted, err := s.countedHolds(ctx)
	if err != nil {
		return fmt.Errorf("booking: publish: %w", err)
	}
	slots, err := s.Availability(ctx, 0)
	if err != nil {
		return err
	}
	ts, err := s.Types(ctx)
	if err != nil {
		return err
	}
	st, err := s.Settings(ctx)
	if err != nil {
		return err
	}
	a := wire.BookingAvail{Branch: st.Branch, Counted: counted, Types: []wire.BookingType{}, Slots: make([]wire.BookingSlot, 0, len(slots))}
	if s.ids != nil {
		a.LIFFID = s.ids.LIFFID(ctx)
	}
	lead := map[int64]time.Duration{}
	for _, t := range ts {
		if t.Active {
			a.Types = append(a.Types, wire.BookingType{ID: t.ID, Name: t.Name, DurationMin: t.DurationMin})
			lead[t.ID] = time.Duration(t.LeadMin) * time.Minute
		}
	}
	for _, sl := range slots {
		// Until: the relay stops offering it when it moves inside the
		// lead time, without waiting for the next publish.
		a.Slots = append(a.Slots, wire.BookingSlot{TypeID: sl.TypeID, Start: sl.Start, Remaining: sl.Remaining,
			Until: time.UnixMilli(sl.Start).Add(-lead[sl.TypeID]).UnixMilli()})
	}
	s.pub.mu.Lock()
	defer s.pub.mu.Unlock() // one publish at a time, in version order
	a.Version = max(s.now().UnixMilli(), s.pub.last+1)
	s.pub.last = a.Version
	if err := pub.PublishAvailability(ctx, a); err != nil {
		return fmt.Errorf("booking: publish: %w", err)
	}
	return nil
}

// RepublishAfter is how old the relay's availability may grow before the
// schedule publishes it again: slots move inside a type's lead time as the
// clock goes on, without any change.
const RepublishAfter = 10 * time.Minute

// PublishIfOlder publishes when this service last published more than age
// ago (or never): the schedule's refresh.
func (s *Service) PublishIfOlder(ctx context.Context, age time.Duration) error {
	now := s.now()
	s.pub.mu.Lock()
	recent := max(s.pub.last, s.pub.tried)
	if recent != 0 && now.Sub(time.UnixMilli(recent)) < age {
		s.pub.mu.Unlock()
		return nil
	}
	// Also without a relay: asking for one every pass would be wasted work.
	s.pub.tried = now.UnixMilli()
	s.pub.mu.Unlock()
	return s.Publish(ctx)
}

// republish publishes after a change; a failure is logged and the next
// publish (the schedule's, or the next change's) catches up.
func (s *Service) republish(ctx context.Context) {
	if err := s.Publish(ctx); err != nil && s.log != nil {
		s.log.Warn("booking availability not published", "err", err)
	}
}

func (s *Service) countedHolds(ctx context.Context) ([]string, error) {
	since := s.now().Add(-countedFor).UnixMilli()
	rows, err := s.db.Reader().QueryContext(ctx, `SELECT hold_id FROM (
		SELECT hold_id, handled_at FROM booking_requests WHERE hold_id IS NOT NULL AND handled_at > ?
		UNION ALL SELECT hold_id, handled_at FROM booking_junk_holds WHERE handled_at > ?) ORDER BY handled_at`, since, since)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// ReleaseHold counts as released the place the relay held for a box that
// is not the booking request it was posted as (junk posted to /hold, or a
// box that opens to something else): it booked nothing, so counting its
// hold in the next publish frees the place, and that publish's places
// left are unchanged by it (docs/booking.md). A hold already handled as a
// request is left alone; the same one again is stored once. Publishes.
func (s *Service) ReleaseHold(ctx context.Context, hold, slot string, receivedAt int64) error {
	if !wire.ValidHoldID(hold) {
		return nil // the relay never holds under such an ID: nothing to release
	}
	now := s.now()
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		// Older ones are no longer published as counted: kept no longer.
		if _, err := tx.ExecContext(ctx, `DELETE FROM booking_junk_holds WHERE handled_at <= ?`, now.Add(-countedFor).UnixMilli()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO booking_junk_holds (hold_id, slot, received_at, handled_at)
			SELECT ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM booking_requests WHERE hold_id = ?) ON CONFLICT DO NOTHING`,
			hold, slot, receivedAt, now.UnixMilli(), hold)
		return err
	})
	if err != nil {
		return fmt.Errorf("booking: release hold: %w", err)
	}
	s.republish(ctx)
	return nil
}

// Intake handles one request from the booking page (the engine's relay
// batch handler): the ID token checked by forms' check (forged, expired
// and replayed tokens refused, their holds released by the next publish),
// then the booking made, cancelled or moved against the LINE user, and a
// LINE message enqueued in the same transaction. It returns an error when
// the request cannot be handled yet (LINE unreachable, LINE Login not set
// up): the caller leaves it queued.
func (s *Service) Intake(ctx context.Context, req *wire.BookingRequest, receivedAt int64) (string, error) {
	if req == nil {
		return "", errors.New("booking: intake: no request")
	}
	var dup bool
	if err := s.db.Reader().QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM booking_requests WHERE submit_id = ?)`, req.SubmitID).Scan(&dup); err != nil {
		return "", fmt.Errorf("booking: intake: %w", err)
	}
	if dup {
		return Duplicate, nil
	}
	if s.ids == nil {
		return "", forms.ErrNoLogin
	}
	info, reason, err := s.ids.CheckIDToken(ctx, req.IDToken, receivedAt)
	if err != nil {
		return "", fmt.Errorf("booking: intake: %w", err)
	}
	var (
		outcome = Stored
		sendID  int64
	)
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		outcome, sendID = Stored, 0
		result, bookingID := reason, int64(0)
		if result == "" {
			replayed, err := forms.ClaimIDToken(ctx, tx, req.IDToken, req.SubmitID, info.Expires)
			if err != nil {
				return err
			}
			if replayed {
				result = forms.RejectReplayed
			}
		}
		if result == "" {
			var err error
			result, bookingID, sendID, err = s.act(ctx, tx, req, info.UserID)
			if err != nil {
				return err
			}
		}
		switch result {
		case forms.RejectForged, forms.RejectExpired, forms.RejectReplayed:
			outcome = Rejected
			if _, err := audit.Record(ctx, tx, audit.Entry{At: s.now().UnixMilli(), Actor: Actor, Action: ActionReject, Target: "bookings",
				Detail: map[string]string{"reason": result, "kind": req.Kind}}); err != nil {
				return err
			}
		}
		var hold, start any
		if req.HoldID != "" {
			hold, start = req.HoldID, req.Start
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO booking_requests (submit_id, kind, hold_id, slot_start, result, booking_id, received_at, handled_at)
			VALUES (?, ?, ?, ?, ?, nullif(?, 0), ?, ?)`, req.SubmitID, req.Kind, hold, start, result, bookingID, receivedAt, s.now().UnixMilli())
		return err
	})
	if err != nil {
		return "", fmt.Errorf("booking: intake: %w", err)
	}
	if sendID != 0 && s.send != nil {
		// Best effort now; a send LINE did not take stays in the outbox
		// with its retry key and is resumed by the schedule.
		_, _ = s.send.Send(ctx, sendID)
	}
	// Counts the hold (booked, or refused: its place is free again).
	s.republish(ctx)
	return outcome, nil
}

// act does what a verified request asks, in tx, and enqueues the LINE
// answer. result is booking_requests.result.
func (s *Service) act(ctx context.Context, tx *sql.Tx, req *wire.BookingRequest, user string) (result string, bookingID, sendID int64, err error) {
	st, err := s.Settings(ctx)
	if err != nil {
		return "", 0, 0, err
	}
	var text string
	switch req.Kind {
	case wire.BookNew:
		id, _, err := s.bookTx(ctx, tx, Actor, Request{TypeID: req.TypeID, Start: req.Start, LineUserID: user, Note: req.Note, SubmitID: req.SubmitID, Source: SourceLINE}, 0)
		if errors.Is(err, ErrFull) || errors.Is(err, ErrNoSlot) || errors.Is(err, ErrInvalid) {
			return "full", 0, s.enqueue(ctx, tx, user, "申し訳ありません。ご希望の時間は満席になりました。お手数ですが、予約ページからほかの時間をお選びください。"), nil
		}
		if err != nil {
			return "", 0, 0, err
		}
		// The same confirmation as a booking made by staff (Book).
		if sendID, err = s.confirmTx(ctx, tx, id, st); err != nil {
			return "", 0, 0, err
		}
		return "booked", id, sendID, nil
	case wire.BookCancel, wire.BookReschedule:
		var id int64
		// The booking's LINE user, or (booked by staff for a customer)
		// the LINE linked to its customer: the one its confirmation went to.
		err := tx.QueryRowContext(ctx, `SELECT id FROM bookings WHERE manage_token = ? AND (line_user_id = ?
			OR (line_user_id IS NULL AND customer_id IN (SELECT customer_id FROM customer_line_links WHERE line_user_id = ?)))`, req.Manage, user, user).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return "not_found", 0, s.enqueue(ctx, tx, user, "ご予約が見つかりませんでした。すでにキャンセル・変更済みの可能性があります。"), nil
		}
		if err != nil {
			return "", 0, 0, err
		}
		if req.Kind == wire.BookCancel {
			b, err := s.cancelTx(ctx, tx, Actor, id, true)
			if msg, ok := s.refusal(err, st); ok {
				return "cutoff", 0, s.enqueue(ctx, tx, user, msg), nil
			}
			if err != nil {
				return "", 0, 0, err
			}
			text = compose("ご予約をキャンセルしました。", s.describe(ctx, b, st, ""))
			result, bookingID = "cancelled", id
			break
		}
		newID, err := s.rescheduleTx(ctx, tx, Actor, id, req.Start, true, req.SubmitID)
		if msg, ok := s.refusal(err, st); ok {
			return "cutoff", 0, s.enqueue(ctx, tx, user, msg), nil
		}
		if errors.Is(err, ErrFull) || errors.Is(err, ErrNoSlot) {
			return "full", 0, s.enqueue(ctx, tx, user, "申し訳ありません。ご希望の時間は満席になりました。ご予約は変更前のままです。"), nil
		}
		if err != nil {
			return "", 0, 0, err
		}
		b, err := getBooking(ctx, tx, newID)
		if err != nil {
			return "", 0, 0, err
		}
		if text, err = s.message(ctx, tx, b, st, "ご予約の日時を変更しました。", true); err != nil {
			return "", 0, 0, err
		}
		result, bookingID = "moved", newID
	}
	sendID = s.enqueue(ctx, tx, user, text)
	if bookingID != 0 && sendID != 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE bookings SET confirm_send = ? WHERE id = ?`, sendID, bookingID); err != nil {
			return "", 0, 0, err
		}
	}
	return result, bookingID, sendID, nil
}

// refusal is the customer's message for a request past the cut-off or on
// a booking no longer confirmed.
func (s *Service) refusal(err error, st Settings) (string, bool) {
	switch {
	case errors.Is(err, ErrCutoff):
		msg := "キャンセル・変更の受付期限を過ぎているため、LINE からは承れません。"
		if st.Phone != "" {
			msg += "お手数ですが、" + branchName(st) + "（" + st.Phone + "）までお電話ください。"
		} else {
			msg += "お手数ですが、" + branchName(st) + "までお電話ください。"
		}
		return msg, true
	case errors.Is(err, ErrNotConfirmed):
		return "このご予約はすでにキャンセル・変更済みです。", true
	}
	return "", false
}

func branchName(st Settings) string {
	if st.Branch == "" {
		return "支店"
	}
	return st.Branch
}

// enqueue puts a text for user in the outbox in tx (retry key stored
// before anything is sent); 0 when no sender is configured. An enqueue
// failure is not the customer's booking failing: it is logged.
func (s *Service) enqueue(ctx context.Context, tx *sql.Tx, user, text string) int64 {
	if s.send == nil || text == "" {
		return 0
	}
	msg, err := line.Text(text)
	if err == nil {
		var id int64
		if id, err = s.send.EnqueueTx(ctx, tx, outbox.Request{Source: "booking", To: []string{user}, Messages: []line.Message{msg}}); err == nil {
			return id
		}
	}
	if s.log != nil {
		s.log.Warn("booking message not enqueued", "err", err)
	}
	return 0
}

var weekdays = [...]string{"日", "月", "火", "水", "木", "金", "土"}

// When is a booking's time as customers read it: 2026年12月29日（火）10:00〜11:00.
func When(start, end int64) string {
	a, b := time.UnixMilli(start).In(JST), time.UnixMilli(end).In(JST)
	return fmt.Sprintf("%d年%d月%d日（%s）%s〜%s", a.Year(), a.Month(), a.Day(), weekdays[a.Weekday()], a.Format("15:04"), b.Format("15:04"))
}

// describe is the booking part of a LINE message: type, time, branch, the
// 「カレンダーに追加」 link (type and time only: no personal data) and,
// with a manage token, the change/cancel link. That link carries the
// booking's random manage key and slot, never a name; the key alone
// changes nothing: the desktop acts only for the LINE user whose ID token
// comes with it, the booking's own (a fragment would be safer still, but
// LIFF drops the fragment when it starts).
func (s *Service) describe(ctx context.Context, b Booking, st Settings, token string) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "【%s】\n%s\n%s", b.TypeName, When(b.Start, b.End), branchName(st))
	if s.relay == nil {
		return sb.String()
	}
	pub, ok := s.relay(ctx)
	if !ok {
		return sb.String()
	}
	base := pub.BookingURL()
	q := url.Values{"t": {strconv.FormatInt(b.TypeID, 10)}, "s": {strconv.FormatInt(b.Start, 10)}}
	fmt.Fprintf(&sb, "\n\nカレンダーに追加:\n%s/cal.ics?%s", base, q.Encode())
	if token != "" {
		fmt.Fprintf(&sb, "\n\n予約の確認・変更・キャンセル:\n%s?m=%s&t=%d&s=%d", base, token, b.TypeID, b.Start)
	}
	return sb.String()
}

func newManageToken() (string, error) {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("booking: manage token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}
