package sqlstore

import "github.com/segconn/connector/internal/store"

// Hot queue statements, for the query-plan test.
const (
	OutboxSupersedeSQL = outboxSupersedeSQL
	InboxClaimSQL      = inboxClaimSQL
	DeliveriesClaimSQL = deliveriesClaimSQL
)

func (e *Engine) OutboxClaimSQL(lane store.OutboxLane) string { return e.outboxClaimSQL(lane) }
