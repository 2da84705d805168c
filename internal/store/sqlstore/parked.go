package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/segconn/connector/internal/store"
)

// OutboxParked implements store.Store.
func (e *Engine) OutboxParked(ctx context.Context, platform string, limit int) ([]store.OutboxItem, error) {
	q := `SELECT ` + outboxCols + ` FROM outbox WHERE status = 'failed' AND (platform = ? OR ? = '') ORDER BY updated_at DESC, id DESC`
	args := []any{platform, platform}
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := e.r.QueryContext(ctx, e.q(q), args...)
	if err != nil {
		return nil, fmt.Errorf("listing failed write-back items: %w", err)
	}
	defer rows.Close()
	var out []store.OutboxItem
	for rows.Next() {
		it, err := scanOutbox(rows)
		if err != nil {
			return nil, fmt.Errorf("listing failed write-back items: %w", err)
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// OutboxRequeue implements store.Store. Of the failed items asked for,
// the newest of each record goes back to pending unless the record has a
// pending or leased item already; every other one is superseded, so the
// record's next write sets whatever it touched explicitly.
func (e *Engine) OutboxRequeue(ctx context.Context, ids []int64) (int, error) {
	now := ts(e.now())
	requeued := 0
	err := e.inTx(ctx, func(tx *sql.Tx) error {
		type rec struct{ platform, account, key string }
		newest := map[rec]int64{}
		var asked []int64
		err := inList(ids, func(list string, args []any) error {
			rows, err := tx.QueryContext(ctx, e.q(`SELECT id, platform, account, item_key FROM outbox WHERE status = 'failed' AND id IN `+list), args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var id int64
				var r rec
				if err := rows.Scan(&id, &r.platform, &r.account, &r.key); err != nil {
					return err
				}
				asked = append(asked, id)
				if id > newest[r] {
					newest[r] = id
				}
			}
			return rows.Err()
		})
		if err != nil {
			return err
		}
		winners := map[int64]bool{}
		for _, id := range newest {
			winners[id] = true
		}
		var back, aside []int64
		for _, id := range asked {
			if winners[id] {
				back = append(back, id)
			} else {
				aside = append(aside, id)
			}
		}
		if err := inList(back, func(list string, args []any) error {
			_, err := tx.ExecContext(ctx, e.q(`UPDATE outbox SET status = 'superseded', last_error = 'requeued: superseded by a newer item', updated_at = ?
				WHERE status = 'failed' AND id IN `+list+` AND EXISTS (SELECT 1 FROM outbox o2 WHERE o2.platform = outbox.platform AND o2.account = outbox.account
					AND o2.item_key = outbox.item_key AND o2.status IN ('pending', 'leased'))`), append([]any{now}, args...)...)
			if err != nil {
				return err
			}
			res, err := tx.ExecContext(ctx, e.q(`UPDATE outbox SET status = 'pending', attempts = 0, not_before = ?, leased_until = 0, deferred = 0, updated_at = ?,
				last_error = 'requeued after: ' || last_error WHERE status = 'failed' AND id IN `+list), append([]any{now, now}, args...)...)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			requeued += int(n)
			return nil
		}); err != nil {
			return err
		}
		return inList(aside, func(list string, args []any) error {
			_, err := tx.ExecContext(ctx, e.q(`UPDATE outbox SET status = 'superseded', last_error = 'requeued: superseded by a newer item', updated_at = ? WHERE status = 'failed' AND id IN `+list),
				append([]any{now}, args...)...)
			return err
		})
	})
	if err != nil {
		return 0, fmt.Errorf("requeueing %d failed write-back items: %w", len(ids), err)
	}
	return requeued, nil
}

// OutboxRecentWrites implements store.Store.
func (e *Engine) OutboxRecentWrites(ctx context.Context, platform, account string, keys []string, since time.Time) (map[string][]store.OutboxItem, error) {
	out := map[string][]store.OutboxItem{}
	err := inList(keys, func(list string, args []any) error {
		rows, err := e.r.QueryContext(ctx, e.q(`SELECT `+outboxCols+` FROM outbox WHERE platform = ? AND account = ? AND item_key IN `+list+` AND status = 'done' AND updated_at >= ? ORDER BY id`),
			append(append([]any{platform, account}, args...), ts(since))...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			it, err := scanOutbox(rows)
			if err != nil {
				return err
			}
			out[it.Key] = append(out[it.Key], it)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("reading recent write-backs of %d %s records: %w", len(keys), platform, err)
	}
	return out, nil
}
