package engine

import (
	"time"

	"tsunagu/internal/automation"
)

// AutomationInterval is how often automations look for due messages.
const AutomationInterval = 30 * time.Second

// openAutomations builds the automation service over the DB and the outbox
// (without LINE, LINE occurrences are stored and sent by a later start).
func (e *Engine) openAutomations(clock func() time.Time) error {
	if e.auto != nil {
		e.auto.Close()
	}
	svc, err := automation.New(automation.Config{DB: e.db, Segments: e.camp.segs, Outbox: e.outbox,
		Notifier: e.camp.notifier, Links: e.Clicks(), Clock: clock, Logger: e.log,
		Triggers: []automation.Trigger{bookingReminders{e}}}) // booking.go
	if err != nil {
		return err
	}
	e.auto = svc
	return nil
}

// startAutomations starts the scheduler; its first pass resumes sends a
// crash interrupted and catches up on what was due while the app was closed.
func (e *Engine) startAutomations(opts Options) error {
	if err := e.openAutomations(opts.Clock); err != nil {
		return err
	}
	e.auto.Start(AutomationInterval)
	return nil
}

func (e *Engine) closeAutomations() {
	if e.auto != nil {
		e.auto.Close()
	}
}

// Automations manages welcome series and date reminders.
func (e *Engine) Automations() *automation.Service { return e.auto }
