package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/segconn/connector/core/segment"
	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// Creating missing records.
//
// A segment written to a platform reaches only the people who have a
// record there. With `create: members` (or `all`) in the platform's
// section or in a definition's write-back to it, a plan also lists the
// people who qualify and have no record on the platform: a member of one
// of the definition's segments (with `all`, a holdout member too), with a
// normalised email, who has not opted out of marketing and whose record
// on the platform was not deleted there (someone removed it on purpose).
// Each becomes one creation item: the adapter upserts the record on a key
// an earlier attempt would have used (HubSpot: the email; Salesforce: an
// external id field holding the profile id), with the write-back
// properties, and the store links the record to the profile, records
// what the creation wrote as owned, and queues the record's list
// memberships, in one transaction (store.Creations). A crash between the
// platform's answer and that transaction leaves the creation item
// leased; it is claimed again when the lease lapses and the upsert finds
// the record, so no retry makes a duplicate. A creation item still open
// keeps later plans from listing the person again.
//
// The plan shows the creations apart (PlatformPlan.Creates) with their
// cost (CreateCalls: the creating calls, and the membership calls of the
// new records); a platform with a cap (HubSpot's marketing contacts cost
// money) gets at most the room left under it, and a warning names what
// was held back.

// createKey is the outbox key of a creation: one per profile and platform.
func createKey(pl *Platform, profileID string) string {
	return "create/" + pl.Name + "/" + pl.Account + "/" + profileID
}

// createModes maps each segment written to the platform to its creation
// mode, leaving out those that create nothing.
func createModes(pl *Platform, segs []segment.SegmentInfo, policy adapter.CreatePolicy) map[string]adapter.CreateMode {
	out := map[string]adapter.CreateMode{}
	for _, s := range segs {
		wb, ok := s.Writeback[pl.Name]
		if !ok {
			continue
		}
		mode := policy.Mode
		if wb.Create != "" {
			mode, _ = adapter.ParseCreateMode(wb.Create) // validated with the definitions
		}
		if mode != adapter.CreateNever && mode != "" {
			out[s.Name] = mode
		}
	}
	return out
}

// qualifies reports whether a profile's memberships ask for a record.
func qualifies(members []domain.Membership, modes map[string]adapter.CreateMode) bool {
	for _, m := range members {
		switch modes[m.Segment] {
		case adapter.CreateAll:
			return true
		case adapter.CreateMembers:
			if !m.Control {
				return true
			}
		}
	}
	return false
}

// planCreations adds to pp the records to create on the platform for the
// listed profiles (see the comment at the top of this file). wantOf
// gives a profile's desired state.
func (p *Pipeline) planCreations(ctx context.Context, pl *Platform, res *segment.Result, list []scored, pp *PlatformPlan, wantOf func(scored) state) error {
	cr, isCreator := pl.Adapter.(adapter.Creator)
	var policy adapter.CreatePolicy
	if isCreator {
		policy = cr.CreatePolicy()
	}
	modes := createModes(pl, res.Segments, policy)
	if len(modes) == 0 {
		return nil
	}
	if !isCreator || !policy.Allowed {
		why := "its adapter cannot create records"
		if isCreator {
			why = "its configuration does not allow creating records"
		}
		pp.Warnings = append(pp.Warnings, fmt.Sprintf("segments ask to create missing records on %s, but %s: nothing is created", pl.Name, why))
		return nil
	}
	// The people who qualify, before any lookup.
	var cands []scored
	for _, sc := range list {
		if !sc.optedOut && len(appendWritable(nil, sc, pl)) == 0 && qualifies(sc.members, modes) {
			cands = append(cands, sc)
		}
	}
	if len(cands) == 0 {
		return nil
	}
	open, err := p.store.OutboxOpenKeys(ctx, pl.Name, pl.Account)
	if err != nil {
		return fmt.Errorf("loading open %s write-back: %w", pl.Name, err)
	}
	room, made := len(cands), 0
	if policy.Cap > 0 {
		if made, err = p.store.CreatedCount(ctx, pl.Name, pl.Account); err != nil {
			return err
		}
		room = max(policy.Cap-made, 0)
	}
	var creates []adapter.CreateItem
	held := 0
	for _, sc := range cands {
		key := createKey(pl, sc.id)
		if open[key] {
			continue // a creation is under way
		}
		if len(creates) == room {
			held++ // past the cap: not looked up
			continue
		}
		ex, err := p.store.Explain(ctx, sc.id)
		if err != nil {
			return fmt.Errorf("loading profile %s to create its %s record: %w", sc.id, pl.Name, err)
		}
		email := ex.Profile.PrimaryEmail()
		if email == "" || deletedOn(ex.Links, pl) {
			continue
		}
		want := wantOf(sc)
		item := adapter.CreateItem{ID: key, ProfileID: ex.Profile.ID, Email: email, FirstName: ex.Profile.FirstName, LastName: ex.Profile.LastName}
		for k, v := range want.Props {
			if v != "" {
				if item.Properties == nil {
					item.Properties = map[string]string{}
				}
				item.Properties[k] = v
			}
		}
		if pp.createWants == nil {
			pp.createWants = map[string]state{}
		}
		pp.createWants[key] = want
		creates = append(creates, item)
	}
	if held > 0 {
		pp.Warnings = append(pp.Warnings, fmt.Sprintf("%d more records qualify for creation on %s, but the cap of %d leaves room for %d (%d created before): they are not created; %s",
			held, pl.Name, policy.Cap, room, made, policy.CapReason))
	}
	pp.Creates = creates
	pp.CreateCalls = estimateCreateCalls(pl, cr, creates, pp.createWants)
	return nil
}

