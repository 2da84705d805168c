package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/segconn/connector/domain"
	"github.com/segconn/connector/internal/store"
)

// Cursor implements store.Store.
func (e *Engine) Cursor(ctx context.Context, platform, account, object string) (string, error) {
	var c string
	err := e.r.QueryRowContext(ctx, e.q(`SELECT cursor FROM cursors WHERE platform = ? AND account = ? AND object = ?`), platform, account, object).Scan(&c)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading cursor of %s/%s/%s: %w", platform, account, object, err)
	}
	return c, nil
}

// SetCursor implements store.Store.
func (e *Engine) SetCursor(ctx context.Context, platform, account, object, cursor string) error {
	cols := []string{"platform", "account", "object", "cursor", "updated_at"}
	if _, err := e.w.ExecContext(ctx, e.q(`INSERT INTO cursors (platform, account, object, cursor, updated_at) VALUES (?, ?, ?, ?, ?) `+upsertSuffix(cols, "platform", "account", "object")),
		platform, account, object, cursor, ts(e.now())); err != nil {
		return fmt.Errorf("setting cursor of %s/%s/%s: %w", platform, account, object, err)
	}
	return nil
}

// ApplyMemberships implements store.Store. Changes are applied in runs of
// consecutive entries or exits, each run as chunked multi-row statements
// whose RETURNING clause tells which rows really changed, so only those get
// a history row; a full recompute of many customers costs a few dozen
// statements, not two per change.
func (e *Engine) ApplyMemberships(ctx context.Context, changes []store.MembershipChange) error {
	return e.RecordPlan(ctx, changes, nil, nil)
}

// RecordPlan implements store.Store.
func (e *Engine) RecordPlan(ctx context.Context, changes []store.MembershipChange, outbox []store.OutboxItem, inboxDone []int64) error {
	now := e.now()
	for i, c := range changes {
		if c.ProfileID == "" || c.Segment == "" {
			return fmt.Errorf("applying membership changes: change %d: profile id and segment are required", i)
		}
	}
	rows, err := e.outboxRows(outbox, now)
	if err != nil {
		return err
	}
	err = e.inTx(ctx, func(tx *sql.Tx) error {
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
		if err := e.outboxInsert(ctx, tx, rows); err != nil {
			return err
		}
		return e.inboxDone(ctx, tx, inboxDone, now)
	})
	if err != nil {
		return fmt.Errorf("applying %d membership changes and queueing %d write-backs: %w", len(changes), len(outbox), err)
	}
	return nil
}

