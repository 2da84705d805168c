package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/segconn/connector/core/segment"
	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// Plan is everything a recompute would change, before anything is written.
type Plan struct {
	AsOf        time.Time                `json:"as_of"`
	Fingerprint string                   `json:"fingerprint"`
	Memberships []store.MembershipChange `json:"memberships"`
	Segments    []SegmentDelta           `json:"segments"`
	Platforms   []PlatformPlan           `json:"platforms"`
	Warnings    []segment.Warning        `json:"warnings,omitempty"`
	Profiles    int                      `json:"profiles"`
	// Held counts, once Apply has queued the write-back, the records
	// whose write-back the flap guard delayed (their segments kept
	// changing).
	Held int `json:"held,omitempty"`

	result *segment.Result
}

// SegmentDelta counts entries and exits of one segment.
type SegmentDelta struct {
	Segment string `json:"segment"`
	Size    int    `json:"size"`
	Entered int    `json:"entered"`
	Left    int    `json:"left"`
}

// PlatformPlan is the write-back to one platform.
type PlatformPlan struct {
	Platform string             `json:"platform"`
	Targets  []adapter.Target   `json:"targets"`
	Items    []adapter.PushItem `json:"items"`
	// PerSegment counts record-level entries and exits written back.
	PerSegment map[string]*SegmentDelta `json:"per_segment"`
	// Calls estimates the API calls the write-back takes; QuotaShare is
	// that against the platform's daily request budget (0 when unknown),
	// as its adapter reports it (adapter.QuotaReporter).
	Calls      int     `json:"calls"`
	QuotaShare float64 `json:"quota_share"`
	// DailyQuota is that budget, and QuotaRemaining what the platform
	// last said is left of it today (absent when unknown).
	DailyQuota     int  `json:"daily_quota,omitempty"`
	QuotaRemaining *int `json:"quota_remaining,omitempty"`
	// OptedOut counts, per segment, the members written to none of its
	// lists or campaigns because they opted out of marketing (consent.go).
	OptedOut map[string]int `json:"opted_out,omitempty"`
	// Creates lists the records write-back creates for people who
	// qualify and have none on the platform (create.go); CreateCalls is
	// what they cost: the creating calls and the new records' list
	// membership calls. QuotaShare counts them too.
	Creates     []adapter.CreateItem `json:"creates,omitempty"`
	CreateCalls int                  `json:"create_calls,omitempty"`
	// Warnings say what the plan held back, such as creations beyond the
	// platform's cap.
	Warnings []string `json:"warnings,omitempty"`

	wants       map[string]state // item id → the record's whole desired state
	refresh     []refreshItem    // records re-queued with their desired state only
	createWants map[string]state // creation item id → the new record's desired state
}

type refreshItem struct {
	ref  domain.ExternalRef
	want state
}

// writableObjects are the record types write-back targets.
var writableObjects = []string{domain.ObjectContact, "lead", "customer"}

// Plan recomputes segments at asOf and returns the membership changes and
// per-platform write-back, without writing anything.
func (p *Pipeline) Plan(ctx context.Context, asOf time.Time) (*Plan, error) {
	p.ownershipReads.Store(0)
	var refs []profileRefs
	res, err := p.recompute(ctx, asOf, &refs, nil)
	if err != nil {
		return nil, err
	}
	all := make([]scored, res.Len())
	values := wantsNextOrder(res.Segments)
	for i := range all {
		all[i] = scored{id: res.Dataset.Customers[i].ID, members: res.Memberships(i)}
		if values {
			all[i].nextOrder, all[i].orderGap = res.NextOrder(i)
		}
		if i < len(refs) && refs[i].id == all[i].id {
			all[i].refs, all[i].refsLoaded, all[i].optedOut = refs[i].refs, true, refs[i].optedOut
		}
	}
	return p.planFor(ctx, res, all, true)
}

// scored is one profile's computed memberships.
type scored struct {
	id      string
	members []domain.Membership
	// refs are the profile's platform records, once refsLoaded.
	refs       []domain.ExternalRef
	refsLoaded bool
	// optedOut is OptedOut of the profile, known once refsLoaded.
	optedOut bool
	// nextOrder and orderGap are the profile's expected next-order date
	// and average days between orders, set when some write-back wants
	// them (segment.Result.NextOrder).
	nextOrder, orderGap string
	// key is membersKey of members, set by planFor for the platforms'
	// plans to share.
	key string
}

// membersKey returns membersKey of the profile's memberships.
func (sc *scored) membersKey() string {
	if sc.key == "" && len(sc.members) > 0 {
		sc.key = membersKey(sc.members)
	}
	return sc.key
}

