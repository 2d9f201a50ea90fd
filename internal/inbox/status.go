package inbox

import (
	"context"
	"fmt"
)

// LineStatus is what the status area shows of LINE's API: whether it is
// reachable, since when it is not, and what waits for it.
type LineStatus struct {
	Reachable bool `json:"reachable"`
	// DownSince is when the first endpoint now down stopped answering
	// (unix ms); 0 while everything answers.
	DownSince int64 `json:"downSince"`
	// Down names the endpoints whose breaker is open: profile, content,
	// send.
	Down []string `json:"down"`
	FetchCounts
	// WaitingSends counts outgoing messages not yet delivered (queued,
	// or being sent).
	WaitingSends int `json:"waitingSends"`
}

// LineStatus reports LINE's reachability as the background work sees it,
// and what is waiting.
func (ib *Inbox) LineStatus(ctx context.Context) (LineStatus, error) {
	st := LineStatus{Reachable: true, Down: []string{}}
	for _, b := range []struct {
		name string
		br   *breaker
	}{{"profile", ib.brProfile}, {"content", ib.brContent}, {"send", ib.brSend}} {
		if open, since := b.br.state(); open {
			st.Reachable = false
			st.Down = append(st.Down, b.name)
			if ms := since.UnixMilli(); st.DownSince == 0 || ms < st.DownSince {
				st.DownSince = ms
			}
		}
	}
	c, err := ib.fetchCounts(ctx)
	if err != nil {
		return st, err
	}
	st.FetchCounts = c
	if err := ib.db.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM messages WHERE status = 'pending' AND direction = 'out'`).
		Scan(&st.WaitingSends); err != nil {
		return st, fmt.Errorf("count waiting sends: %w", err)
	}
	return st, nil
}

// emitLineStatus tells the UI that LINE's reachability changed.
func (ib *Inbox) emitLineStatus() {
	if ib.emit == nil {
		return
	}
	reachable := true
	for _, br := range []*breaker{ib.brProfile, ib.brContent, ib.brSend} {
		if open, _ := br.state(); open {
			reachable = false
		}
	}
	ib.emit.Emit(EventLineStatus, LineStatusEvent{Reachable: reachable})
}
