package sqlstore

import (
	"context"
	"database/sql"
	"slices"
	"time"
)

// The inbox, the outbox and the outbound deliveries are lease queues with
// one shape: a claim is one transaction that stamps due rows with a lease
// end and an attempt and returns them (UPDATE … RETURNING, with SKIP
// LOCKED on PostgreSQL), a finished row is closed, and a failed one is
// released with the time it is due again (store.RetryPolicy computes it).
// A lease that runs out makes its row claimable again, so a claimer that
// died loses nothing. The tables differ only in what makes a row due and
// what else a claim must do first; claim holds the rest once.

// leaseTimes are the bounds of one claim, in stored units.
type leaseTimes struct {
	now, until int64
}

func (e *Engine) leaseTimes(now time.Time, lease time.Duration) leaseTimes {
	return leaseTimes{now: ts(now), until: ts(now.Add(lease))}
}

// claim runs a lease queue's claim in one write transaction: prepare (may
// be nil) does what must come first in it, then query, an UPDATE …
// RETURNING, leases the rows scan reads. The rows come back in id order,
// oldest first, whatever order the database returned them in.
func claim[T any](ctx context.Context, e *Engine, prepare func(tx *sql.Tx) error, query string, args []any,
	scan func(*sql.Rows) (T, error), id func(T) int64) ([]T, error) {
	var out []T
	err := e.inTx(ctx, func(tx *sql.Tx) error {
		if prepare != nil {
			if err := prepare(tx); err != nil {
				return err
			}
		}
		rows, err := tx.QueryContext(ctx, e.q(query), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			it, err := scan(rows)
			if err != nil {
				return err
			}
			out = append(out, it)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b T) int {
		x, y := id(a), id(b)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	})
	return out, nil
}
