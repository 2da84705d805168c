package outbound

import (
	"context"
	"time"
)

// Status is the state of a delivery row.
type Status string

// Delivery states.
const (
	StatusPending   Status = "pending"   // waiting for its first or next attempt
	StatusDelivered Status = "delivered" // a receiver answered 2xx
	StatusDead      Status = "dead"      // dead-lettered after MaxAttempts
)

// Delivery is one event bound for one endpoint.
type Delivery struct {
	ID            int64     `json:"id"`
	Endpoint      string    `json:"endpoint"` // the endpoint URL
	Event         Event     `json:"event"`
	Status        Status    `json:"status"`
	Attempts      int       `json:"attempts"` // attempts started so far
	CreatedAt     time.Time `json:"created_at"`
	NextAttemptAt time.Time `json:"next_attempt_at,omitzero"`
	LastAttemptAt time.Time `json:"last_attempt_at,omitzero"` // zero before the first attempt
	LastError     string    `json:"last_error,omitempty"`
	DoneAt        time.Time `json:"done_at,omitzero"` // delivered or dead-lettered at
}

// Failure records a failed attempt of one claimed delivery.
type Failure struct {
	ID            int64
	Error         string
	NextAttemptAt time.Time // when the next attempt is due; ignored when Dead
	Dead          bool      // no attempts left: move to the dead letters
}

// ListFilter selects deliveries for List. Zero fields match everything.
type ListFilter struct {
	Status   Status
	Endpoint string
	Limit    int // 0: no limit
}

// Count is the number of deliveries of one endpoint in one state.
type Count struct {
	Endpoint string `json:"endpoint"`
	Status   Status `json:"status"`
	N        int    `json:"n"`
}

// Queue persists deliveries. Implementations must be safe for concurrent
// use, and Claim must never hand the same row to two claimers whose
// leases overlap.
type Queue interface {
	// Enqueue stores pending deliveries, skipping any whose (endpoint,
	// event id) is already stored, and reports how many were new.
	Enqueue(ctx context.Context, ds []Delivery) (int, error)
	// Claim leases up to limit pending deliveries of one endpoint, oldest
	// first, counting an attempt on each. It claims nothing while any
	// pending delivery of the endpoint is leased or waiting for a retry
	// after now, which keeps delivery in order per endpoint.
	Claim(ctx context.Context, endpoint string, now time.Time, lease time.Duration, limit int) ([]Delivery, error)
	// Done marks claimed deliveries delivered.
	Done(ctx context.Context, ids []int64, now time.Time) error
	// Fail records failed attempts: each row is rescheduled or, when Dead,
	// dead-lettered. Its lease is released.
	Fail(ctx context.Context, fs []Failure, now time.Time) error
	// List returns deliveries matching f, oldest first.
	List(ctx context.Context, f ListFilter) ([]Delivery, error)
	// Counts returns the number of deliveries per endpoint and state.
	Counts(ctx context.Context) ([]Count, error)
	// Requeue moves dead-lettered deliveries (all of them when ids is
	// empty) back to pending with a fresh attempt budget, due at now.
	Requeue(ctx context.Context, ids []int64, now time.Time) (int, error)
	// Purge deletes delivered rows finished before the given time.
	Purge(ctx context.Context, before time.Time) (int, error)
}

// DeadLetters lists the dead-lettered deliveries, oldest first.
func DeadLetters(ctx context.Context, q Queue, endpoint string, limit int) ([]Delivery, error) {
	return q.List(ctx, ListFilter{Status: StatusDead, Endpoint: endpoint, Limit: limit})
}

// Pending lists the deliveries still to be sent, oldest first.
func Pending(ctx context.Context, q Queue, endpoint string, limit int) ([]Delivery, error) {
	return q.List(ctx, ListFilter{Status: StatusPending, Endpoint: endpoint, Limit: limit})
}
