package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// ApplyMemberships implements store.Store. Changes are applied in runs of
// consecutive entries or exits, each run as chunked multi-row statements
// whose RETURNING clause tells which rows really changed, so only those get
// a history row; a full recompute of many customers costs a few dozen
// statements, not two per change.
func (e *Engine) ApplyMemberships(ctx context.Context, changes []store.MembershipChange) error {
	return e.RecordPlan(ctx, changes, nil, nil)
}

// RecordPlan implements store.Store. The outbox is encoded by its
// sequence and written a statement's worth at a time inside the one
// transaction (see queueOutbox).
func (e *Engine) RecordPlan(ctx context.Context, changes []store.MembershipChange, outbox iter.Seq2[store.OutboxItem, error], inboxDone []int64) error {
	now := e.now()
	for i, c := range changes {
		if c.ProfileID == "" || c.Segment == "" {
			return fmt.Errorf("applying membership changes: change %d: profile id and segment are required", i)
		}
	}
	queued := 0
	err := e.inTxRetry(ctx, func(tx *sql.Tx) error {
		for start := 0; start < len(changes); {
			end := start + 1
			for end < len(changes) && changes[end].Entered == changes[start].Entered {
				end++
			}
			if err := e.membershipRun(ctx, tx, changes[start:end], now); err != nil {
				return err
			}
			start = end
		}
		n, err := e.queueOutbox(ctx, tx, outbox, now)
		queued = n
		if err != nil {
			return err
		}
		return e.inboxDone(ctx, tx, inboxDone, now)
	})
	if err != nil {
		return fmt.Errorf("applying %d membership changes and queueing %d write-backs: %w", len(changes), queued, err)
	}
	return nil
}

// membershipRun applies changes that all enter or all leave, in chunks of
// a few hundred: each chunk's statement returns the rows it really
// changed, and their history is written, in the order the changes were
// given, before the next chunk, so a run of any length holds one chunk's
// rows. (A pair repeated in a later chunk changes nothing there: the
// first chunk that has it entered or removed it.)
func (e *Engine) membershipRun(ctx context.Context, tx *sql.Tx, run []store.MembershipChange, now time.Time) error {
	type pair struct{ p, s string }
	entered := run[0].Entered
	const per = 500
	first := make(map[pair]int, min(per, len(run)))
	hist := make([][]any, 0, min(per, len(run)))
	for start := 0; start < len(run); start += per {
		chunk := run[start:min(start+per, len(run))]
		clear(first)
		for i, c := range chunk {
			if _, ok := first[pair{c.ProfileID, c.Segment}]; !ok {
				first[pair{c.ProfileID, c.Segment}] = i
			}
		}
		var b strings.Builder
		args := make([]any, 0, len(chunk)*5)
		if entered {
			b.WriteString(`INSERT INTO memberships (profile_id, segment, since, control, reason) VALUES `)
			for i, c := range chunk {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString("(?, ?, ?, ?, ?)")
				at := c.At
				if at.IsZero() {
					at = now
				}
				args = append(args, c.ProfileID, c.Segment, ts(at), b2i(c.Control), c.Reason)
			}
			b.WriteString(` ON CONFLICT (profile_id, segment) DO NOTHING RETURNING profile_id, segment, control`)
		} else {
			b.WriteString(`DELETE FROM memberships WHERE (profile_id, segment) IN (VALUES `)
			for i, c := range chunk {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString("(?, ?)")
				args = append(args, c.ProfileID, c.Segment)
			}
			b.WriteString(`) RETURNING profile_id, segment, control`)
		}
		rows, err := tx.QueryContext(ctx, e.q(b.String()), args...)
		if err != nil {
			return fmt.Errorf("recording memberships: %w", err)
		}
		clear(hist)
		hist = hist[:0]
		for rows.Next() {
			var pr pair
			var ctl int
			if err := rows.Scan(&pr.p, &pr.s, &ctl); err != nil {
				rows.Close()
				return fmt.Errorf("recording memberships: %w", err)
			}
			c := chunk[first[pr]]
			at := c.At
			if at.IsZero() {
				at = now
			}
			hist = append(hist, []any{pr.p, pr.s, b2i(entered), ts(at), ctl, c.Reason})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("recording memberships: %w", err)
		}
		slices.SortStableFunc(hist, func(a, b []any) int {
			return first[pair{a[0].(string), a[1].(string)}] - first[pair{b[0].(string), b[1].(string)}]
		})
		if err := e.bulkInsert(ctx, tx, "membership_history", []string{"profile_id", "segment", "entered", "at", "control", "reason"}, "", hist); err != nil {
			return err
		}
	}
	return nil
}

