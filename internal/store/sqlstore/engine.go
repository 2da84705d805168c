package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/bits"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/segconn/connector/internal/identity"
	"github.com/segconn/connector/internal/store"
)

// Dialect is what differs between the databases.
type Dialect struct {
	// Name is "sqlite" or "postgres".
	Name string
	// Rebind rewrites '?' placeholders for the database.
	Rebind func(string) string
	// MaxParams is the most bind parameters one statement may carry.
	MaxParams int
	// SkipLocked is appended to the row-selecting sub-query of a claim:
	// " FOR UPDATE SKIP LOCKED" on PostgreSQL, "" on SQLite (whose single
	// writer connection already serialises claims).
	SkipLocked string
	// Serialize runs at the start of a write transaction that resolves
	// identities so that two replicas never resolve at once (an advisory
	// lock on PostgreSQL); nil when the database serialises writers itself.
	Serialize func(ctx context.Context, tx *sql.Tx) error
	// Migrations holds NNNN_name.sql files at its root.
	Migrations fs.FS
	// AfterMigrations runs after the numbered migrations, under the same
	// lock: it applies River's migrations, so that one Migrate creates
	// every table of the database. Nil runs nothing.
	AfterMigrations func(ctx context.Context) error
	// Lock takes a named lock across every process sharing the database
	// (see store.Locker); nil means an in-process lock of this store.
	Lock func(ctx context.Context, name string) (unlock func(), err error)
	// TryLock is Lock without waiting; set with Lock.
	TryLock func(ctx context.Context, name string) (unlock func(), ok bool, err error)
	// MigrateLock, when set, is the lock Migrate holds instead of
	// Lock(ctx, "migrate"): SQLite's migrations need a lock across
	// processes that its in-process Lock does not give.
	MigrateLock func(ctx context.Context) (unlock func(), err error)
	// Database is what Engine.Database hands to the job queue.
	Database store.Database
	// IsConflict reports an error a concurrent writer caused and that
	// running the transaction again resolves: a unique-key violation
	// between a statement's check and its write (PostgreSQL's READ
	// COMMITTED lets that happen; the second run's check sees the other
	// writer's row), a deadlock, a serialisation failure. Nil: the database serialises
	// writers (SQLite), so it never happens.
	IsConflict func(error) bool
	// PrepareOnce keeps the statements ApplyPage runs on every page
	// prepared on the writer database (see stmtCache): SQLite, whose
	// driver would parse each of them afresh.
	PrepareOnce bool
	// CopyFrom, when set, copies rows into table over conn, inside the
	// transaction open on it (PostgreSQL's COPY); ApplyPage then writes
	// its large tables through staging tables (see unit.bulkWrite).
	CopyFrom func(ctx context.Context, conn *sql.Conn, table string, cols []string, rows [][]any) error
}

// QuestionRebind leaves '?' placeholders as they are (SQLite).
func QuestionRebind(q string) string { return q }

