package app

import (
	"context"
	"time"

	"github.com/segconn/connector/internal/pipeline"
)

// Drain pushes the platform's queued write-back until none is due, a call
// fails, or ctx ends.
func (a *App) Drain(ctx context.Context, platform string) (pipeline.DrainStats, error) {
	st, err := a.Pipeline.Drain(ctx, platform)
	a.observe(platform, "push", err, st.Calls > 0)
	return st, err
}

// DrainRound pushes one round of the platform's due write-back.
func (a *App) DrainRound(ctx context.Context, platform string) (pipeline.DrainStats, error) {
	st, err := a.Pipeline.DrainRound(ctx, platform)
	a.observe(platform, "push", err, st.Calls > 0)
	return st, err
}

// DrainProperties pushes a paced platform's due property changes and
// defers its membership changes to the next multiple of membershipEvery.
func (a *App) DrainProperties(ctx context.Context, platform string, membershipEvery time.Duration) (pipeline.DrainStats, error) {
	st, err := a.Pipeline.DrainProperties(ctx, platform, membershipEvery)
	a.observe(platform, "push", err, st.Calls > 0)
	return st, err
}

// DrainMemberships pushes every membership change DrainProperties
// deferred that is now due.
func (a *App) DrainMemberships(ctx context.Context, platform string) (pipeline.DrainStats, error) {
	st, err := a.Pipeline.DrainMemberships(ctx, platform)
	a.observe(platform, "push", err, st.Calls > 0)
	return st, err
}

// SegmentSizes counts every segment's members in the store, holdout
// members included; a segment of this process's last full run that has
// emptied reads 0 rather than being absent.
func (a *App) SegmentSizes(ctx context.Context) (map[string]int, error) {
	sizes, err := a.Store.SegmentSizes(ctx)
	if err != nil {
		return nil, err
	}
	if res := a.Pipeline.LastResult(); res != nil {
		for _, s := range res.Segments {
			sizes[s.Name] += 0
		}
	}
	return sizes, nil
}
