package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"iter"
	"slices"
	"time"

	"github.com/segconn/connector/internal/store"
)

// OutboxEnqueue implements store.Store.
func (e *Engine) OutboxEnqueue(ctx context.Context, items []store.OutboxItem) error {
	now := e.now()
	err := e.inTxRetry(ctx, func(tx *sql.Tx) error {
		_, err := e.queueOutbox(ctx, tx, store.OutboxItems(items), now)
		return err
	})
	if err != nil {
		return fmt.Errorf("enqueueing %d write-back items: %w", len(items), err)
	}
	return nil
}

// outboxInsertCols are the columns queueOutbox writes.
var outboxInsertCols = []string{"platform", "account", "item_key", "payload", "status", "not_before", "created_at", "updated_at"}

// outboxUpsert makes a newer state of a record with a pending item
// replace that item's.
const outboxUpsert = "ON CONFLICT (platform, account, item_key) WHERE status = 'pending' DO UPDATE SET payload = excluded.payload, not_before = excluded.not_before, updated_at = excluded.updated_at, attempts = 0, last_error = '', deferred = 0"

// outboxBatch caps the rows of one queueOutbox statement. Payloads run
// to a few kilobytes and the database driver copies a statement's
// arguments more than once (pgx: into its argument buffer, then the
// bind message), so a batch costs several times its payloads; 256 rows
// (a power of two, so bulkInsert writes a full batch in one statement)
// keep that to a few megabytes (BenchmarkApply in internal/pipeline).
const outboxBatch = 256

// queueOutbox checks and upserts the items seq yields, one statement's
// worth at a time, so that only one batch of them is held however many
// there are; it returns how many it read. A later item for the same
// record replaces an earlier one: in one batch it is dropped before the
// statement (PostgreSQL refuses a statement that upserts a row twice),
// across batches the upsert replaces it.
func (e *Engine) queueOutbox(ctx context.Context, tx *sql.Tx, seq iter.Seq2[store.OutboxItem, error], now time.Time) (int, error) {
	if seq == nil {
		return 0, nil
	}
	w := outboxWriter{e: e, per: min(outboxBatch, e.chunkRows(len(outboxInsertCols))), now: now, last: map[[3]string]int{}}
	batch := make([]store.OutboxItem, 0, w.per)
	w.rows = make([][]any, 0, w.per)
	n := 0
	for it, err := range seq {
		if err != nil {
			return n, err
		}
		if it.Platform == "" || it.Key == "" {
			return n, fmt.Errorf("enqueueing write-back item %d: platform and key are required", n)
		}
		n++
		if batch = append(batch, it); len(batch) == w.per {
			if err := w.write(ctx, tx, batch); err != nil {
				return n, err
			}
			clear(batch) // let the batch's payloads go
			batch = batch[:0]
		}
	}
	return n, w.write(ctx, tx, batch)
}

// outboxWriter turns batches of outbox items into one upsert each,
// reusing its buffers from batch to batch.
type outboxWriter struct {
	e    *Engine
	per  int
	now  time.Time
	last map[[3]string]int // record → its last item in the batch
	rows [][]any
}

func (w *outboxWriter) write(ctx context.Context, tx *sql.Tx, batch []store.OutboxItem) error {
	if len(batch) == 0 {
		return nil
	}
	clear(w.last)
	for i, it := range batch {
		w.last[[3]string{it.Platform, it.Account, it.Key}] = i
	}
	clear(w.rows)
	w.rows = w.rows[:0]
	for i, it := range batch {
		if w.last[[3]string{it.Platform, it.Account, it.Key}] != i {
			continue
		}
		nb := it.NotBefore
		if nb.IsZero() {
			nb = w.now
		}
		p := it.Payload
		if p == nil {
			p = []byte{}
		}
		w.rows = append(w.rows, []any{it.Platform, it.Account, it.Key, p, string(store.OutboxPending), ts(nb), ts(w.now), ts(w.now)})
	}
	return w.e.bulkInsert(ctx, tx, "outbox", outboxInsertCols, outboxUpsert, w.rows)
}

const outboxCols = `id, platform, account, item_key, payload, status, attempts, last_error, not_before, created_at, deferred, updated_at`

// OutboxClaim implements store.Store.
func (e *Engine) OutboxClaim(ctx context.Context, platform, account string, limit int, lease time.Duration) ([]store.OutboxItem, error) {
	return e.OutboxClaimLane(ctx, platform, account, store.LaneAny, limit, lease)
}

