package engine

import (
	"context"
	"fmt"
	"time"

	"tsunagu/internal/inbox"
)

// LINE's reachability and the sends and fetches waiting for it (issue 17).
// The inbox's background workers hold the breakers; the engine adds the
// pushes and multicasts of the outbox and of campaigns, and resumes them
// when LINE answers again.

// BackgroundAttemptTimeout bounds one attempt of the background workers'
// LINE client. The fetch lanes and the send queue bound their calls more
// tightly (inbox.FetchConfig, inbox.SendQueueConfig); this only keeps the
// client's own per-attempt limit (15 s by default) from cutting a large
// download or an API that answers after 30 s.
const BackgroundAttemptTimeout = 10 * time.Minute

// ResumeInterval is how often pushes, multicasts and campaigns an outage
// left pending are looked at; StaleSendAge is how old a pending request
// must be before it is resent from here (younger ones belong to a sender
// at work).
const (
	ResumeInterval = time.Minute
	StaleSendAge   = 2 * time.Minute
)

// LineStatus is what the relay and LINE status area shows.
type LineStatus struct {
	inbox.LineStatus
	// WaitingBroadcasts counts push and multicast requests (the outbox's
	// and campaigns') not yet accepted by LINE.
	WaitingBroadcasts int  `json:"waitingBroadcasts"`
	Sandbox           bool `json:"sandbox"`
}

// LineStatus reports whether LINE's API answers, since when it does not,
// and how many fetches and sends wait for it.
func (e *Engine) LineStatus(ctx context.Context) (LineStatus, error) {
	st, err := e.inbox.LineStatus(ctx)
	if err != nil {
		return LineStatus{}, err
	}
	out := LineStatus{LineStatus: st, Sandbox: e.sandbox}
	if err := e.db.Reader().QueryRowContext(ctx, `
		SELECT (SELECT COUNT(*) FROM outbox_requests WHERE status = 'pending')
		     + (SELECT COUNT(*) FROM campaign_line_requests WHERE status = 'pending')`).Scan(&out.WaitingBroadcasts); err != nil {
		return LineStatus{}, fmt.Errorf("count waiting sends: %w", err)
	}
	return out, nil
}

// resumeSends resends what LINE did not accept: the outbox's pending
// requests at start, then every ResumeInterval and as soon as LINE is
// reachable again after an outage; campaigns left sending are relaunched
// likewise.
func (e *Engine) resumeSends(ctx context.Context) {
	if err := e.outbox.Resume(ctx); err != nil && ctx.Err() == nil {
		e.log.Warn("resuming outbox sends", "err", err)
	}
	const check = 5 * time.Second
	t := time.NewTicker(check)
	defer t.Stop()
	last, wasDown := time.Now(), false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		st, err := e.inbox.LineStatus(ctx)
		if err != nil {
			continue
		}
		recovered := wasDown && st.Reachable
		wasDown = !st.Reachable
		if !st.Reachable || !recovered && time.Since(last) < ResumeInterval {
			continue
		}
		last = time.Now()
		if err := e.outbox.ResumeStale(ctx, StaleSendAge); err != nil && ctx.Err() == nil {
			e.log.Warn("resuming outbox sends", "err", err)
		}
		var sending bool
		if err := e.db.Reader().QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM campaigns WHERE status = 'sending')`).Scan(&sending); err == nil && sending {
			e.camp.svc.Tick(ctx, true) // relaunches those not running here
		}
	}
}
