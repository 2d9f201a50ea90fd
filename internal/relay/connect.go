package relay

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gorilla/websocket"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"tsunagu/internal/relay/wire"
)

const (
	authTimeout  = 10 * time.Second
	pingInterval = 20 * time.Second
	maxClientMsg = 64 << 10
)

var upgrader = websocket.Upgrader{
	ReadBufferSize: 4096, WriteBufferSize: 16384,
	// The desktop is not a browser: no Origin to check, and the
	// connection is authenticated by signature, not by cookies.
	CheckOrigin: func(*http.Request) bool { return true },
}

// handleConnect is the desktop's delivery connection. Protocol: the relay
// sends a fresh 32-byte nonce; the desktop answers with its tenant ID and
// an Ed25519 signature over wire.AuthStatement(connect, tenant, nonce); the
// relay then sends batches in queue order and waits for each batch's acks
// (by sequence) before fetching the next. Events not acked when the
// connection ends are handed back to JetStream for immediate redelivery.
func (s *Server) handleConnect(w http.ResponseWriter, r *http.Request) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer conn.Close()
	conn.SetReadLimit(maxClientMsg)

	nonce := make([]byte, 32)
	rand.Read(nonce)
	conn.SetWriteDeadline(time.Now().Add(authTimeout))
	if err := conn.WriteJSON(wire.Msg{Type: "challenge", Nonce: nonce}); err != nil {
		return
	}
	conn.SetReadDeadline(time.Now().Add(authTimeout))
	var auth wire.Msg
	if err := conn.ReadJSON(&auth); err != nil || auth.Type != "auth" {
		return
	}
	valid := func(t *Tenant) bool {
		return usable(t) && wire.Verify(t.AuthKey, wire.PurposeConnect, t.ID, nonce, nil, auth.Signature)
	}
	t := s.tenant(r.Context(), auth.Tenant, valid)
	if !valid(t) {
		s.metrics.rejected.WithLabelValues("", "auth").Inc()
		conn.WriteJSON(wire.Msg{Type: "error", Error: "unauthorized"})
		return
	}
	id := t.ID

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	// One live connection per tenant on this instance: a newer one (the
	// desktop reconnected) replaces the older, which would otherwise hold
	// events unacked.
	me := &liveConn{cancel: cancel}
	s.mu.Lock()
	if old := s.conns[id]; old != nil {
		old.cancel()
	}
	s.conns[id] = me
	s.mu.Unlock()
	s.wg.Add(1)
	defer func() {
		s.mu.Lock()
		// Only our own entry; a newer connection may have replaced it.
		if s.conns[id] == me {
			delete(s.conns, id)
		}
		s.mu.Unlock()
		s.wg.Done()
	}()
	s.metrics.connections.Inc()
	defer s.metrics.connections.Dec()

	cons, err := s.o.ensureConsumer(ctx, id, s.cfg.queue())
	if err != nil {
		conn.WriteJSON(wire.Msg{Type: "error", Error: "queue unavailable"})
		return
	}
	pending := uint64(0)
	if ci, err := cons.Info(ctx); err == nil {
		pending = ci.NumPending + uint64(ci.NumAckPending)
	}
	conn.SetWriteDeadline(time.Now().Add(authTimeout))
	if err := conn.WriteJSON(wire.Msg{Type: "ready", Pending: pending}); err != nil {
		return
	}
	conn.SetReadDeadline(time.Time{})

	// The reader: acks go to the delivery loop; a closed connection
	// ends everything.
	acks := make(chan []uint64, 16)
	go func() {
		defer cancel()
		for {
			var m wire.Msg
			if err := conn.ReadJSON(&m); err != nil {
				return
			}
			if m.Type == "ack" {
				select {
				case acks <- m.Seqs:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	// Pings keep proxies from closing an idle connection and let both
	// sides notice a dead one.
	go func() {
		tk := time.NewTicker(pingInterval)
		defer tk.Stop()
		for {
			select {
			case <-ctx.Done():
				conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
				conn.Close()
				return
			case <-tk.C:
				if conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(5*time.Second)) != nil {
					cancel()
					return
				}
			}
		}
	}()
	s.deliver(ctx, conn, id, acks)
}

// liveConn is a tenant's current delivery connection.
type liveConn struct{ cancel context.CancelFunc }

// deliver sends batches until ctx ends. It never has more than one batch
// out: the next is sent only when every event of the last one is acked,
// which keeps delivery in queue order. Between batches it waits for a wake
// (a webhook was queued for the tenant, on any instance of the cluster)
// or, for redeliveries, the poll interval.
//
// Nothing queued can block what is behind it: a batch is cut by bytes so
// the desktop's read limit always admits it (wire.MaxBatchBytes), and an
// event the desktop does not take (it fails on it, or dies handling it) is
// moved to the tenant's dead letters after MaxDeliveries deliveries. So
// that such a poison event does not take the innocent events of its batch
// along, a redelivered event is sent alone, and only these lone attempts
// are counted (in the attempts bucket: JetStream's own delivery count also
// grows for every event fetched behind it). Fresh events go in full
// batches.
func (s *Server) deliver(ctx context.Context, conn *websocket.Conn, id string, acks <-chan []uint64) {
	wake := make(chan struct{}, 1)
	sub, err := s.nc.Subscribe(wakeSubjectOf(id), func(*nats.Msg) {
		select {
		case wake <- struct{}{}:
		default:
		}
	})
	if err != nil {
		return
	}
	defer sub.Unsubscribe()

	// held: fetched, in sequence order, not sent yet; out: sent, not acked.
	var held []fetched
	out := map[uint64]fetched{}
	defer func() {
		// Unacked events go back at once (not after AckWait), so the
		// desktop's next connection gets them first, in sequence order:
		// JetStream redelivers in the order of the naks.
		for _, f := range held {
			out[f.seq] = f
		}
		for _, seq := range slices.Sorted(maps.Keys(out)) {
			out[seq].m.Nak()
		}
	}()
	ack := func(seqs []uint64) {
		// Acks the desktop sent are honoured even if the connection
		// closed right after.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		for _, seq := range seqs {
			f, ok := out[seq]
			if !ok {
				continue
			}
			// Double ack: the event is out of the work queue before
			// the next batch is fetched.
			if err := f.m.AckSync(nats.Context(actx)); err != nil {
				s.log.Warn("ack failed", "tenant", id, "err", err)
				continue
			}
			delete(out, seq)
			if f.redelivery {
				s.o.attempts.Purge(actx, attemptKey(id, seq))
			}
			s.metrics.delivered.WithLabelValues(id).Inc()
		}
	}
	// Raw bytes fetched at once: their batch message (base64, framing)
	// stays within wire.BatchBudget.
	fetchBytes := max((wire.BatchBudget-s.cfg.BatchSize*(wire.EventWireBytes(0)+4))*3/4, RequiredMaxPayload)
	woken := 0
	for ctx.Err() == nil {
		if len(held) == 0 {
			msgs, err := s.fetch(ctx, id, s.cfg.BatchSize, fetchBytes)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				s.log.Warn("fetch failed", "tenant", id, "err", err)
				if !sleepCtx(ctx, time.Second) {
					return
				}
				continue
			}
			for _, m := range msgs {
				meta, err := m.Metadata()
				if err != nil {
					m.Nak()
					continue
				}
				held = append(held, fetched{m: m, meta: meta, seq: meta.Sequence.Stream, redelivery: meta.NumDelivered > 1})
			}
			// Redeliveries come in the order of their naks, which need
			// not be the queue's.
			slices.SortFunc(held, func(a, b fetched) int { return cmp.Compare(a.seq, b.seq) })
		}
		if len(held) == 0 {
			if woken > 0 {
				// A publish was seen; the consumer may not have the
				// event yet (stream to consumer is asynchronous).
				woken--
				sleepCtx(ctx, 2*time.Millisecond)
				continue
			}
			t := time.NewTimer(s.cfg.PollWait)
			select {
			case <-ctx.Done():
			case <-wake:
				woken = 50
			case <-t.C:
			}
			t.Stop()
			continue
		}
		woken = 0

		var events []wire.Event
		used := 0
		for len(held) > 0 {
			f := held[0]
			w := wire.EventWireBytes(len(f.m.Data))
			if w > wire.BatchBudget {
				// Only an event queued under larger limits than
				// today's can be this big; it can never be delivered.
				if err := s.deadLetter(ctx, id, f, 0, "too_large"); err != nil {
					s.log.Error("dead letter failed", "tenant", id, "err", err)
					sleepCtx(ctx, time.Second)
					return // held (with f first) is nak'ed in order
				}
				held = held[1:]
				continue
			}
			if f.redelivery {
				if len(events) > 0 {
					break // it goes alone, next
				}
				n, err := s.countAttempt(ctx, id, f.seq)
				if err != nil {
					s.log.Warn("could not count a delivery attempt", "tenant", id, "err", err)
				}
				// n lone attempts, and the batch it first went out in.
				if n+1 >= s.cfg.MaxDeliveries {
					if err := s.deadLetter(ctx, id, f, n+1, "deliveries"); err != nil {
						s.log.Error("dead letter failed", "tenant", id, "err", err)
						sleepCtx(ctx, time.Second)
						return
					}
					held = held[1:]
					continue
				}
			}
			if used+w > wire.BatchBudget {
				break
			}
			used += w
			held = held[1:]
			out[f.seq] = f
			hold, slot := holdOf(f)
			events = append(events, wire.Event{Seq: f.seq, ReceivedAt: receivedAt(f),
				Sealed: f.m.Data, Redelivery: f.redelivery, Hold: hold, Slot: slot})
			if f.redelivery {
				break
			}
		}
		if len(events) == 0 {
			continue
		}
		pending := uint64(len(held))
		if len(held) > 0 {
			pending += held[len(held)-1].meta.NumPending
		} else {
			pending += out[events[len(events)-1].Seq].meta.NumPending
		}
		data, err := json.Marshal(wire.Msg{Type: "batch", Events: events, Pending: pending})
		if err != nil || len(data) > wire.MaxBatchBytes {
			// Impossible by construction (wire tests); never send what
			// the desktop would refuse.
			s.log.Error("batch over the desktop's read limit", "tenant", id, "bytes", len(data))
			return
		}
		conn.SetWriteDeadline(time.Now().Add(30 * time.Second))
		if err := conn.WriteMessage(websocket.TextMessage, data); err != nil {
			return
		}
		// Wait for the acks; keep the events in progress meanwhile so a
		// slow desktop does not get them twice.
		tk := time.NewTicker(s.cfg.AckWait / 3)
		for len(out) > 0 && ctx.Err() == nil {
			select {
			case <-ctx.Done():
			case <-tk.C:
				for _, f := range out {
					f.m.InProgress()
				}
				for _, f := range held {
					f.m.InProgress()
				}
			case seqs := <-acks:
				ack(seqs)
			}
		}
		tk.Stop()
		// Acks that arrived with the close.
		for {
			select {
			case seqs := <-acks:
				ack(seqs)
				continue
			default:
			}
			break
		}
	}
}

