package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/segconn/connector/internal/store"
)

// Quarantined implements store.Store.
func (e *Engine) Quarantined(ctx context.Context, platform string, limit int) ([]store.Quarantined, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := e.r.QueryContext(ctx, e.q(`SELECT id, platform, account, object, ref, reason, raw, at FROM quarantine WHERE platform = ? OR ? = '' ORDER BY id DESC LIMIT ?`), platform, platform, limit)
	if err != nil {
		return nil, fmt.Errorf("listing quarantined records: %w", err)
	}
	defer rows.Close()
	var out []store.Quarantined
	for rows.Next() {
		var q store.Quarantined
		var ref string
		var at int64
		if err := rows.Scan(&q.ID, &q.Platform, &q.Account, &q.Object, &ref, &q.Reason, &q.Raw, &at); err != nil {
			return nil, fmt.Errorf("listing quarantined records: %w", err)
		}
		_ = json.Unmarshal([]byte(ref), &q.Ref)
		q.At = fromTS(at)
		out = append(out, q)
	}
	return out, rows.Err()
}

// QuarantineResolve implements store.Store.
func (e *Engine) QuarantineResolve(ctx context.Context, ids ...int64) error {
	err := inList(ids, func(list string, args []any) error {
		_, err := e.w.ExecContext(ctx, e.q(`DELETE FROM quarantine WHERE id IN `+list), args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("resolving %d quarantined records: %w", len(ids), err)
	}
	return nil
}
