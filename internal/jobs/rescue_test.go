package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/segconn/connector/internal/jobs"
	"github.com/segconn/connector/internal/store"
)

type shortArgs struct{}

func (shortArgs) Kind() string { return "test_short" }

type longArgs struct{}

func (longArgs) Kind() string { return "test_long" }

type shortWorker struct {
	river.WorkerDefaults[shortArgs]
	ran chan struct{}
}

func (w *shortWorker) Work(context.Context, *river.Job[shortArgs]) error {
	w.ran <- struct{}{}
	return nil
}

type longWorker struct {
	river.WorkerDefaults[longArgs]
	ran chan struct{}
}

// Timeout implements river.Worker: a long job, like a full pull.
func (w *longWorker) Timeout(*river.Job[longArgs]) time.Duration { return time.Hour }

func (w *longWorker) Work(context.Context, *river.Job[longArgs]) error {
	w.ran <- struct{}{}
	return nil
}

// markRunning leaves a job as a process killed while working it does:
// running, attempted at, by a client that no longer exists.
func markRunning(t *testing.T, db store.Database, kind string, at time.Time) {
	t.Helper()
	ctx := context.Background()
	var err error
	switch db.Driver {
	case "sqlite":
		// River keeps SQLite times as text in this exact form.
		_, err = db.SQL.ExecContext(ctx, `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = ? WHERE kind = ?`,
			at.UTC().Format("2006-01-02 15:04:05.000"), kind)
	case "postgres":
		table := pgx.Identifier{db.Schema, "river_job"}.Sanitize()
		_, err = db.Pool.Exec(ctx, `UPDATE `+table+` SET state = 'running', attempt = 1, attempted_at = $1 WHERE kind = $2`, at, kind)
	}
	if err != nil {
		t.Fatalf("marking %s running: %v", kind, err)
	}
}

// TestShortJobsOfAKilledProcessAreRescuedSoon: jobs left running by a
// process that died come back once they have been running RescueAfter
// and their own timeout, so a short job (the default timeout) is retried
// within RescueAfter while a long one (a full pull's timeout) is left to
// its own, as it may still be running elsewhere.
func TestShortJobsOfAKilledProcessAreRescuedSoon(t *testing.T) {
	for name, mk := range backends() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			openStore := mk(t)
			cfg := jobs.Config{PollInterval: 50 * time.Millisecond, JobTimeout: 2 * time.Second, RescueAfter: 3 * time.Second}

			// The killed process: it took both jobs and never finished them.
			st1 := openStore(t)
			q1, err := jobs.Open(st1.Database(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			for _, args := range []river.JobArgs{shortArgs{}, longArgs{}} {
				if _, err := q1.Insert(ctx, args, &river.InsertOpts{MaxAttempts: 3}); err != nil {
					t.Fatal(err)
				}
			}
			markRunning(t, st1.Database(), shortArgs{}.Kind(), time.Now().Add(-5*time.Second))
			markRunning(t, st1.Database(), longArgs{}.Kind(), time.Now().Add(-5*time.Second))
			_ = q1.Close()
			if err := st1.Close(); err != nil {
				t.Fatal(err)
			}

			// The next process rescues the short job and runs it.
			short, long := &shortWorker{ran: make(chan struct{}, 2)}, &longWorker{ran: make(chan struct{}, 2)}
			workers := river.NewWorkers()
			river.AddWorker(workers, short)
			river.AddWorker(workers, long)
			cfg.Workers = workers
			st2 := openStore(t)
			defer st2.Close()
			q2, err := jobs.Open(st2.Database(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer q2.Close()
			if err := q2.Start(ctx); err != nil {
				t.Fatal(err)
			}
			defer func() {
				sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				defer cancel()
				_ = q2.Stop(sctx)
			}()
			select {
			case <-short.ran:
			case <-time.After(60 * time.Second):
				t.Fatal("the short job left running by a dead process was not rescued")
			}
			select {
			case <-long.ran:
				t.Fatal("the long job was rescued before its own timeout")
			default:
			}
			if n, err := q2.Count(ctx, longArgs{}.Kind(), rivertype.JobStateRunning); err != nil || n != 1 {
				t.Fatalf("long job: %d running (%v), want it left running", n, err)
			}
		})
	}
}
