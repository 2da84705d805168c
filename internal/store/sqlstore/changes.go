package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// The profile_changes, ownership_changes and membership_changes tables
// (migration 0015) are written by triggers on profiles, links and
// orders, on ownership and on memberships. On SQLite a mark is the highest seq read
// (one writer: every change numbered up to it was committed and seen); on
// PostgreSQL it is the oldest transaction running when the reader read,
// and the next read takes changes written by transactions from it on.

// changeLog names a change table and the column naming what changed.
type changeLog struct{ table, col string }

var (
	profileLog    = changeLog{"profile_changes", "profile_id"}
	ownershipLog  = changeLog{"ownership_changes", "ref_key"}
	membershipLog = changeLog{"membership_changes", "profile_id"}
)

// MembershipMark implements store.Store.
func (e *Engine) MembershipMark(ctx context.Context) (int64, error) {
	return e.mark(ctx, membershipLog)
}

// MembershipsChangedSince implements store.Store.
func (e *Engine) MembershipsChangedSince(ctx context.Context, mark int64) ([]string, int64, bool, error) {
	return e.changedSince(ctx, membershipLog, mark)
}

// MembershipsOf implements store.Store.
func (e *Engine) MembershipsOf(ctx context.Context, ids []string) (map[string][]domain.Membership, error) {
	out := make(map[string][]domain.Membership, len(ids))
	err := inList(ids, func(list string, args []any) error {
		ms, err := e.memberships(ctx, `WHERE profile_id IN `+list+` ORDER BY profile_id, segment`, args...)
		for _, m := range ms {
			out[m.ProfileID] = append(out[m.ProfileID], m)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ChangeMark implements store.Store.
func (e *Engine) ChangeMark(ctx context.Context) (int64, error) { return e.mark(ctx, profileLog) }

// ChangedSince implements store.Store.
func (e *Engine) ChangedSince(ctx context.Context, mark int64) ([]string, int64, bool, error) {
	return e.changedSince(ctx, profileLog, mark)
}

// OwnershipMark implements store.Store.
func (e *Engine) OwnershipMark(ctx context.Context) (int64, error) { return e.mark(ctx, ownershipLog) }

// OwnershipChangedSince implements store.Store.
func (e *Engine) OwnershipChangedSince(ctx context.Context, mark int64) ([]string, int64, bool, error) {
	return e.changedSince(ctx, ownershipLog, mark)
}

func (e *Engine) mark(ctx context.Context, l changeLog) (int64, error) {
	var mark int64
	if err := e.r.QueryRowContext(ctx, e.markQuery(l)).Scan(&mark); err != nil {
		return 0, fmt.Errorf("marking %s: %w", l.table, err)
	}
	return mark, nil
}

func (e *Engine) markQuery(l changeLog) string {
	if e.d.Name == "postgres" {
		return `SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint`
	}
	// AUTOINCREMENT's high-water mark, which pruning every row keeps.
	return `SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = '` + l.table + `'), 0)`
}

// changedSince reads the floor, the keys and the next mark in one
// read-only transaction, so they agree (on PostgreSQL at REPEATABLE
// READ, whose one snapshot the mark is taken of).
func (e *Engine) changedSince(ctx context.Context, l changeLog, mark int64) (keys []string, next int64, complete bool, err error) {
	fail := func(err error) ([]string, int64, bool, error) {
		return nil, 0, false, fmt.Errorf("reading %s: %w", l.table, err)
	}
	opts := &sql.TxOptions{ReadOnly: true}
	if e.d.Name == "postgres" {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := e.r.BeginTx(ctx, opts)
	if err != nil {
		return fail(err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	if err := tx.QueryRowContext(ctx, e.markQuery(l)).Scan(&next); err != nil {
		return fail(err)
	}
	var floor int64
	if err := tx.QueryRowContext(ctx, e.q(`SELECT floor FROM change_floor WHERE name = ?`), l.table).Scan(&floor); err != nil {
		return fail(err)
	}
	if mark < floor {
		return nil, next, false, nil
	}
	q := `SELECT DISTINCT ` + l.col + ` FROM ` + l.table + ` WHERE seq > ? AND seq <= ?`
	args := []any{mark, next}
	if e.d.Name == "postgres" {
		q, args = `SELECT DISTINCT `+l.col+` FROM `+l.table+` WHERE xid >= ?`, []any{mark}
	}
	rows, err := tx.QueryContext(ctx, e.q(q), args...)
	if err != nil {
		return fail(err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return fail(err)
		}
		if k != "" {
			keys = append(keys, k)
		}
	}
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	slices.Sort(keys)
	return keys, next, true, nil
}

// LoadProfiles implements store.Store.
func (e *Engine) LoadProfiles(ctx context.Context, ids []string) ([]store.ProfileOrders, error) {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	var out []store.ProfileOrders
	err := inList(ids, func(list string, args []any) error {
		page, err := e.readPage(ctx, func(col string) (string, []any) { return col + ` IN ` + list, args })
		if err != nil {
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

// pruneChanges deletes the changes both logs recorded before the time
// given.
func (e *Engine) pruneChanges(ctx context.Context, before time.Time) (int, error) {
	n := 0
	for _, l := range []changeLog{profileLog, ownershipLog, membershipLog} {
		m, err := e.pruneLog(ctx, l, before)
		if err != nil {
			return n, err
		}
		n += m
	}
	return n, nil
}

// pruneLog deletes one log's changes recorded before the time given and
// raises its floor past them, in one transaction so a reader never sees
// the rows gone and the floor not yet raised.
func (e *Engine) pruneLog(ctx context.Context, l changeLog, before time.Time) (int, error) {
	col := "seq"
	if e.d.Name == "postgres" {
		col = "xid"
	}
	n := 0
	err := e.inTx(ctx, func(tx *sql.Tx) error {
		var top sql.NullInt64
		if err := tx.QueryRowContext(ctx, e.q(`SELECT MAX(`+col+`) FROM `+l.table+` WHERE at < ?`), ts(before)).Scan(&top); err != nil {
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
		if l == profileLog {
			if err := e.dropStaleInputs(ctx, tx); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, e.q(`DELETE FROM `+l.table+` WHERE `+col+` <= ?`), top.Int64)
		if err != nil {
			return err
		}
		m, err := res.RowsAffected()
		if err != nil {
			return err
		}
		n = int(m)
		_, err = tx.ExecContext(ctx, e.q(`UPDATE change_floor SET floor = ? WHERE name = ? AND floor < ?`), floor, l.table, floor)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("pruning %s: %w", l.table, err)
	}
	return n, nil
}
