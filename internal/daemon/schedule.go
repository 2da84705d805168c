package daemon

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

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

// longJobTimeout bounds a full pull (the first one, or a reconcile
// sweep), which takes many minutes on a large account. Incremental pulls
// and resegmentations keep the queue's short default
// (jobs.DefaultJobTimeout), so when a process dies its short jobs are
// rescued soon after it, and only a full pull waits out its long timeout.
const longJobTimeout = 30 * time.Minute

type syncWorker struct {
	river.WorkerDefaults[syncArgs]
	d *Daemon
}

// Timeout implements river.Worker.
func (w *syncWorker) Timeout(j *river.Job[syncArgs]) time.Duration {
	if j.Args.Full {
		return longJobTimeout
	}
	return 0 // the queue's short default
}

func (w *syncWorker) Work(ctx context.Context, j *river.Job[syncArgs]) error {
	// Never two pulls of one platform at once in this process: a pull
	// longer than the interval makes the next one wait, not overlap.
	mu := w.d.pulling[j.Args.Platform]
	if mu == nil {
		return fmt.Errorf("pulling %q: not a configured platform", j.Args.Platform)
	}
	if !mu.TryLock() {
		if !j.Args.Full {
			// The running pull brings the changes this one would: skip it.
			w.d.log.Info("previous pull still running; this one is skipped", "platform", j.Args.Platform)
			return nil
		}
		return river.JobSnooze(5 * time.Second) // a full pull waits its turn
	}
	defer mu.Unlock()
	// Nor while another replica pulls it (the store's pull lock).
	st, ran, err := w.d.app.SyncIfFree(ctx, j.Args.Platform, j.Args.Full)
	if err == nil && !ran {
		if !j.Args.Full {
			w.d.log.Info("another replica is pulling this platform; this pull is skipped", "platform", j.Args.Platform)
			return nil
		}
		return river.JobSnooze(5 * time.Second)
	}
	w.d.pulledMetrics(j.Args.Platform, st.Records, st.Pages, err)
	if err != nil {
		if ctx.Err() != nil && w.d.stopping.Load() {
			// Shutdown interrupted it: due again at once on the next start,
			// without spending an attempt.
			return river.JobSnooze(0)
		}
		w.d.pullFailed(j.Args.Platform, err)
		return err
	}
	return w.d.wantResegment(ctx)
}

// wantResegment asks for one full resegmentation after a pull. The
// resegment job waits for the tick's other pulls and gives way to a later
// one (see resegmentWorker), so one tick of pulls makes one
// resegmentation, not one per platform.
func (d *Daemon) wantResegment(ctx context.Context) error {
	_, err := d.queue.Insert(ctx, resegmentArgs{}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: time.Second}})
	return err
}

type resegmentWorker struct {
	river.WorkerDefaults[resegmentArgs]
	d *Daemon
}

// Timeout implements river.Worker.
func (w *resegmentWorker) Timeout(*river.Job[resegmentArgs]) time.Duration { return 0 }

func (w *resegmentWorker) Work(ctx context.Context, j *river.Job[resegmentArgs]) error {
	// It waits for the tick's other pulls, but no longer than a pull
	// interval: with pulls always under way it would never run.
	if time.Since(j.CreatedAt) < w.d.app.Config.Schedule.PullInterval {
		busy, err := w.d.queue.Count(ctx, syncArgs{}.Kind(), rivertype.JobStateRunning, rivertype.JobStateAvailable, rivertype.JobStatePending)
		if err != nil {
			return err
		}
		if busy > 0 {
			return river.JobSnooze(time.Second) // the tick's other pulls first
		}
	}
	// A resegmentation asked for later (by a pull that finished since)
	// waits too; it sees everything this one would, so this one gives way,
	// unless it has waited a pull interval already (with pulls finishing
	// all the time, giving way would starve every one).
	// Jobs are not unique while running: one left "running" by a killed
	// process must not block resegmentation until River rescues it (only
	// the older ones of its pull interval give way to it).
	if time.Since(j.CreatedAt) < w.d.app.Config.Schedule.PullInterval {
		later, err := w.d.laterResegmentation(ctx, j.ID)
		if err != nil {
			return err
		}
		if later {
			return river.JobCancel(errors.New("a later resegmentation covers this one"))
		}
	}
	if err := w.d.FullCycleSegments(ctx); err != nil {
		if ctx.Err() != nil && w.d.stopping.Load() {
			return river.JobSnooze(0)
		}
		return err
	}
	return nil
}

// laterResegmentation reports whether a resegmentation other than job id
// is still to run (waiting, or snoozed behind the tick's pulls), or runs
// beside it and was asked for after it. Two snoozed ones become due
// together and start at once, neither waiting: the one asked for first
// gives way, so the tick still makes one.
func (d *Daemon) laterResegmentation(ctx context.Context, id int64) (bool, error) {
	kind := resegmentArgs{}.Kind()
	waiting, err := d.queue.Count(ctx, kind, rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateScheduled)
	if err != nil || waiting > 0 {
		return waiting > 0, err
	}
	running, err := d.queue.IDs(ctx, kind, rivertype.JobStateRunning)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(running, func(other int64) bool { return other > id }), nil
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
	periodic := d.reviewJobs(workers)
	if !d.opts.NoSchedule {
		for _, p := range d.app.Platforms() {
			periodic = append(periodic,
				river.NewPeriodicJob(river.PeriodicInterval(cfg.Schedule.PullInterval), func() (river.JobArgs, *river.InsertOpts) {
					// One attempt: the schedule itself is the retry, so a platform
					// that was down is pulled again on the next tick, not after
					// River's growing backoff.
					// Unique per interval, so replicas insert it once. It is
					// not unique while running: a job left "running" by a
					// killed process would block the platform's pulls until
					// River rescues it. The sync worker's per-platform lock
					// skips a pull while the previous one still runs.
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
