package sqlstore

import "github.com/segconn/connector/internal/store"

// Hot queue statements, for the query-plan test.
const (
	OutboxSupersedeSQL = outboxSupersedeSQL
	InboxClaimSQL      = inboxClaimSQL
	DeliveriesClaimSQL = deliveriesClaimSQL
)

// OutboxClaimArgs are the claim's arguments.
func OutboxClaimArgs(until, now int64, platform, account string, limit int) []any {
	return outboxClaimArgs(leaseTimes{until: until, now: now}, platform, account, limit)
}

func (e *Engine) OutboxClaimSQL(lane store.OutboxLane) string { return e.outboxClaimSQL(lane) }
