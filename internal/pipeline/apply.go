package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/segconn/connector/adapter"
	"github.com/segconn/connector/domain"
	"github.com/segconn/connector/internal/store"
)

// outboxPayload is what the outbox holds per record: the absolute state to
// write and the targets it needs, so any replica can drain it after a
// restart without the run that produced it.
type outboxPayload struct {
	Item    adapter.PushItem `json:"item"`
	Targets []adapter.Target `json:"targets"`
	// Want is the record's whole desired state. The drainer recomputes
	// Item from it against what the connector owns when it writes, so an
	// item queued while an earlier write of the record was in flight
	// still ends in the desired state.
	Want *state `json:"want,omitempty"`
}

// Apply records the plan's membership changes and queues its write-back,
// marking the webhook events inboxDone (the plan's cause, if any)
// processed in the same transaction. It writes nothing to platforms;
// Drain does.
func (p *Pipeline) Apply(ctx context.Context, plan *Plan, inboxDone ...int64) error {
	// The membership changes and every platform's write-back go in one
	// transaction.
	var items []store.OutboxItem
	for _, pp := range plan.Platforms {
		if len(pp.Items) == 0 && len(pp.refresh) == 0 {
			continue
		}
		pl := p.platforms[pp.Platform]
		for _, r := range pp.refresh {
			w := r.want
			stub := adapter.PushItem{ID: r.ref.Key(), Ref: r.ref}
			payload, err := json.Marshal(outboxPayload{Item: stub, Targets: targetsOfRecord(pp.Targets, stub, w), Want: &w})
			if err != nil {
				return fmt.Errorf("encoding write-back for %s: %w", stub.ID, err)
			}
			items = append(items, store.OutboxItem{Platform: pp.Platform, Account: pl.Account, Key: stub.ID, Payload: payload})
		}
		for _, it := range pp.Items {
			pay := outboxPayload{Item: it, Targets: targetsOfRecord(pp.Targets, it, pp.wants[it.ID])}
			if w, ok := pp.wants[it.ID]; ok {
				pay.Want = &w
			}
			payload, err := json.Marshal(pay)
			if err != nil {
				return fmt.Errorf("encoding write-back for %s: %w", it.ID, err)
			}
			items = append(items, store.OutboxItem{Platform: pp.Platform, Account: pl.Account, Key: it.ID, Payload: payload})
		}
	}
	if len(plan.Memberships) == 0 && len(items) == 0 && len(inboxDone) == 0 {
		return nil
	}
	if err := p.store.RecordPlan(ctx, plan.Memberships, items, inboxDone); err != nil {
		return fmt.Errorf("recording %d membership changes and their write-back: %w", len(plan.Memberships), err)
	}
	return nil
}

// targetsOfRecord returns the targets an item or its desired state refers to.
func targetsOfRecord(all []adapter.Target, it adapter.PushItem, want state) []adapter.Target {
	need := map[string]bool{}
	for k := range want.Props {
		need[k] = true
	}
	for k := range want.Lists {
		need[k] = true
	}
	var out []adapter.Target
	for _, t := range all {
		if need[t.Key] {
			out = append(out, t)
		}
	}
	return append(out, targetsFor(all, it)...)
}

// targetsFor returns the targets an item refers to.
func targetsFor(all []adapter.Target, it adapter.PushItem) []adapter.Target {
	need := map[string]bool{}
	for k := range it.Properties {
		need[k] = true
	}
	for _, k := range it.Add {
		need[k] = true
	}
	for _, k := range it.Remove {
		need[k] = true
	}
	var out []adapter.Target
	for _, t := range all {
		if need[t.Key] {
			out = append(out, t)
		}
	}
	return out
}

// DrainStats counts a drain's outcomes.
type DrainStats struct {
	Platform string `json:"platform"`
	Claimed  int    `json:"claimed"`
	Calls    int    `json:"push_calls"`
	// Requests estimates the API requests the pushes made, as a plan
	// does (see estimateCalls).
	Requests  int `json:"requests"`
	OK        int `json:"ok"`
	Retryable int `json:"retryable"`
	Permanent int `json:"permanent"`
	// Deferred counts items whose membership changes were put aside for
	// DrainMemberships (their property changes, if any, are written).
	Deferred int `json:"deferred,omitempty"`
}

