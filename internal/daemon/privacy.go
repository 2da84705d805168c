package daemon

import (
	"context"
	"time"
)

// erasureLoop sends the platform deletions of erasures that are due again
// (a platform that failed is retried with a growing delay until it
// confirms), every minute.
func (d *Daemon) erasureLoop(ctx context.Context) {
	defer d.wg.Done()
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	for {
		if n, err := d.app.RetryErasures(ctx, d.opts.Now()); err != nil && ctx.Err() == nil {
			d.log.Warn("privacy: retrying platform deletions", "err", err)
		} else if n > 0 {
			d.log.Info("privacy: platform deletions retried", "tasks", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
