package outbound

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Dialect selects the SQL flavour of an SQLQueue.
type Dialect int

// Supported databases.
const (
	SQLite   Dialect = iota // modernc.org/sqlite
	Postgres                // pgx through database/sql (stdlib.OpenDBFromPool or the "pgx" driver)
)

func (d Dialect) String() string {
	if d == Postgres {
		return "postgres"
	}
	return "sqlite"
}

// SQLQueue is the Queue over SQLite or PostgreSQL. It owns one table,
// outbound_deliveries, created by Migrate. On SQLite pass the store's
// writer handle (one connection): SQLite serialises writers anyway.
type SQLQueue struct {
	db *sql.DB
	d  Dialect
}

var _ Queue = (*SQLQueue)(nil)

// NewSQLQueue wraps an open database. Call Migrate before use.
func NewSQLQueue(db *sql.DB, d Dialect) *SQLQueue { return &SQLQueue{db: db, d: d} }

// table columns in the order scanned by scanDelivery.
const cols = "id, endpoint, payload, status, attempts, created_at, next_attempt_at, last_attempt_at, last_error, done_at"

// Migrate creates the queue's table and index if they are missing.
func (q *SQLQueue) Migrate(ctx context.Context) error {
	idCol := "id INTEGER PRIMARY KEY AUTOINCREMENT"
	if q.d == Postgres {
		idCol = "id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
	}
	stmts := []string{
		`CREATE TABLE IF NOT EXISTS outbound_deliveries (
	` + idCol + `,
	endpoint TEXT NOT NULL,
	event_id TEXT NOT NULL,
	event_type TEXT NOT NULL,
	payload TEXT NOT NULL,
	status TEXT NOT NULL DEFAULT 'pending',
	attempts INTEGER NOT NULL DEFAULT 0,
	created_at BIGINT NOT NULL,
	next_attempt_at BIGINT NOT NULL,
	claimed_until BIGINT NOT NULL DEFAULT 0,
	last_attempt_at BIGINT NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT '',
	done_at BIGINT NOT NULL DEFAULT 0,
	UNIQUE (endpoint, event_id)
)`,
		`CREATE INDEX IF NOT EXISTS outbound_deliveries_queue ON outbound_deliveries (endpoint, status, id)`,
		`CREATE INDEX IF NOT EXISTS outbound_deliveries_status ON outbound_deliveries (status, id)`,
	}
	for _, s := range stmts {
		if _, err := q.db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("creating outbound_deliveries on %s: %w", q.d, err)
		}
	}
	return nil
}