// OutboxClaimLane implements store.Store. Lapsed leases that a newer
// item supersedes are set aside first, in the claim's transaction.
func (e *Engine) OutboxClaimLane(ctx context.Context, platform, account string, lane store.OutboxLane, limit int, lease time.Duration) ([]store.OutboxItem, error) {
	lt := e.leaseTimes(e.now(), lease)
	supersede := func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, e.q(outboxSupersedeSQL), lt.now, platform, account, lt.now)
		return err
	}
	out, err := claim(ctx, e, supersede, e.outboxClaimSQL(lane), outboxClaimArgs(lt, platform, account, limit), scanOutbox, outboxID)
	if err != nil {
		return nil, fmt.Errorf("claiming write-back items of %s/%s: %w", platform, account, err)
	}
	return out, nil
}

func outboxID(it store.OutboxItem) int64 { return it.ID }

// outboxSupersedeSQL sets aside the items a newer item for the same
// record has superseded: a lapsed lease must not write an old state over
// a newer one, and the newer item's write settles whatever the lapsed
// attempt may have written (see store.OutboxSuperseded). Only lapsed leases can be superseded: a newer state of a pending
// item updates it in place, and a leased item goes back to pending only
// while no newer item exists (see OutboxFailed and OutboxDefer).
// Arguments: now, platform, account, now.
const outboxSupersedeSQL = `UPDATE outbox SET status = 'superseded', last_error = 'superseded by a newer item', leased_until = 0, updated_at = ?
	WHERE platform = ? AND account = ? AND status = 'leased' AND leased_until <= ?
	AND EXISTS (SELECT 1 FROM outbox o2 WHERE o2.platform = outbox.platform AND o2.account = outbox.account AND o2.item_key = outbox.item_key AND o2.id > outbox.id
		AND o2.status IN ('pending', 'leased'))`

// outboxClaimSQL leases a lane's due items, oldest first. An item whose
// record has another item in flight (a live lease) waits, so two writes
// of one record never race on the platform.
//
// Each status is its own arm, walking outbox_claim in id order and
// stopping at the batch's size: the oldest due items of the union are
// among the oldest of each arm. One query over both statuses had to read
// and sort every due item of the platform before it could take the
// oldest, so a claim from a queue of 50,000 cost 500 times one from a
// queue of 100 (BenchmarkOutboxClaim); outbox_due, ordered by
// not_before, cannot give id order either. TestQueuePlans holds the
// plan.
// Arguments: see outboxClaimArgs.
func (e *Engine) outboxClaimSQL(lane store.OutboxLane) string {
	laneCond := ""
	switch lane {
	case store.LaneFresh:
		laneCond = " AND deferred = 0"
	case store.LaneDeferred:
		laneCond = " AND deferred = 1"
	}
	// "+ 0" keeps the due time from steering SQLite to outbox_due (a
	// range on not_before, then a sort). The records in flight are a
	// live lease's few items, read once per arm; a correlated NOT EXISTS
	// per candidate made PostgreSQL walk every item of the platform for
	// each one (an anti-join that did not look the record up). An item's
	// own lapsed lease is not live, so it does not hold itself back.
	arm := func(status, due string) string {
		return `SELECT id FROM (SELECT id FROM outbox WHERE platform = ? AND account = ? AND status = '` + status + `' AND ` + due + ` + 0 <= ?` + laneCond + `
		AND item_key NOT IN (SELECT o3.item_key FROM outbox o3 WHERE o3.platform = ? AND o3.account = ? AND o3.status = 'leased' AND o3.leased_until > ?)
		ORDER BY id LIMIT ?` + e.d.SkipLocked + `) AS ` + status
	}
	return `UPDATE outbox SET status = 'leased', leased_until = ?, attempts = attempts + 1, updated_at = ? WHERE id IN (
		SELECT id FROM (` + arm("pending", "not_before") + ` UNION ALL ` + arm("leased", "leased_until") + `) AS due ORDER BY id LIMIT ?) RETURNING ` + outboxCols
}

// outboxClaimArgs are outboxClaimSQL's arguments.
func outboxClaimArgs(lt leaseTimes, platform, account string, limit int) []any {
	arm := []any{platform, account, lt.now, platform, account, lt.now, limit}
	return slices.Concat([]any{lt.until, lt.now}, arm, arm, []any{limit})
}

// OutboxDone implements store.Store.
func (e *Engine) OutboxDone(ctx context.Context, ids []int64) error {
	if err := e.outboxDone(ctx, e.w, ids); err != nil {
		return fmt.Errorf("marking %d write-back items done: %w", len(ids), err)
	}
	return nil
}

