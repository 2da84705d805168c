package store

import (
	"context"
	"time"
)

// Retention deletes what the connector no longer needs after a while:
// webhook payloads already processed, write-back items already written,
// old membership history and old quarantined records. Current state
// (profiles, memberships, pending work, parked failures) is never purged.
type Retention interface {
	// Purge deletes, in one transaction, what the request's cut-offs
	// select; a zero cut-off keeps that kind forever.
	Purge(ctx context.Context, req PurgeRequest) (PurgeResult, error)
}

// PurgeRequest selects what Purge deletes.
type PurgeRequest struct {
	// InboxBefore: processed webhook events received before it.
	InboxBefore time.Time
	// OutboxBefore: written (done) write-back items last updated before
	// it; pending, leased, superseded and failed items stay.
	OutboxBefore time.Time
	// HistoryBefore: membership history entries recorded before it and
	// numbered at most HistoryUpTo (the outbound relay's place, so no
	// entry it has not published is lost).
	HistoryBefore time.Time
	HistoryUpTo   int64
	// QuarantineBefore: quarantined records stored before it.
	QuarantineBefore time.Time
}

// PurgeResult counts the rows Purge deleted.
type PurgeResult struct {
	Inbox      int `json:"inbox"`
	Outbox     int `json:"outbox"`
	History    int `json:"history"`
	Quarantine int `json:"quarantine"`
}
