package app

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/segconn/connector/internal/store"
)

// RunHistory is how long the run history keeps a finished run.
const RunHistory = 90 * 24 * time.Hour

// ChangeHistory is how long the store keeps the record of which profiles
// changed: a recompute whose last full load is older than that (it
// recomputes at least every pull) loads everything again.
const ChangeHistory = 24 * time.Hour

// Prune deletes what the retention settings no longer keep as of now
// (done write-back items, processed webhook events, membership history
// and quarantined records older than their windows; a window of zero
// keeps everything; finished runs older than RunHistory, and expired web
// sessions) and checkpoints SQLite's write-ahead log, so the store stops
// growing with finished work. Membership history goes only up to where
// the outbound relay has published it.
func (a *App) Prune(ctx context.Context, now time.Time) (store.Pruned, error) {
	r := a.Config.Retention
	var p store.Prune
	if r.Outbox > 0 {
		p.OutboxBefore = now.Add(-r.Outbox)
	}
	if r.Inbox > 0 {
		p.InboxBefore = now.Add(-r.Inbox)
	}
	if r.Quarantine > 0 {
		p.QuarantineBefore = now.Add(-r.Quarantine)
	}
	if r.History > 0 {
		upTo, err := a.historyPublished(ctx)
		if err != nil {
			return store.Pruned{}, err
		}
		p.HistoryBefore, p.HistoryUpTo = now.Add(-r.History), upTo
	}
	p.RunsBefore = now.Add(-RunHistory)
	p.ChangesBefore = now.Add(-ChangeHistory)
	got, err := a.Store.Prune(ctx, p)
	if err != nil {
		return got, err
	}
	return got, a.Store.Checkpoint(ctx)
}

// historyPublished is the number of the newest membership history entry
// the outbound relay has published: the whole history when no outbound
// webhook is configured.
func (a *App) historyPublished(ctx context.Context) (int64, error) {
	if a.Outbound == nil {
		return a.Store.MembershipHistoryHead(ctx)
	}
	cur, err := a.Store.Cursor(ctx, relayPlatform, "", relayObject)
	if err != nil || cur == "" {
		return 0, err
	}
	n, err := strconv.ParseInt(cur, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("reading the outbound relay's place %q: %w", cur, err)
	}
	return n, nil
}
