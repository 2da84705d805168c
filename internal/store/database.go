package store

import (
	"context"
	"database/sql"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Database is the store's open database, handed to River (the job queue)
// so that the whole connector shares one pool and one set of migrations.
// Exactly one of SQL and Pool is for River: SQL on SQLite (the store's
// single writer connection, as River's SQLite driver wants), Pool on
// PostgreSQL.
type Database struct {
	// Driver is "sqlite" or "postgres".
	Driver string
	// SQL is the writer handle (SQLite) or database/sql over Pool
	// (PostgreSQL).
	SQL *sql.DB
	// Pool is the native pgx pool (PostgreSQL only).
	Pool *pgxpool.Pool
	// Schema is the PostgreSQL schema the store lives in; "" for the
	// connection's default.
	Schema string
}

// Locker serialises work across everything that shares the database.
type Locker interface {
	// Lock takes the named lock, waiting until it is free or ctx ends,
	// and returns the function that releases it. On PostgreSQL it is a
	// session advisory lock keyed by the schema and the name, held by
	// every replica and CLI alike; on SQLite, whose file belongs to one
	// process, it is an in-process lock of this store.
	Lock(ctx context.Context, name string) (unlock func(), err error)
	// TryLock takes the named lock only if it is free at once; ok is
	// false, with no error, when someone holds it.
	TryLock(ctx context.Context, name string) (unlock func(), ok bool, err error)
}