func (e *Engine) outboxDone(ctx context.Context, x execer, ids []int64) error {
	return inList(ids, func(list string, args []any) error {
		_, err := x.ExecContext(ctx, e.q(`UPDATE outbox SET status = 'done', leased_until = 0, last_error = '', updated_at = ? WHERE id IN `+list), append([]any{ts(e.now())}, args...)...)
		return err
	})
}

// OutboxDefer implements store.Store. An item whose record has meanwhile
// been enqueued again is superseded by the newer item and closed: the
// newer one carries the whole desired state.
func (e *Engine) OutboxDefer(ctx context.Context, ids []int64, until time.Time) error {
	if err := e.inTxRetry(ctx, func(tx *sql.Tx) error { return e.outboxDefer(ctx, tx, ids, until) }); err != nil {
		return fmt.Errorf("deferring %d write-back items: %w", len(ids), err)
	}
	return nil
}

func (e *Engine) outboxDefer(ctx context.Context, tx *sql.Tx, ids []int64, until time.Time) error {
	now := ts(e.now())
	return inList(ids, func(list string, args []any) error {
		if _, err := tx.ExecContext(ctx, e.q(`UPDATE outbox SET status = 'pending', deferred = 1, not_before = ?, leased_until = 0, last_error = '', updated_at = ?,
			attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END
			WHERE status = 'leased' AND id IN `+list+`
			AND NOT EXISTS (SELECT 1 FROM outbox o2 WHERE o2.platform = outbox.platform AND o2.account = outbox.account AND o2.item_key = outbox.item_key AND o2.id > outbox.id AND o2.status IN ('pending', 'leased'))`),
			append([]any{ts(until), now}, args...)...); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, e.q(`UPDATE outbox SET status = 'done', last_error = 'superseded by a newer item', leased_until = 0, updated_at = ? WHERE status = 'leased' AND id IN `+list),
			append([]any{now}, args...)...)
		return err
	})
}

