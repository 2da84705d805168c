package jobs_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/segconn/connector/internal/jobs"
	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/internal/store/postgres"
	"github.com/segconn/connector/internal/store/sqlite"
	"github.com/segconn/connector/internal/testenv"
)

type pingArgs struct {
	N int `json:"n"`
}

func (pingArgs) Kind() string { return "test_ping" }

type pingWorker struct {
	river.WorkerDefaults[pingArgs]
	done chan int
}

func (w *pingWorker) Work(_ context.Context, j *river.Job[pingArgs]) error {
	w.done <- j.Args.N
	return nil
}

// backends returns, per store, a function that opens the store as a new
// process would: a SQLite file, or an isolated PostgreSQL schema, each the
// same on every call of one test.
func backends() map[string]func(t *testing.T) func(t *testing.T) store.Store {
	return map[string]func(t *testing.T) func(t *testing.T) store.Store{
		"sqlite": func(t *testing.T) func(t *testing.T) store.Store {
			path := filepath.Join(t.TempDir(), sqlite.FileName)
			return func(t *testing.T) store.Store {
				s, err := sqlite.Open(context.Background(), path, store.Options{})
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
		},
		"postgres": func(t *testing.T) func(t *testing.T) store.Store {
			dsn := testenv.PostgresDSN(t)
			schema := testenv.PostgresSchema(t, dsn, "jobs_test")
			return func(t *testing.T) store.Store {
				s, err := postgres.Open(context.Background(), dsn, postgres.Options{Schema: schema})
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
		},
	}
}

func TestJobSurvivesRestartAndUniqueIsNotDoubled(t *testing.T) {
	for name, mk := range backends() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			openStore := mk(t)
			cfg := jobs.Config{PollInterval: 50 * time.Millisecond}

			// First process: enqueue, never work, go away.
			st1 := openStore(t)
			q1, err := jobs.Open(st1.Database(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			uniq := &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
			ins, err := q1.Insert(ctx, pingArgs{N: 7}, uniq)
			if err != nil || !ins {
				t.Fatalf("first insert: inserted=%v err=%v", ins, err)
			}
			ins, err = q1.Insert(ctx, pingArgs{N: 7}, uniq)
			if err != nil || ins {
				t.Fatalf("duplicate unique insert: inserted=%v err=%v, want skipped", ins, err)
			}
			if n, err := q1.Count(ctx, "test_ping"); err != nil || n != 1 {
				t.Fatalf("count = %d (%v), want 1", n, err)
			}
			if err := q1.Close(); err != nil {
				t.Fatal(err)
			}
			if err := st1.Close(); err != nil {
				t.Fatal(err)
			}

			// Second process: the job is still there and runs exactly once.
			w := &pingWorker{done: make(chan int, 4)}
			workers := river.NewWorkers()
			river.AddWorker(workers, w)
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
			select {
			case n := <-w.done:
				if n != 7 {
					t.Fatalf("ran job %d, want 7", n)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("job enqueued before the restart never ran")
			}
			stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			if err := q2.Stop(stopCtx); err != nil {
				t.Fatal(err)
			}
			select {
			case n := <-w.done:
				t.Fatalf("job ran twice (second run %d)", n)
			default:
			}
			if n, err := q2.Count(ctx, "test_ping", rivertype.JobStateCompleted); err != nil || n != 1 {
				t.Fatalf("completed = %d (%v), want 1", n, err)
			}
		})
	}
}
