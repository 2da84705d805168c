package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// RecordOwnership implements store.Store. The last entry for a (record,
// target, value) wins; records and releases are written in bulk.
func (e *Engine) RecordOwnership(ctx context.Context, owned []store.Ownership) error {
	return e.inTx(ctx, func(tx *sql.Tx) error { return e.recordOwnership(ctx, tx, owned) })
}

func (e *Engine) recordOwnership(ctx context.Context, tx *sql.Tx, owned []store.Ownership) error {
	if len(owned) == 0 {
		return nil
	}
	now := e.now()
	last := map[[3]string]int{}
	for i, o := range owned {
		if o.Ref.IsZero() || o.Target == "" {
			return fmt.Errorf("recording ownership: entry %d: ref id and target are required", i)
		}
		last[[3]string{o.Ref.Key(), o.Target, o.Value}] = i
	}
	var keep, release [][]any
	for i, o := range owned {
		if last[[3]string{o.Ref.Key(), o.Target, o.Value}] != i {
			continue
		}
		if o.Released {
			release = append(release, []any{o.Ref.Key(), o.Target, o.Value})
			continue
		}
		at := o.WrittenAt
		if at.IsZero() {
			at = now
		}
		keep = append(keep, []any{o.Ref.Key(), o.Ref.Platform, o.Ref.Account, o.Ref.ObjectType, o.Ref.ID, o.Target, o.Value, ts(at)})
	}
	cols := []string{"ref_key", "platform", "account", "object_type", "ext_id", "target", "value", "written_at"}
	if err := e.bulkInsert(ctx, tx, "ownership", cols, upsertSuffix(cols, "ref_key", "target", "value"), keep); err != nil {
		return fmt.Errorf("recording %d ownership entries: %w", len(owned), err)
	}
	for start := 0; start < len(release); start += 500 {
		chunk := release[start:min(start+500, len(release))]
		args := make([]any, 0, 3*len(chunk))
		for _, r := range chunk {
			args = append(args, r...)
		}
		q := `DELETE FROM ownership WHERE (ref_key, target, value) IN (VALUES ` + strings.TrimSuffix(strings.Repeat("(?, ?, ?),", len(chunk)), ",") + `)`
		if _, err := tx.ExecContext(ctx, e.q(q), args...); err != nil {
			return fmt.Errorf("releasing ownership: %w", err)
		}
	}
	return e.noteOwnershipChanged(ctx, tx, owned)
}

// noteOwnershipChanged records in ownership_changes, once per record,
// that the records' ownership was written (see OwnershipChangedSince).
// Every write of ownership goes through recordOwnership, which calls it.
func (e *Engine) noteOwnershipChanged(ctx context.Context, tx *sql.Tx, owned []store.Ownership) error {
	seen := map[string]bool{}
	var keys []string
	for _, o := range owned {
		if k := o.Ref.Key(); !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	rows := make([][]any, len(keys))
	for i, k := range keys {
		rows[i] = []any{k}
	}
	if e.d.Name == "postgres" {
		// The row's transaction id and time are its defaults: this writer's.
		err := e.bulkInsert(ctx, tx, "ownership_changes", []string{"ref_key"},
			"ON CONFLICT (ref_key) DO UPDATE SET xid = EXCLUDED.xid, at = EXCLUDED.at", rows)
		if err != nil {
			return fmt.Errorf("noting changed ownership: %w", err)
		}
		return nil
	}
	// SQLite: a record's row is numbered afresh, so it sorts after every
	// mark taken before this write.
	err := inList(keys, func(list string, args []any) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM ownership_changes WHERE ref_key IN `+list, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("noting changed ownership: %w", err)
	}
	if err := e.bulkInsert(ctx, tx, "ownership_changes", []string{"ref_key"}, "", rows); err != nil {
		return fmt.Errorf("noting changed ownership: %w", err)
	}
	return nil
}

// Ownership implements store.Store.
func (e *Engine) Ownership(ctx context.Context, ref domain.ExternalRef) ([]store.Ownership, error) {
	rows, err := e.r.QueryContext(ctx, e.q(`SELECT platform, account, object_type, ext_id, target, value, written_at FROM ownership WHERE ref_key = ? ORDER BY target, value`), ref.Key())
	if err != nil {
		return nil, fmt.Errorf("reading ownership of %s: %w", ref.Key(), err)
	}
	defer rows.Close()
	var out []store.Ownership
	for rows.Next() {
		var o store.Ownership
		var at int64
		if err := rows.Scan(&o.Ref.Platform, &o.Ref.Account, &o.Ref.ObjectType, &o.Ref.ID, &o.Target, &o.Value, &at); err != nil {
			return nil, fmt.Errorf("reading ownership of %s: %w", ref.Key(), err)
		}
		o.WrittenAt = fromTS(at)
		out = append(out, o)
	}
	return out, rows.Err()
}

// OwnershipMany implements store.Store.
func (e *Engine) OwnershipMany(ctx context.Context, refs []domain.ExternalRef) (map[string][]store.Ownership, error) {
	// The record's columns are its key's parts: they are taken from the
	// refs asked for, not read again for each of its targets' rows.
	byKey := make(map[string]domain.ExternalRef, len(refs))
	keys := make([]string, 0, len(refs))
	for _, r := range refs {
		k := r.Key()
		if _, seen := byKey[k]; !seen {
			byKey[k] = domain.ExternalRef{Platform: r.Platform, Account: r.Account, ObjectType: r.ObjectType, ID: r.ID}
			keys = append(keys, k)
		}
	}
	out := map[string][]store.Ownership{}
	err := inList(keys, func(list string, args []any) error {
		rows, err := e.r.QueryContext(ctx, e.q(`SELECT ref_key, target, value, written_at FROM ownership WHERE ref_key IN `+list+` ORDER BY ref_key, target, value`), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var key string
			o := store.Ownership{}
			var at int64
			if err := rows.Scan(&key, &o.Target, &o.Value, &at); err != nil {
				return err
			}
			o.Ref, o.WrittenAt = byKey[key], fromTS(at)
			out[key] = append(out[key], o)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("reading ownership of %d records: %w", len(keys), err)
	}
	return out, nil
}