// membershipRun applies changes that all enter or all leave.
func (e *Engine) membershipRun(ctx context.Context, tx *sql.Tx, run []store.MembershipChange, now time.Time) error {
	type pair struct{ p, s string }
	first := map[pair]int{}
	for i, c := range run {
		if _, ok := first[pair{c.ProfileID, c.Segment}]; !ok {
			first[pair{c.ProfileID, c.Segment}] = i
		}
	}
	entered := run[0].Entered
	var hist [][]any
	const per = 500
	for start := 0; start < len(run); start += per {
		chunk := run[start:min(start+per, len(run))]
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
		for rows.Next() {
			var pr pair
			var ctl int
			if err := rows.Scan(&pr.p, &pr.s, &ctl); err != nil {
				rows.Close()
				return fmt.Errorf("recording memberships: %w", err)
			}
			c := run[first[pr]]
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
	}
	// History in the order the changes were given.
	slices.SortStableFunc(hist, func(a, b []any) int {
		return first[pair{a[0].(string), a[1].(string)}] - first[pair{b[0].(string), b[1].(string)}]
	})
	return e.bulkInsert(ctx, tx, "membership_history", []string{"profile_id", "segment", "entered", "at", "control", "reason"}, "", hist)
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
	keys := make([]string, 0, len(refs))
	seen := map[string]bool{}
	for _, r := range refs {
		if k := r.Key(); !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	out := map[string][]store.Ownership{}
	err := inList(keys, func(list string, args []any) error {
		rows, err := e.r.QueryContext(ctx, e.q(`SELECT ref_key, platform, account, object_type, ext_id, target, value, written_at FROM ownership WHERE ref_key IN `+list+` ORDER BY ref_key, target, value`), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var key string
			var o store.Ownership
			var at int64
			if err := rows.Scan(&key, &o.Ref.Platform, &o.Ref.Account, &o.Ref.ObjectType, &o.Ref.ID, &o.Target, &o.Value, &at); err != nil {
				return err
			}
			o.WrittenAt = fromTS(at)
			out[key] = append(out[key], o)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("reading ownership of %d records: %w", len(keys), err)
	}
	return out, nil
}

// InboxAdd implements store.Store.
func (e *Engine) InboxAdd(ctx context.Context, it store.InboxItem) (int64, bool, error) {
	if it.Platform == "" || it.EventID == "" {
		return 0, false, fmt.Errorf("storing webhook event: platform and event id are required (platform %q, event id %q)", it.Platform, it.EventID)
	}
	at := it.ReceivedAt
	if at.IsZero() {
		at = e.now()
	}
	payload := it.Payload
	if payload == nil {
		payload = []byte{}
	}
	var id int64
	err := e.w.QueryRowContext(ctx, e.q(`INSERT INTO inbox (platform, account, event_id, received_at, payload) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (platform, event_id) DO NOTHING RETURNING id`), it.Platform, it.Account, it.EventID, ts(at), payload).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		if err := e.w.QueryRowContext(ctx, e.q(`SELECT id FROM inbox WHERE platform = ? AND event_id = ?`), it.Platform, it.EventID).Scan(&id); err != nil {
			return 0, false, fmt.Errorf("finding duplicate webhook event %s/%s: %w", it.Platform, it.EventID, err)
		}
		return id, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("storing webhook event %s/%s: %w", it.Platform, it.EventID, err)
	}
	return id, true, nil
}

const inboxCols = `id, platform, account, event_id, received_at, payload, attempts, last_error, processed_at`

func scanInbox(rows *sql.Rows) ([]store.InboxItem, error) {
	defer rows.Close()
	var out []store.InboxItem
	for rows.Next() {
		var it store.InboxItem
		var rec, proc int64
		if err := rows.Scan(&it.ID, &it.Platform, &it.Account, &it.EventID, &rec, &it.Payload, &it.Attempts, &it.LastError, &proc); err != nil {
			return nil, err
		}
		it.ReceivedAt, it.ProcessedAt = fromTS(rec), fromTS(proc)
		out = append(out, it)
	}
	return out, rows.Err()
}

// inboxClaimSQL leases due webhook events, oldest first; the caller adds
// the dialect's SKIP LOCKED and the RETURNING clause.
// Arguments: lease end, now, now, limit.
const inboxClaimSQL = `UPDATE inbox SET leased_until = ?, attempts = attempts + 1 WHERE id IN (
	SELECT id FROM inbox WHERE processed_at = 0 AND not_before <= ? AND leased_until <= ? ORDER BY id LIMIT ?`

// InboxClaim implements store.Store.
func (e *Engine) InboxClaim(ctx context.Context, limit int, lease time.Duration) ([]store.InboxItem, error) {
	now := e.now()
	var out []store.InboxItem
	err := e.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, e.q(inboxClaimSQL+e.d.SkipLocked+`) RETURNING `+inboxCols), ts(now.Add(lease)), ts(now), ts(now), limit)
		if err != nil {
			return err
		}
		out, err = scanInbox(rows)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claiming webhook events: %w", err)
	}
	sortInbox(out)
	return out, nil
}

func sortInbox(items []store.InboxItem) {
	for i := 1; i < len(items); i++ {
		for j := i; j > 0 && items[j].ID < items[j-1].ID; j-- {
			items[j], items[j-1] = items[j-1], items[j]
		}
	}
}

// InboxDone implements store.Store.
func (e *Engine) InboxDone(ctx context.Context, ids ...int64) error {
	err := e.inTx(ctx, func(tx *sql.Tx) error { return e.inboxDone(ctx, tx, ids, e.now()) })
	if err != nil {
		return fmt.Errorf("marking %d webhook events processed: %w", len(ids), err)
	}
	return nil
}

func (e *Engine) inboxDone(ctx context.Context, tx *sql.Tx, ids []int64, now time.Time) error {
	return inList(ids, func(list string, args []any) error {
		_, err := tx.ExecContext(ctx, e.q(`UPDATE inbox SET processed_at = ?, leased_until = 0, last_error = '' WHERE id IN `+list), append([]any{ts(now)}, args...)...)
		return err
	})
}

// InboxFailed implements store.Store.
func (e *Engine) InboxFailed(ctx context.Context, id int64, reason string, retryAt time.Time) error {
	if _, err := e.w.ExecContext(ctx, e.q(`UPDATE inbox SET last_error = ?, not_before = ?, leased_until = 0 WHERE id = ?`), reason, ts(retryAt), id); err != nil {
		return fmt.Errorf("recording failure of webhook event %d: %w", id, err)
	}
	return nil
}

// InboxPending implements store.Store.
func (e *Engine) InboxPending(ctx context.Context, limit int) ([]store.InboxItem, error) {
	rows, err := e.r.QueryContext(ctx, e.q(`SELECT `+inboxCols+` FROM inbox WHERE processed_at = 0 ORDER BY id LIMIT ?`), limit)
	if err != nil {
		return nil, fmt.Errorf("listing pending webhook events: %w", err)
	}
	out, err := scanInbox(rows)
	if err != nil {
		return nil, fmt.Errorf("listing pending webhook events: %w", err)
	}
	return out, nil
}

// OutboxEnqueue implements store.Store.
func (e *Engine) OutboxEnqueue(ctx context.Context, items []store.OutboxItem) error {
	rows, err := e.outboxRows(items, e.now())
	if err != nil {
		return err
	}
	if err := e.inTx(ctx, func(tx *sql.Tx) error { return e.outboxInsert(ctx, tx, rows) }); err != nil {
		return fmt.Errorf("enqueueing %d write-back items: %w", len(items), err)
	}
	return nil
}

// outboxRows checks items and turns them into outbox rows. A later item
// for the same record replaces an earlier one of the same call;
// PostgreSQL refuses one statement that upserts a row twice.
func (e *Engine) outboxRows(items []store.OutboxItem, now time.Time) ([][]any, error) {
	var rows [][]any
	for i, it := range items {
		if it.Platform == "" || it.Key == "" {
			return nil, fmt.Errorf("enqueueing write-back item %d: platform and key are required", i)
		}
		nb := it.NotBefore
		if nb.IsZero() {
			nb = now
		}
		p := it.Payload
		if p == nil {
			p = []byte{}
		}
		rows = append(rows, []any{it.Platform, it.Account, it.Key, p, string(store.OutboxPending), ts(nb), ts(now), ts(now)})
	}
	last := map[[3]string]int{}
	for i, it := range items {
		last[[3]string{it.Platform, it.Account, it.Key}] = i
	}
	kept := rows[:0:0]
	for i, it := range items {
		if last[[3]string{it.Platform, it.Account, it.Key}] == i {
			kept = append(kept, rows[i])
		}
	}
	return kept, nil
}

// outboxInsert upserts outbox rows: a newer state of a record with a
// pending item replaces that item's.
func (e *Engine) outboxInsert(ctx context.Context, tx *sql.Tx, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	return e.bulkInsert(ctx, tx, "outbox", []string{"platform", "account", "item_key", "payload", "status", "not_before", "created_at", "updated_at"},
		"ON CONFLICT (platform, account, item_key) WHERE status = 'pending' DO UPDATE SET payload = excluded.payload, not_before = excluded.not_before, updated_at = excluded.updated_at, attempts = 0, last_error = '', deferred = 0",
		rows)
}

const outboxCols = `id, platform, account, item_key, payload, status, attempts, last_error, not_before, created_at, deferred`

// OutboxClaim implements store.Store.
func (e *Engine) OutboxClaim(ctx context.Context, platform, account string, limit int, lease time.Duration) ([]store.OutboxItem, error) {
	return e.OutboxClaimLane(ctx, platform, account, store.LaneAny, limit, lease)
}

// OutboxClaimLane implements store.Store.
func (e *Engine) OutboxClaimLane(ctx context.Context, platform, account string, lane store.OutboxLane, limit int, lease time.Duration) ([]store.OutboxItem, error) {
	now := e.now()
	var out []store.OutboxItem
	err := e.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, e.q(outboxSupersedeSQL), ts(now), platform, account, ts(now)); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, e.q(e.outboxClaimSQL(lane)), ts(now.Add(lease)), ts(now), platform, account, ts(now), ts(now), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			it, err := scanOutbox(rows)
			if err != nil {
				return err
			}
			out = append(out, it)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("claiming write-back items of %s/%s: %w", platform, account, err)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].ID < out[j-1].ID; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out, nil
}

