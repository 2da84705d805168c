// Package postgres is the scale-out store: several connector replicas
// share one PostgreSQL database. It uses pgx, the maintained native Go
// driver, through a pgxpool.Pool; the SQL itself runs through pgx's
// database/sql adapter over that same pool (stdlib.OpenDBFromPool), so the
// store shares one body of SQL with the SQLite store while the pool is
// still available natively to River, the job queue, which Database hands
// it.
//
// Migrate (run by Open and by `connector store migrate`) holds a session
// advisory lock while it applies the store's numbered migrations and
// River's, so replicas starting together on an empty schema wait for the
// first to create the tables instead of racing on the catalog. Lock offers
// the same kind of lock by name (the segment lock, the pull locks).
//
// A session lock holds its connection for as long as it is held, while
// the work done under it needs connections too. Those connections come
// from a pool of their own, so holders never wait for a connection that
// other holders pin: with locks and work sharing one pool, three pulls
// holding their pull locks and an inbox worker holding the segment lock
// took every connection of a 4-connection pool, each then waited for a
// fifth to do its work, and the process stood still until the job
// timeout cancelled the pulls ten minutes later.
//
// Identity resolution takes a transaction-scoped advisory lock, so two
// replicas applying pages at once cannot both create a profile for the same
// person; outbox and inbox claims use FOR UPDATE SKIP LOCKED, so claimers
// never block on or receive each other's rows.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"regexp"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/internal/store/sqlstore"
)

// identityLock is the advisory lock key that serialises identity
// resolution across replicas ("segconn" in ASCII).
const identityLock = 0x736567636f6e6e

// Options configure the PostgreSQL store.
type Options struct {
	store.Options
	// Schema, when set, is created if missing and used as the search_path
	// of every connection (tests isolate themselves this way).
	Schema string
	// MaxConns caps the pool the store's work and the job queue share; 0
	// keeps pgxpool's default. A cap below 2 is raised to 2. The
	// connections of held locks are not counted: they come from a pool
	// of their own (see lockConns).
	MaxConns int32
}

// lockConns caps the connections of held session locks in one process.
// The store takes each named lock in-process first, so a process pins at
// most one connection per lock name (the segment lock, one pull lock per
// platform, the migration lock), far fewer than this; past it, a lock
// waits for another lock's release, never for the work's connections.
const lockConns = 32

// Store is the PostgreSQL store.
type Store struct {
	*sqlstore.Engine
	pool  *pgxpool.Pool
	locks *pgxpool.Pool // the connections of held session locks
}

