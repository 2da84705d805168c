// Package sqlite is the embedded store: one SQLite file in the data
// directory, opened through modernc.org/sqlite, a translation of SQLite to
// pure Go. It needs no cgo, so the connector stays one static binary that
// cross-compiles anywhere, at the price of being slower than the C library
// (see the benchmarks in storetest).
//
// The file runs in WAL mode with a busy timeout. All writes go through one
// connection (SQLite allows one writer at a time; queueing writers in the
// pool instead of in SQLite's busy loop means they never see SQLITE_BUSY),
// and transactions begin IMMEDIATE so a read never has to upgrade to a
// write lock. Reads use a separate pool of read-only connections, which WAL
// lets run alongside the writer.
//
// River, the job queue, keeps its tables in the same file and works through
// the same writer connection (Database hands it over; River's SQLite
// driver asks for exactly one connection); Migrate applies its migrations
// after the store's, holding an exclusive lock on a file beside the
// database (connector.db.lock) so that processes opening a new file
// together create the tables once. Lock is an in-process lock: the file
// belongs to one connector process.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/gofrs/flock"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/internal/store/sqlstore"
)

// FileName is the database file created inside the data directory.
const FileName = "connector.db"

// Store is the SQLite store.
type Store struct {
	*sqlstore.Engine
	w    *sql.DB
	path string
}

// Open opens (creating if needed) path, a database file, and applies
// pending migrations. Use filepath.Join(dataDir, FileName) for the default.
func Open(ctx context.Context, path string, opts store.Options) (*Store, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("creating data directory %s: %w", dir, err)
		}
	}
	// The file holds personal data: create it readable by its owner only
	// (SQLite gives the -wal and -shm files the same permissions).
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("creating sqlite %s: %w", path, err)
	}
	f.Close()
	dsn := func(readOnly bool) string {
		q := url.Values{}
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "journal_mode(WAL)")
		// FULL: a commit is on disk before it returns, so a webhook
		// acknowledged after InboxAdd survives a power cut, not only a
		// process crash (NORMAL would risk the last commits in WAL mode).
		q.Add("_pragma", "synchronous(FULL)")
		q.Add("_pragma", "foreign_keys(1)")
		if readOnly {
			q.Add("_pragma", "query_only(1)")
		} else {
			q.Set("_txlock", "immediate")
		}
		return "file:" + path + "?" + q.Encode()
	}
	w, err := sql.Open("sqlite", dsn(false))
	if err != nil {
		return nil, fmt.Errorf("opening sqlite %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	// The first connection switches a new file to WAL, which needs the
	// file to itself and does not wait on busy_timeout: two processes
	// opening one new file at once would see "database is locked". The
	// migration lock serialises that first step too.
	unlock, err := fileLock(ctx, path+".lock")
	if err != nil {
		w.Close()
		return nil, err
	}
	err = w.PingContext(ctx)
	unlock()
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("opening sqlite %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", dsn(true))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("opening sqlite %s for reading: %w", path, err)
	}
	n := max(2, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	d := sqlstore.Dialect{
		Name:        "sqlite",
		Rebind:      sqlstore.QuestionRebind,
		MaxParams:   32766,
		PrepareOnce: true,
		Migrations:  sqlstore.Migrations("sqlite"),
		AfterMigrations: func(ctx context.Context) error {
			return sqlstore.MigrateRiver(ctx, riversqlite.New(w), "", opts.Logger)
		},
		MigrateLock: func(ctx context.Context) (func(), error) {
			return fileLock(ctx, path+".lock")
		},
		Database: store.Database{Driver: "sqlite", SQL: w},
	}
	s := &Store{Engine: sqlstore.New(w, r, d, opts), w: w, path: path}
	if _, err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("migrating sqlite %s: %w", path, err)
	}
	return s, nil
}

// fileLock takes an exclusive lock on the file at path (creating it), for
// Migrate: SQLite serialises each of the store's migration transactions,
// but River's migrator checks and applies its versions in separate
// transactions, so two processes (or two stores of one process) opening a
// new file at once would both create River's tables. gofrs/flock is a
// well-kept wrapper of flock(2) and LockFileEx; the operating system drops
// the lock of a process that dies.
func fileLock(ctx context.Context, path string) (func(), error) {
	fl := flock.New(path, flock.SetPermissions(0o600))
	ok, err := fl.TryLockContext(ctx, 20*time.Millisecond)
	if err != nil || !ok {
		return nil, fmt.Errorf("locking %s: %w", path, errors.Join(err, ctx.Err()))
	}
	return func() { _ = fl.Unlock() }, nil
}

// Path returns the database file.
func (s *Store) Path() string { return s.path }