// outboxSupersedeSQL sets aside the items a newer item for the same
// record has superseded: a lapsed lease must not write an old state over
// a newer one, and the newer item's write settles whatever the lapsed
// attempt may have written (see store.OutboxSuperseded). Only lapsed leases can be superseded: a newer state of a pending
// item updates it in place, and a leased item goes back to pending only
// while no newer item exists (see OutboxFailed and OutboxDefer).
// Arguments: now, platform, account, now.
const outboxSupersedeSQL = `UPDATE outbox SET status = 'superseded', last_error = 'superseded by a newer item', leased_until = 0, updated_at = ?
	WHERE platform = ? AND account = ? AND status = 'leased' AND leased_until <= ?
	AND EXISTS (SELECT 1 FROM outbox o2 WHERE o2.platform = outbox.platform AND o2.account = outbox.account AND o2.item_key = outbox.item_key AND o2.id > outbox.id
		AND o2.status IN ('pending', 'leased'))`

// outboxClaimSQL leases a lane's due items, oldest first. An item whose
// record has another item in flight (a live lease) waits, so two writes
// of one record never race on the platform.
//
// The candidates are found through outbox_due alone: "status IN" probes
// it once per status. An OR of the two statuses made SQLite walk every
// item of the platform, done ones included, through outbox_record (12 ms
// a claim with 4,000 done items), and "+id" keeps it from walking the
// whole table in id order. TestQueuePlans holds both.
// Arguments: lease end, now, platform, account, now, now, limit.
func (e *Engine) outboxClaimSQL(lane store.OutboxLane) string {
	laneCond := ""
	switch lane {
	case store.LaneFresh:
		laneCond = " AND deferred = 0"
	case store.LaneDeferred:
		laneCond = " AND deferred = 1"
	}
	return `UPDATE outbox SET status = 'leased', leased_until = ?, attempts = attempts + 1, updated_at = ? WHERE id IN (
		SELECT id FROM outbox WHERE platform = ? AND account = ? AND status IN ('pending', 'leased')
		AND (CASE status WHEN 'pending' THEN not_before ELSE leased_until END) <= ?` + laneCond + `
		AND NOT EXISTS (SELECT 1 FROM outbox o3 WHERE o3.platform = outbox.platform AND o3.account = outbox.account AND o3.item_key = outbox.item_key
			AND o3.id <> outbox.id AND o3.status = 'leased' AND o3.leased_until > ?)
		ORDER BY +id LIMIT ?` + e.d.SkipLocked + `) RETURNING ` + outboxCols
}

