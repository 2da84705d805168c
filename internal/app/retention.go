package app

import (
	"context"
	"time"

	"github.com/segconn/connector/internal/store"
)

// Prune deletes what the retention settings no longer keep as of now
// (done write-back items and processed webhook events older than their
// windows; a window of zero keeps everything) and checkpoints SQLite's
// write-ahead log, so the store stops growing with finished work.
func (a *App) Prune(ctx context.Context, now time.Time) (store.Pruned, error) {
	r := a.Config.Retention
	var p store.Prune
	if r.Outbox > 0 {
		p.OutboxBefore = now.Add(-r.Outbox)
	}
	if r.Inbox > 0 {
		p.InboxBefore = now.Add(-r.Inbox)
	}
	got, err := a.Store.Prune(ctx, p)
	if err != nil {
		return got, err
	}
	return got, a.Store.Checkpoint(ctx)
}