// deletedOn reports whether the profile's record on the platform was
// deleted there.
func deletedOn(links []store.Link, pl *Platform) bool {
	for _, l := range links {
		if l.Ref.Platform == pl.Name && l.Ref.Account == pl.Account && l.State == store.LinkDeleted && slices.Contains(writableObjects, l.Ref.ObjectType) {
			return true
		}
	}
	return false
}

// estimateCreateCalls counts the calls creations take as Drain makes
// them: the creation items come first in the outbox, claimed maxBatch at
// a time, each round's creations in one Create; then the new records'
// list memberships, written together.
func estimateCreateCalls(pl *Platform, cr adapter.Creator, creates []adapter.CreateItem, wants map[string]state) int {
	if len(creates) == 0 {
		return 0
	}
	batch := maxBatch(pl)
	calls := 0
	for start := 0; start < len(creates); start += batch {
		calls += cr.EstimateCreateCalls(min(batch, len(creates)-start))
	}
	var follow []adapter.PushItem
	for _, it := range creates {
		f := adapter.PushItem{ID: it.ID, Ref: domain.ExternalRef{Platform: pl.Name, Account: pl.Account, ObjectType: domain.ObjectContact, ID: it.ID}}
		for _, k := range sortedKeys(wants[it.ID].Lists) {
			if wants[it.ID].Lists[k] {
				f.Add = append(f.Add, k)
			}
		}
		if len(f.Add) > 0 {
			follow = append(follow, f)
		}
	}
	return calls + estimateCalls(pl, follow)
}

// createPayload is the outbox payload of the plan's i-th creation.
func (pp *PlatformPlan) createPayload(i int) outboxPayload {
	c := pp.Creates[i]
	want := pp.createWants[c.ID]
	return outboxPayload{Create: &c, Want: &want,
		Targets: targetsOfRecord(pp.Targets, adapter.PushItem{Properties: c.Properties}, want)}
}

