package facade

import (
	"errors"
	"fmt"
	"time"

	"tsunagu/internal/auth"
	"tsunagu/internal/engine"
	"tsunagu/internal/linesim"
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
		return engine.LineStatus{}, errors.New(codeNotStarted)
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
		return errors.New(codeContentMasked)
	}
	ib, err := a.inbox()
	if err != nil {
		return err
	}
	return a.userError(ib.FetchContent(a.ctx, messageID))
}

// SandboxSetOutage runs the outage drill in sandbox mode: the simulated
// LINE API stops answering ("refuse", "reset" or "blackhole"), answers
// after slowMs, or is back ("" and 0). Webhooks keep arriving.
func (a *App) SandboxSetOutage(mode string, slowMs int) error {
	if _, err := a.require(auth.PermSandbox); err != nil {
		return err
	}
	sim, err := a.sim()
	if err != nil {
		return err
	}
	if slowMs < 0 || slowMs > 120_000 {
		return errors.New(codeInvalidInput)
	}
	if err := sim.SetOutage(mode); err != nil {
		if errors.Is(err, linesim.ErrBadOutage) {
			return errors.New(codeInvalidInput)
		}
		return a.userError(fmt.Errorf("sandbox outage: %w", err))
	}
	sim.SetSlow(msDuration(slowMs))
	return nil
}

// SandboxExpireContent makes the simulated LINE answer as it does once it
// has deleted what customers sent (all content, or none again).
func (a *App) SandboxExpireContent(all bool) error {
	if _, err := a.require(auth.PermSandbox); err != nil {
		return err
	}
	sim, err := a.sim()
	if err != nil {
		return err
	}
	sim.SetContentExpired(all)
	return nil
}

func msDuration(ms int) time.Duration { return time.Duration(ms) * time.Millisecond }