// Drain pushes the platform's due outbox items until none is left, a call
// fails, or ctx ends. Items that fail are rescheduled (retryable) or parked
// (permanent) with the platform's reason; nothing is dropped.
func (p *Pipeline) Drain(ctx context.Context, platform string) (DrainStats, error) {
	pl, err := p.Platform(platform)
	if err != nil {
		return DrainStats{}, err
	}
	return p.drainLane(ctx, pl, store.LaneAny, maxBatch(pl), nil, true)
}

// DrainRound claims and pushes one round of the platform's due items
// (everything together), for a drainer that paces its rounds.
func (p *Pipeline) DrainRound(ctx context.Context, platform string) (DrainStats, error) {
	pl, err := p.Platform(platform)
	if err != nil {
		return DrainStats{}, err
	}
	return p.drainLane(ctx, pl, store.LaneAny, maxBatch(pl), nil, false)
}

// DrainProperties is the daemon's live write-back for a platform whose
// membership changes are written apart (see adapter.WritePacer): it claims
// one round of fresh items, writes their property changes and defers the
// rest of each item to the next multiple of membershipEvery after it was
// first queued, where DrainMemberships writes the membership changes of
// many records together. It never writes a membership change itself.
func (p *Pipeline) DrainProperties(ctx context.Context, platform string, membershipEvery time.Duration) (DrainStats, error) {
	pl, err := p.Platform(platform)
	if err != nil {
		return DrainStats{}, err
	}
	if membershipEvery <= 0 {
		return DrainStats{}, fmt.Errorf("draining %s properties: membership interval must be positive", platform)
	}
	now := p.now()
	hold := func(ob store.OutboxItem) time.Time {
		ripe := ob.CreatedAt.Truncate(membershipEvery).Add(membershipEvery)
		if ripe.Before(now) {
			return now
		}
		return ripe
	}
	return p.drainLane(ctx, pl, store.LaneFresh, maxBatch(pl), hold, false)
}

// DrainMemberships writes every due item DrainProperties deferred, whole:
// the membership changes of all of them share each list's calls.
func (p *Pipeline) DrainMemberships(ctx context.Context, platform string) (DrainStats, error) {
	pl, err := p.Platform(platform)
	if err != nil {
		return DrainStats{}, err
	}
	return p.drainLane(ctx, pl, store.LaneDeferred, maxBatch(pl), nil, true)
}

func maxBatch(pl *Platform) int {
	if b := pl.Desc.Capabilities.MaxPushBatch; b > 0 {
		return b
	}
	return 100
}

// drainLane claims and pushes rounds of a lane's due items, until none is
// left when all is set, else once. hold, when set, defers each item's
// membership changes to the time it returns.
func (p *Pipeline) drainLane(ctx context.Context, pl *Platform, lane store.OutboxLane, batch int, hold func(store.OutboxItem) time.Time, all bool) (DrainStats, error) {
	st := DrainStats{Platform: pl.Name}
	for {
		if err := ctxErr(ctx, "draining "+pl.Name); err != nil {
			return st, err
		}
		claimed, err := p.store.OutboxClaimLane(ctx, pl.Name, pl.Account, lane, batch, 2*time.Minute)
		if err != nil {
			return st, fmt.Errorf("claiming %s write-backs: %w", pl.Name, err)
		}
		st.Claimed += len(claimed)
		if len(claimed) == 0 {
			return st, nil
		}
		if err := p.pushBatch(ctx, pl, claimed, hold, &st); err != nil {
			return st, err
		}
		if !all {
			return st, nil
		}
	}
}

