package daemon

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/segconn/connector/internal/jobs"
)

// syncArgs pulls one platform, then asks for a full resegmentation.
type syncArgs struct {
	Platform string `json:"platform"`
	Full     bool   `json:"full"`
}

func (syncArgs) Kind() string { return "sync" }

// resegmentArgs recomputes every segment and queues the write-back.
type resegmentArgs struct{}

func (resegmentArgs) Kind() string { return "resegment" }

type syncWorker struct {
	river.WorkerDefaults[syncArgs]
	d *Daemon
}

func (w *syncWorker) Work(ctx context.Context, j *river.Job[syncArgs]) error {
	st, err := w.d.app.Sync(ctx, j.Args.Platform, j.Args.Full)
	w.d.pulledMetrics(j.Args.Platform, st.Records, st.Pages, err)
	if err != nil {
		return err
	}
	_, err = w.d.queue.Insert(ctx, resegmentArgs{}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: time.Second}})
	return err
}

type resegmentWorker struct {
	river.WorkerDefaults[resegmentArgs]
	d *Daemon
}

func (w *resegmentWorker) Work(ctx context.Context, _ *river.Job[resegmentArgs]) error {
	return w.d.FullCycleSegments(ctx)
}

// FullCycleSegments recomputes every segment, records the changes, queues
// the write-back and nudges every drainer.
func (d *Daemon) FullCycleSegments(ctx context.Context) error {
	plan, err := d.app.ResegmentAll(ctx, d.opts.Now())
	if err != nil {
		return err
	}
	sizes := make(map[string]int, len(plan.Segments))
	for _, s := range plan.Segments {
		sizes[s.Segment] = s.Size
	}
	d.metrics.segmentSizes(sizes)
	for _, c := range d.drainNudge {
		nudge(c)
	}
	return nil
}

func (d *Daemon) openQueue(ctx context.Context) (jobs.Queue, error) {
	cfg := d.app.Config
	workers := river.NewWorkers()
	river.AddWorker(workers, &syncWorker{d: d})
	river.AddWorker(workers, &resegmentWorker{d: d})
	var periodic []*river.PeriodicJob
	if !d.opts.NoSchedule {
		for _, p := range d.app.Platforms() {
			periodic = append(periodic,
				river.NewPeriodicJob(river.PeriodicInterval(cfg.Schedule.PullInterval), func() (river.JobArgs, *river.InsertOpts) {
					// One attempt: the schedule itself is the retry, so a platform
					// that was down is pulled again on the next tick, not after
					// River's growing backoff.
					// Unique per interval: without ByPeriod a completed pull
					// would block every later one until River cleans it out.
					return syncArgs{Platform: p}, &river.InsertOpts{MaxAttempts: 1, UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: cfg.Schedule.PullInterval}}
				}, &river.PeriodicJobOpts{RunOnStart: true}),
				river.NewPeriodicJob(river.PeriodicInterval(cfg.Schedule.ReconcileInterval), func() (river.JobArgs, *river.InsertOpts) {
					return syncArgs{Platform: p, Full: true}, &river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: cfg.Schedule.ReconcileInterval}}
				}, nil),
			)
		}
	}
	q, err := jobs.Open(d.app.Store.Database(), jobs.Config{
		Workers: workers, Periodic: periodic, Logger: d.log, PollInterval: 500 * time.Millisecond,
	})
	if err != nil {
		return nil, fmt.Errorf("opening the job queue: %w", err)
	}
	return q, nil
}

// EnqueueSync asks for a pull of one platform (used by tests and the CLI).
func (d *Daemon) EnqueueSync(ctx context.Context, platform string, full bool) error {
	_, err := d.queue.Insert(ctx, syncArgs{Platform: platform, Full: full}, nil)
	return err
}
