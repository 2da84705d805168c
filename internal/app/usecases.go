package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/segconn/connector/core/segment"
	"github.com/segconn/connector/internal/pipeline"
	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// Platforms returns the configured platform names, sorted.
func (a *App) Platforms() []string { return a.Pipeline.Platforms() }

// Sync pulls one platform from its stored cursor, or from the beginning
// with full (which also reconciles deletions).
func (a *App) Sync(ctx context.Context, platform string, full bool) (pipeline.SyncStats, error) {
	done := a.startRun(ctx, store.RunSync, []string{platform})
	st, err := a.Pipeline.Sync(ctx, platform, full)
	a.observe(platform, "pull", err, true)
	done(syncCounts(st), err)
	return st, err
}

// SyncIfFree pulls one platform as Sync does, unless a pull of it is
// already running: in this process, or, on PostgreSQL, in any replica or
// CLI sharing the database (the store's "pull:<platform>" lock). ran is
// false when it did not pull because another pull holds the lock.
func (a *App) SyncIfFree(ctx context.Context, platform string, full bool) (st pipeline.SyncStats, ran bool, err error) {
	unlock, ok, err := a.Store.TryLock(ctx, "pull:"+platform)
	if err != nil {
		return st, false, err
	}
	if !ok {
		return st, false, nil
	}
	defer unlock()
	st, err = a.Sync(ctx, platform, full)
	return st, true, err
}

// SyncAll pulls the named platforms (every configured one when names is
// empty) in parallel, so a slow one does not hold up the others. It
// returns every platform's stats, and the failures joined.
func (a *App) SyncAll(ctx context.Context, names []string, full bool) ([]pipeline.SyncStats, error) {
	if len(names) == 0 {
		names = a.Pipeline.Platforms()
	}
	if len(names) == 0 {
		return nil, ErrNoPlatforms
	}
	done := a.startRun(ctx, store.RunSync, names)
	stats, errs := a.syncEach(ctx, names, full)
	err := errors.Join(errs...)
	done(syncCounts(stats...), err)
	return stats, err
}

// Recompute computes every segment at asOf without recording anything.
func (a *App) Recompute(ctx context.Context, asOf time.Time) (*segment.Result, error) {
	return a.Pipeline.Recompute(ctx, asOf)
}

// Plan recomputes every segment at asOf and returns what would change and
// what would be written, without writing.
func (a *App) Plan(ctx context.Context, asOf time.Time) (*pipeline.Plan, error) {
	done := a.startRun(ctx, store.RunPlan, nil)
	p, err := a.Pipeline.Plan(ctx, asOf)
	done(planCounts(p), err)
	return p, err
}

// ResegmentAll recomputes every segment at asOf and, under the segment
// lock, records the changes, queues their write-back and relays their
// segment events. It returns the recorded plan.
func (a *App) ResegmentAll(ctx context.Context, asOf time.Time) (*pipeline.Plan, error) {
	done := a.startRun(ctx, store.RunResegment, nil)
	p, err := a.resegmentAll(ctx, asOf)
	done(planCounts(p), err)
	return p, err
}

