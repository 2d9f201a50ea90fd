package facade

import (
	"context"

	"tsunagu/internal/auth"
	"tsunagu/internal/engine"
)

// LineStatus is what the status area shows of LINE's API: whether it
// answers, since when not, and how many fetches and sends wait for it.
// Counts only: nothing about customers.
func (s *InboxService) LineStatus() (engine.LineStatus, error) {
	return call(s.a, auth.PermInboxRead, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) (engine.LineStatus, error) {
		return eng.LineStatus(ctx)
	})
}

// FetchContent asks for a customer's photo, video, audio or file to be
// fetched from LINE again (再取得), after it could not be; the thread
// updates by itself when it arrives. Masked roles may not see customer
// media, so they may not ask for it either.
func (s *InboxService) FetchContent(messageID int64) error {
	return run(s.a, auth.PermInboxRead, func(ctx context.Context, st auth.Staff, eng *engine.Engine) error {
		return eng.Inbox().As(st).FetchContent(ctx, messageID)
	})
}
