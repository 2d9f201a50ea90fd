package engine

import (
	"context"
	"errors"
	"time"

	"tsunagu/internal/audit"
	"tsunagu/internal/richmenu"
)

// RichMenuCheckInterval is how often the rich menu loop looks for changes
// (follows, links, imports, segments, assignments: a cheap query), and
// RichMenuMaxInterval how long it goes without a sync at most, which also
// checks that LINE still holds the published menus.
const (
	RichMenuCheckInterval = time.Minute
	RichMenuMaxInterval   = 15 * time.Minute
)

// startRichMenus builds the rich menu service over the LINE client and runs
// the sync loop until ctx ends (the engine's background context).
func (e *Engine) startRichMenus(ctx context.Context) {
	svc, err := richmenu.New(richmenu.Config{DB: e.db, Line: e.client, Segments: e.camp.segs, Clock: e.clock})
	if err != nil {
		e.log.Warn("rich menus", "err", err)
		return
	}
	e.rich = svc
	e.bg.Go(func() { e.richMenuLoop(ctx, svc) })
}

func (e *Engine) richMenuLoop(ctx context.Context, svc *richmenu.Service) {
	var lastFP string
	var lastSync time.Time
	t := time.NewTicker(RichMenuCheckInterval)
	defer t.Stop()
	for {
		fp, dirty, err := svc.Fingerprint(ctx)
		switch {
		case err != nil:
			if ctx.Err() == nil {
				e.log.Warn("rich menu check", "err", err)
			}
		case dirty || fp != lastFP || time.Since(lastSync) >= RichMenuMaxInterval:
			run, err := svc.Sync(ctx, audit.SystemActor, false)
			switch {
			case errors.Is(err, richmenu.ErrBusy):
				// Staff's "sync now" is running; look again next tick.
			case err != nil:
				if ctx.Err() == nil {
					e.log.Warn("rich menu sync", "err", err, "applied", run.Applied)
				}
			default:
				lastFP, lastSync = fp, time.Now()
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RichMenus manages per-segment rich menus; nil if the engine was opened
// without LINE.
func (e *Engine) RichMenus() *richmenu.Service { return e.rich }
