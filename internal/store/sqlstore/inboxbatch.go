package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/segconn/connector/internal/store"
)

// InboxAddBatch stores several webhook events in one transaction, so many
// concurrent webhooks share one commit (and one fsync) instead of paying
// one each: the daemon's webhook handler group-commits through it. An
// event already stored (same platform and event id) is left as it was.
// Either every event is stored or, on error, none is.
func (e *Engine) InboxAddBatch(ctx context.Context, items []store.InboxItem) error {
	for i, it := range items {
		if it.Platform == "" || it.EventID == "" {
			return fmt.Errorf("storing webhook event %d of %d: platform and event id are required (platform %q, event id %q)", i+1, len(items), it.Platform, it.EventID)
		}
	}
	err := e.inTx(ctx, func(tx *sql.Tx) error {
		for _, it := range items {
			at := it.ReceivedAt
			if at.IsZero() {
				at = e.now()
			}
			payload := it.Payload
			if payload == nil {
				payload = []byte{}
			}
			var id int64
			err := tx.QueryRowContext(ctx, e.q(`INSERT INTO inbox (platform, account, event_id, received_at, payload) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (platform, event_id) DO NOTHING RETURNING id`), it.Platform, it.Account, it.EventID, ts(at), payload).Scan(&id)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("storing webhook event %s/%s: %w", it.Platform, it.EventID, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("storing %d webhook events: %w", len(items), err)
	}
	return nil
}