func (p *Pipeline) pushBatch(ctx context.Context, pl *Platform, claimed []store.OutboxItem, hold func(store.OutboxItem) time.Time, st *DrainStats) error {
	byID := map[string]store.OutboxItem{}
	payloads := map[string]outboxPayload{}
	prior := map[string][]store.Ownership{}
	req := adapter.PushRequest{}
	var need []adapter.Target
	held := map[int64]time.Time{}    // item → when its membership changes are due
	var deferOnly []store.OutboxItem // held items with nothing to write now
	items := make([]decoded, 0, len(claimed))
	refs := make([]domain.ExternalRef, 0, len(claimed))
	for _, ob := range claimed {
		var pay outboxPayload
		if err := json.Unmarshal(ob.Payload, &pay); err != nil {
			// A payload we cannot read will never get better: park it.
			if ferr := p.store.OutboxFailed(ctx, ob.ID, "undecodable payload: "+err.Error(), true, time.Time{}); ferr != nil {
				return ferr
			}
			st.Permanent++
			continue
		}
		items = append(items, decoded{ob, pay})
		refs = append(refs, pay.Item.Ref)
	}
	// What the connector owns on the records now: writes of them that
	// finished since the plan count.
	ownedBy, err := p.store.OwnershipMany(ctx, refs)
	if err != nil {
		return fmt.Errorf("loading write-back ownership of %d %s records: %w", len(refs), pl.Name, err)
	}
	// States that earlier attempts may have written in part: this write
	// settles them (see store.OutboxSuperseded).
	unsure, settles, err := p.priors(ctx, pl, items)
	if err != nil {
		return err
	}
	var unchanged []int64 // items whose record already holds their state
	for _, d := range items {
		ob, pay := d.ob, d.pay
		if older, dup := byID[pay.Item.ID]; dup {
			// The same record twice: an item whose lease lapsed (its
			// daemon died mid-push) and a newer one. Claims come oldest
			// first, so this one is newer: its absolute state wins. The
			// older is set aside, never pushed (now or after its lease
			// lapses again) over the newer state, and what it may have
			// written is settled by the newer.
			if err := p.store.OutboxSupersede(ctx, []int64{older.ID}); err != nil {
				return err
			}
			if op := payloads[pay.Item.ID]; op.Want != nil {
				unsure[pay.Item.ID] = append(unsure[pay.Item.ID], *op.Want)
			}
			settles[pay.Item.ID] = append(settles[pay.Item.ID], older.ID)
			delete(held, older.ID)
			deferOnly = slices.DeleteFunc(deferOnly, func(x store.OutboxItem) bool { return x.ID == older.ID })
			unchanged = slices.DeleteFunc(unchanged, func(id int64) bool { return id == older.ID })
			req.Items = slices.DeleteFunc(req.Items, func(it adapter.PushItem) bool { return it.ID == pay.Item.ID })
		}
		owned := ownedBy[pay.Item.Ref.Key()]
		prior[pay.Item.ID] = owned
		if pay.Want != nil {
			item, changed := delta(pay.Item.Ref, *pay.Want, owned, unsure[pay.Item.ID])
			if !changed {
				unchanged = append(unchanged, ob.ID)
				unchanged = append(unchanged, settles[pay.Item.ID]...)
				continue
			}
			item.ID = pay.Item.ID
			if hold != nil && (len(item.Add) > 0 || len(item.Remove) > 0) {
				// The membership changes wait; the desired state in
				// the payload brings them back, recomputed, later.
				held[ob.ID] = hold(ob)
				item.Add, item.Remove = nil, nil
				if len(item.Properties) == 0 {
					deferOnly = append(deferOnly, ob)
					continue
				}
			}
			pay.Item = item
		}
		byID[pay.Item.ID] = ob
		payloads[pay.Item.ID] = pay
		req.Items = append(req.Items, pay.Item)
		need = append(need, targetsFor(pay.Targets, pay.Item)...)
	}
	// The round's outcome is recorded in one transaction after the push
	// (or now, when there is nothing to push): items with nothing left
	// to write are done, items with only membership changes wait.
	settle := store.Settlement{Done: unchanged}
	deferAll(&settle, held, deferOnly, st)
	if len(req.Items) == 0 {
		return p.settle(ctx, pl, settle)
	}
	ids, err := p.ensureTargets(ctx, pl, need)
	if err != nil {
		// Missing targets (a custom field an admin must create, a list we
		// may not make) are fixed on the platform side: keep the items and
		// try again later rather than parking them for good.
		err = adapter.Retryable(err)
	} else {
		req.Targets = ids
		var results []adapter.PushResult
		st.Calls++
		st.Requests += estimateCalls(pl, req.Items)
		results, err = pl.Adapter.Push(ctx, req)
		if err == nil {
			return p.recordResults(ctx, pl, results, byID, payloads, prior, held, settles, settle, st)
		}
	}
	if serr := p.settle(ctx, pl, settle); serr != nil {
		return serr
	}
	// The whole call failed: reschedule every item, nothing is lost.
	permanent := adapter.KindOf(err) == adapter.KindPermanent
	delay := retryDelay(err, claimed[0].Attempts)
	if ids == nil {
		delay = max(delay, time.Minute)
	}
	for _, ob := range byID {
		if ferr := p.store.OutboxFailed(ctx, ob.ID, err.Error(), permanent, p.now().Add(delay)); ferr != nil {
			return ferr
		}
	}
	if permanent {
		st.Permanent += len(byID)
	} else {
		st.Retryable += len(byID)
	}
	return fmt.Errorf("pushing %d write-backs to %s: %w", len(byID), pl.Name, err)
}

