package app

import (
	"context"
	"strings"
	"time"

	"github.com/segconn/connector/internal/pipeline"
	"github.com/segconn/connector/internal/store"
)

type runByKey struct{}

// WithRunBy returns a context whose runs are recorded as asked for by
// who (a user of the web app); runs without one are the connector's own.
func WithRunBy(ctx context.Context, who string) context.Context {
	return context.WithValue(ctx, runByKey{}, who)
}

func (a *App) now() time.Time {
	if a.opts.StoreNow != nil {
		return a.opts.StoreNow()
	}
	return time.Now()
}

// startRun records the start of a run in the store's run history and
// returns the function that records its end. The history is a record,
// not part of the work: a run it cannot record is logged and goes on.
func (a *App) startRun(ctx context.Context, kind string, platforms []string) func(counts map[string]int, err error) {
	by, _ := ctx.Value(runByKey{}).(string)
	id, rerr := a.Store.RunStart(ctx, store.Run{Kind: kind, Platforms: strings.Join(platforms, ","), By: by, StartedAt: a.now()})
	if rerr != nil {
		a.Log.Warn("recording a run", "kind", kind, "err", rerr)
		return func(map[string]int, error) {}
	}
	return func(counts map[string]int, err error) {
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		// The run's own context may be cancelled (shutdown); its end is
		// still recorded.
		if ferr := a.Store.RunFinish(context.WithoutCancel(ctx), id, a.now(), counts, msg); ferr != nil {
			a.Log.Warn("recording the end of a run", "kind", kind, "err", ferr)
		}
	}
}

// Runs lists the run history, newest first.
func (a *App) Runs(ctx context.Context, f store.RunFilter) ([]store.Run, error) {
	return a.Store.Runs(ctx, f)
}

func syncCounts(stats ...pipeline.SyncStats) map[string]int {
	c := map[string]int{}
	for _, s := range stats {
		c["pages"] += s.Pages
		for _, n := range s.Records {
			c["records"] += n
		}
		c["deleted"] += s.Deleted
		c["quarantined"] += s.Quarantined
	}
	return c
}

func planCounts(p *pipeline.Plan) map[string]int {
	c := map[string]int{}
	if p == nil {
		return c
	}
	c["profiles"] = p.Profiles
	c["changes"] = len(p.Memberships)
	for _, s := range p.Segments {
		c["entered"] += s.Entered
		c["left"] += s.Left
	}
	for _, pp := range p.Platforms {
		c["records_to_write"] += len(pp.Items)
		c["calls"] += pp.Calls
	}
	return c
}

func drainCounts(c map[string]int, written ...pipeline.DrainStats) {
	for _, w := range written {
		c["written"] += w.OK
		c["failed"] += w.Retryable + w.Permanent
		c["push_calls"] += w.Calls
	}
}
