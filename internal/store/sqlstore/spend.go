package sqlstore

import (
	"context"
	"fmt"

	"github.com/segconn/connector/internal/store"
)

// AddSpend implements store.Store.
func (e *Engine) AddSpend(ctx context.Context, s store.Spend) (int64, error) {
	var id int64
	err := e.w.QueryRowContext(ctx, e.q(`INSERT INTO segment_spend (segment, amount, currency, period_from, period_to, note, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		s.Segment, s.AmountMinor, s.Currency, ts(s.From), ts(s.To), s.Note, s.By, ts(e.now())).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("storing spend for %s: %w", s.Segment, err)
	}
	return id, nil
}

// SpendEntries implements store.Store.
func (e *Engine) SpendEntries(ctx context.Context) ([]store.Spend, error) {
	rows, err := e.r.QueryContext(ctx, `SELECT id, segment, amount, currency, period_from, period_to, note, created_by, created_at
		FROM segment_spend ORDER BY period_from DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("listing spend: %w", err)
	}
	defer rows.Close()
	out := []store.Spend{}
	for rows.Next() {
		var s store.Spend
		var from, to, at int64
		if err := rows.Scan(&s.ID, &s.Segment, &s.AmountMinor, &s.Currency, &from, &to, &s.Note, &s.By, &at); err != nil {
			return nil, fmt.Errorf("listing spend: %w", err)
		}
		s.From, s.To, s.CreatedAt = fromTS(from), fromTS(to), fromTS(at)
		out = append(out, s)
	}
	return out, rows.Err()
}

// DeleteSpend implements store.Store.
func (e *Engine) DeleteSpend(ctx context.Context, id int64) error {
	res, err := e.w.ExecContext(ctx, e.q(`DELETE FROM segment_spend WHERE id = ?`), id)
	if err != nil {
		return fmt.Errorf("deleting spend %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("spend %d: %w", id, store.ErrNotFound)
	}
	return nil
}
