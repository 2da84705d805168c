package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/segconn/connector/internal/store"
)

// Purge implements store.Retention.
func (e *Engine) Purge(ctx context.Context, req store.PurgeRequest) (store.PurgeResult, error) {
	var res store.PurgeResult
	err := e.inTx(ctx, func(tx *sql.Tx) error {
		del := func(n *int, what, q string, args ...any) error {
			r, err := tx.ExecContext(ctx, e.q(q), args...)
			if err != nil {
				return fmt.Errorf("purging %s: %w", what, err)
			}
			k, err := r.RowsAffected()
			if err != nil {
				return fmt.Errorf("purging %s: %w", what, err)
			}
			*n = int(k)
			return nil
		}
		if !req.InboxBefore.IsZero() {
			if err := del(&res.Inbox, "processed webhook events", `DELETE FROM inbox WHERE processed_at > 0 AND received_at < ?`, ts(req.InboxBefore)); err != nil {
				return err
			}
		}
		if !req.OutboxBefore.IsZero() {
			if err := del(&res.Outbox, "written write-back items", `DELETE FROM outbox WHERE status = 'done' AND updated_at < ?`, ts(req.OutboxBefore)); err != nil {
				return err
			}
		}
		if !req.HistoryBefore.IsZero() && req.HistoryUpTo > 0 {
			if err := del(&res.History, "membership history", `DELETE FROM membership_history WHERE at < ? AND id <= ?`, ts(req.HistoryBefore), req.HistoryUpTo); err != nil {
				return err
			}
		}
		if !req.QuarantineBefore.IsZero() {
			if err := del(&res.Quarantine, "quarantined records", `DELETE FROM quarantine WHERE at < ?`, ts(req.QuarantineBefore)); err != nil {
				return err
			}
		}
		return nil
	})
	return res, err
}
