package sqlstore

import (
	"context"
	"fmt"

	"github.com/segconn/connector/internal/store"
)

// pruneChunk bounds the rows one pruning statement deletes, so the
// writer is never held long.
const pruneChunk = 5000

// Prune implements store.Store.
func (e *Engine) Prune(ctx context.Context, p store.Prune) (store.Pruned, error) {
	var out store.Pruned
	var err error
	if !p.OutboxBefore.IsZero() {
		out.Outbox, err = e.pruneChunks(ctx, `DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE status = 'done' AND updated_at < ? LIMIT ?)`, ts(p.OutboxBefore))
		if err != nil {
			return out, fmt.Errorf("pruning done write-back items: %w", err)
		}
	}
	if !p.InboxBefore.IsZero() {
		out.Inbox, err = e.pruneChunks(ctx, `DELETE FROM inbox WHERE id IN (SELECT id FROM inbox WHERE processed_at > 0 AND processed_at < ? LIMIT ?)`, ts(p.InboxBefore))
		if err != nil {
			return out, fmt.Errorf("pruning processed webhook events: %w", err)
		}
	}
	if !p.HistoryBefore.IsZero() && p.HistoryUpTo > 0 {
		out.History, err = e.pruneChunks(ctx, `DELETE FROM membership_history WHERE id IN (SELECT id FROM membership_history WHERE at < ? AND id <= ? ORDER BY id LIMIT ?)`, ts(p.HistoryBefore), p.HistoryUpTo)
		if err != nil {
			return out, fmt.Errorf("pruning membership history: %w", err)
		}
	}
	if !p.QuarantineBefore.IsZero() {
		out.Quarantine, err = e.pruneChunks(ctx, `DELETE FROM quarantine WHERE id IN (SELECT id FROM quarantine WHERE at < ? LIMIT ?)`, ts(p.QuarantineBefore))
		if err != nil {
			return out, fmt.Errorf("pruning quarantined records: %w", err)
		}
	}
	if !p.ChangesBefore.IsZero() {
		if out.Changes, err = e.pruneChanges(ctx, p.ChangesBefore); err != nil {
			return out, err
		}
	}
	if !p.RunsBefore.IsZero() {
		out.Runs, err = e.pruneChunks(ctx, `DELETE FROM runs WHERE id IN (SELECT id FROM runs WHERE finished_at > 0 AND started_at < ? LIMIT ?)`, ts(p.RunsBefore))
		if err != nil {
			return out, fmt.Errorf("pruning the run history: %w", err)
		}
		if _, err := e.pruneChunks(ctx, `DELETE FROM web_sessions WHERE session_key IN (SELECT session_key FROM web_sessions WHERE expires_at < ? LIMIT ?)`, ts(p.RunsBefore)); err != nil {
			return out, fmt.Errorf("pruning expired sessions: %w", err)
		}
	}
	return out, nil
}

// pruneChunks runs a chunked delete (arguments: args, then the chunk
// size) until a chunk comes back short, and returns the rows deleted.
func (e *Engine) pruneChunks(ctx context.Context, query string, args ...any) (int, error) {
	total := 0
	for {
		res, err := e.w.ExecContext(ctx, e.q(query), append(args, pruneChunk)...)
		if err != nil {
			return total, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, err
		}
		total += int(n)
		if n < pruneChunk {
			return total, nil
		}
	}
}

// Checkpoint implements store.Store.
func (e *Engine) Checkpoint(ctx context.Context) error {
	if e.d.Name != "sqlite" {
		return nil
	}
	if _, err := e.w.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return fmt.Errorf("checkpointing the write-ahead log: %w", err)
	}
	return nil
}
