package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/segconn/connector/internal/store"
)

// InboxAdd implements store.Store.
func (e *Engine) InboxAdd(ctx context.Context, it store.InboxItem) (int64, bool, error) {
	if it.Platform == "" || it.EventID == "" {
		return 0, false, fmt.Errorf("storing webhook event: platform and event id are required (platform %q, event id %q)", it.Platform, it.EventID)
	}
	at := it.ReceivedAt
	if at.IsZero() {
		at = e.now()
	}
	payload := it.Payload
	if payload == nil {
		payload = []byte{}
	}
	var id int64
	err := e.w.QueryRowContext(ctx, e.q(`INSERT INTO inbox (platform, account, event_id, received_at, payload) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (platform, event_id) DO NOTHING RETURNING id`), it.Platform, it.Account, it.EventID, ts(at), payload).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		if err := e.w.QueryRowContext(ctx, e.q(`SELECT id FROM inbox WHERE platform = ? AND event_id = ?`), it.Platform, it.EventID).Scan(&id); err != nil {
			return 0, false, fmt.Errorf("finding duplicate webhook event %s/%s: %w", it.Platform, it.EventID, err)
		}
		return id, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("storing webhook event %s/%s: %w", it.Platform, it.EventID, err)
	}
	return id, true, nil
}

const inboxCols = `id, platform, account, event_id, received_at, payload, attempts, last_error, processed_at`

func scanInbox(rows *sql.Rows) ([]store.InboxItem, error) {
	defer rows.Close()
	var out []store.InboxItem
	for rows.Next() {
		it, err := scanInboxRow(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

func scanInboxRow(rows *sql.Rows) (store.InboxItem, error) {
	var it store.InboxItem
	var rec, proc int64
	if err := rows.Scan(&it.ID, &it.Platform, &it.Account, &it.EventID, &rec, &it.Payload, &it.Attempts, &it.LastError, &proc); err != nil {
		return it, err
	}
	it.ReceivedAt, it.ProcessedAt = fromTS(rec), fromTS(proc)
	return it, nil
}

func inboxID(it store.InboxItem) int64 { return it.ID }

// inboxClaimSQL leases due webhook events, oldest first; the caller adds
// the dialect's SKIP LOCKED and the RETURNING clause.
// Arguments: lease end, now, now, limit.
const inboxClaimSQL = `UPDATE inbox SET leased_until = ?, attempts = attempts + 1 WHERE id IN (
	SELECT id FROM inbox WHERE processed_at = 0 AND not_before <= ? AND leased_until <= ? ORDER BY id LIMIT ?`

// InboxClaim implements store.Store.
func (e *Engine) InboxClaim(ctx context.Context, limit int, lease time.Duration) ([]store.InboxItem, error) {
	lt := e.leaseTimes(e.now(), lease)
	out, err := claim(ctx, e, nil, inboxClaimSQL+e.d.SkipLocked+`) RETURNING `+inboxCols,
		[]any{lt.until, lt.now, lt.now, limit}, scanInboxRow, inboxID)
	if err != nil {
		return nil, fmt.Errorf("claiming webhook events: %w", err)
	}
	return out, nil
}

// InboxDone implements store.Store.
func (e *Engine) InboxDone(ctx context.Context, ids ...int64) error {
	err := e.inTx(ctx, func(tx *sql.Tx) error { return e.inboxDone(ctx, tx, ids, e.now()) })
	if err != nil {
		return fmt.Errorf("marking %d webhook events processed: %w", len(ids), err)
	}
	return nil
}

func (e *Engine) inboxDone(ctx context.Context, tx *sql.Tx, ids []int64, now time.Time) error {
	return inList(ids, func(list string, args []any) error {
		_, err := tx.ExecContext(ctx, e.q(`UPDATE inbox SET processed_at = ?, leased_until = 0, last_error = '' WHERE id IN `+list), append([]any{ts(now)}, args...)...)
		return err
	})
}

// InboxFailed implements store.Store.
func (e *Engine) InboxFailed(ctx context.Context, id int64, reason string, retryAt time.Time) error {
	if _, err := e.w.ExecContext(ctx, e.q(`UPDATE inbox SET last_error = ?, not_before = ?, leased_until = 0 WHERE id = ?`), reason, ts(retryAt), id); err != nil {
		return fmt.Errorf("recording failure of webhook event %d: %w", id, err)
	}
	return nil
}

// InboxPending implements store.Store.
func (e *Engine) InboxPending(ctx context.Context, limit int) ([]store.InboxItem, error) {
	rows, err := e.r.QueryContext(ctx, e.q(`SELECT `+inboxCols+` FROM inbox WHERE processed_at = 0 ORDER BY id LIMIT ?`), limit)
	if err != nil {
		return nil, fmt.Errorf("listing pending webhook events: %w", err)
	}
	out, err := scanInbox(rows)
	if err != nil {
		return nil, fmt.Errorf("listing pending webhook events: %w", err)
	}
	return out, nil
}