// planFor builds the plan for the given profiles; full says they are
// everyone, so stored members missing from the list leave their segments.
func (p *Pipeline) planFor(ctx context.Context, res *segment.Result, list []scored, full bool) (*Plan, error) {
	plan := &Plan{AsOf: res.AsOf, Warnings: res.Warnings, Profiles: res.Len(), result: res}
	var current map[string][]member // profile → its memberships now
	if full {
		// Everyone's, kept from the last full plan and brought up to
		// date from the store's membership change log (members.go).
		p.memberMu.Lock()
		defer p.memberMu.Unlock()
		var err error
		if current, err = p.currentMemberships(ctx); err != nil {
			return nil, fmt.Errorf("loading current memberships: %w", err)
		}
	} else {
		ids := make([]string, len(list))
		for i, sc := range list {
			ids[i] = sc.id
		}
		of, err := p.store.MembershipsOf(ctx, ids)
		if err != nil {
			return nil, fmt.Errorf("loading memberships of %d profiles: %w", len(ids), err)
		}
		current = make(map[string][]member, len(of))
		for id, ms := range of {
			current[id] = membersOf(ms)
		}
	}
	at := p.now().UTC()
	deltas := map[string]*SegmentDelta{}
	for _, s := range res.Segments {
		deltas[s.Name] = &SegmentDelta{Segment: s.Name}
	}
	if full && len(current) == 0 {
		// Everyone enters: size the changes once rather than grow them
		// (at a million customers, growing copied the 150 MB of changes
		// several times over).
		n := 0
		for _, sc := range list {
			n += len(sc.members)
		}
		plan.Memberships = make([]store.MembershipChange, 0, n)
	}
	for _, sc := range list {
		id := sc.id
		cur := current[id]
		for _, m := range sc.members {
			d := segDelta(deltas, m.Segment)
			d.Size++
			ctl, was := controlIn(cur, m.Segment)
			if !was || ctl != m.Control {
				if was {
					plan.Memberships = append(plan.Memberships, store.MembershipChange{ProfileID: id, Segment: m.Segment, Entered: false, At: at, Reason: "holdout role changed"})
				} else {
					d.Entered++
				}
				plan.Memberships = append(plan.Memberships, store.MembershipChange{ProfileID: id, Segment: m.Segment, Entered: true, At: at, Control: m.Control})
			}
		}
		for _, c := range cur {
			if !slices.ContainsFunc(sc.members, func(m domain.Membership) bool { return m.Segment == c.segment }) {
				plan.Memberships = append(plan.Memberships, store.MembershipChange{ProfileID: id, Segment: c.segment, Entered: false, At: at})
				segDelta(deltas, c.segment).Left++
			}
		}
	}
	if full {
		// Profiles that no longer exist leave everything.
		var gone []string
		for id := range current {
			if _, ok := res.Lookup(id); !ok {
				gone = append(gone, id)
			}
		}
		slices.Sort(gone)
		for _, id := range gone {
			for _, c := range current[id] {
				plan.Memberships = append(plan.Memberships, store.MembershipChange{ProfileID: id, Segment: c.segment, Entered: false, At: at, Reason: "profile gone"})
				segDelta(deltas, c.segment).Left++
			}
		}
	}
	for _, name := range sortedKeys(deltas) {
		plan.Segments = append(plan.Segments, *deltas[name])
	}
	if err := p.loadRefs(ctx, list); err != nil {
		return nil, err
	}
	for i := range list {
		list[i].membersKey()
	}
	for _, name := range p.names {
		pp, err := p.platformPlan(ctx, p.platforms[name], res, list, !full)
		if err != nil {
			return nil, err
		}
		plan.Platforms = append(plan.Platforms, pp)
	}
	plan.Fingerprint = fingerprint(plan)
	return plan, nil
}

