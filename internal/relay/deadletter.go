package relay

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"tsunagu/internal/relay/wire"
)

// Headers of a dead letter (the sealed event itself is the payload, as
// queued: the relay cannot open it either).
const (
	hdrSeq        = "Tsunagu-Seq"        // its sequence in the event stream
	hdrReceived   = "Tsunagu-Received"   // when the relay answered LINE, Unix ms
	hdrDeliveries = "Tsunagu-Deliveries" // how often it was delivered
	hdrReason     = "Tsunagu-Reason"     // deliveries | too_large
	// A booking request's place at the relay (hold ID and slot key),
	// beside its box: wire.Event.Hold and Slot.
	hdrHold = "Tsunagu-Hold"
	hdrSlot = "Tsunagu-Slot"
)

// deadLetter moves an event the desktop cannot take out of the work queue
// into the tenant's dead letters: copied there first (idempotently, by
// message ID), then acked. If the copy fails it returns the error and the
// caller ends the connection, so the event is nak'ed and first again: it
// is never dropped.
func (s *Server) deadLetter(ctx context.Context, id string, f fetched, deliveries int, reason string) error {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	m, seq := f.m, f.seq
	dm := nats.NewMsg(deadSubjectOf(id))
	dm.Data = m.Data
	dm.Header.Set(hdrSeq, strconv.FormatUint(seq, 10))
	dm.Header.Set(hdrReceived, strconv.FormatInt(receivedAt(f), 10))
	dm.Header.Set(hdrDeliveries, strconv.Itoa(deliveries))
	dm.Header.Set(hdrReason, reason)
	copyHold(dm.Header, m.Header)
	dm.Header.Set(nats.MsgIdHdr, "dead-"+id+"-"+strconv.FormatUint(seq, 10))
	if _, err := s.o.js.PublishMsg(dctx, dm); err != nil {
		return fmt.Errorf("relay: move event %d to the dead letters: %w", seq, err)
	}
	if err := m.AckSync(nats.Context(dctx)); err != nil {
		// It comes back and is moved again; the message ID keeps one copy.
		return fmt.Errorf("relay: ack dead-lettered event %d: %w", seq, err)
	}
	s.o.attempts.Purge(dctx, attemptKey(id, seq))
	s.metrics.dead.WithLabelValues(id, reason).Inc()
	s.log.Warn("event moved to the dead letters", "tenant", id, "seq", seq, "reason", reason, "deliveries", deliveries)
	return nil
}

// receivedAt is when the relay first received an event, unix ms: its
// Tsunagu-Received header if it was replayed from the dead letters, else
// the time the queue stored it.
// copyHold carries a booking request's hold and slot along with its box.
func copyHold(to, from nats.Header) {
	for _, k := range []string{hdrHold, hdrSlot} {
		if v := from.Get(k); v != "" {
			to.Set(k, v)
		}
	}
}

// holdOf is a queued box's hold and slot ("" for all but booking
// requests), of the shapes wire.Event's size bound counts on.
func holdOf(f fetched) (hold, slot string) {
	hold, slot = f.m.Header.Get(hdrHold), f.m.Header.Get(hdrSlot)
	if !wire.ValidHoldID(hold) || !wire.ValidSlotKey(slot) {
		return "", ""
	}
	return hold, slot
}

func receivedAt(f fetched) int64 {
	if v, err := strconv.ParseInt(f.m.Header.Get(hdrReceived), 10, 64); err == nil && v > 0 {
		return v
	}
	return f.meta.Timestamp.UnixMilli()
}

// DeadLetter is one event in a tenant's dead letters.
type DeadLetter struct {
	ID         uint64    `json:"id"`       // its sequence among the dead letters: replay or purge by it
	EventSeq   uint64    `json:"eventSeq"` // its sequence when it was queued
	ReceivedAt time.Time `json:"receivedAt"`
	DeadAt     time.Time `json:"deadAt"`
	Deliveries int       `json:"deliveries"`
	Reason     string    `json:"reason"`
	Bytes      int       `json:"bytes"` // sealed
}

