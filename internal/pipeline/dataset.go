package pipeline

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/segconn/connector/core/segment"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// Recompute loads every profile with its orders, runs the segment engine at
// asOf and keeps the result for incremental rescoring.
func (p *Pipeline) Recompute(ctx context.Context, asOf time.Time) (*segment.Result, error) {
	return p.recompute(ctx, asOf, nil, nil)
}

// reusableRun returns the last run when its models may serve a webhook's
// recompute at asOf: it was made on the same day. Models are then at most
// a day old (the first recompute of a day fits them again), and a full
// recompute, which always fits, moves them by no more than a day's
// orders among the at most 20,000 buyers a fit samples; a customer's
// predictions can differ between the two only at a predictive
// boundary, which the flap guard holds.
func (p *Pipeline) reusableRun(asOf time.Time) *segment.Result {
	last := p.LastResult()
	if last == nil || segment.DayOf(last.AsOf) != segment.DayOf(asOf) {
		return nil
	}
	return last
}

// profileRefs are the write-back records of one profile, read in the
// same scan as its orders.
type profileRefs struct {
	id       string
	refs     []domain.ExternalRef
	optedOut bool // OptedOut of the profile, read in the same scan
}

// recompute is Recompute; with keep set it also returns, in dataset
// order, every profile's records that write-back can address, so a plan
// needs no query per profile to find them. With reuse set, the models it
// fitted are reused (segment.Engine.RunReusing).
func (p *Pipeline) recompute(ctx context.Context, asOf time.Time, keep *[]profileRefs, reuse *segment.Result) (*segment.Result, error) {
	ds, refs, _, err := p.dataset(ctx)
	if err != nil {
		return nil, err
	}
	if keep != nil {
		*keep = refs
	}
	res, err := p.engine.RunReusing(ctx, ds, asOf, reuse)
	if err != nil {
		return nil, fmt.Errorf("computing segments: %w", err)
	}
	p.setLast(res)
	return res, nil
}

// writable returns the records write-back may address on a configured
// platform, or nil when there are none.
func (p *Pipeline) writable(refs []domain.ExternalRef) []domain.ExternalRef {
	var out []domain.ExternalRef
	for _, r := range refs {
		if _, ok := p.platforms[r.Platform]; ok && r.ID != "" && slices.Contains(writableObjects, r.ObjectType) {
			out = append(out, r)
		}
	}
	return out
}

// Resegment plans the changes of a few profiles, the ones a webhook
// touched. It recomputes everyone first: with the loaded input kept
// (view.go) that reads only the profiles changed since and costs one
// engine run, and every replica then scores on the same data, where
// rescoring against each process's own last run let two replicas
// disagree on cut points and flip a member back and forth.
//
// The purchase and spend models of predictive definitions are the one
// thing not fitted again: a fit takes one to two CPU-seconds whatever
// the number of webhooks, so Resegment reuses the models of the last
// run when it was made on the same day (see reusableRun). Predictions,
// cut points and every other segment are computed afresh.
func (p *Pipeline) Resegment(ctx context.Context, profiles []string, asOf time.Time) (*Plan, error) {
	full, err := p.recompute(ctx, asOf, nil, p.reusableRun(asOf))
	if err != nil {
		return nil, err
	}
	list := make([]scored, 0, len(profiles))
	for _, id := range profiles {
		i, ok := full.Lookup(id)
		if !ok {
			// Gone or merged away (the survivor is touched too): it
			// leaves everything and has no records to write to.
			list = append(list, scored{id: id, refsLoaded: true})
			continue
		}
		sc := scored{id: id, members: full.Memberships(i)}
		if wantsNextOrder(full.Segments) {
			sc.nextOrder, sc.orderGap = full.NextOrder(i)
		}
		list = append(list, sc)
	}
	return p.planFor(ctx, full, list, false)
}