// platformPlan computes the write-back items for one platform: the
// difference between what the segments say and what the connector owns on
// each record.
// With refresh, records whose write-back looks done are queued too, with
// their desired state only: a write of the record still in flight can make
// that look wrong a moment later, and the drainer, which waits for it,
// then writes what is needed or closes the item without a call. Without
// refresh, only the records with write-back items still open are: a
// queued retry must not write an older state than this plan's, and an
// attempt that may have been written in part must be settled. A record
// whose one open item is pending with exactly the state this plan wants
// is left to it: the plan queues, and counts calls for, nothing there.
func (p *Pipeline) platformPlan(ctx context.Context, pl *Platform, res *segment.Result, list []scored, refresh bool) (PlatformPlan, error) {
	pp := PlatformPlan{Platform: pl.Name, PerSegment: map[string]*SegmentDelta{}}
	tg := buildTargets(pl.Name, res.Segments)
	pp.Targets = tg.list
	if len(tg.list) == 0 {
		return pp, nil
	}
	var open map[string][]store.OutboxItem
	if !refresh {
		var err error
		if open, err = p.store.OutboxOpen(ctx, pl.Name, pl.Account); err != nil {
			return pp, err
		}
	}
	// A record the last plan found holding exactly what it wanted, whose
	// ownership has not been written since and whose desired state is the
	// same again, still holds it: its ownership is not read (settled.go).
	// Plans that re-queue settled records (refresh) read everything.
	var known *settledRecords
	if !refresh {
		var err error
		if known, err = p.settledSince(ctx, pl.Name); err != nil {
			return pp, err
		}
	}
	// Ownership is read for a chunk of profiles at a time: one query per
	// chunk, not one per record, without holding everyone's at once.
	const chunk = 1000
	// Most people share their set of segments with many others, so each
	// distinct set's state (and its hash) is computed once and never
	// changed: values and opt-outs are applied to copies.
	type desired struct {
		st   state
		hash uint64
	}
	wants := map[string]desired{}
	type pending struct {
		ref  domain.ExternalRef
		want state
		hash uint64
		id   recordID
	}
	var todo []pending
	var need []domain.ExternalRef
	var refBuf [8]domain.ExternalRef
	for start := 0; start < len(list); start += chunk {
		todo, need = todo[:0], need[:0]
		for _, sc := range list[start:min(start+chunk, len(list))] {
			refs := appendWritable(refBuf[:0], sc, pl)
			if len(refs) == 0 {
				continue
			}
			base, ok := wants[sc.membersKey()]
			if !ok {
				base.st = tg.desiredState(memberMap(sc.members))
				if known != nil {
					base.hash = known.hash(base.st)
				}
				wants[sc.membersKey()] = base
			}
			// The record's state is built only for records that need an
			// item; a settled one is recognised by its hash, the base
			// state's with the person's values swapped in.
			var want state
			built := false
			var h uint64
			if sc.optedOut {
				if pp.OptedOut == nil {
					pp.OptedOut = map[string]int{}
				}
				want = tg.withValues(base.st, sc)
				want = tg.withoutOptedOut(state{Props: want.Props, Lists: maps.Clone(want.Lists)}, pp.OptedOut)
				built = true
				if known != nil {
					h = known.hash(want)
				}
			} else if known != nil {
				h = tg.valuesHash(known, base.st, base.hash, sc)
			}
			for _, ref := range refs {
				var id recordID
				if known != nil {
					id = known.id(ref)
					if (len(open) == 0 || len(open[ref.Key()]) == 0) && known.stillHolds(id, h) {
						continue
					}
				}
				if !built {
					want, built = tg.withValues(base.st, sc), true
				}
				todo = append(todo, pending{ref, want, h, id})
				need = append(need, ref)
			}
		}
		if len(need) == 0 {
			continue
		}
		p.ownershipReads.Add(int64(len(need)))
		ownedBy, err := p.store.OwnershipMany(ctx, need)
		if err != nil {
			return pp, fmt.Errorf("loading write-back ownership of %d %s records: %w", len(need), pl.Name, err)
		}
		for _, t := range todo {
			ref, want := t.ref, t.want
			var queued []store.OutboxItem
			if len(open) > 0 {
				queued = open[ref.Key()]
			}
			if len(queued) > 0 && holds(queued, want) {
				continue // already queued with this very state, nothing uncertain
			}
			item, changed := delta(ref, want, ownedBy[ref.Key()], nil)
			if !changed {
				if refresh || len(queued) > 0 {
					pp.refresh = append(pp.refresh, refreshItem{ref: ref, want: want})
				} else if known != nil {
					known.settle(t.id, t.hash)
				}
				continue
			}
			if pp.wants == nil {
				pp.wants = map[string]state{}
			}
			pp.wants[item.ID] = want
			for _, k := range item.Add {
				segDelta(pp.PerSegment, tg.segmentOf[k]).Entered++
			}
			for _, k := range item.Remove {
				segDelta(pp.PerSegment, tg.segmentOf[k]).Left++
			}
			pp.Items = append(pp.Items, item)
		}
	}
	if known != nil {
		p.keepSettled(pl.Name, known)
	}
	wantOf := func(sc scored) state {
		base, ok := wants[sc.membersKey()]
		if !ok {
			base.st = tg.desiredState(memberMap(sc.members))
			wants[sc.membersKey()] = base
		}
		return tg.withValues(base.st, sc)
	}
	if err := p.planCreations(ctx, pl, res, list, &pp, wantOf); err != nil {
		return pp, err
	}
	pp.Calls = estimateCalls(pl, pp.Items)
	if qr, ok := pl.Adapter.(adapter.QuotaReporter); ok {
		q := qr.DailyQuota()
		if q.Limit > 0 {
			pp.DailyQuota = q.Limit
			pp.QuotaShare = float64(pp.Calls+pp.CreateCalls) / float64(q.Limit)
		}
		if q.Remaining >= 0 {
			pp.QuotaRemaining = &q.Remaining
		}
	}
	return pp, nil
}