// OutboxDone implements store.Store.
func (e *Engine) OutboxDone(ctx context.Context, ids []int64) error {
	if err := e.outboxDone(ctx, e.w, ids); err != nil {
		return fmt.Errorf("marking %d write-back items done: %w", len(ids), err)
	}
	return nil
}

func (e *Engine) outboxDone(ctx context.Context, x execer, ids []int64) error {
	return inList(ids, func(list string, args []any) error {
		_, err := x.ExecContext(ctx, e.q(`UPDATE outbox SET status = 'done', leased_until = 0, last_error = '', updated_at = ? WHERE id IN `+list), append([]any{ts(e.now())}, args...)...)
		return err
	})
}

// OutboxDefer implements store.Store. An item whose record has meanwhile
// been enqueued again is superseded by the newer item and closed: the
// newer one carries the whole desired state.
func (e *Engine) OutboxDefer(ctx context.Context, ids []int64, until time.Time) error {
	if err := e.inTx(ctx, func(tx *sql.Tx) error { return e.outboxDefer(ctx, tx, ids, until) }); err != nil {
		return fmt.Errorf("deferring %d write-back items: %w", len(ids), err)
	}
	return nil
}

func (e *Engine) outboxDefer(ctx context.Context, tx *sql.Tx, ids []int64, until time.Time) error {
	now := ts(e.now())
	return inList(ids, func(list string, args []any) error {
		if _, err := tx.ExecContext(ctx, e.q(`UPDATE outbox SET status = 'pending', deferred = 1, not_before = ?, leased_until = 0, last_error = '', updated_at = ?,
			attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END
			WHERE status = 'leased' AND id IN `+list+`
			AND NOT EXISTS (SELECT 1 FROM outbox o2 WHERE o2.platform = outbox.platform AND o2.account = outbox.account AND o2.item_key = outbox.item_key AND o2.id > outbox.id AND o2.status IN ('pending', 'leased'))`),
			append([]any{ts(until), now}, args...)...); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, e.q(`UPDATE outbox SET status = 'done', last_error = 'superseded by a newer item', leased_until = 0, updated_at = ? WHERE status = 'leased' AND id IN `+list),
			append([]any{now}, args...)...)
		return err
	})
}

