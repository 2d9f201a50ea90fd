package facade

import (
	"time"
	"tsunagu/internal/msgcode"

	"tsunagu/internal/auth"
	"tsunagu/internal/engine"
)

// LineStatus is what the status area shows of LINE's API: whether it
// answers, since when not, and how many fetches and sends wait for it.
// Counts only: nothing about customers.
func (a *App) LineStatus() (engine.LineStatus, error) {
	if _, err := a.require(auth.PermInboxRead); err != nil {
		return engine.LineStatus{}, err
	}
	a.mu.RLock()
	eng := a.eng
	a.mu.RUnlock()
	if eng == nil || eng.Inbox() == nil {
		return engine.LineStatus{}, msgcode.New(msgcode.NotStarted)
	}
	st, err := eng.LineStatus(a.ctx)
	return st, a.userError(err)
}

// FetchContent asks for a customer's photo, video, audio or file to be
// fetched from LINE again (再取得), after it could not be; the thread
// updates by itself when it arrives. Masked roles may not see customer
// media, so they may not ask for it either.
func (a *App) FetchContent(messageID int64) error {
	st, err := a.require(auth.PermInboxRead)
	if err != nil {
		return err
	}
	if st.Role.Masked() {
		a.denyMasked(st, "message_content")
		return msgcode.New(msgcode.ContentMasked)
	}
	ib, err := a.inbox()
	if err != nil {
		return err
	}
	return a.userError(ib.FetchContent(a.ctx, messageID))
}

func msDuration(ms int) time.Duration { return time.Duration(ms) * time.Millisecond }