// OutboxSettle implements store.Store.
func (e *Engine) OutboxSettle(ctx context.Context, st store.Settlement) error {
	err := e.inTxRetry(ctx, func(tx *sql.Tx) error {
		if err := e.recordOwnership(ctx, tx, st.Owned); err != nil {
			return err
		}
		if err := e.outboxDone(ctx, tx, st.Done); err != nil {
			return err
		}
		for until, ids := range st.Defer {
			if err := e.outboxDefer(ctx, tx, ids, until); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("settling a write-back round (%d ownership entries, %d items done, %d deferral times): %w", len(st.Owned), len(st.Done), len(st.Defer), err)
	}
	return nil
}

// OutboxFailed implements store.Store. A retryable item whose key has
// meanwhile been enqueued again is superseded by the newer item and closed.
func (e *Engine) OutboxFailed(ctx context.Context, id int64, reason string, permanent bool, retryAt time.Time) error {
	now := ts(e.now())
	err := e.inTxRetry(ctx, func(tx *sql.Tx) error {
		if permanent {
			_, err := tx.ExecContext(ctx, e.q(`UPDATE outbox SET status = 'failed', last_error = ?, leased_until = 0, updated_at = ? WHERE id = ?`), reason, now, id)
			return err
		}
		// Part of the attempt may have been written: a copy of its
		// state stays as a prior of the record until a later write
		// settles it, even when a newer state replaces the retry's
		// payload in place.
		// One copy per state: retries that fail again add none.
		if _, err := tx.ExecContext(ctx, e.q(`INSERT INTO outbox (platform, account, item_key, payload, status, attempts, last_error, not_before, created_at, updated_at)
			SELECT platform, account, item_key, payload, 'superseded', attempts, ?, 0, created_at, ? FROM outbox WHERE id = ? AND status = 'leased'
			AND NOT EXISTS (SELECT 1 FROM outbox o2 WHERE o2.platform = outbox.platform AND o2.account = outbox.account AND o2.item_key = outbox.item_key
				AND o2.status = 'superseded' AND o2.payload = outbox.payload)`),
			"attempt failed: "+reason, now, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, e.q(`UPDATE outbox SET status = 'pending', last_error = ?, not_before = ?, leased_until = 0, updated_at = ? WHERE id = ? AND status = 'leased'
			AND NOT EXISTS (SELECT 1 FROM outbox o2 WHERE o2.platform = outbox.platform AND o2.account = outbox.account AND o2.item_key = outbox.item_key AND o2.id > outbox.id AND o2.status IN ('pending', 'leased'))`),
			reason, ts(retryAt), now, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			// A newer item carries the record's state; the copy above
			// keeps this attempt's for it to settle.
			_, err = tx.ExecContext(ctx, e.q(`UPDATE outbox SET status = 'done', last_error = ?, leased_until = 0, updated_at = ? WHERE id = ? AND status = 'leased'`), "superseded after: "+reason, now, id)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("recording failure of write-back item %d: %w", id, err)
	}
	return nil
}

// OutboxSupersede implements store.Store.
func (e *Engine) OutboxSupersede(ctx context.Context, ids []int64) error {
	err := inList(ids, func(list string, args []any) error {
		_, err := e.w.ExecContext(ctx, e.q(`UPDATE outbox SET status = 'superseded', last_error = 'superseded by a newer item', leased_until = 0, updated_at = ? WHERE status = 'leased' AND id IN `+list), append([]any{ts(e.now())}, args...)...)
		return err
	})
	if err != nil {
		return fmt.Errorf("setting aside %d superseded write-back items: %w", len(ids), err)
	}
	return nil
}

// OutboxOpenKeys implements store.Store.
func (e *Engine) OutboxOpenKeys(ctx context.Context, platform, account string) (map[string]bool, error) {
	rows, err := e.r.QueryContext(ctx, e.q(`SELECT DISTINCT item_key FROM outbox WHERE platform = ? AND account = ? AND status IN ('pending', 'leased', 'superseded')`), platform, account)
	if err != nil {
		return nil, fmt.Errorf("listing %s records with write-back under way: %w", platform, err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("listing %s records with write-back under way: %w", platform, err)
		}
		out[k] = true
	}
	return out, rows.Err()
}

// OutboxOpen implements store.Store.
func (e *Engine) OutboxOpen(ctx context.Context, platform, account string) (map[string][]store.OutboxItem, error) {
	rows, err := e.r.QueryContext(ctx, e.q(`SELECT `+outboxCols+` FROM outbox WHERE platform = ? AND account = ? AND status IN ('pending', 'leased', 'superseded') ORDER BY id`), platform, account)
	if err != nil {
		return nil, fmt.Errorf("reading %s write-backs under way: %w", platform, err)
	}
	defer rows.Close()
	out := map[string][]store.OutboxItem{}
	for rows.Next() {
		it, err := scanOutbox(rows)
		if err != nil {
			return nil, fmt.Errorf("reading %s write-backs under way: %w", platform, err)
		}
		out[it.Key] = append(out[it.Key], it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading %s write-backs under way: %w", platform, err)
	}
	return out, nil
}

// OutboxPriors implements store.Store.
func (e *Engine) OutboxPriors(ctx context.Context, platform, account string, keys []string) (map[string][]store.OutboxItem, error) {
	out := map[string][]store.OutboxItem{}
	err := inList(keys, func(list string, args []any) error {
		rows, err := e.r.QueryContext(ctx, e.q(`SELECT `+outboxCols+` FROM outbox WHERE platform = ? AND account = ? AND item_key IN `+list+` AND status = 'superseded' ORDER BY id`),
			append([]any{platform, account}, args...)...)
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
		return nil, fmt.Errorf("reading superseded write-backs of %d %s records: %w", len(keys), platform, err)
	}
	return out, nil
}

func scanOutbox(rows *sql.Rows) (store.OutboxItem, error) {
	var it store.OutboxItem
	var nb, cr, deferred, up int64
	if err := rows.Scan(&it.ID, &it.Platform, &it.Account, &it.Key, &it.Payload, &it.Status, &it.Attempts, &it.LastError, &nb, &cr, &deferred, &up); err != nil {
		return it, err
	}
	it.NotBefore, it.CreatedAt, it.Deferred, it.UpdatedAt = fromTS(nb), fromTS(cr), deferred != 0, fromTS(up)
	return it, nil
}

// OutboxStats implements store.Store.
func (e *Engine) OutboxStats(ctx context.Context) (map[store.OutboxStatus]int, error) {
	rows, err := e.r.QueryContext(ctx, `SELECT status, COUNT(*) FROM outbox GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("counting write-back items: %w", err)
	}
	defer rows.Close()
	out := map[store.OutboxStatus]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, fmt.Errorf("counting write-back items: %w", err)
		}
		out[store.OutboxStatus(s)] = n
	}
	return out, rows.Err()
}