// DollarRebind rewrites '?' placeholders to $1, $2, ... (PostgreSQL). The
// store's SQL never has '?' inside literals.
func DollarRebind(q string) string {
	n := strings.Count(q, "?")
	if n == 0 {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + n*5)
	i := 0
	for _, c := range []byte(q) {
		if c == '?' {
			i++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(i))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// Engine implements store.Store over database/sql.
type Engine struct {
	w   *sql.DB // writes (SQLite: one connection)
	r   *sql.DB // reads (SQLite: a pool in WAL mode; PostgreSQL: same as w)
	d   Dialect
	log *slog.Logger
	now func() time.Time
	// ident folds records into profiles under the configured policy.
	ident identity.Resolver
	// locks are the in-process half of every named lock (see Lock).
	locks locks
	// supp are the suppression list's keys (suppression.go), loaded by
	// Migrate.
	supp suppressionKeys
	// stmts are statements prepared once (Dialect.PrepareOnce).
	stmts stmtCache
}

var _ store.Store = (*Engine)(nil)

// New wraps open databases; it does not migrate (call Migrate).
func New(w, r *sql.DB, d Dialect, opts store.Options) *Engine {
	e := &Engine{w: w, r: r, d: d, log: opts.Logger, now: opts.Now, ident: identity.Resolver{Policy: identity.Policy(opts.Survivorship)},
		supp: suppressionKeys{configured: opts.SuppressionKey}}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.now == nil {
		e.now = time.Now
	}
	return e
}

// Database implements store.Store.
func (e *Engine) Database() store.Database { return e.d.Database }

// Close closes both databases.
func (e *Engine) Close() error {
	err := errors.Join(e.closeStmts(), e.w.Close())
	if e.r != e.w {
		err = errors.Join(err, e.r.Close())
	}
	return err
}

func (e *Engine) q(s string) string { return e.d.Rebind(s) }

func ts(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromTS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// migrateLock names the lock Migrate holds (see store.Locker).
const migrateLock = "migrate"

// Migrate implements store.Store. Under the dialect's migration lock it
// applies the embedded migrations not yet recorded in schema_migrations,
// each in its own transaction, then the dialect's AfterMigrations, and
// returns the version of the numbered migrations.
func (e *Engine) Migrate(ctx context.Context) (int, error) {
	lock := func(ctx context.Context) (func(), error) { return e.Lock(ctx, migrateLock) }
	if e.d.MigrateLock != nil {
		lock = e.d.MigrateLock
	}
	unlock, err := lock(ctx)
	if err != nil {
		return 0, fmt.Errorf("taking the migration lock: %w", err)
	}
	defer unlock()
	v, err := e.migrate(ctx)
	if err != nil {
		return v, err
	}
	if e.d.AfterMigrations != nil {
		if err := e.d.AfterMigrations(ctx); err != nil {
			return v, err
		}
	}
	if err := e.loadSuppressionKeys(ctx); err != nil {
		return v, err
	}
	return v, nil
}

func (e *Engine) migrate(ctx context.Context) (int, error) {
	entries, err := fs.ReadDir(e.d.Migrations, ".")
	if err != nil {
		return 0, fmt.Errorf("reading migrations: %w", err)
	}
	type mig struct {
		version int
		name    string
	}
	var migs []mig
	for _, en := range entries {
		name := en.Name()
		if en.IsDir() || path.Ext(name) != ".sql" {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return 0, fmt.Errorf("reading migrations: %q does not start with NNNN_", name)
		}
		migs = append(migs, mig{v, name})
	}
	sort.Slice(migs, func(i, j int) bool { return migs[i].version < migs[j].version })

	current := 0
	for _, m := range migs {
		err := e.inTx(ctx, func(tx *sql.Tx) error {
			if e.d.Serialize != nil {
				if err := e.d.Serialize(ctx, tx); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
				return fmt.Errorf("creating schema_migrations: %w", err)
			}
			var n int
			if err := tx.QueryRowContext(ctx, e.q(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`), m.version).Scan(&n); err != nil {
				return fmt.Errorf("checking migration %s: %w", m.name, err)
			}
			if n > 0 {
				return nil
			}
			body, err := fs.ReadFile(e.d.Migrations, m.name)
			if err != nil {
				return fmt.Errorf("reading migration %s: %w", m.name, err)
			}
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return fmt.Errorf("applying migration %s: %w", m.name, err)
			}
			if _, err := tx.ExecContext(ctx, e.q(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`), m.version, m.name, ts(e.now())); err != nil {
				return fmt.Errorf("recording migration %s: %w", m.name, err)
			}
			e.log.InfoContext(ctx, "applied migration", "dialect", e.d.Name, "migration", m.name)
			return nil
		})
		if err != nil {
			return current, err
		}
		current = m.version
	}
	var newest int
	if err := e.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&newest); err != nil {
		return current, fmt.Errorf("reading schema version: %w", err)
	}
	if newest > current {
		return current, fmt.Errorf("the database schema is at version %d but this binary knows only up to %d: upgrade the connector", newest, current)
	}
	return current, nil
}

// inTx runs fn in a write transaction, committing when it returns nil.
func (e *Engine) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := e.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing transaction: %w", err)
	}
	if e.d.PrepareOnce {
		e.prepareWanted(ctx)
	}
	return nil
}