func (e *Engine) memberships(ctx context.Context, where string, args ...any) ([]domain.Membership, error) {
	rows, err := e.r.QueryContext(ctx, e.q(`SELECT profile_id, segment, since, control, reason FROM memberships `+where), args...)
	if err != nil {
		return nil, fmt.Errorf("reading memberships: %w", err)
	}
	defer rows.Close()
	var out []domain.Membership
	for rows.Next() {
		var m domain.Membership
		var since int64
		var ctl int
		if err := rows.Scan(&m.ProfileID, &m.Segment, &since, &ctl, &m.Reason); err != nil {
			return nil, fmt.Errorf("reading memberships: %w", err)
		}
		m.Since, m.Control = fromTS(since), ctl != 0
		out = append(out, m)
	}
	return out, rows.Err()
}

// Memberships implements store.Store.
func (e *Engine) Memberships(ctx context.Context, profileID string) ([]domain.Membership, error) {
	return e.memberships(ctx, `WHERE profile_id = ? ORDER BY segment`, profileID)
}

// SegmentMembers implements store.Store.
func (e *Engine) SegmentMembers(ctx context.Context, segment string) ([]domain.Membership, error) {
	return e.memberships(ctx, `WHERE segment = ? ORDER BY profile_id`, segment)
}

// AllMemberships implements store.Store; it reads in keyset pages.
func (e *Engine) AllMemberships(ctx context.Context, fn func(domain.Membership) error) error {
	seg, pid := "", ""
	for {
		page, err := e.memberships(ctx, `WHERE segment > ? OR (segment = ? AND profile_id > ?) ORDER BY segment, profile_id LIMIT 5000`, seg, seg, pid)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			return nil
		}
		for _, m := range page {
			if err := fn(m); err != nil {
				return err
			}
		}
		last := page[len(page)-1]
		seg, pid = last.Segment, last.ProfileID
	}
}

// SegmentSizes implements store.Store.
func (e *Engine) SegmentSizes(ctx context.Context) (map[string]int, error) {
	rows, err := e.r.QueryContext(ctx, `SELECT segment, COUNT(*) FROM memberships GROUP BY segment`)
	if err != nil {
		return nil, fmt.Errorf("counting segment members: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var seg string
		var n int
		if err := rows.Scan(&seg, &n); err != nil {
			return nil, fmt.Errorf("counting segment members: %w", err)
		}
		out[seg] = n
	}
	return out, rows.Err()
}

// MembershipHistory implements store.Store.
func (e *Engine) MembershipHistory(ctx context.Context, profileID string) ([]store.MembershipEvent, error) {
	out, err := e.history(ctx, `WHERE profile_id = ? ORDER BY id`, profileID)
	if err != nil {
		return nil, fmt.Errorf("reading membership history of %s: %w", profileID, err)
	}
	return out, nil
}

// MembershipHistorySince implements store.Store.
func (e *Engine) MembershipHistorySince(ctx context.Context, after int64, limit int) ([]store.MembershipEvent, error) {
	if limit <= 0 {
		limit = 1000
	}
	out, err := e.history(ctx, `WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("reading membership history after %d: %w", after, err)
	}
	return out, nil
}

// MembershipHistoryHead implements store.Store.
func (e *Engine) MembershipHistoryHead(ctx context.Context) (int64, error) {
	var head int64
	if err := e.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM membership_history`).Scan(&head); err != nil {
		return 0, fmt.Errorf("reading the newest membership history entry: %w", err)
	}
	return head, nil
}

func (e *Engine) history(ctx context.Context, where string, args ...any) ([]store.MembershipEvent, error) {
	rows, err := e.r.QueryContext(ctx, e.q(`SELECT id, profile_id, segment, entered, at, control, reason FROM membership_history `+where), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.MembershipEvent
	for rows.Next() {
		var m store.MembershipEvent
		var ent, ctl int
		var at int64
		if err := rows.Scan(&m.Seq, &m.ProfileID, &m.Segment, &ent, &at, &ctl, &m.Reason); err != nil {
			return nil, err
		}
		m.Entered, m.At, m.Control = ent != 0, fromTS(at), ctl != 0
		out = append(out, m)
	}
	return out, rows.Err()
}