// decoded is a claimed outbox item and its payload.
type decoded struct {
	ob  store.OutboxItem
	pay outboxPayload
}

// priors loads the superseded states of the claimed items' records
// (store.OutboxSuperseded): by item id, the states earlier attempts may
// have written in part, and the superseded items that a complete write
// of the record settles.
func (p *Pipeline) priors(ctx context.Context, pl *Platform, items []decoded) (map[string][]state, map[string][]int64, error) {
	unsure, settles := map[string][]state{}, map[string][]int64{}
	keys := make([]string, 0, len(items))
	for _, d := range items {
		keys = append(keys, d.ob.Key)
	}
	got, err := p.store.OutboxPriors(ctx, pl.Name, pl.Account, keys)
	if err != nil {
		return nil, nil, fmt.Errorf("loading superseded %s write-backs: %w", pl.Name, err)
	}
	for key, obs := range got {
		for _, ob := range obs {
			settles[key] = append(settles[key], ob.ID)
			var pay outboxPayload
			if err := json.Unmarshal(ob.Payload, &pay); err != nil {
				continue // unreadable: nothing to settle but the item
			}
			unsure[key] = append(unsure[key], pay.written())
		}
	}
	return unsure, settles, nil
}

// written is the state an attempt of the payload may have written.
func (pay outboxPayload) written() state {
	if pay.Want != nil {
		return *pay.Want
	}
	st := state{Props: pay.Item.Properties, Lists: map[string]bool{}}
	for _, k := range pay.Item.Add {
		st.Lists[k] = true
	}
	for _, k := range pay.Item.Remove {
		st.Lists[k] = false
	}
	return st
}

// deferAll adds items to a settlement's deferrals, each to the time its
// membership changes are due (held).
func deferAll(s *store.Settlement, held map[int64]time.Time, items []store.OutboxItem, st *DrainStats) {
	for _, ob := range items {
		if s.Defer == nil {
			s.Defer = map[time.Time][]int64{}
		}
		s.Defer[held[ob.ID]] = append(s.Defer[held[ob.ID]], ob.ID)
		st.Deferred++
	}
}

// settle records a round's outcome (store.OutboxSettle) unless it is empty.
func (p *Pipeline) settle(ctx context.Context, pl *Platform, s store.Settlement) error {
	if len(s.Owned) == 0 && len(s.Done) == 0 && len(s.Defer) == 0 {
		return nil
	}
	if err := p.store.OutboxSettle(ctx, s); err != nil {
		return fmt.Errorf("recording %s write-back: %w", pl.Name, err)
	}
	return nil
}

// recordResults records a push's outcome: ownership of what it wrote, and
// each item done, deferred (its membership changes held) or failed. An
// item written whole settles its record's superseded items (settles).
func (p *Pipeline) recordResults(ctx context.Context, pl *Platform, results []adapter.PushResult, byID map[string]store.OutboxItem, payloads map[string]outboxPayload, prior map[string][]store.Ownership, held map[int64]time.Time, settles map[string][]int64, settle store.Settlement, st *DrainStats) error {
	done := settle.Done
	var later []store.OutboxItem
	var owned []store.Ownership
	at := p.now().UTC()
	answered := map[string]bool{}
	for _, r := range results {
		ob, ok := byID[r.ID]
		if !ok || answered[r.ID] {
			continue
		}
		answered[r.ID] = true
		switch r.Status {
		case adapter.PushOK:
			if _, ok := held[ob.ID]; ok {
				later = append(later, ob)
			} else {
				done = append(done, ob.ID)
				done = append(done, settles[r.ID]...)
			}
			owned = append(owned, ownershipOf(payloads[r.ID].Item, prior[r.ID], at)...)
			st.OK++
		case adapter.PushPermanent:
			if err := p.store.OutboxFailed(ctx, ob.ID, r.Reason, true, time.Time{}); err != nil {
				return err
			}
			st.Permanent++
		default:
			d := r.RetryAfter
			if d <= 0 {
				d = backoffFor(ob.Attempts)
			}
			if err := p.store.OutboxFailed(ctx, ob.ID, r.Reason, false, at.Add(d)); err != nil {
				return err
			}
			st.Retryable++
		}
	}
	// An item the adapter did not answer for is retried.
	for id, ob := range byID {
		if !answered[id] {
			if err := p.store.OutboxFailed(ctx, ob.ID, "no result from adapter", false, at.Add(backoffFor(ob.Attempts))); err != nil {
				return err
			}
			st.Retryable++
		}
	}
	// What was written, what is finished and what waits, together: a
	// crash never leaves an item done without its ownership.
	settle.Owned, settle.Done = owned, done
	deferAll(&settle, held, later, st)
	if err := p.settle(ctx, pl, settle); err != nil {
		return err
	}
	if p.hooks.OnPushed != nil {
		p.hooks.OnPushed(pl.Name, adapter.PushOK, st.OK)
	}
	return nil
}

