package store

import (
	"context"
	"time"
)

// Deliveries is the outbound webhook queue: a lease queue of events bound
// for the receivers configured under outbound, in order per endpoint.
type Deliveries interface {
	// DeliveriesEnqueue stores pending deliveries, skipping any whose
	// (endpoint, event id) is already stored, and reports how many were new.
	DeliveriesEnqueue(ctx context.Context, ds []Delivery) (int, error)
	// DeliveriesClaim leases up to limit pending deliveries of one
	// endpoint, oldest first, counting an attempt on each. It claims
	// nothing while any pending delivery of the endpoint is leased or
	// waiting for a retry after now, which keeps delivery in order.
	DeliveriesClaim(ctx context.Context, endpoint string, now time.Time, lease time.Duration, limit int) ([]Delivery, error)
	// DeliveriesDone marks claimed deliveries delivered.
	DeliveriesDone(ctx context.Context, ids []int64, now time.Time) error
	// DeliveriesFailed records failed attempts: each row is rescheduled
	// or, when Dead, dead-lettered. Its lease is released.
	DeliveriesFailed(ctx context.Context, fs []DeliveryFailure, now time.Time) error
	// DeliveriesList returns deliveries matching f, oldest first.
	DeliveriesList(ctx context.Context, f DeliveryFilter) ([]Delivery, error)
	// DeliveriesCounts returns the number of deliveries per endpoint and state.
	DeliveriesCounts(ctx context.Context) ([]DeliveryCount, error)
	// DeliveriesRequeue moves dead-lettered deliveries (all of them when
	// ids is empty) back to pending with a fresh attempt budget, due at now.
	DeliveriesRequeue(ctx context.Context, ids []int64, now time.Time) (int, error)
	// DeliveriesPurge deletes delivered rows finished before the given time.
	DeliveriesPurge(ctx context.Context, before time.Time) (int, error)
}

// DeliveryStatus is the state of an outbound delivery.
type DeliveryStatus string

// Delivery states.
const (
	DeliveryPending   DeliveryStatus = "pending"   // waiting for its first or next attempt
	DeliveryDelivered DeliveryStatus = "delivered" // a receiver answered 2xx
	DeliveryDead      DeliveryStatus = "dead"      // dead-lettered after its last attempt
)

// Delivery is one event bound for one endpoint. The store keeps the event
// as the payload it is given; the outbound package encodes and decodes it.
type Delivery struct {
	ID            int64
	Endpoint      string // the endpoint URL
	EventID       string
	EventType     string
	Payload       []byte
	Status        DeliveryStatus
	Attempts      int // attempts started so far
	CreatedAt     time.Time
	NextAttemptAt time.Time // due time; zero means CreatedAt (DeliveriesEnqueue)
	LastAttemptAt time.Time // zero before the first attempt
	LastError     string
	DoneAt        time.Time // delivered or dead-lettered at
}

// DeliveryFailure records a failed attempt of one claimed delivery.
type DeliveryFailure struct {
	ID            int64
	Error         string
	NextAttemptAt time.Time // when the next attempt is due; ignored when Dead
	Dead          bool      // no attempts left: move to the dead letters
}

// DeliveryFilter selects deliveries for DeliveriesList. Zero fields match
// everything.
type DeliveryFilter struct {
	Status   DeliveryStatus
	Endpoint string
	Limit    int // 0: no limit
}

// DeliveryCount is the number of deliveries of one endpoint in one state.
type DeliveryCount struct {
	Endpoint string
	Status   DeliveryStatus
	N        int
}
