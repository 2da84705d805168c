package app

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/segconn/connector/internal/store"
)

// RetentionPolicy says how long the connector keeps what it no longer
// needs; a zero duration keeps that kind forever. Payloads should outlast
// the platforms' webhook retry windows (days): a processed event purged
// earlier is processed again if re-sent, which is harmless but costs work.
type RetentionPolicy struct {
	// Payloads: processed webhook events, written write-back items and
	// delivered outbound segment events.
	Payloads time.Duration
	// History: membership history (entries and exits); current
	// memberships are kept, and so is every entry the outbound relay has
	// not published yet.
	History time.Duration
	// Quarantine: records that could not be mapped.
	Quarantine time.Duration
}

// RetentionReport counts what EnforceRetention deleted.
type RetentionReport struct {
	store.PurgeResult
	Deliveries int `json:"deliveries"`
}

// EnforceRetention deletes what the policy no longer keeps, as of now.
// It is meant to run on a schedule (daily is plenty).
func (a *App) EnforceRetention(ctx context.Context, pol RetentionPolicy, now time.Time) (RetentionReport, error) {
	var rep RetentionReport
	cut := func(d time.Duration) time.Time {
		if d <= 0 {
			return time.Time{}
		}
		return now.Add(-d)
	}
	req := store.PurgeRequest{InboxBefore: cut(pol.Payloads), OutboxBefore: cut(pol.Payloads),
		HistoryBefore: cut(pol.History), QuarantineBefore: cut(pol.Quarantine)}
	if !req.HistoryBefore.IsZero() {
		upTo, err := a.relayedUpTo(ctx)
		if err != nil {
			return rep, err
		}
		req.HistoryUpTo = upTo
	}
	res, err := a.Store.Purge(ctx, req)
	if err != nil {
		return rep, err
	}
	rep.PurgeResult = res
	if !req.InboxBefore.IsZero() {
		if rep.Deliveries, err = a.Store.DeliveriesPurge(ctx, req.InboxBefore); err != nil {
			return rep, err
		}
	}
	a.Log.Info("retention enforced", "inbox", rep.Inbox, "outbox", rep.Outbox, "history", rep.History,
		"quarantine", rep.Quarantine, "deliveries", rep.Deliveries)
	return rep, nil
}

// relayedUpTo is the newest history entry the history may lose: the
// outbound relay's place when outbound webhooks are configured, else the
// head.
func (a *App) relayedUpTo(ctx context.Context) (int64, error) {
	if a.Outbound == nil {
		return a.Store.MembershipHistoryHead(ctx)
	}
	cur, err := a.Store.Cursor(ctx, relayPlatform, "", relayObject)
	if err != nil || cur == "" {
		return 0, err
	}
	n, err := strconv.ParseInt(cur, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("the outbound relay's place %q is not a history number: %w", cur, err)
	}
	return n, nil
}
