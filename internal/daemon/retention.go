package daemon

import (
	"context"
	"time"
)

// retentionLoop prunes finished work from the store and checkpoints its
// write-ahead log at start and every retention interval (see App.Prune).
func (d *Daemon) retentionLoop(ctx context.Context) {
	defer d.wg.Done()
	every := d.app.Config.Retention.Interval
	if every <= 0 {
		return
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		start := time.Now()
		got, err := d.app.Prune(ctx, d.opts.Now())
		switch {
		case err != nil && ctx.Err() == nil:
			d.log.Warn("pruning the store", "err", err)
		case got.Outbox+got.Inbox+got.History+got.Quarantine > 0:
			d.log.Info("pruned the store", "outbox_items", got.Outbox, "inbox_events", got.Inbox,
				"history_entries", got.History, "quarantined", got.Quarantine, "took", time.Since(start).Round(time.Millisecond))
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
