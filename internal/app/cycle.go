package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/segconn/connector/core/segment"
	"github.com/segconn/connector/internal/pipeline"
	"github.com/segconn/connector/internal/store"
)

// CycleReport is what one full cycle did.
type CycleReport struct {
	AsOf        time.Time             `json:"as_of"`
	Pulled      []pipeline.SyncStats  `json:"pulled"`
	PullErrors  map[string]string     `json:"pull_errors,omitempty"`
	Profiles    int                   `json:"profiles"`
	Fingerprint string                `json:"plan"`
	Changes     int                   `json:"membership_changes"`
	Segments    []segment.KPI         `json:"segments"`
	Warnings    []segment.Warning     `json:"warnings,omitempty"`
	Planned     []PlannedWrites       `json:"planned"`
	Written     []pipeline.DrainStats `json:"written"`
	PushErrors  map[string]string     `json:"push_errors,omitempty"`
	Took        map[string]string     `json:"took"`
	// APICalls counts requests per platform and phase when the caller
	// meters them (the demo reads the sandbox fakes' counters).
	APICalls map[string]map[string]int `json:"api_calls,omitempty"`
	plan     *pipeline.Plan
}

// PlannedWrites summarises one platform's planned write-back.
type PlannedWrites struct {
	Platform string `json:"platform"`
	Records  int    `json:"records"`
	// MinCalls is the fewest API calls the write-back can take given the
	// platform's batch limits; compare with Written[].Calls.
	MinCalls int `json:"min_calls"`
}

// Plan returns the plan the cycle applied.
func (r *CycleReport) Plan() *pipeline.Plan { return r.plan }

// Cycle phases passed to a Cycle observer.
const (
	PhasePulled  = "pulled"  // every platform pulled
	PhaseEnsured = "ensured" // plan applied, write-back targets exist; writes follow
	PhaseWritten = "written" // every platform drained
)

// Cycle pulls every platform (in parallel, each on its own so one that is
// down or slow does not hold up the others), recomputes every segment,
// records the changes, and drains every platform's write-back (again in
// parallel). A platform that fails is reported and keeps its queued
// write-back for the next drain; the cycle goes on with the others.
//
// observe, when set, is called after each phase, so a caller can meter
// what each phase cost (the demo counts API calls).
func (a *App) Cycle(ctx context.Context, asOf time.Time, observe func(phase string)) (rep *CycleReport, err error) {
	done := a.startRun(ctx, store.RunCycle, nil)
	defer func() {
		counts := syncCounts(rep.Pulled...)
		counts["changes"] = rep.Changes
		counts["profiles"] = rep.Profiles
		drainCounts(counts, rep.Written...)
		var errs []error
		if err != nil {
			errs = append(errs, err)
		}
		for _, m := range []map[string]string{rep.PullErrors, rep.PushErrors} {
			for _, p := range sortedKeys(m) {
				errs = append(errs, fmt.Errorf("%s: %s", p, m[p]))
			}
		}
		done(counts, errors.Join(errs...))
	}()
	return a.cycle(ctx, asOf, observe)
}

func (a *App) cycle(ctx context.Context, asOf time.Time, observe func(phase string)) (*CycleReport, error) {
	if observe == nil {
		observe = func(string) {}
	}
	rep := &CycleReport{AsOf: asOf, PullErrors: map[string]string{}, PushErrors: map[string]string{}, Took: map[string]string{}}
	names := a.Pipeline.Platforms()
	start := time.Now()
	var errs []error
	rep.Pulled, errs = a.syncEach(ctx, names, false)
	for i, err := range errs {
		if err != nil {
			rep.PullErrors[names[i]] = err.Error()
		}
	}
	rep.Took["pull"] = time.Since(start).Round(time.Millisecond).String()
	observe(PhasePulled)

	start = time.Now()
	n, err := a.Store.CountProfiles(ctx)
	if err != nil {
		return rep, fmt.Errorf("counting profiles: %w", err)
	}
	rep.Profiles = n
	plan, err := a.resegmentAll(ctx, asOf)
	if err != nil {
		return rep, err
	}
	rep.plan = plan
	rep.Fingerprint = plan.Fingerprint
	rep.Changes = len(plan.Memberships)
	if res := a.Pipeline.LastResult(); res != nil {
		rep.Segments = res.KPIs
		rep.Warnings = res.Warnings
	}
	for _, pp := range plan.Platforms {
		rep.Planned = append(rep.Planned, PlannedWrites{Platform: pp.Platform, Records: len(pp.Items), MinCalls: pp.Calls})
	}
	if err := a.Pipeline.EnsureTargets(ctx, plan); err != nil {
		// Drain retries; the platform's items wait in the outbox.
		a.Log.Warn("ensuring write-back targets", "err", err)
	}
	rep.Took["segment"] = time.Since(start).Round(time.Millisecond).String()
	observe(PhaseEnsured)

	start = time.Now()
	rep.Written = make([]pipeline.DrainStats, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep.Written[i], errs[i] = a.Pipeline.Drain(ctx, n)
			a.observe(n, "push", errs[i], rep.Written[i].Calls > 0)
			rep.Written[i].Platform = n
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			rep.PushErrors[names[i]] = err.Error()
		}
	}
	rep.Took["write_back"] = time.Since(start).Round(time.Millisecond).String()
	observe(PhaseWritten)
	return rep, nil
}

// syncEach pulls the named platforms in parallel; the i-th stats and
// error belong to names[i].
func (a *App) syncEach(ctx context.Context, names []string, full bool) ([]pipeline.SyncStats, []error) {
	stats := make([]pipeline.SyncStats, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stats[i], errs[i] = a.Pipeline.Sync(ctx, n, full)
			a.observe(n, "pull", errs[i], true)
			stats[i].Platform = n
		}()
	}
	wg.Wait()
	return stats, errs
}
