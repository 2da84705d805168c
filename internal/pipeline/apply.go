package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"slices"
	"time"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/adapter"
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
	// Create, when set, makes the item a creation: the record does not
	// exist yet, and Item is empty (see create.go).
	Create *adapter.CreateItem `json:"create,omitempty"`
}

// Apply records the plan's membership changes and queues its write-back,
// marking the webhook events inboxDone (the plan's cause, if any)
// processed in the same transaction. It writes nothing to platforms;
// Drain does. The write-back is encoded as the store writes it, a batch
// at a time, so applying a plan holds a batch of encoded items, not the
// plan's (TestApplyMemoryIsBoundedByABatch).
func (p *Pipeline) Apply(ctx context.Context, plan *Plan, inboxDone ...int64) error {
	records := 0
	for _, pp := range plan.Platforms {
		n := len(pp.Creates) + len(pp.refresh) + len(pp.Items)
		if n == 0 {
			continue
		}
		if _, err := p.Platform(pp.Platform); err != nil {
			return fmt.Errorf("applying the plan: %w", err)
		}
		records += n
	}
	if len(plan.Memberships) == 0 && records == 0 && len(inboxDone) == 0 {
		return nil
	}
	now := p.now()
	held, n, err := p.flapping(ctx, plan, now)
	if err != nil {
		return err
	}
	plan.Held = n
	outbox := func(yield func(store.OutboxItem, error) bool) {
		for q := range p.queue(plan) {
			b, err := json.Marshal(q.payload())
			if err != nil {
				yield(store.OutboxItem{}, fmt.Errorf("encoding write-back for %s: %w", q.key(), err))
				return
			}
			it := store.OutboxItem{Platform: q.pp.Platform, Account: q.account, Key: q.key(), Payload: b}
			if len(held) > 0 && held[recordKey{it.Platform, it.Account, it.Key}] {
				it.NotBefore = now.Add(flapHold)
			}
			if !yield(it, nil) {
				return
			}
		}
	}
	if err := p.store.RecordPlan(ctx, plan.Memberships, outbox, inboxDone); err != nil {
		return fmt.Errorf("recording %d membership changes and their write-back: %w", len(plan.Memberships), err)
	}
	return nil
}

// queued is one record's write-back in a plan, encoded only when the
// store writes it.
type queued struct {
	pp      *PlatformPlan
	account string
	kind    queuedKind
	i       int // index in pp.Creates, pp.refresh or pp.Items
}

type queuedKind int8

const (
	queuedCreate  queuedKind = iota // a record to create
	queuedRefresh                   // a record re-queued with its desired state only
	queuedItem                      // a record to update
)

// recordKey names a record's outbox items.
type recordKey struct{ platform, account, key string }

// queue walks the plan's write-back in the order it is queued: every
// platform's creations first, so that they are claimed together (see
// estimateCreateCalls), then each platform's refreshes and items. Apply
// has checked that every platform with write-back is configured.
func (p *Pipeline) queue(plan *Plan) iter.Seq[queued] {
	return func(yield func(queued) bool) {
		walk := func(kinds ...queuedKind) bool {
			for i := range plan.Platforms {
				pp := &plan.Platforms[i]
				account := ""
				if pl := p.platforms[pp.Platform]; pl != nil {
					account = pl.Account
				}
				for _, kind := range kinds {
					n := len(pp.Items)
					switch kind {
					case queuedCreate:
						n = len(pp.Creates)
					case queuedRefresh:
						n = len(pp.refresh)
					}
					for j := range n {
						if !yield(queued{pp: pp, account: account, kind: kind, i: j}) {
							return false
						}
					}
				}
			}
			return true
		}
		if walk(queuedCreate) {
			walk(queuedRefresh, queuedItem)
		}
	}
}

// key is the outbox key of the record.
func (q queued) key() string {
	switch q.kind {
	case queuedCreate:
		return q.pp.Creates[q.i].ID
	case queuedRefresh:
		return q.pp.refresh[q.i].ref.Key()
	default:
		return q.pp.Items[q.i].ID
	}
}

// payload is what the outbox holds for the record.
func (q queued) payload() outboxPayload {
	pp := q.pp
	switch q.kind {
	case queuedCreate:
		return pp.createPayload(q.i)
	case queuedRefresh:
		r := pp.refresh[q.i]
		stub := adapter.PushItem{ID: r.ref.Key(), Ref: r.ref}
		return outboxPayload{Item: stub, Targets: targetsOfRecord(pp.Targets, stub, r.want), Want: &r.want}
	default:
		it := pp.Items[q.i]
		pay := outboxPayload{Item: it, Targets: targetsOfRecord(pp.Targets, it, pp.wants[it.ID])}
		if w, ok := pp.wants[it.ID]; ok {
			pay.Want = &w
		}
		return pay
	}
}

// targetsOfRecord returns the targets an item or its desired state refers
// to: those of the state, then those of the item, each in the order of
// all. It runs for every record a plan queues, so it allocates only the
// result.
func targetsOfRecord(all []adapter.Target, it adapter.PushItem, want state) []adapter.Target {
	inWant := func(t adapter.Target) bool {
		_, p := want.Props[t.Key]
		_, l := want.Lists[t.Key]
		return p || l
	}
	n := 0
	for _, t := range all {
		if inWant(t) {
			n++
		}
		if itemRefers(it, t) {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	out := make([]adapter.Target, 0, n)
	for _, t := range all {
		if inWant(t) {
			out = append(out, t)
		}
	}
	return appendTargetsFor(out, all, it)
}

// targetsFor returns the targets an item refers to.
func targetsFor(all []adapter.Target, it adapter.PushItem) []adapter.Target {
	return appendTargetsFor(nil, all, it)
}

// appendTargetsFor appends the targets an item refers to, in the order of
// all.
func appendTargetsFor(out, all []adapter.Target, it adapter.PushItem) []adapter.Target {
	for _, t := range all {
		if itemRefers(it, t) {
			out = append(out, t)
		}
	}
	return out
}

// itemRefers reports whether the item sets, adds or removes the target.
func itemRefers(it adapter.PushItem, t adapter.Target) bool {
	if _, ok := it.Properties[t.Key]; ok {
		return true
	}
	return slices.Contains(it.Add, t.Key) || slices.Contains(it.Remove, t.Key)
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
	// Created counts records created (or found) for creation items.
	Created int `json:"created,omitempty"`
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
		for _, c := range pp.Creates {
			need = append(need, targetsOfRecord(pp.Targets, adapter.PushItem{Properties: c.Properties}, pp.createWants[c.ID])...)
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