// fetched is an event taken from the tenant's consumer.
type fetched struct {
	m          *nats.Msg
	meta       *nats.MsgMetadata
	seq        uint64
	redelivery bool
}

// attemptKey names the count of an event's lone delivery attempts.
func attemptKey(tenant string, seq uint64) string {
	return tenant + "." + strconv.FormatUint(seq, 10)
}

// countAttempt adds one to an event's lone delivery attempts and returns
// how many there were before this one. The count lives in JetStream, so it
// holds across reconnects to other instances and restarts.
func (s *Server) countAttempt(ctx context.Context, id string, seq uint64) (int, error) {
	key := attemptKey(id, seq)
	n, rev := 0, uint64(0)
	e, err := s.o.attempts.Get(ctx, key)
	switch {
	case err == nil:
		n, _ = strconv.Atoi(string(e.Value()))
		rev = e.Revision()
	case !errors.Is(err, jetstream.ErrKeyNotFound):
		return 0, fmt.Errorf("relay: read attempts: %w", err)
	}
	val := []byte(strconv.Itoa(n + 1))
	if rev == 0 {
		_, err = s.o.attempts.Create(ctx, key, val)
	} else {
		_, err = s.o.attempts.Update(ctx, key, val, rev)
	}
	if err != nil {
		return n, fmt.Errorf("relay: count attempt: %w", err)
	}
	return n, nil
}

