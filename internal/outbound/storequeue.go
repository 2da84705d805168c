package outbound

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/segconn/connector/internal/store"
)

// StoreQueue is the Queue over the store's outbound_deliveries table
// (store.Deliveries): it encodes events into the rows' payload and back.
// The store owns the table, its migrations and its SQL.
type StoreQueue struct {
	d store.Deliveries
}

var _ Queue = (*StoreQueue)(nil)

// NewStoreQueue returns the Queue kept by the store.
func NewStoreQueue(d store.Deliveries) *StoreQueue { return &StoreQueue{d: d} }

func toStored(d Delivery) (store.Delivery, error) {
	payload, err := json.Marshal(d.Event)
	if err != nil {
		return store.Delivery{}, fmt.Errorf("encoding outbound event %s: %w", d.Event.ID, err)
	}
	return store.Delivery{
		ID: d.ID, Endpoint: d.Endpoint, EventID: d.Event.ID, EventType: d.Event.Type, Payload: payload,
		Status: store.DeliveryStatus(d.Status), Attempts: d.Attempts, CreatedAt: d.CreatedAt,
		NextAttemptAt: d.NextAttemptAt, LastAttemptAt: d.LastAttemptAt, LastError: d.LastError, DoneAt: d.DoneAt,
	}, nil
}

func fromStored(sds []store.Delivery) ([]Delivery, error) {
	out := make([]Delivery, 0, len(sds))
	for _, sd := range sds {
		d := Delivery{
			ID: sd.ID, Endpoint: sd.Endpoint, Status: Status(sd.Status), Attempts: sd.Attempts,
			CreatedAt: sd.CreatedAt, NextAttemptAt: sd.NextAttemptAt, LastAttemptAt: sd.LastAttemptAt,
			LastError: sd.LastError, DoneAt: sd.DoneAt,
		}
		if err := json.Unmarshal(sd.Payload, &d.Event); err != nil {
			return nil, fmt.Errorf("decoding stored event of delivery %d: %w", sd.ID, err)
		}
		out = append(out, d)
	}
	return out, nil
}

// Enqueue implements Queue.
func (q *StoreQueue) Enqueue(ctx context.Context, ds []Delivery) (int, error) {
	sds := make([]store.Delivery, len(ds))
	for i, d := range ds {
		sd, err := toStored(d)
		if err != nil {
			return 0, err
		}
		sds[i] = sd
	}
	return q.d.DeliveriesEnqueue(ctx, sds)
}

// Claim implements Queue.
func (q *StoreQueue) Claim(ctx context.Context, endpoint string, now time.Time, lease time.Duration, limit int) ([]Delivery, error) {
	if limit <= 0 {
		limit = DefaultBatchSize
	}
	sds, err := q.d.DeliveriesClaim(ctx, endpoint, now, lease, limit)
	if err != nil {
		return nil, fmt.Errorf("endpoint %s: %w", DisplayURL(endpoint), err)
	}
	return fromStored(sds)
}

// Done implements Queue.
func (q *StoreQueue) Done(ctx context.Context, ids []int64, now time.Time) error {
	return q.d.DeliveriesDone(ctx, ids, now)
}

// Fail implements Queue.
func (q *StoreQueue) Fail(ctx context.Context, fs []Failure, now time.Time) error {
	sfs := make([]store.DeliveryFailure, len(fs))
	for i, f := range fs {
		sfs[i] = store.DeliveryFailure(f)
	}
	return q.d.DeliveriesFailed(ctx, sfs, now)
}

// List implements Queue.
func (q *StoreQueue) List(ctx context.Context, f ListFilter) ([]Delivery, error) {
	sds, err := q.d.DeliveriesList(ctx, store.DeliveryFilter{Status: store.DeliveryStatus(f.Status), Endpoint: f.Endpoint, Limit: f.Limit})
	if err != nil {
		return nil, err
	}
	return fromStored(sds)
}

// Counts implements Queue.
func (q *StoreQueue) Counts(ctx context.Context) ([]Count, error) {
	scs, err := q.d.DeliveriesCounts(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Count, len(scs))
	for i, c := range scs {
		out[i] = Count{Endpoint: c.Endpoint, Status: Status(c.Status), N: c.N}
	}
	return out, nil
}

// Requeue implements Queue.
func (q *StoreQueue) Requeue(ctx context.Context, ids []int64, now time.Time) (int, error) {
	return q.d.DeliveriesRequeue(ctx, ids, now)
}

// Purge implements Queue.
func (q *StoreQueue) Purge(ctx context.Context, before time.Time) (int, error) {
	return q.d.DeliveriesPurge(ctx, before)
}