// rebind turns '?' placeholders into $n for PostgreSQL.
func (q *SQLQueue) rebind(s string) string {
	if q.d != Postgres {
		return s
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// Enqueue implements Queue.
func (q *SQLQueue) Enqueue(ctx context.Context, ds []Delivery) (int, error) {
	if len(ds) == 0 {
		return 0, nil
	}
	tx, err := q.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("enqueueing outbound deliveries: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	const chunk = 200
	total := 0
	for lo := 0; lo < len(ds); lo += chunk {
		part := ds[lo:min(lo+chunk, len(ds))]
		var b strings.Builder
		b.WriteString("INSERT INTO outbound_deliveries (endpoint, event_id, event_type, payload, status, attempts, created_at, next_attempt_at) VALUES ")
		args := make([]any, 0, len(part)*7)
		for i, d := range part {
			payload, err := json.Marshal(d.Event)
			if err != nil {
				return 0, fmt.Errorf("encoding outbound event %s: %w", d.Event.ID, err)
			}
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, 'pending', 0, ?, ?)")
			next := d.NextAttemptAt
			if next.IsZero() {
				next = d.CreatedAt
			}
			args = append(args, d.Endpoint, d.Event.ID, d.Event.Type, string(payload), ms(d.CreatedAt), ms(next))
		}
		b.WriteString(" ON CONFLICT (endpoint, event_id) DO NOTHING")
		res, err := tx.ExecContext(ctx, q.rebind(b.String()), args...)
		if err != nil {
			return 0, fmt.Errorf("enqueueing outbound deliveries: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, fmt.Errorf("enqueueing outbound deliveries: %w", err)
		}
		total += int(n)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("enqueueing outbound deliveries: %w", err)
	}
	return total, nil
}

// Claim implements Queue. One statement does it: the uncorrelated
// sub-queries are evaluated once, and the claimed_until test on the row
// itself makes a concurrent PostgreSQL claimer that blocked on the same
// rows skip them once it sees the first claimer's lease.
func (q *SQLQueue) Claim(ctx context.Context, endpoint string, now time.Time, lease time.Duration, limit int) ([]Delivery, error) {
	if limit <= 0 {
		limit = DefaultBatchSize
	}
	n := ms(now)
	tx, err := q.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("claiming outbound deliveries for %s: %w", DisplayURL(endpoint), err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if q.d == Postgres {
		// Claimers of one endpoint take turns: two UPDATEs locking the same
		// rows in different orders would deadlock, and delivery is in order
		// per endpoint anyway.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('outbound:' || $1))`, endpoint); err != nil {
			return nil, fmt.Errorf("claiming outbound deliveries for %s: %w", DisplayURL(endpoint), err)
		}
	}
	rows, err := tx.QueryContext(ctx, q.rebind(`UPDATE outbound_deliveries
SET claimed_until = ?, attempts = attempts + 1, last_attempt_at = ?
WHERE id IN (SELECT id FROM outbound_deliveries WHERE endpoint = ? AND status = 'pending' ORDER BY id LIMIT ?)
AND status = 'pending' AND claimed_until <= ?
AND NOT EXISTS (SELECT 1 FROM outbound_deliveries
	WHERE endpoint = ? AND status = 'pending' AND (next_attempt_at > ? OR claimed_until > ?))
RETURNING `+cols), ms(now.Add(lease)), n, endpoint, limit, n, endpoint, n, n)
	if err != nil {
		return nil, fmt.Errorf("claiming outbound deliveries for %s: %w", DisplayURL(endpoint), err)
	}
	ds, err := scanDeliveries(rows)
	if err != nil {
		return nil, fmt.Errorf("claiming outbound deliveries for %s: %w", DisplayURL(endpoint), err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("claiming outbound deliveries for %s: %w", DisplayURL(endpoint), err)
	}
	slices.SortFunc(ds, func(a, b Delivery) int { return int(a.ID - b.ID) })
	return ds, nil
}

func scanDeliveries(rows *sql.Rows) ([]Delivery, error) {
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		var (
			d                             Delivery
			payload, status               string
			created, next, last, doneAtMS int64
		)
		if err := rows.Scan(&d.ID, &d.Endpoint, &payload, &status, &d.Attempts, &created, &next, &last, &d.LastError, &doneAtMS); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(payload), &d.Event); err != nil {
			return nil, fmt.Errorf("decoding stored event of delivery %d: %w", d.ID, err)
		}
		d.Status = Status(status)
		d.CreatedAt, d.NextAttemptAt, d.LastAttemptAt, d.DoneAt = fromMS(created), fromMS(next), fromMS(last), fromMS(doneAtMS)
		out = append(out, d)
	}
	return out, rows.Err()
}

// idList renders "?, ?, ?" and the arguments for an IN list.
func idList(ids []int64) (string, []any) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", "), args
}

// Done implements Queue.
func (q *SQLQueue) Done(ctx context.Context, ids []int64, now time.Time) error {
	for lo := 0; lo < len(ids); lo += 500 {
		list, args := idList(ids[lo:min(lo+500, len(ids))])
		args = append([]any{ms(now)}, args...)
		if _, err := q.db.ExecContext(ctx, q.rebind(`UPDATE outbound_deliveries
SET status = 'delivered', claimed_until = 0, done_at = ?, last_error = ''
WHERE status = 'pending' AND id IN (`+list+`)`), args...); err != nil {
			return fmt.Errorf("marking outbound deliveries delivered: %w", err)
		}
	}
	return nil
}