// OutboxSettle implements store.Store.
func (e *Engine) OutboxSettle(ctx context.Context, st store.Settlement) error {
	err := e.inTx(ctx, func(tx *sql.Tx) error {
		if err := e.recordOwnership(ctx, tx, st.Owned); err != nil {
			return err
		}
		if err := e.outboxDone(ctx, tx, st.Done); err != nil {
			return err
		}
		for until, ids := range st.Defer {
			if err := e.outboxDefer(ctx, tx, ids, until); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("settling a write-back round (%d ownership entries, %d items done, %d deferral times): %w", len(st.Owned), len(st.Done), len(st.Defer), err)
	}
	return nil
}

// OutboxFailed implements store.Store. A retryable item whose key has
// meanwhile been enqueued again is superseded by the newer item and closed.
func (e *Engine) OutboxFailed(ctx context.Context, id int64, reason string, permanent bool, retryAt time.Time) error {
	now := ts(e.now())
	err := e.inTx(ctx, func(tx *sql.Tx) error {
		if permanent {
			_, err := tx.ExecContext(ctx, e.q(`UPDATE outbox SET status = 'failed', last_error = ?, leased_until = 0, updated_at = ? WHERE id = ?`), reason, now, id)
			return err
		}
		// Part of the attempt may have been written: a copy of its
		// state stays as a prior of the record until a later write
		// settles it, even when a newer state replaces the retry's
		// payload in place.
		// One copy per state: retries that fail again add none.
		if _, err := tx.ExecContext(ctx, e.q(`INSERT INTO outbox (platform, account, item_key, payload, status, attempts, last_error, not_before, created_at, updated_at)
			SELECT platform, account, item_key, payload, 'superseded', attempts, ?, 0, created_at, ? FROM outbox WHERE id = ? AND status = 'leased'
			AND NOT EXISTS (SELECT 1 FROM outbox o2 WHERE o2.platform = outbox.platform AND o2.account = outbox.account AND o2.item_key = outbox.item_key
				AND o2.status = 'superseded' AND o2.payload = outbox.payload)`),
			"attempt failed: "+reason, now, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, e.q(`UPDATE outbox SET status = 'pending', last_error = ?, not_before = ?, leased_until = 0, updated_at = ? WHERE id = ? AND status = 'leased'
			AND NOT EXISTS (SELECT 1 FROM outbox o2 WHERE o2.platform = outbox.platform AND o2.account = outbox.account AND o2.item_key = outbox.item_key AND o2.id > outbox.id AND o2.status IN ('pending', 'leased'))`),
			reason, ts(retryAt), now, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			// A newer item carries the record's state; the copy above
			// keeps this attempt's for it to settle.
			_, err = tx.ExecContext(ctx, e.q(`UPDATE outbox SET status = 'done', last_error = ?, leased_until = 0, updated_at = ? WHERE id = ? AND status = 'leased'`), "superseded after: "+reason, now, id)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("recording failure of write-back item %d: %w", id, err)
	}
	return nil
}

// OutboxSupersede implements store.Store.
func (e *Engine) OutboxSupersede(ctx context.Context, ids []int64) error {
	err := inList(ids, func(list string, args []any) error {
		_, err := e.w.ExecContext(ctx, e.q(`UPDATE outbox SET status = 'superseded', last_error = 'superseded by a newer item', leased_until = 0, updated_at = ? WHERE status = 'leased' AND id IN `+list), append([]any{ts(e.now())}, args...)...)
		return err
	})
	if err != nil {
		return fmt.Errorf("setting aside %d superseded write-back items: %w", len(ids), err)
	}
	return nil
}

// OutboxOpenKeys implements store.Store.
func (e *Engine) OutboxOpenKeys(ctx context.Context, platform, account string) (map[string]bool, error) {
	rows, err := e.r.QueryContext(ctx, e.q(`SELECT DISTINCT item_key FROM outbox WHERE platform = ? AND account = ? AND status IN ('pending', 'leased', 'superseded')`), platform, account)
	if err != nil {
		return nil, fmt.Errorf("listing %s records with write-back under way: %w", platform, err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("listing %s records with write-back under way: %w", platform, err)
		}
		out[k] = true
	}
	return out, rows.Err()
}

// OutboxPriors implements store.Store.
func (e *Engine) OutboxPriors(ctx context.Context, platform, account string, keys []string) (map[string][]store.OutboxItem, error) {
	out := map[string][]store.OutboxItem{}
	err := inList(keys, func(list string, args []any) error {
		rows, err := e.r.QueryContext(ctx, e.q(`SELECT `+outboxCols+` FROM outbox WHERE platform = ? AND account = ? AND item_key IN `+list+` AND status = 'superseded' ORDER BY id`),
			append([]any{platform, account}, args...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			it, err := scanOutbox(rows)
			if err != nil {
				return err
			}
			out[it.Key] = append(out[it.Key], it)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("reading superseded write-backs of %d %s records: %w", len(keys), platform, err)
	}
	return out, nil
}

func scanOutbox(rows *sql.Rows) (store.OutboxItem, error) {
	var it store.OutboxItem
	var nb, cr, deferred int64
	if err := rows.Scan(&it.ID, &it.Platform, &it.Account, &it.Key, &it.Payload, &it.Status, &it.Attempts, &it.LastError, &nb, &cr, &deferred); err != nil {
		return it, err
	}
	it.NotBefore, it.CreatedAt, it.Deferred = fromTS(nb), fromTS(cr), deferred != 0
	return it, nil
}

// OutboxStats implements store.Store.
func (e *Engine) OutboxStats(ctx context.Context) (map[store.OutboxStatus]int, error) {
	rows, err := e.r.QueryContext(ctx, `SELECT status, COUNT(*) FROM outbox GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("counting write-back items: %w", err)
	}
	defer rows.Close()
	out := map[store.OutboxStatus]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, fmt.Errorf("counting write-back items: %w", err)
		}
		out[store.OutboxStatus(s)] = n
	}
	return out, rows.Err()
}

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
