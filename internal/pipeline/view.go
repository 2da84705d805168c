package pipeline

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/segconn/connector/core/segment"
	"github.com/segconn/connector/internal/store"
)

// view is the engine's input as the last recompute loaded it: every
// profile converted, in id order, with its write-back records. The next
// recompute asks the store which profiles changed since (ChangedSince)
// and converts only those again, so a steady-state plan costs the
// changed profiles' reads plus the engine, not a read of the whole store.
//
// Slices are never changed in place: a Result of an earlier run keeps
// the customers it was computed on.
type view struct {
	mark      int64 // store.ChangeMark taken before the load
	b         *segment.Builder
	customers []segment.Customer // sorted by ID (Go's string order)
	refs      []profileRefs      // refs[i] belongs to customers[i]
}

// LoadStats says how the last recompute read its input.
type LoadStats struct {
	// Full is true when every profile was read, false when only the
	// profiles changed since the recompute before were.
	Full bool `json:"full"`
	// Read counts the profiles read; Profiles the profiles in the input.
	Read     int `json:"read"`
	Profiles int `json:"profiles"`
	// Saved counts the profiles of a full load read from their saved
	// inputs (saved.go) rather than converted again.
	Saved int `json:"saved"`
	// OwnershipRead counts the records whose write-back ownership the
	// last Plan read: those not found settled by the plan before.
	OwnershipRead int `json:"ownership_read"`
}

// LastLoad returns how the last recompute read its input, and how many
// records' write-back ownership the last Plan read.
func (p *Pipeline) LastLoad() LoadStats {
	p.viewMu.Lock()
	defer p.viewMu.Unlock()
	st := p.loadStats
	st.OwnershipRead = int(p.ownershipReads.Load())
	return st
}

// patchShare bounds the share of profiles a recompute reloads one by one
// (by id lists) before reading everything again in order is cheaper.
const patchShare = 3

// dataset returns the engine's input, the profiles' write-back records
// and the builder whose codes the customers carry: patched from the last
// one when the store can name every profile changed since and they are
// few enough, loaded whole otherwise.
func (p *Pipeline) dataset(ctx context.Context) (*segment.Dataset, []profileRefs, *segment.Builder, error) {
	p.viewMu.Lock()
	defer p.viewMu.Unlock()
	if v := p.view; v != nil {
		ids, next, complete, err := p.store.ChangedSince(ctx, v.mark)
		if err != nil {
			return nil, nil, nil, err
		}
		if complete && len(ids) <= len(v.customers)/patchShare {
			nv, err := p.patch(ctx, v, ids, next)
			if err != nil {
				return nil, nil, nil, err
			}
			p.view = nv
			p.loadStats = LoadStats{Read: len(ids), Profiles: len(nv.customers)}
			return nv.b.DatasetOf(nv.customers), nv.refs, nv.b, nil
		}
		p.log.DebugContext(ctx, "loading every profile", "changed", len(ids), "complete", complete, "profiles", len(v.customers))
	}
	nv, saved, err := p.loadAll(ctx)
	if err != nil {
		p.view = nil
		return nil, nil, nil, err
	}
	p.view = nv
	p.loadStats = LoadStats{Full: true, Read: len(nv.customers), Profiles: len(nv.customers), Saved: saved}
	return nv.b.DatasetOf(nv.customers), nv.refs, nv.b, nil
}

// loadAll reads every profile, marking the store first so that what
// changes during the read is named next time. It reads the saved inputs
// (saved.go) and converts the profiles without one; when those are more
// than a third of all, it reads every profile in order instead. It
// returns how many profiles came from their saved inputs.
func (p *Pipeline) loadAll(ctx context.Context) (*view, int, error) {
	mark, err := p.store.ChangeMark(ctx)
	if err != nil {
		return nil, 0, err
	}
	v, missing, err := p.loadSaved(ctx, mark)
	if err != nil {
		return nil, 0, err
	}
	saved := len(v.customers) - len(missing)
	switch {
	case len(missing) > len(v.customers)/patchShare:
		p.log.DebugContext(ctx, "converting every profile", "without_saved_input", len(missing), "profiles", len(v.customers))
		if v, err = p.convertAll(ctx, mark); err != nil {
			return nil, 0, err
		}
		saved = 0
	case len(missing) > 0:
		if err := p.convertMissing(ctx, v, missing); err != nil {
			return nil, 0, err
		}
	}
	// The store orders ids by its collation; patches merge in Go's.
	if !slices.IsSortedFunc(v.customers, byCustomerID) {
		order := make([]int, len(v.customers))
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(a, b int) int { return strings.Compare(v.customers[a].ID, v.customers[b].ID) })
		cs, rs := make([]segment.Customer, len(order)), make([]profileRefs, len(order))
		for i, o := range order {
			cs[i], rs[i] = v.customers[o], v.refs[o]
		}
		v.customers, v.refs = cs, rs
	}
	return v, saved, nil
}

// convertAll reads and converts every profile, saving their inputs.
func (p *Pipeline) convertAll(ctx context.Context, mark int64) (*view, error) {
	v := &view{mark: mark, b: segment.NewBuilder(p.currency)}
	sv := p.startSaver(ctx, mark)
	err := p.store.EachProfile(ctx, func(po store.ProfileOrders) error {
		c, r, data := p.encodeInput(v.b, &po, nil)
		v.customers, v.refs = append(v.customers, c), append(v.refs, r)
		sv.add(po.Profile.ID, data)
		return nil
	})
	sv.close()
	if err != nil {
		return nil, fmt.Errorf("loading profiles for segmentation: %w", err)
	}
	return v, nil
}

// patch returns a new view: v with the changed profiles read again,
// those gone left out and new ones put in their place in id order.
func (p *Pipeline) patch(ctx context.Context, v *view, ids []string, next int64) (*view, error) {
	fresh, err := p.store.LoadProfiles(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("loading changed profiles for segmentation: %w", err)
	}
	conv := make([]segment.Customer, len(fresh))
	refs := make([]profileRefs, len(fresh))
	saved := make([]store.SavedInput, len(fresh))
	for i := range fresh {
		var data []byte
		conv[i], refs[i], data = p.encodeInput(v.b, &fresh[i], nil)
		saved[i] = store.SavedInput{ProfileID: fresh[i].Profile.ID, Data: data}
	}
	p.save(ctx, next, saved)
	changed := make(map[string]bool, len(ids))
	for _, id := range ids {
		changed[id] = true
	}
	nv := &view{mark: next, b: v.b,
		customers: make([]segment.Customer, 0, len(v.customers)+len(conv)),
		refs:      make([]profileRefs, 0, len(v.refs)+len(refs))}
	i, j := 0, 0
	for i < len(v.customers) || j < len(conv) {
		if i < len(v.customers) && changed[v.customers[i].ID] {
			i++
			continue
		}
		if j >= len(conv) || (i < len(v.customers) && v.customers[i].ID < conv[j].ID) {
			nv.customers, nv.refs = append(nv.customers, v.customers[i]), append(nv.refs, v.refs[i])
			i++
			continue
		}
		nv.customers, nv.refs = append(nv.customers, conv[j]), append(nv.refs, refs[j])
		j++
	}
	p.log.DebugContext(ctx, "patched the loaded profiles", "changed", len(ids), "profiles", len(nv.customers))
	return nv, nil
}

func byCustomerID(a, b segment.Customer) int { return strings.Compare(a.ID, b.ID) }
