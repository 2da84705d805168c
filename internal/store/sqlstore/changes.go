package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/segconn/connector/internal/store"
)

// The profile_changes table (migration 0015) is written by triggers on
// profiles, links and orders. On SQLite a mark is the highest seq read
// (one writer: every change numbered up to it was committed and seen); on
// PostgreSQL it is the oldest transaction running when the reader read,
// and the next read takes changes written by transactions from it on.

// ChangeMark implements store.Store.
func (e *Engine) ChangeMark(ctx context.Context) (int64, error) {
	var mark int64
	err := e.r.QueryRowContext(ctx, e.markQuery()).Scan(&mark)
	if err != nil {
		return 0, fmt.Errorf("marking the profiles' changes: %w", err)
	}
	return mark, nil
}

func (e *Engine) markQuery() string {
	if e.d.Name == "postgres" {
		return `SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint`
	}
	// AUTOINCREMENT's high-water mark, which pruning every row keeps.
	return `SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'profile_changes'), 0)`
}

// ChangedSince implements store.Store. The floor, the ids and the next
// mark are read in one read-only transaction, so they agree (on
// PostgreSQL at REPEATABLE READ, whose one snapshot the mark is taken of).
func (e *Engine) ChangedSince(ctx context.Context, mark int64) (ids []string, next int64, complete bool, err error) {
	opts := &sql.TxOptions{ReadOnly: true}
	if e.d.Name == "postgres" {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := e.r.BeginTx(ctx, opts)
	if err != nil {
		return nil, 0, false, fmt.Errorf("reading changed profiles: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	if err := tx.QueryRowContext(ctx, e.markQuery()).Scan(&next); err != nil {
		return nil, 0, false, fmt.Errorf("reading changed profiles: %w", err)
	}
	var floor int64
	if err := tx.QueryRowContext(ctx, `SELECT floor FROM profile_change_floor WHERE id = 1`).Scan(&floor); err != nil {
		return nil, 0, false, fmt.Errorf("reading changed profiles: %w", err)
	}
	if mark < floor {
		return nil, next, false, nil
	}
	q := `SELECT DISTINCT profile_id FROM profile_changes WHERE seq > ? AND seq <= ?`
	args := []any{mark, next}
	if e.d.Name == "postgres" {
		q, args = `SELECT DISTINCT profile_id FROM profile_changes WHERE xid >= ?`, []any{mark}
	}
	rows, err := tx.QueryContext(ctx, e.q(q), args...)
	if err != nil {
		return nil, 0, false, fmt.Errorf("reading changed profiles: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, 0, false, fmt.Errorf("reading changed profiles: %w", err)
		}
		if id != "" {
			ids = append(ids, id)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, 0, false, fmt.Errorf("reading changed profiles: %w", err)
	}
	slices.Sort(ids)
	return ids, next, true, nil
}

// LoadProfiles implements store.Store.
func (e *Engine) LoadProfiles(ctx context.Context, ids []string) ([]store.ProfileOrders, error) {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	var out []store.ProfileOrders
	err := inList(ids, func(list string, args []any) error {
		page, err := e.readProfiles(ctx, `id IN `+list, args...)
		if err != nil || len(page) == 0 {
			return err
		}
		in := func(col string) (string, []any) { return col + ` IN ` + list, args }
		if err := e.fillPage(ctx, page, in); err != nil {
			return err
		}
		out = append(out, page...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b store.ProfileOrders) int { return strings.Compare(a.Profile.ID, b.Profile.ID) })
	return out, nil
}

// pruneChanges deletes the changes recorded before the time given and
// raises the floor past them, in one transaction so a reader never sees
// the rows gone and the floor not yet raised.
func (e *Engine) pruneChanges(ctx context.Context, before time.Time) (int, error) {
	col := "seq"
	if e.d.Name == "postgres" {
		col = "xid"
	}
	n := 0
	err := e.inTx(ctx, func(tx *sql.Tx) error {
		var top sql.NullInt64
		if err := tx.QueryRowContext(ctx, e.q(`SELECT MAX(`+col+`) FROM profile_changes WHERE at < ?`), ts(before)).Scan(&top); err != nil {
			return err
		}
		if !top.Valid {
			return nil
		}
		// Every change at or below top goes, so a mark below top (or,
		// on PostgreSQL, at it) no longer sees them all.
		floor := top.Int64
		if e.d.Name == "postgres" {
			floor++
		}
		res, err := tx.ExecContext(ctx, e.q(`DELETE FROM profile_changes WHERE `+col+` <= ?`), top.Int64)
		if err != nil {
			return err
		}
		m, err := res.RowsAffected()
		if err != nil {
			return err
		}
		n = int(m)
		_, err = tx.ExecContext(ctx, e.q(`UPDATE profile_change_floor SET floor = ? WHERE id = 1 AND floor < ?`), floor, floor)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("pruning the record of changed profiles: %w", err)
	}
	return n, nil
}
