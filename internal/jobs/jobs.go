// Package jobs runs the connector's durable background work on River
// (github.com/riverqueue/river), a job queue that keeps its jobs in the
// same database as the rest of our data and has drivers for both of our
// stores: riversqlite for the embedded default and riverpgxv5 for
// PostgreSQL. River gives us retries with backoff, unique jobs, periodic
// jobs with leader election (a schedule fires once across replicas) and
// graceful shutdown, so we do not write a queue of our own.
//
// Later packages register their job kinds on a *river.Workers and pass it
// in Config; this package only opens the queue on the right driver, applies
// River's migrations, and hides the driver's transaction type behind Queue.
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Config configures a Queue.
type Config struct {
	// Driver is "sqlite" or "postgres".
	Driver string
	// Path is the SQLite database file (driver sqlite).
	Path string
	// DSN and Schema locate the PostgreSQL database (driver postgres).
	DSN    string
	Schema string
	// Workers holds the registered job kinds; nil means insert-only.
	Workers *river.Workers
	// Queues maps queue names to their concurrency; default {"default": 4}.
	Queues map[string]int
	// Periodic lists scheduled jobs.
	Periodic []*river.PeriodicJob
	// PollInterval is how often to look for new jobs (default 1s; SQLite
	// has no LISTEN/NOTIFY, so this bounds its pick-up latency).
	PollInterval time.Duration
	// MaxAttempts is the default number of attempts of a job (default 25).
	MaxAttempts int
	Logger      *slog.Logger
	// ID names this process among replicas.
	ID string
	// JobTimeout bounds one job (default 30m: an initial pull of a large
	// account takes minutes; River's own default of one minute would
	// cancel it). A job still marked running after JobTimeout plus 5
	// minutes, because the process running it died, is rescued and retried.
	JobTimeout time.Duration
}

// Queue is a River client over either store.
type Queue interface {
	// Insert enqueues a job. It reports false when a unique job with the
	// same key already exists.
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (bool, error)
	// Start begins working jobs; Stop waits for running jobs to finish
	// until ctx ends, then cancels them.
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	// Count returns how many jobs of kind are in the given states.
	Count(ctx context.Context, kind string, states ...rivertype.JobState) (int, error)
	// Subscribe returns completed and failed job events.
	Subscribe() (<-chan *river.Event, func())
	Close() error
}

// Open connects to the database, migrates River's tables and returns a Queue.
func Open(ctx context.Context, cfg Config) (Queue, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	switch cfg.Driver {
	case "sqlite":
		db, err := sql.Open("sqlite", sqliteDSN(cfg.Path))
		if err != nil {
			return nil, fmt.Errorf("opening job database %s: %w", cfg.Path, err)
		}
		// SQLite allows one writer; River's own advice is a single connection.
		db.SetMaxOpenConns(1)
		q, err := newQueue(ctx, riversqlite.New(db), cfg, "")
		if err != nil {
			db.Close()
			return nil, err
		}
		q.close = db.Close
		return q, nil
	case "postgres":
		pcfg, err := pgxpool.ParseConfig(cfg.DSN)
		if err != nil {
			return nil, fmt.Errorf("parsing postgres dsn: %w", errors.New(redactErr(err)))
		}
		pool, err := pgxpool.NewWithConfig(ctx, pcfg)
		if err != nil {
			return nil, fmt.Errorf("connecting to postgres: %w", errors.New(redactErr(err)))
		}
		if cfg.Schema != "" {
			if _, err := pool.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{cfg.Schema}.Sanitize()); err != nil {
				pool.Close()
				return nil, fmt.Errorf("creating schema %s: %w", cfg.Schema, err)
			}
		}
		q, err := newQueue(ctx, riverpgxv5.New(pool), cfg, cfg.Schema)
		if err != nil {
			pool.Close()
			return nil, err
		}
		q.close = func() error { pool.Close(); return nil }
		return q, nil
	default:
		return nil, fmt.Errorf("unknown job queue driver %q (want sqlite or postgres)", cfg.Driver)
	}
}