// Fail implements Queue.
func (q *SQLQueue) Fail(ctx context.Context, fs []Failure, now time.Time) error {
	if len(fs) == 0 {
		return nil
	}
	tx, err := q.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("recording failed outbound deliveries: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	retry := q.rebind(`UPDATE outbound_deliveries SET claimed_until = 0, next_attempt_at = ?, last_error = ?
WHERE status = 'pending' AND id = ?`)
	bury := q.rebind(`UPDATE outbound_deliveries SET status = 'dead', claimed_until = 0, last_error = ?, done_at = ?
WHERE status = 'pending' AND id = ?`)
	for _, f := range fs {
		if f.Dead {
			_, err = tx.ExecContext(ctx, bury, f.Error, ms(now), f.ID)
		} else {
			_, err = tx.ExecContext(ctx, retry, ms(f.NextAttemptAt), f.Error, f.ID)
		}
		if err != nil {
			return fmt.Errorf("recording failed outbound delivery %d: %w", f.ID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("recording failed outbound deliveries: %w", err)
	}
	return nil
}

// List implements Queue.
func (q *SQLQueue) List(ctx context.Context, f ListFilter) ([]Delivery, error) {
	var (
		where []string
		args  []any
	)
	if f.Status != "" {
		where = append(where, "status = ?")
		args = append(args, string(f.Status))
	}
	if f.Endpoint != "" {
		where = append(where, "endpoint = ?")
		args = append(args, f.Endpoint)
	}
	s := "SELECT " + cols + " FROM outbound_deliveries"
	if len(where) > 0 {
		s += " WHERE " + strings.Join(where, " AND ")
	}
	s += " ORDER BY id"
	if f.Limit > 0 {
		s += " LIMIT ?"
		args = append(args, f.Limit)
	}
	rows, err := q.db.QueryContext(ctx, q.rebind(s), args...)
	if err != nil {
		return nil, fmt.Errorf("listing outbound deliveries: %w", err)
	}
	ds, err := scanDeliveries(rows)
	if err != nil {
		return nil, fmt.Errorf("listing outbound deliveries: %w", err)
	}
	return ds, nil
}

// Counts implements Queue.
func (q *SQLQueue) Counts(ctx context.Context) ([]Count, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT endpoint, status, COUNT(*) FROM outbound_deliveries
GROUP BY endpoint, status ORDER BY endpoint, status`)
	if err != nil {
		return nil, fmt.Errorf("counting outbound deliveries: %w", err)
	}
	defer rows.Close()
	var out []Count
	for rows.Next() {
		var c Count
		var st string
		if err := rows.Scan(&c.Endpoint, &st, &c.N); err != nil {
			return nil, fmt.Errorf("counting outbound deliveries: %w", err)
		}
		c.Status = Status(st)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("counting outbound deliveries: %w", err)
	}
	return out, nil
}

// Requeue implements Queue.
func (q *SQLQueue) Requeue(ctx context.Context, ids []int64, now time.Time) (int, error) {
	s := `UPDATE outbound_deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?, claimed_until = 0, done_at = 0
WHERE status = 'dead'`
	args := []any{ms(now)}
	if len(ids) > 0 {
		list, idArgs := idList(ids)
		s += " AND id IN (" + list + ")"
		args = append(args, idArgs...)
	}
	res, err := q.db.ExecContext(ctx, q.rebind(s), args...)
	if err != nil {
		return 0, fmt.Errorf("re-queueing dead outbound deliveries: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("re-queueing dead outbound deliveries: %w", err)
	}
	return int(n), nil
}

// Purge implements Queue.
func (q *SQLQueue) Purge(ctx context.Context, before time.Time) (int, error) {
	res, err := q.db.ExecContext(ctx, q.rebind(`DELETE FROM outbound_deliveries WHERE status = 'delivered' AND done_at < ?`), ms(before))
	if err != nil {
		return 0, fmt.Errorf("purging delivered outbound deliveries: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("purging delivered outbound deliveries: %w", err)
	}
	return int(n), nil
}