// resegmentAll is ResegmentAll without its run record (a cycle records
// itself).
func (a *App) resegmentAll(ctx context.Context, asOf time.Time) (*pipeline.Plan, error) {
	unlock, err := a.LockSegments(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	plan, err := a.Pipeline.Plan(ctx, asOf)
	if err != nil {
		return nil, err
	}
	if err := a.Apply(ctx, plan); err != nil {
		return nil, err
	}
	return plan, nil
}

// HandleWebhookEvents is the webhook path after the inbox, in one call:
// it fetches what one platform's events announced and stores it, rescores
// the touched profiles at asOf, and, under the segment lock, records their
// membership changes (marking the inbox events inboxIDs processed in the
// same transaction), queues the write-back and relays the segment events.
// It returns the recorded plan, or nil when the events touched nobody;
// the events are then marked processed on their own.
//
// On an error nothing is marked: the caller releases the events for a
// retry.
func (a *App) HandleWebhookEvents(ctx context.Context, platform string, events []adapter.WebhookEvent, inboxIDs []int64, asOf time.Time) (*pipeline.Plan, error) {
	touched, err := a.Pipeline.ApplyWebhookEvents(ctx, platform, events)
	a.observe(platform, "fetch", err, false)
	if err != nil {
		return nil, err
	}
	a.fanOutPrivacyDeletions(ctx, events)
	if len(touched) == 0 {
		if err := a.Store.InboxDone(ctx, inboxIDs...); err != nil {
			// Processed again later: the store and the outbox make that
			// a no-op, so this costs work, not correctness.
			a.Log.Error("marking webhook events done", "events", len(inboxIDs), "err", err)
		}
		return nil, nil
	}
	unlock, err := a.LockSegments(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	plan, err := a.Pipeline.Resegment(ctx, touched, asOf)
	if err != nil {
		return nil, err
	}
	if err := a.Apply(ctx, plan, inboxIDs...); err != nil {
		return nil, err
	}
	return plan, nil
}

// PlanChangedError refuses to apply a plan: the data changed since it was
// made.
type PlanChangedError struct {
	Saved, Now string // fingerprints
}

func (e *PlanChangedError) Error() string {
	return fmt.Sprintf("the data changed since the plan was made (plan %s, now %s); run `segments plan` again or pass --refresh", e.Saved, e.Now)
}

// ApplyRequest says what ApplyAt applies.
type ApplyRequest struct {
	// AsOf is the time segments are computed at.
	AsOf time.Time
	// Fingerprint, when set, is the plan the caller reviewed: ApplyAt
	// refuses with *PlanChangedError when the fresh plan differs.
	Fingerprint string
}

// ApplyReport is what ApplyAt did.
type ApplyReport struct {
	Plan *pipeline.Plan
	// TargetsErr is why some write-back targets could not be created;
	// the affected write-back stays queued and is retried.
	TargetsErr error
	// Written has one entry per platform, in Platforms order.
	Written []pipeline.DrainStats
	// WriteErr joins the platforms whose write-back failed; it stays
	// queued for the next drain.
	WriteErr error
}

// ApplyAt recomputes every segment at req.AsOf and, holding the segment
// lock throughout, checks the plan against req.Fingerprint, creates
// missing write-back targets first (so the write-back makes exactly the
// calls the plan counted), records the plan and relays its segment events,
// then drains every platform's write-back. A platform whose write-back
// fails keeps it queued and is named in the report's WriteErr; an error
// returned means the plan was not recorded (the report, when not nil,
// still says whether the targets failed).
func (a *App) ApplyAt(ctx context.Context, req ApplyRequest) (*ApplyReport, error) {
	done := a.startRun(ctx, store.RunApply, nil)
	rep, err := a.applyAt(ctx, req)
	counts := map[string]int{}
	if rep != nil {
		counts = planCounts(rep.Plan)
		drainCounts(counts, rep.Written...)
		if err == nil {
			err = errors.Join(rep.TargetsErr, rep.WriteErr)
		}
	}
	done(counts, err)
	return rep, err
}

func (a *App) applyAt(ctx context.Context, req ApplyRequest) (*ApplyReport, error) {
	unlock, err := a.LockSegments(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	fresh, err := a.Pipeline.Plan(ctx, req.AsOf)
	if err != nil {
		return nil, err
	}
	if req.Fingerprint != "" && fresh.Fingerprint != req.Fingerprint {
		return nil, &PlanChangedError{Saved: req.Fingerprint, Now: fresh.Fingerprint}
	}
	rep := &ApplyReport{Plan: fresh}
	if err := a.Pipeline.EnsureTargets(ctx, fresh); err != nil {
		rep.TargetsErr = err
	}
	if err := a.Apply(ctx, fresh); err != nil {
		return rep, err
	}
	var drainErrs []error
	for _, name := range a.Pipeline.Platforms() {
		st, err := a.Pipeline.Drain(ctx, name)
		a.observe(name, "push", err, st.Calls > 0)
		rep.Written = append(rep.Written, st)
		if err != nil {
			drainErrs = append(drainErrs, fmt.Errorf("%s: %w (its write-back stays queued)", name, err))
		}
	}
	rep.WriteErr = errors.Join(drainErrs...)
	return rep, nil
}

// Explain finds a profile by email or id and explains, as of asOf, which
// rule or score put it in each of its segments.
func (a *App) Explain(ctx context.Context, key string, asOf time.Time) (domain.Profile, segment.Explanation, error) {
	p, err := FindProfile(ctx, a.Store, key)
	if err != nil {
		return p, segment.Explanation{}, err
	}
	res, err := a.Pipeline.Recompute(ctx, asOf)
	if err != nil {
		return p, segment.Explanation{}, err
	}
	ex, err := res.Explain(p.ID)
	if err == nil {
		explainConsent(&p, a.Engine.Definitions(), &ex)
	}
	return p, ex, err
}

// FindProfile looks a profile up by email (when key has an @) or by id.
func FindProfile(ctx context.Context, st store.Store, key string) (domain.Profile, error) {
	if strings.Contains(key, "@") {
		p, err := st.ProfileByEmail(ctx, domain.NormalizeEmail(key))
		if errors.Is(err, store.ErrNotFound) {
			return p, fmt.Errorf("no profile has the email %s", key)
		}
		return p, err
	}
	p, err := st.Profile(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return p, fmt.Errorf("no profile has the id %s", key)
	}
	return p, err
}