// fetch asks the tenant's consumer for what is queued now, at most n events
// and maxBytes bytes (as NATS counts them), without waiting for more.
// jetstream's FetchNoWait has no byte limit, and one without it could
// hold a hundred 1 MiB events in memory per connection.
func (s *Server) fetch(ctx context.Context, id string, n, maxBytes int) ([]*nats.Msg, error) {
	inbox := s.nc.NewInbox()
	ch := make(chan *nats.Msg, n+4)
	sub, err := s.nc.ChanSubscribe(inbox, ch)
	if err != nil {
		return nil, fmt.Errorf("relay: fetch: %w", err)
	}
	defer sub.Unsubscribe()
	req, _ := json.Marshal(map[string]any{"batch": n, "max_bytes": maxBytes, "no_wait": true})
	subj := "$JS.API.CONSUMER.MSG.NEXT." + streamName + "." + consumerOf(id)
	if err := s.nc.PublishRequest(subj, inbox, req); err != nil {
		return nil, fmt.Errorf("relay: fetch: %w", err)
	}
	var msgs []*nats.Msg
	left := maxBytes
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	// giveBack returns what came in, in order, to the queue at once.
	giveBack := func(err error) ([]*nats.Msg, error) {
		for _, m := range msgs {
			m.Nak()
		}
		return nil, err
	}
	done := ctx.Done()
	// The request ends with a status (404 no more, 408, 409 the next one
	// is over the byte limit) or, silently, when the count or the bytes
	// are used up exactly; reading on past that would lose nothing, but
	// stopping before it would leave an event delivered to nobody until
	// AckWait, so the sizes are counted as the server counts them.
	for len(msgs) < n && left > 0 {
		select {
		case <-done:
			// The request is out and JetStream answers it at once
			// (no_wait). Stopping here would leave the events of that
			// answer delivered to nobody, and the desktop's next
			// connection would wait out AckWait for them: read the
			// answer to its end, briefly, and hand it all back.
			done = nil
			t.Reset(time.Second)
		case <-t.C:
			if ctx.Err() != nil {
				return giveBack(ctx.Err())
			}
			if len(msgs) == 0 {
				return nil, errors.New("relay: fetch: no answer from JetStream")
			}
			return msgs, nil
		case m := <-ch:
			if st := m.Header.Get("Status"); st != "" {
				switch st {
				case "100": // heartbeat
					continue
				case "404", "408", "409":
					if ctx.Err() != nil {
						return giveBack(ctx.Err())
					}
					return msgs, nil
				default:
					return giveBack(fmt.Errorf("relay: fetch: status %s %s", st, m.Header.Get("Description")))
				}
			}
			left -= m.Size()
			msgs = append(msgs, m)
		}
	}
	if ctx.Err() != nil {
		return giveBack(ctx.Err())
	}
	return msgs, nil
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
