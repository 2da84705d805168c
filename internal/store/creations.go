package store

import (
	"context"
	"time"

	"github.com/segconn/connector/plugins/sdk/domain"
)

// Creations keeps the records write-back created on platforms where a
// segment needed one (see adapter.Creator).
type Creations interface {
	// RecordCreated records one creation round in one transaction: each
	// created (or found) record is linked to its profile as a pulled
	// contact would be and remembered as created by the connector, and
	// the round's outcome is settled (OutboxSettle: ownership of what the
	// creation wrote, the creation items done) and the records' remaining
	// write-back (their list memberships) enqueued. A crash leaves either
	// all of it or none: the creation item is then claimed again, and the
	// adapter's upsert finds the record the lost attempt made.
	RecordCreated(ctx context.Context, c CreatedRound) error

	// CreatedCount counts the records the connector created on a
	// platform account.
	CreatedCount(ctx context.Context, platform, account string) (int, error)
}

// CreatedRound is what RecordCreated records.
type CreatedRound struct {
	Platform, Account string
	Records           []CreatedRecord
	Settle            Settlement
	Enqueue           []OutboxItem
}

// CreatedRecord is one record a creation made or found.
type CreatedRecord struct {
	ProfileID string
	// Contact is the record as the creation wrote it (its Ref, email and
	// names); it is linked like a pulled contact, so the profile gains
	// the link at once, not only at the next pull.
	Contact domain.Contact
	// New is false when the platform already had the record (an earlier
	// attempt made it, or it matched an existing one).
	New       bool
	CreatedAt time.Time
}