// DeadLetters lists a tenant's dead letters, oldest first.
func (a *Admin) DeadLetters(ctx context.Context, tenant string) ([]DeadLetter, error) {
	if _, _, err := getTenant(ctx, a.o.tenants, tenant); err != nil {
		return nil, err
	}
	out := []DeadLetter{}
	err := a.eachDead(ctx, tenant, func(m *jetstream.RawStreamMsg) error {
		out = append(out, deadLetterOf(m))
		return nil
	})
	return out, err
}

// ReplayDeadLetters puts a tenant's dead letters back at the end of its
// queue (all of them, or those with the given IDs) and removes them from
// the dead letters; the desktop stores each webhookEventId once, so a
// replay of something it did store is harmless. It returns how many. The
// original receipt time goes with it (Tsunagu-Received): the desktop
// judges a form answer's ID token at the time the relay first received
// it, not at the replay.
func (a *Admin) ReplayDeadLetters(ctx context.Context, tenant string, ids []uint64) (int, error) {
	n, err := a.takeDead(ctx, tenant, ids, func(m *jetstream.RawStreamMsg) error {
		rm := nats.NewMsg(subjectOf(tenant, len(m.Data)))
		rm.Data = m.Data
		if v := m.Header.Get(hdrReceived); v != "" {
			rm.Header.Set(hdrReceived, v)
		}
		copyHold(rm.Header, m.Header)
		if _, err := a.o.js.PublishMsg(ctx, rm); err != nil {
			return fmt.Errorf("relay: requeue dead letter %d: %w", m.Sequence, err)
		}
		return nil
	})
	if n > 0 {
		a.o.js.Conn().Publish(wakeSubjectOf(tenant), nil)
	}
	return n, err
}

// PurgeDeadLetters deletes a tenant's dead letters (all, or those with the
// given IDs) and returns how many.
func (a *Admin) PurgeDeadLetters(ctx context.Context, tenant string, ids []uint64) (int, error) {
	return a.takeDead(ctx, tenant, ids, func(*jetstream.RawStreamMsg) error { return nil })
}

func (a *Admin) takeDead(ctx context.Context, tenant string, ids []uint64, use func(*jetstream.RawStreamMsg) error) (int, error) {
	if _, _, err := getTenant(ctx, a.o.tenants, tenant); err != nil {
		return 0, err
	}
	want := map[uint64]bool{}
	for _, id := range ids {
		want[id] = true
	}
	n := 0
	err := a.eachDead(ctx, tenant, func(m *jetstream.RawStreamMsg) error {
		if len(ids) > 0 && !want[m.Sequence] {
			return nil
		}
		if err := use(m); err != nil {
			return err
		}
		if err := a.o.dead.DeleteMsg(ctx, m.Sequence); err != nil {
			return fmt.Errorf("relay: remove dead letter %d: %w", m.Sequence, err)
		}
		delete(want, m.Sequence)
		n++
		return nil
	})
	if err == nil && len(ids) > 0 && len(want) > 0 {
		err = fmt.Errorf("relay: %d of the dead letters asked for are not there", len(want))
	}
	return n, err
}

// eachDead calls f for each of the tenant's dead letters in order.
func (a *Admin) eachDead(ctx context.Context, tenant string, f func(*jetstream.RawStreamMsg) error) error {
	for seq := uint64(1); ; {
		m, err := a.o.dead.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(deadSubjectOf(tenant)))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("relay: read dead letters: %w", err)
		}
		if err := f(m); err != nil {
			return err
		}
		seq = m.Sequence + 1
	}
}

func deadLetterOf(m *jetstream.RawStreamMsg) DeadLetter {
	num := func(h string) int64 {
		n, _ := strconv.ParseInt(m.Header.Get(h), 10, 64)
		return n
	}
	return DeadLetter{ID: m.Sequence, EventSeq: uint64(num(hdrSeq)), ReceivedAt: time.UnixMilli(num(hdrReceived)).UTC(),
		DeadAt: m.Time.UTC(), Deliveries: int(num(hdrDeliveries)), Reason: m.Header.Get(hdrReason), Bytes: len(m.Data)}
}
