package relay

import (
	"context"
	"crypto/rand"
	"maps"
	"net/http"
	"slices"
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
	s.deliver(ctx, conn, id, cons, acks)
}

// liveConn is a tenant's current delivery connection.
type liveConn struct{ cancel context.CancelFunc }

// deliver sends batches until ctx ends. It never has more than one batch
// out: the next is fetched only when every event of the last one is acked,
// which keeps delivery in queue order. Between batches it waits for a
// publish on the tenant's subject (seen by every instance on the cluster)
// or, for redeliveries, the poll interval.
func (s *Server) deliver(ctx context.Context, conn *websocket.Conn, id string, cons jetstream.Consumer, acks <-chan []uint64) {
	wake := make(chan *nats.Msg, 1)
	sub, err := s.nc.Subscribe(subjectOf(id), func(m *nats.Msg) {
		select {
		case wake <- m:
		default:
		}
	})
	if err != nil {
		return
	}
	defer sub.Unsubscribe()

	out := map[uint64]jetstream.Msg{}
	defer func() {
		// Unacked events go back at once (not after AckWait), so the
		// desktop's next connection gets them first.
		// In sequence order: JetStream redelivers in the order of the naks.
		for _, seq := range slices.Sorted(maps.Keys(out)) {
			out[seq].Nak()
		}
	}()
	ack := func(seqs []uint64) {
		// Acks the desktop sent are honoured even if the connection
		// closed right after.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		for _, seq := range seqs {
			m, ok := out[seq]
			if !ok {
				continue
			}
			// Double ack: the event is out of the work queue before
			// the next batch is fetched.
			if err := m.DoubleAck(actx); err != nil {
				s.log.Warn("ack failed", "tenant", id, "err", err)
				continue
			}
			delete(out, seq)
			s.metrics.delivered.WithLabelValues(id).Inc()
		}
	}
	woken := 0
	for ctx.Err() == nil {
		batch, err := cons.FetchNoWait(s.cfg.BatchSize)
		if err != nil {
			s.log.Warn("fetch failed", "tenant", id, "err", err)
			if !sleepCtx(ctx, time.Second) {
				return
			}
			continue
		}
		var events []wire.Event
		var left uint64
		for m := range batch.Messages() {
			meta, err := m.Metadata()
			if err != nil {
				m.Nak()
				continue
			}
			seq := meta.Sequence.Stream
			out[seq] = m
			left = meta.NumPending
			events = append(events, wire.Event{Seq: seq, ReceivedAt: meta.Timestamp.UnixMilli(),
				Sealed: m.Data(), Redelivery: meta.NumDelivered > 1})
		}
		if len(events) == 0 {
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
		conn.SetWriteDeadline(time.Now().Add(30 * time.Second))
		if err := conn.WriteJSON(wire.Msg{Type: "batch", Events: events, Pending: left}); err != nil {
			return
		}
		// Wait for the acks; keep the events in progress meanwhile so a
		// slow desktop does not get them twice.
		tk := time.NewTicker(s.cfg.AckWait / 3)
		for len(out) > 0 && ctx.Err() == nil {
			select {
			case <-ctx.Done():
			case <-tk.C:
				for _, m := range out {
					m.InProgress()
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
