package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/segconn/connector/internal/identity"
	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// RecordCreated implements store.Store. The records are linked by the
// same identity unit ApplyPage runs, as contacts of the platform carrying
// the profile's email, so they join the profile they were made for.
func (e *Engine) RecordCreated(ctx context.Context, c store.CreatedRound) error {
	now := e.now()
	changes := make([]adapter.Change, 0, len(c.Records))
	var created [][]any
	for _, r := range c.Records {
		ct := r.Contact
		changes = append(changes, adapter.Change{Kind: adapter.ChangeUpsert, Ref: ct.Ref, Contact: &ct})
		created = append(created, []any{ct.Ref.Key(), c.Platform, c.Account, r.ProfileID, ts(r.CreatedAt)})
	}
	err := e.inTxRetry(ctx, func(tx *sql.Tx) error {
		if e.d.Serialize != nil {
			if err := e.d.Serialize(ctx, tx); err != nil {
				return err
			}
		}
		if len(changes) > 0 {
			u := &unit{Snapshot: identity.NewSnapshot(e.now().UTC(), e.ident), e: e, tx: tx}
			if err := u.run(ctx, c.Platform, c.Account, domain.ObjectContact, changes, nil); err != nil {
				return err
			}
		}
		if err := e.bulkInsert(ctx, tx, "created_records", []string{"ref_key", "platform", "account", "profile_id", "created_at"},
			"ON CONFLICT (ref_key) DO NOTHING", created); err != nil {
			return fmt.Errorf("recording created records: %w", err)
		}
		if err := e.recordOwnership(ctx, tx, c.Settle.Owned); err != nil {
			return err
		}
		if err := e.outboxDone(ctx, tx, c.Settle.Done); err != nil {
			return err
		}
		for until, ids := range c.Settle.Defer {
			if err := e.outboxDefer(ctx, tx, ids, until); err != nil {
				return err
			}
		}
		_, err := e.queueOutbox(ctx, tx, store.OutboxItems(c.Enqueue), now)
		return err
	})
	if err != nil {
		return fmt.Errorf("recording %d %s records created by write-back: %w", len(c.Records), c.Platform, err)
	}
	return nil
}

// CreatedCount implements store.Store.
func (e *Engine) CreatedCount(ctx context.Context, platform, account string) (int, error) {
	var n int
	if err := e.r.QueryRowContext(ctx, e.q(`SELECT COUNT(*) FROM created_records WHERE platform = ? AND account = ?`), platform, account).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting %s records created by write-back: %w", platform, err)
	}
	return n, nil
}