// membersKey names a profile's memberships (segment and holdout role),
// for sharing the desired state of everyone with the same ones.
func membersKey(ms []domain.Membership) string {
	var b strings.Builder
	for _, m := range ms {
		b.WriteString(m.Segment)
		if m.Control {
			b.WriteString("\x00c\x01")
		} else {
			b.WriteString("\x00m\x01")
		}
	}
	return b.String()
}

// memberMap maps memberships to segment → holdout role.
func memberMap(ms []domain.Membership) map[string]bool {
	out := make(map[string]bool, len(ms))
	for _, m := range ms {
		out[m.Segment] = m.Control
	}
	return out
}

// Queued is the number of records the plan queues write-back for:
// those with something to write, and those re-queued with their desired
// state only.
func (pp *PlatformPlan) Queued() int { return len(pp.Items) + len(pp.refresh) }

// holds reports whether a record's unsettled outbox items already carry
// want: the only one is pending (no attempt under way or of unknown
// effect) with want as its whole desired state. The drainer writes it
// against what the connector owns then, so queueing want again would only
// repeat it.
func holds(items []store.OutboxItem, want state) bool {
	if len(items) != 1 || items[0].Status != store.OutboxPending {
		return false
	}
	var pay struct {
		Want *state `json:"want"`
	}
	if err := json.Unmarshal(items[0].Payload, &pay); err != nil || pay.Want == nil {
		return false // not ours to judge: queue the state again
	}
	return maps.Equal(pay.Want.Props, want.Props) && maps.Equal(pay.Want.Lists, want.Lists)
}

func segDelta(m map[string]*SegmentDelta, seg string) *SegmentDelta {
	if m[seg] == nil {
		m[seg] = &SegmentDelta{Segment: seg}
	}
	return m[seg]
}

// loadRefs loads the platform records of every listed profile that has
// not brought them along, once for all platforms.
func (p *Pipeline) loadRefs(ctx context.Context, list []scored) error {
	for i := range list {
		if list[i].refsLoaded {
			continue
		}
		prof, err := p.store.Profile(ctx, list[i].id)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("loading profile %s: %w", list[i].id, err)
		}
		list[i].refs, list[i].refsLoaded, list[i].optedOut = prof.Refs, true, OptedOut(&prof)
	}
	return nil
}

// appendWritable appends to dst the profile's active records on the
// platform that write-back can address, without their modification times.
func appendWritable(dst []domain.ExternalRef, sc scored, pl *Platform) []domain.ExternalRef {
	for _, r := range sc.refs {
		if r.Platform == pl.Name && slices.Contains(writableObjects, r.ObjectType) && r.ID != "" {
			r.LastModified = time.Time{}
			dst = append(dst, r)
		}
	}
	return dst
}

// estimateCalls counts the API calls the write-back takes, batch by
// batch as Drain will send it (items in plan order, MaxPushBatch per
// Push): the adapter's own estimate when it offers one, otherwise property
// updates in batches of the maximum plus, per list target, its additions
// and removals in batches of the same size.
func estimateCalls(pl *Platform, items []adapter.PushItem) int {
	batch := pl.Desc.Capabilities.MaxPushBatch
	if batch <= 0 {
		batch = 100
	}
	est, _ := pl.Adapter.(adapter.CallEstimator)
	calls := 0
	for start := 0; start < len(items); start += batch {
		chunk := items[start:min(start+batch, len(items))]
		if est != nil {
			calls += est.EstimatePushCalls(adapter.PushRequest{Items: chunk})
			continue
		}
		calls += GenericPushCalls(adapter.PushRequest{Items: chunk}, batch)
	}
	return calls
}

// GenericPushCalls is the estimate of the calls one Push takes for an
// adapter that offers none: property updates in batches of batch, plus,
// per list target, its additions and its removals in batches of batch.
func GenericPushCalls(req adapter.PushRequest, batch int) int {
	if batch <= 0 {
		batch = 100
	}
	props := 0
	lists := map[string]int{}
	for _, it := range req.Items {
		if len(it.Properties) > 0 {
			props++
		}
		for _, k := range it.Add {
			lists["+"+k]++
		}
		for _, k := range it.Remove {
			lists["-"+k]++
		}
	}
	calls := ceilDiv(props, batch)
	for _, n := range lists {
		calls += ceilDiv(n, batch)
	}
	return calls
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