// create writes a round's creation items: it creates (or finds) their
// records in one Create, then links them, records what was written and
// queues each record's remaining write-back in one transaction.
func (r *round) create(ctx context.Context, items []decoded) error {
	cr, ok := r.pl.Adapter.(adapter.Creator)
	if !ok {
		for _, d := range items {
			if err := r.p.store.OutboxFailed(ctx, d.ob.ID, r.pl.Name+" cannot create records", true, time.Time{}); err != nil {
				return err
			}
			r.st.Permanent++
		}
		return nil
	}
	var req adapter.CreateRequest
	var need []adapter.Target
	byID := map[string]decoded{}
	for _, d := range items {
		c := *d.pay.Create
		if _, dup := byID[c.ID]; dup {
			// An item whose lease lapsed and a newer one of the same
			// person: the newer carries the state to write.
			if err := r.p.store.OutboxDone(ctx, []int64{byID[c.ID].ob.ID}); err != nil {
				return err
			}
			req.Items = slices.DeleteFunc(req.Items, func(x adapter.CreateItem) bool { return x.ID == c.ID })
		}
		byID[c.ID] = d
		req.Items = append(req.Items, c)
		need = append(need, targetsFor(d.pay.Targets, adapter.PushItem{Properties: c.Properties})...)
	}
	failAll := func(err error, delay time.Duration) error {
		permanent := adapter.KindOf(err) == adapter.KindPermanent
		for _, d := range byID {
			if ferr := r.p.store.OutboxFailed(ctx, d.ob.ID, err.Error(), permanent, r.p.now().Add(delay)); ferr != nil {
				return ferr
			}
		}
		if permanent {
			r.st.Permanent += len(byID)
		} else {
			r.st.Retryable += len(byID)
		}
		return fmt.Errorf("creating %d %s records: %w", len(byID), r.pl.Name, err)
	}
	ids, err := r.p.ensureTargets(ctx, r.pl, need)
	if err != nil {
		return failAll(adapter.Retryable(err), max(retryDelay(err, items[0].ob.Attempts), time.Minute))
	}
	req.Targets = ids
	r.st.Calls++
	r.st.Requests += cr.EstimateCreateCalls(len(req.Items))
	results, err := cr.Create(ctx, req)
	if err != nil {
		return failAll(err, retryDelay(err, items[0].ob.Attempts))
	}
	at := r.p.now().UTC()
	cround := store.CreatedRound{Platform: r.pl.Name, Account: r.pl.Account}
	answered := map[string]bool{}
	for _, res := range results {
		d, ok := byID[res.ID]
		if !ok || answered[res.ID] {
			continue
		}
		answered[res.ID] = true
		switch res.Status {
		case adapter.PushOK:
			if err := r.created(d, res, at, &cround); err != nil {
				return err
			}
			r.st.Created++
		case adapter.PushPermanent:
			if err := r.p.store.OutboxFailed(ctx, d.ob.ID, res.Reason, true, time.Time{}); err != nil {
				return err
			}
			r.st.Permanent++
		default:
			delay := res.RetryAfter
			if delay <= 0 {
				delay = backoffFor(d.ob.Attempts)
			}
			if err := r.p.store.OutboxFailed(ctx, d.ob.ID, res.Reason, false, at.Add(delay)); err != nil {
				return err
			}
			r.st.Retryable++
		}
	}
	for id, d := range byID {
		if !answered[id] {
			if err := r.p.store.OutboxFailed(ctx, d.ob.ID, "no result from adapter", false, at.Add(backoffFor(d.ob.Attempts))); err != nil {
				return err
			}
			r.st.Retryable++
		}
	}
	if len(cround.Records) == 0 {
		return nil
	}
	return r.p.store.RecordCreated(ctx, cround)
}

// created adds one created record to the round's record: its link, the
// ownership of the properties the creation wrote, the creation item done,
// and the record's remaining write-back queued when there is any.
func (r *round) created(d decoded, res adapter.CreateResult, at time.Time, cround *store.CreatedRound) error {
	c := d.pay.Create
	ref := res.Ref
	if ref.Platform == "" {
		ref.Platform = r.pl.Name
	}
	if ref.Account == "" {
		ref.Account = r.pl.Account
	}
	if ref.ObjectType == "" {
		ref.ObjectType = domain.ObjectContact
	}
	updated := ref.LastModified
	if updated.IsZero() {
		updated = at
	}
	ref.LastModified = time.Time{}
	cround.Records = append(cround.Records, store.CreatedRecord{ProfileID: c.ProfileID, New: res.New, CreatedAt: at,
		Contact: domain.Contact{Ref: ref, Emails: []string{c.Email}, FirstName: c.FirstName, LastName: c.LastName, UpdatedAt: updated}})
	written := adapter.PushItem{ID: ref.Key(), Ref: ref, Properties: c.Properties}
	owned := ownershipOf(written, nil, at)
	cround.Settle.Owned = append(cround.Settle.Owned, owned...)
	cround.Settle.Done = append(cround.Settle.Done, d.ob.ID)
	if d.pay.Want == nil {
		return nil
	}
	if _, changed := delta(ref, *d.pay.Want, owned, nil); !changed {
		return nil
	}
	want := *d.pay.Want
	pay, err := json.Marshal(outboxPayload{Item: adapter.PushItem{ID: ref.Key(), Ref: ref}, Targets: d.pay.Targets, Want: &want})
	if err != nil {
		return fmt.Errorf("encoding write-back of created record %s: %w", ref.Key(), err)
	}
	cround.Enqueue = append(cround.Enqueue, store.OutboxItem{Platform: r.pl.Name, Account: r.pl.Account, Key: ref.Key(), Payload: pay})
	return nil
}
