// Package jobs runs the connector's scheduled and on-demand work (pulls,
// reconciles, resegmenting) on River (github.com/riverqueue/river), a job
// queue that keeps its jobs in the same database as the rest of our data
// and has drivers for both of our stores: riversqlite for the embedded
// default and riverpgxv5 for PostgreSQL. River gives us retries with
// backoff, unique jobs, periodic jobs with leader election (a schedule
// fires once across replicas) and graceful shutdown.
//
// The queue does not open or migrate a database of its own: the store
// owns the database, creates River's tables beside its own in one locked
// Migrate, and hands River its pool (store.Database). This package opens a
// River client on that handle and hides the driver's transaction type
// behind Queue.
//
// # Why the inbox, the outbox and outbound deliveries are not River jobs
//
// Three other durable queues live in the store as tables of their own,
// sharing one lease-and-retry shape (store.RetryPolicy and the store's
// claim helper) rather than River:
//
//   - Latency. A webhook must be re-segmented within moments. The daemon
//     nudges its inbox and write-back loops in process the instant an
//     event is stored or a plan recorded; River on SQLite has no
//     LISTEN/NOTIFY and finds new jobs only by polling (every 500ms here).
//   - Group commit. One claim takes a batch of inbox events or outbox items
//     that is fetched, resegmented or pushed as one platform call, and the
//     plan they cause is recorded in the same transaction that marks the
//     inbox events done (store.Memberships.RecordPlan). A River job per
//     event or item would make one call and one transaction each, and its
//     completion could not share the plan's transaction.
//   - Lanes and supersession. A newer write-back state of a record replaces
//     the pending one in place, a lapsed attempt is set aside as a prior
//     the next write settles, membership changes wait in a deferred lane to
//     share each list's calls, and outbound deliveries go out in order per
//     endpoint. River's unique jobs skip duplicates; they cannot replace,
//     order or regroup them.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"
	"github.com/segconn/connector/internal/store"
)

// Config configures a Queue.
type Config struct {
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
	// JobTimeout bounds a job whose worker names no timeout of its own
	// (default 10m, DefaultJobTimeout). Workers of long jobs (an initial
	// pull of a large account) return a longer one from Timeout.
	JobTimeout time.Duration
	// RescueAfter is how long a job may stay marked running before it is
	// taken for stuck, its process having died, and retried (default
	// JobTimeout plus a minute). River's rescuer also waits out the job's
	// own timeout, so a long job is never taken for stuck while it may
	// still run: only the short ones come back this soon.
	RescueAfter time.Duration
}

// DefaultJobTimeout bounds a job whose worker names no timeout of its own.
const DefaultJobTimeout = 10 * time.Minute

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
	// IDs returns the ids of the jobs of kind in the given states.
	IDs(ctx context.Context, kind string, states ...rivertype.JobState) ([]int64, error)
	// Subscribe returns completed and failed job events.
	Subscribe() (<-chan *river.Event, func())
	// Close releases the queue; the store's database stays open.
	Close() error
}

// Open returns a Queue on the store's database. It neither opens nor
// migrates anything: the store did both (store.Store.Migrate creates
// River's tables), and the store closes the database, not the Queue.
func Open(db store.Database, cfg Config) (Queue, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	switch db.Driver {
	case "sqlite":
		if db.SQL == nil {
			return nil, errors.New("opening the job queue: the SQLite store handed over no database")
		}
		return newQueue(riversqlite.New(db.SQL), cfg, "")
	case "postgres":
		if db.Pool == nil {
			return nil, errors.New("opening the job queue: the PostgreSQL store handed over no pool")
		}
		return newQueue(riverpgxv5.New(db.Pool), cfg, db.Schema)
	default:
		return nil, fmt.Errorf("opening the job queue: unknown store driver %q (want sqlite or postgres)", db.Driver)
	}
}

func newQueue[TTx any](driver riverdriver.Driver[TTx], cfg Config, schema string) (*queue[TTx], error) {
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
		rc.JobTimeout = DefaultJobTimeout
	}
	rc.RescueStuckJobsAfter = cfg.RescueAfter
	if rc.RescueStuckJobsAfter < rc.JobTimeout {
		rc.RescueStuckJobsAfter = rc.JobTimeout + time.Minute
	}
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
	ids, err := q.IDs(ctx, kind, states...)
	return len(ids), err
}

func (q *queue[TTx]) IDs(ctx context.Context, kind string, states ...rivertype.JobState) ([]int64, error) {
	params := river.NewJobListParams().Kinds(kind).First(10000)
	if len(states) > 0 {
		params = params.States(states...)
	}
	res, err := q.client.JobList(ctx, params)
	if err != nil {
		return nil, fmt.Errorf("listing %s jobs: %w", kind, err)
	}
	ids := make([]int64, len(res.Jobs))
	for i, j := range res.Jobs {
		ids[i] = j.ID
	}
	return ids, nil
}

func (q *queue[TTx]) Subscribe() (<-chan *river.Event, func()) {
	return q.client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
}

// Close releases nothing: the database belongs to the store.
func (q *queue[TTx]) Close() error { return nil }