// ownershipOf lists what a successful push wrote (and released).
// A property holds one value: writing it (or clearing it) releases every
// other value the connector owned for that target before (prior).
func ownershipOf(it adapter.PushItem, prior []store.Ownership, at time.Time) []store.Ownership {
	var out []store.Ownership
	for k, v := range it.Properties {
		for _, o := range prior {
			if o.Target == k && o.Value != v {
				out = append(out, store.Ownership{Ref: it.Ref, Target: k, Value: o.Value, WrittenAt: at, Released: true})
			}
		}
		if v != "" {
			out = append(out, store.Ownership{Ref: it.Ref, Target: k, Value: v, WrittenAt: at})
		}
	}
	for _, k := range it.Add {
		out = append(out, store.Ownership{Ref: it.Ref, Target: k, WrittenAt: at})
	}
	for _, k := range it.Remove {
		out = append(out, store.Ownership{Ref: it.Ref, Target: k, WrittenAt: at, Released: true})
	}
	return out
}

// EnsureTargets creates (or finds) every write-back target a plan's items
// need on each platform, so that draining afterwards makes exactly the
// write calls the plan counted. Drain also ensures lazily; this only moves
// that work first.
func (p *Pipeline) EnsureTargets(ctx context.Context, plan *Plan) error {
	for _, pp := range plan.Platforms {
		var need []adapter.Target
		for _, it := range pp.Items {
			need = append(need, targetsFor(pp.Targets, it)...)
		}
		if len(need) == 0 {
			continue
		}
		if _, err := p.ensureTargets(ctx, p.platforms[pp.Platform], need); err != nil {
			return err
		}
	}
	return nil
}

// ensureTargets makes sure the platform has every target, calling the
// adapter only for targets not ensured before by this process.
func (p *Pipeline) ensureTargets(ctx context.Context, pl *Platform, need []adapter.Target) (map[string]string, error) {
	p.mu.Lock()
	tg := p.targets[pl.Name]
	if tg == nil {
		tg = &targets{}
		p.targets[pl.Name] = tg
	}
	known := tg.ensured()
	p.mu.Unlock()
	var missing []adapter.Target
	seen := map[string]bool{}
	for _, t := range need {
		if _, ok := known[t.Key]; !ok && !seen[t.Key] {
			seen[t.Key] = true
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		got, err := pl.Adapter.EnsureTargets(ctx, missing)
		if err != nil {
			return nil, fmt.Errorf("ensuring %d %s write-back targets: %w", len(missing), pl.Name, err)
		}
		p.mu.Lock()
		for _, e := range got {
			tg.setEnsured(e.Key, e.PlatformID)
		}
		known = tg.ensured()
		p.mu.Unlock()
	}
	out := map[string]string{}
	for _, t := range need {
		if id, ok := known[t.Key]; ok {
			out[t.Key] = id
		}
	}
	return out, nil
}

// retryDelay picks when to try a failed call again.
func retryDelay(err error, attempts int) time.Duration {
	return store.OutboxRetry().After(err, attempts+1)
}

// backoffFor grows 5s, 10s, 20s … up to 10 minutes.
func backoffFor(attempts int) time.Duration {
	return store.OutboxRetry().Backoff.Delay(attempts + 1)
}
