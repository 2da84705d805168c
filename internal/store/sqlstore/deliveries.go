package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/segconn/connector/internal/store"
)

// deliveryCols are the outbound_deliveries columns read by scanDelivery.
const deliveryCols = "id, endpoint, event_id, event_type, payload, status, attempts, created_at, next_attempt_at, last_attempt_at, last_error, done_at"

func scanDelivery(rows *sql.Rows) (store.Delivery, error) {
	var (
		d                         store.Delivery
		payload, status           string
		created, next, last, done int64
	)
	if err := rows.Scan(&d.ID, &d.Endpoint, &d.EventID, &d.EventType, &payload, &status, &d.Attempts, &created, &next, &last, &d.LastError, &done); err != nil {
		return d, err
	}
	d.Payload = []byte(payload)
	d.Status = store.DeliveryStatus(status)
	d.CreatedAt, d.NextAttemptAt, d.LastAttemptAt, d.DoneAt = fromTS(created), fromTS(next), fromTS(last), fromTS(done)
	return d, nil
}

func deliveryID(d store.Delivery) int64 { return d.ID }

// DeliveriesEnqueue implements store.Deliveries.
func (e *Engine) DeliveriesEnqueue(ctx context.Context, ds []store.Delivery) (int, error) {
	if len(ds) == 0 {
		return 0, nil
	}
	total := 0
	err := e.inTx(ctx, func(tx *sql.Tx) error {
		const chunk = 200
		for lo := 0; lo < len(ds); lo += chunk {
			part := ds[lo:min(lo+chunk, len(ds))]
			var b strings.Builder
			b.WriteString("INSERT INTO outbound_deliveries (endpoint, event_id, event_type, payload, status, attempts, created_at, next_attempt_at) VALUES ")
			args := make([]any, 0, len(part)*6)
			for i, d := range part {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString("(?, ?, ?, ?, 'pending', 0, ?, ?)")
				next := d.NextAttemptAt
				if next.IsZero() {
					next = d.CreatedAt
				}
				args = append(args, d.Endpoint, d.EventID, d.EventType, string(d.Payload), ts(d.CreatedAt), ts(next))
			}
			b.WriteString(" ON CONFLICT (endpoint, event_id) DO NOTHING")
			res, err := tx.ExecContext(ctx, e.q(b.String()), args...)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			total += int(n)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("enqueueing %d outbound deliveries: %w", len(ds), err)
	}
	return total, nil
}

// deliveriesClaimSQL leases an endpoint's oldest pending deliveries, but
// none while any of its pending deliveries is leased or waiting for a
// retry: delivery is in order per endpoint. The uncorrelated sub-queries
// are evaluated once, and the claimed_until test on the row itself makes a
// concurrent PostgreSQL claimer that blocked on the same rows skip them
// once it sees the first claimer's lease.
// Arguments: lease end, now, endpoint, limit, now, endpoint, now, now.
const deliveriesClaimSQL = `UPDATE outbound_deliveries
SET claimed_until = ?, attempts = attempts + 1, last_attempt_at = ?
WHERE id IN (SELECT id FROM outbound_deliveries WHERE endpoint = ? AND status = 'pending' ORDER BY id LIMIT ?)
AND status = 'pending' AND claimed_until <= ?
AND NOT EXISTS (SELECT 1 FROM outbound_deliveries
	WHERE endpoint = ? AND status = 'pending' AND (next_attempt_at > ? OR claimed_until > ?))
RETURNING ` + deliveryCols

// DeliveriesClaim implements store.Deliveries.
func (e *Engine) DeliveriesClaim(ctx context.Context, endpoint string, now time.Time, lease time.Duration, limit int) ([]store.Delivery, error) {
	lt := e.leaseTimes(now, lease)
	var prepare func(tx *sql.Tx) error
	if e.d.Name == "postgres" {
		// Claimers of one endpoint take turns: two UPDATEs locking the
		// same rows in different orders would deadlock, and delivery is
		// in order per endpoint anyway.
		prepare = func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('outbound:' || $1))`, endpoint)
			return err
		}
	}
	out, err := claim(ctx, e, prepare, deliveriesClaimSQL,
		[]any{lt.until, lt.now, endpoint, limit, lt.now, endpoint, lt.now, lt.now}, scanDelivery, deliveryID)
	if err != nil {
		return nil, fmt.Errorf("claiming outbound deliveries: %w", err)
	}
	return out, nil
}

// DeliveriesDone implements store.Deliveries.
func (e *Engine) DeliveriesDone(ctx context.Context, ids []int64, now time.Time) error {
	err := inList(ids, func(list string, args []any) error {
		_, err := e.w.ExecContext(ctx, e.q(`UPDATE outbound_deliveries SET status = 'delivered', claimed_until = 0, done_at = ?, last_error = ''
WHERE status = 'pending' AND id IN `+list), append([]any{ts(now)}, args...)...)
		return err
	})
	if err != nil {
		return fmt.Errorf("marking %d outbound deliveries delivered: %w", len(ids), err)
	}
	return nil
}

// DeliveriesFailed implements store.Deliveries.
func (e *Engine) DeliveriesFailed(ctx context.Context, fs []store.DeliveryFailure, now time.Time) error {
	if len(fs) == 0 {
		return nil
	}
	err := e.inTx(ctx, func(tx *sql.Tx) error {
		for _, f := range fs {
			var err error
			if f.Dead {
				_, err = tx.ExecContext(ctx, e.q(`UPDATE outbound_deliveries SET status = 'dead', claimed_until = 0, last_error = ?, done_at = ?
WHERE status = 'pending' AND id = ?`), f.Error, ts(now), f.ID)
			} else {
				_, err = tx.ExecContext(ctx, e.q(`UPDATE outbound_deliveries SET claimed_until = 0, next_attempt_at = ?, last_error = ?
WHERE status = 'pending' AND id = ?`), ts(f.NextAttemptAt), f.Error, f.ID)
			}
			if err != nil {
				return fmt.Errorf("delivery %d: %w", f.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("recording failed outbound deliveries: %w", err)
	}
	return nil
}

// DeliveriesList implements store.Deliveries.
func (e *Engine) DeliveriesList(ctx context.Context, f store.DeliveryFilter) ([]store.Delivery, error) {
	var (
		where []string
		args  []any
	)
	if f.Status != "" {
		where = append(where, "status = ?")
		args = append(args, string(f.Status))
	}
	if f.Endpoint != "" {
		where = append(where, "endpoint = ?")
		args = append(args, f.Endpoint)
	}
	s := "SELECT " + deliveryCols + " FROM outbound_deliveries"
	if len(where) > 0 {
		s += " WHERE " + strings.Join(where, " AND ")
	}
	s += " ORDER BY id"
	if f.Limit > 0 {
		s += " LIMIT ?"
		args = append(args, f.Limit)
	}
	rows, err := e.r.QueryContext(ctx, e.q(s), args...)
	if err != nil {
		return nil, fmt.Errorf("listing outbound deliveries: %w", err)
	}
	defer rows.Close()
	var out []store.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("listing outbound deliveries: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing outbound deliveries: %w", err)
	}
	return out, nil
}

// DeliveriesCounts implements store.Deliveries.
func (e *Engine) DeliveriesCounts(ctx context.Context) ([]store.DeliveryCount, error) {
	rows, err := e.r.QueryContext(ctx, `SELECT endpoint, status, COUNT(*) FROM outbound_deliveries
GROUP BY endpoint, status ORDER BY endpoint, status`)
	if err != nil {
		return nil, fmt.Errorf("counting outbound deliveries: %w", err)
	}
	defer rows.Close()
	var out []store.DeliveryCount
	for rows.Next() {
		var c store.DeliveryCount
		var st string
		if err := rows.Scan(&c.Endpoint, &st, &c.N); err != nil {
			return nil, fmt.Errorf("counting outbound deliveries: %w", err)
		}
		c.Status = store.DeliveryStatus(st)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("counting outbound deliveries: %w", err)
	}
	return out, nil
}

// DeliveriesRequeue implements store.Deliveries.
func (e *Engine) DeliveriesRequeue(ctx context.Context, ids []int64, now time.Time) (int, error) {
	const base = `UPDATE outbound_deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?, claimed_until = 0, done_at = 0
WHERE status = 'dead'`
	total := 0
	run := func(s string, args []any) error {
		res, err := e.w.ExecContext(ctx, e.q(s), args...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		total += int(n)
		return err
	}
	var err error
	if len(ids) == 0 {
		err = run(base, []any{ts(now)})
	} else {
		err = inList(ids, func(list string, args []any) error {
			return run(base+" AND id IN "+list, append([]any{ts(now)}, args...))
		})
	}
	if err != nil {
		return total, fmt.Errorf("re-queueing dead outbound deliveries: %w", err)
	}
	return total, nil
}

// DeliveriesPurge implements store.Deliveries.
func (e *Engine) DeliveriesPurge(ctx context.Context, before time.Time) (int, error) {
	res, err := e.w.ExecContext(ctx, e.q(`DELETE FROM outbound_deliveries WHERE status = 'delivered' AND done_at < ?`), ts(before))
	if err != nil {
		return 0, fmt.Errorf("purging delivered outbound deliveries: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("purging delivered outbound deliveries: %w", err)
	}
	return int(n), nil
}
