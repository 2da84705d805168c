package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/segconn/connector/core/segment"
	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// Recompute loads every profile with its orders, runs the segment engine at
// asOf and keeps the result for incremental rescoring.
func (p *Pipeline) Recompute(ctx context.Context, asOf time.Time) (*segment.Result, error) {
	return p.recompute(ctx, asOf, nil)
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
// needs no query per profile to find them.
func (p *Pipeline) recompute(ctx context.Context, asOf time.Time, keep *[]profileRefs) (*segment.Result, error) {
	ds, refs, b, err := p.dataset(ctx)
	if err != nil {
		return nil, err
	}
	if keep != nil {
		*keep = refs
	}
	res, err := p.engine.Run(ctx, ds, asOf)
	if err != nil {
		return nil, fmt.Errorf("computing segments: %w", err)
	}
	p.setLast(res, b)
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

// Resegment rescores a few profiles against the last full run (cut points
// and models cached there; see segment.Result.Rescore for the staleness
// bound) and plans their changes. Without a usable cached run it falls
// back to a full recompute, planned for these profiles only.
func (p *Pipeline) Resegment(ctx context.Context, profiles []string, asOf time.Time) (*Plan, error) {
	res, b := p.lastRun()
	if res != nil {
		list := make([]scored, 0, len(profiles))
		stale := false
		for _, id := range profiles {
			prof, err := p.store.Profile(ctx, id)
			if errors.Is(err, store.ErrNotFound) {
				list = append(list, scored{id: id, refsLoaded: true}) // gone: leaves everything
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("loading profile %s: %w", id, err)
			}
			orders, err := p.store.Orders(ctx, prof.ID)
			if err != nil {
				return nil, fmt.Errorf("loading orders of %s: %w", prof.ID, err)
			}
			p.mu.Lock()
			c := b.Customer(&prof, orders)
			p.mu.Unlock()
			rs, err := res.Rescore(&c, asOf)
			if errors.Is(err, segment.ErrStale) {
				stale = true
				break
			}
			if err != nil {
				return nil, fmt.Errorf("rescoring %s: %w", prof.ID, err)
			}
			sc := scored{id: prof.ID, members: rs.Memberships, refs: prof.Refs, refsLoaded: true, optedOut: OptedOut(&prof)}
			if wantsNextOrder(res.Segments) {
				sc.nextOrder, sc.orderGap = res.NextOrderOf(&rs.Features, asOf)
			}
			list = append(list, sc)
		}
		if !stale {
			return p.planFor(ctx, res, list, false)
		}
	}
	full, err := p.Recompute(ctx, asOf)
	if err != nil {
		return nil, err
	}
	list := make([]scored, 0, len(profiles))
	for _, id := range profiles {
		sc := scored{id: id}
		if i, ok := full.Lookup(id); ok {
			sc.members = full.Memberships(i)
			if wantsNextOrder(full.Segments) {
				sc.nextOrder, sc.orderGap = full.NextOrder(i)
			}
		}
		list = append(list, sc)
	}
	return p.planFor(ctx, full, list, false)
}