// inTxRetry is inTx for transactions whose checks a concurrent writer can
// overtake (see Dialect.IsConflict): a conflict runs fn again, up to five
// times.
func (e *Engine) inTxRetry(ctx context.Context, fn func(tx *sql.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := e.inTx(ctx, fn)
		if err == nil || e.d.IsConflict == nil || !e.d.IsConflict(err) || attempt == 5 || ctx.Err() != nil {
			return err
		}
		e.log.Debug("write conflicted with a concurrent writer; running it again", "attempt", attempt, "err", err)
	}
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// chunkRows returns how many rows of ncols fit in one statement.
func (e *Engine) chunkRows(ncols int) int {
	n := e.d.MaxParams / ncols
	if n > 500 {
		n = 500
	}
	if n < 1 {
		n = 1
	}
	return n
}

// bulkInsert writes rows with multi-row INSERT statements in chunks;
// suffix follows the VALUES list (e.g. an ON CONFLICT clause). Chunks
// are full (chunkRows) or, for the rest, powers of two, so that a few
// statement texts serve every page and, in a transaction, are prepared
// once (see stmtCache).
func (e *Engine) bulkInsert(ctx context.Context, x execer, table string, cols []string, suffix string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	per := e.chunkRows(len(cols))
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",") + ")"
	head := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES "
	queries := map[int]string{}
	tx, _ := x.(*sql.Tx)
	args := make([]any, 0, min(per, len(rows))*len(cols))
	for start := 0; start < len(rows); {
		n := min(per, len(rows)-start)
		if n < per {
			n = 1 << (bits.Len(uint(n)) - 1)
		}
		q, ok := queries[n]
		if !ok {
			var b strings.Builder
			b.WriteString(head)
			for i := 0; i < n; i++ {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(tuple)
			}
			b.WriteByte(' ')
			b.WriteString(suffix)
			q = e.q(b.String())
			queries[n] = q
		}
		args = args[:0]
		for _, r := range rows[start : start+n] {
			if len(r) != len(cols) {
				return fmt.Errorf("writing %s: row has %d values for %d columns", table, len(r), len(cols))
			}
			args = append(args, r...)
		}
		var err error
		if tx != nil {
			err = e.exec(ctx, tx, q, args...)
		} else {
			_, err = x.ExecContext(ctx, q, args...)
		}
		if err != nil {
			return fmt.Errorf("writing %d rows to %s: %w", n, table, err)
		}
		start += n
	}
	return nil
}

// upsertSuffix builds ON CONFLICT (keys) DO UPDATE SET c = excluded.c for
// every column not in keys.
func upsertSuffix(cols []string, keys ...string) string {
	var sets []string
	for _, c := range cols {
		isKey := false
		for _, k := range keys {
			if k == c {
				isKey = true
			}
		}
		if !isKey {
			sets = append(sets, c+" = excluded."+c)
		}
	}
	return "ON CONFLICT (" + strings.Join(keys, ", ") + ") DO UPDATE SET " + strings.Join(sets, ", ")
}

// inList runs fn for chunks of keys with a "(?,?,...)" list and the args.
func inList[T any](keys []T, fn func(list string, args []any) error) error {
	const per = 500
	for start := 0; start < len(keys); start += per {
		end := min(start+per, len(keys))
		args := make([]any, 0, end-start)
		for _, k := range keys[start:end] {
			args = append(args, k)
		}
		list := "(" + strings.TrimSuffix(strings.Repeat("?,", end-start), ",") + ")"
		if err := fn(list, args); err != nil {
			return err
		}
	}
	return nil
}

func notFound(what string) error { return fmt.Errorf("%s: %w", what, store.ErrNotFound) }