var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// Open connects to dsn and applies pending migrations.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// The DSN may hold a password and pgx redacts it only on a best
		// effort basis: name the problem without echoing the string.
		return nil, errors.New("parsing store.dsn: not a valid PostgreSQL connection string (URL or key=value form); it is not shown because it may hold a password")
	}
	if opts.Schema != "" {
		if !schemaName.MatchString(opts.Schema) {
			return nil, fmt.Errorf("opening postgres: schema %q is not a plain lower-case identifier", opts.Schema)
		}
		conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig.Copy())
		if err != nil {
			return nil, fmt.Errorf("connecting to postgres at %s: %w", cfg.ConnConfig.Host, err)
		}
		// Replicas starting together would race on the catalog: create
		// the schema under the same advisory lock the migrations take.
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(identityLock)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+opts.Schema)
			return err
		})
		conn.Close(ctx)
		if err != nil {
			return nil, fmt.Errorf("creating schema %s: %w", opts.Schema, err)
		}
		cfg.ConnConfig.RuntimeParams["search_path"] = opts.Schema
	}
	lockCfg := cfg.Copy()
	lockCfg.MaxConns, lockCfg.MinConns = lockConns, 0
	if opts.MaxConns > 0 {
		cfg.MaxConns = max(opts.MaxConns, 2)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to postgres at %s: %w", cfg.ConnConfig.Host, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connecting to postgres at %s: %w", cfg.ConnConfig.Host, err)
	}
	// It connects only when a lock is first taken.
	locks, err := pgxpool.NewWithConfig(ctx, lockCfg)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("connecting to postgres at %s for locks: %w", cfg.ConnConfig.Host, err)
	}
	db := stdlib.OpenDBFromPool(pool)
	d := sqlstore.Dialect{
		Name:       "postgres",
		Rebind:     sqlstore.DollarRebind,
		MaxParams:  65535,
		SkipLocked: " FOR UPDATE SKIP LOCKED",
		Serialize: func(ctx context.Context, tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(identityLock)); err != nil {
				return fmt.Errorf("taking the identity lock: %w", err)
			}
			return nil
		},
		Migrations: sqlstore.Migrations("postgres"),
		CopyFrom:   copyFrom,
		IsConflict: func(err error) bool {
			var pe *pgconn.PgError
			// unique_violation, deadlock_detected, serialization_failure
			return errors.As(err, &pe) && (pe.Code == "23505" || pe.Code == "40P01" || pe.Code == "40001")
		},
		AfterMigrations: func(ctx context.Context) error {
			return sqlstore.MigrateRiver(ctx, riverpgxv5.New(pool), opts.Schema, opts.Logger)
		},
		Lock: func(ctx context.Context, name string) (func(), error) {
			return advisoryLock(ctx, locks, opts.Schema, name)
		},
		TryLock: func(ctx context.Context, name string) (func(), bool, error) {
			return tryAdvisoryLock(ctx, locks, opts.Schema, name)
		},
		Database: store.Database{Driver: "postgres", SQL: db, Pool: pool, Schema: opts.Schema},
	}
	s := &Store{Engine: sqlstore.New(db, db, d, opts.Options), pool: pool, locks: locks}
	if _, err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("migrating postgres: %w", err)
	}
	return s, nil
}

// advisoryLock takes the session advisory lock of name in schema on a
// connection of pool (the lock pool), held until unlock. The key is a hash of
// "segconn/<name>/<schema>", so stores on other schemas of one database
// do not wait for each other.
func advisoryLock(ctx context.Context, pool *pgxpool.Pool, schema, name string) (func(), error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("acquiring a connection for the %s lock: %w", name, err)
	}
	key := lockKey(schema, name)
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
		conn.Release()
		return nil, fmt.Errorf("taking the %s lock: %w", name, err)
	}
	return advisoryUnlock(ctx, conn, key), nil
}

// tryAdvisoryLock is advisoryLock without waiting: ok is false when
// another session holds the lock.
func tryAdvisoryLock(ctx context.Context, pool *pgxpool.Pool, schema, name string) (func(), bool, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("acquiring a connection for the %s lock: %w", name, err)
	}
	key := lockKey(schema, name)
	var ok bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&ok); err != nil {
		conn.Release()
		return nil, false, fmt.Errorf("trying the %s lock: %w", name, err)
	}
	if !ok {
		conn.Release()
		return nil, false, nil
	}
	return advisoryUnlock(ctx, conn, key), true, nil
}

// lockKey is the advisory lock key of name in schema.
func lockKey(schema, name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("segconn/" + name + "/" + schema))
	return int64(h.Sum64())
}

// advisoryUnlock returns the function that releases key held on conn.
func advisoryUnlock(ctx context.Context, conn *pgxpool.Conn, key int64) func() {
	return func() {
		ctx := context.WithoutCancel(ctx)
		if _, err := conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", key); err != nil {
			// Closing the connection releases a session lock for sure.
			_ = conn.Conn().Close(ctx)
		}
		conn.Release()
	}
}

// Close closes the database/sql adapter and both pools.
func (s *Store) Close() error {
	err := s.Engine.Close()
	s.pool.Close()
	s.locks.Close()
	return err
}

// copyFrom is Dialect.CopyFrom: COPY over the pgx connection under conn,
// inside the transaction database/sql has open on it.
func copyFrom(ctx context.Context, conn *sql.Conn, table string, cols []string, rows [][]any) error {
	return conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("copying into %s: the connection is a %T, not pgx's", table, dc)
		}
		_, err := c.Conn().CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows))
		return err
	})
}
