package daemon

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/segconn/connector/internal/alert"
	"github.com/segconn/connector/internal/report"
)

// reviewArgs writes the segment review of one period and sends it
// through the alert destinations.
type reviewArgs struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

func (reviewArgs) Kind() string { return "review" }

type reviewWorker struct {
	river.WorkerDefaults[reviewArgs]
	d *Daemon

	mu   sync.Mutex
	sent map[string]map[string]bool // period → destinations that have its review
}

// Work writes the review and sends it to every destination that does
// not have it yet; a failure is retried by the queue with backoff, and
// the retry skips the destinations that already got it (in this process).
func (w *reviewWorker) Work(ctx context.Context, j *river.Job[reviewArgs]) error {
	cfg := w.d.app.Config
	_, ns, err := alert.FromConfig(cfg.Alerts)
	if err != nil {
		return river.JobCancel(fmt.Errorf("review: %w", err))
	}
	if len(ns) == 0 {
		return river.JobCancel(errors.New("review: no alert destination is configured to send it to"))
	}
	spend, err := report.AllSpend(ctx, w.d.app.Store, cfg.Spend)
	if err != nil {
		return err
	}
	res, err := report.Review(ctx, w.d.app.Store, report.ReviewOptions{From: j.Args.From, To: j.Args.To, Seed: 1, Spend: spend})
	if err != nil {
		return err
	}
	notice, err := res.Notice(cfg.Review.Link, w.d.opts.Now())
	if err != nil {
		return err
	}
	key := notice.ID
	w.mu.Lock()
	skip := maps.Clone(w.sent[key])
	w.mu.Unlock()
	sent, err := alert.SendReport(ctx, notice, ns, skip)
	w.mu.Lock()
	if w.sent[key] == nil {
		w.sent[key] = map[string]bool{}
	}
	for _, n := range sent {
		w.sent[key][n] = true
	}
	w.mu.Unlock()
	if err != nil {
		w.d.log.Warn("review: not every destination got it; retrying", "period", key, "sent", sent, "err", err)
		return err
	}
	w.d.log.Info("review sent", "period", key, "to", sent, "findings", len(res.Findings))
	return nil
}

// periodSchedule fires at the start of each month or quarter (UTC).
type periodSchedule string

// Next implements river.PeriodicSchedule.
func (p periodSchedule) Next(t time.Time) time.Time {
	next, err := report.NextPeriodEnd(string(p), t)
	if err != nil {
		return t.AddDate(100, 0, 0) // validated configuration never gets here
	}
	return next
}

// reviewJobs registers the review worker and, with review.schedule set,
// the periodic job that sends the review of each period as it ends. It
// is unique by period, so replicas send it once. A daemon that is down
// at the boundary does not catch up: `connector report review --send`
// sends it by hand.
func (d *Daemon) reviewJobs(workers *river.Workers) []*river.PeriodicJob {
	river.AddWorker(workers, &reviewWorker{d: d, sent: map[string]map[string]bool{}})
	kind := d.app.Config.Review.Schedule
	if kind == "" {
		return nil
	}
	return []*river.PeriodicJob{river.NewPeriodicJob(periodSchedule(kind), func() (river.JobArgs, *river.InsertOpts) {
		from, to, _ := report.LastPeriod(kind, d.opts.Now())
		return reviewArgs{From: from, To: to}, reviewInsertOpts()
	}, nil)}
}

func reviewInsertOpts() *river.InsertOpts {
	return &river.InsertOpts{MaxAttempts: 8, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// EnqueueReview asks for the review of [from, to) to be written and
// sent (used by tests; the schedule does it by itself).
func (d *Daemon) EnqueueReview(ctx context.Context, from, to time.Time) error {
	_, err := d.queue.Insert(ctx, reviewArgs{From: from.UTC(), To: to.UTC()}, reviewInsertOpts())
	return err
}
