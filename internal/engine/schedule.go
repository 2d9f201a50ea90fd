package engine

import (
	"context"
	"strconv"
	"time"

	"tsunagu/internal/audit"
	"tsunagu/internal/auth"
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
// conversation retention policy. Failures are logged: the next pass tries
// again.
func (e *Engine) RunScheduledWork(ctx context.Context) {
	if due, err := e.backups.Due(ctx); err != nil {
		e.log.Warn("scheduled backup", "err", err)
	} else if due {
		if _, err := e.backups.Create(ctx, audit.SystemActor, ""); err != nil {
			e.log.Error("scheduled backup failed", "err", err)
		}
	}
	if v, _ := auth.GetSetting(ctx, e.db.Reader(), erasure.SettingRetentionDays); v != "" {
		if days, err := strconv.Atoi(v); err == nil && days > 0 {
			if _, err := e.erase.ApplyRetention(ctx, audit.SystemActor, days); err != nil {
				e.log.Error("retention", "err", err)
			}
		}
	}
}

// RunSchedule runs RunScheduledWork every interval until ctx ends: in the
// window and under `tsunagu-cli sync`, so an office that runs either gets
// the same backups and retention.
func (e *Engine) RunSchedule(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			e.RunScheduledWork(ctx)
		}
	}
}
