package app

import (
	"context"
	"time"

	"github.com/segconn/connector/internal/store"
)

// RunHistory is how long the run history keeps a finished run.
const RunHistory = 90 * 24 * time.Hour

// Prune deletes what the retention settings no longer keep as of now
// (done write-back items and processed webhook events older than their
// windows; a window of zero keeps everything; finished runs older than
// RunHistory, and expired web sessions) and checkpoints SQLite's
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
	p.RunsBefore = now.Add(-RunHistory)
	got, err := a.Store.Prune(ctx, p)
	if err != nil {
		return got, err
	}
	return got, a.Store.Checkpoint(ctx)
}
