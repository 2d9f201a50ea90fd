package engine

import (
	"context"
	"time"

	"tsunagu/internal/audit"
	"tsunagu/internal/backup"
	"tsunagu/internal/erasure"
)

// ScheduleInterval is how often the scheduler checks whether a backup or
// the retention policy is due; a PC that was off catches up soon after
// start.
const ScheduleInterval = 5 * time.Minute

// Backups is the data folder's backup service: the window, the CLI and the
// scheduler make and record backups through it alike.
func (e *Engine) Backups() *backup.Service { return e.backups }

// Erasure is the data folder's eraser, with every feature's hooks.
func (e *Engine) Erasure() *erasure.Eraser { return e.erase }

// RunScheduledWork does, once, what the schedule says is due: a backup when
// the newest one (made by any program) is older than the interval, and the
// conversation retention policy, and LINE's statistics of the deliveries
// (insights: within LINE's delay and hourly limit), LINE's daily friend
// counts and today's own counts for the dashboard. Failures are logged: the next pass tries
// again.
func (e *Engine) RunScheduledWork(ctx context.Context) {
	if due, err := e.backups.Due(ctx); err != nil {
		e.log.Warn("scheduled backup", "err", err)
	} else if due {
		if _, err := e.backups.Create(ctx, audit.SystemActor, ""); err != nil {
			e.log.Error("scheduled backup failed", "err", err)
		}
	}
	if _, err := e.erase.ApplyStoredRetention(ctx, audit.SystemActor); err != nil {
		e.log.Error("retention", "err", err)
	}
	e.fetchInsights(ctx)
	if svc := e.Routes(); svc != nil {
		// Routes the relay does not know yet (it was unreachable) or
		// must be reminded of before it forgets them.
		if _, err := svc.Publish(ctx); err != nil {
			e.log.Warn("inflow routes not published", "err", err)
		}
	}
	e.snapshotOwnCounts(ctx)
}

// RunSchedule runs RunScheduledWork every interval until ctx ends: in the
// window and under `tsunagu-cli sync`, so an office that runs either gets
// the same backups and retention.
func (e *Engine) RunSchedule(ctx context.Context, every time.Duration) {
	Schedule(ctx, every, func() *Engine { return e })
}

// Schedule runs the scheduled work of the engine current returns, every
// interval until ctx ends. current is asked at each pass because the window
// replaces its engine when the channel changes; nil (none running) skips
// the pass.
func Schedule(ctx context.Context, every time.Duration, current func() *Engine) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if e := current(); e != nil && e.db != nil {
				e.RunScheduledWork(ctx)
			}
		}
	}
}