func sqliteDSN(path string) string {
	v := url.Values{}
	v.Add("_pragma", "busy_timeout(10000)")
	v.Add("_pragma", "journal_mode(WAL)")
	v.Add("_pragma", "synchronous(NORMAL)")
	v.Set("_txlock", "immediate")
	return "file:" + path + "?" + v.Encode()
}

// redactErr hides pgx's message, which can quote the connection string and
// with it a password.
func redactErr(error) string {
	return "invalid or unreachable connection string (details withheld: it may hold a password)"
}

func newQueue[TTx any](ctx context.Context, driver riverdriver.Driver[TTx], cfg Config, schema string) (*queue[TTx], error) {
	mig, err := rivermigrate.New(driver, &rivermigrate.Config{Schema: schema, Logger: cfg.Logger})
	if err != nil {
		return nil, fmt.Errorf("preparing job queue migrations: %w", err)
	}
	if _, err := mig.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return nil, fmt.Errorf("migrating job queue tables: %w", err)
	}
	rc := &river.Config{
		Logger:            cfg.Logger,
		Schema:            schema,
		PeriodicJobs:      cfg.Periodic,
		FetchPollInterval: cfg.PollInterval,
		FetchCooldown:     0,
		MaxAttempts:       cfg.MaxAttempts,
		ID:                cfg.ID,
		JobTimeout:        cfg.JobTimeout,
	}
	if rc.JobTimeout <= 0 {
		rc.JobTimeout = 30 * time.Minute
	}
	rc.RescueStuckJobsAfter = rc.JobTimeout + 5*time.Minute
	if rc.FetchPollInterval == 0 {
		rc.FetchPollInterval = time.Second
	}
	rc.FetchCooldown = min(rc.FetchPollInterval, 100*time.Millisecond)
	if cfg.Workers != nil {
		rc.Workers = cfg.Workers
		rc.Queues = map[string]river.QueueConfig{}
		queues := cfg.Queues
		if len(queues) == 0 {
			queues = map[string]int{river.QueueDefault: 4}
		}
		for name, n := range queues {
			rc.Queues[name] = river.QueueConfig{MaxWorkers: n}
		}
	}
	client, err := river.NewClient(driver, rc)
	if err != nil {
		return nil, fmt.Errorf("creating job queue client: %w", err)
	}
	return &queue[TTx]{client: client}, nil
}

type queue[TTx any] struct {
	client *river.Client[TTx]
	close  func() error
}

func (q *queue[TTx]) Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (bool, error) {
	res, err := q.client.Insert(ctx, args, opts)
	if err != nil {
		return false, fmt.Errorf("inserting %s job: %w", args.Kind(), err)
	}
	return !res.UniqueSkippedAsDuplicate, nil
}

func (q *queue[TTx]) Start(ctx context.Context) error {
	if err := q.client.Start(ctx); err != nil {
		return fmt.Errorf("starting job queue: %w", err)
	}
	return nil
}

func (q *queue[TTx]) Stop(ctx context.Context) error {
	if err := q.client.Stop(ctx); err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			// Out of patience: cancel what still runs; River marks it for retry.
			cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return q.client.StopAndCancel(cctx)
		}
		return fmt.Errorf("stopping job queue: %w", err)
	}
	return nil
}

func (q *queue[TTx]) Count(ctx context.Context, kind string, states ...rivertype.JobState) (int, error) {
	params := river.NewJobListParams().Kinds(kind).First(10000)
	if len(states) > 0 {
		params = params.States(states...)
	}
	res, err := q.client.JobList(ctx, params)
	if err != nil {
		return 0, fmt.Errorf("listing %s jobs: %w", kind, err)
	}
	return len(res.Jobs), nil
}

func (q *queue[TTx]) Subscribe() (<-chan *river.Event, func()) {
	return q.client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
}

func (q *queue[TTx]) Close() error {
	if q.close != nil {
		return q.close()
	}
	return nil
}
