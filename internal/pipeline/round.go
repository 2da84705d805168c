package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// round is one write-back round of a platform: the outbox items claimed
// together, what each comes to (pushed in one call, already written,
// held for a later membership round, or superseded by a newer item of the
// same record), and the outcome, settled in one transaction.
type round struct {
	p       *Pipeline
	pl      *Platform
	claimed []store.OutboxItem
	// hold, when set, defers each item's membership changes to the time
	// it returns.
	hold func(store.OutboxItem) time.Time
	st   *DrainStats

	// Keyed by item (record) id.
	byID     map[string]store.OutboxItem  // the outbox item pushed for the record
	payloads map[string]outboxPayload     // its payload; Item is what is pushed
	prior    map[string][]store.Ownership // what the connector owned on the record before
	unsure   map[string][]state           // states earlier attempts may have written in part
	settles  map[string][]int64           // superseded items a whole write of the record settles

	held      map[int64]time.Time // outbox item → when its membership changes are due
	deferOnly []store.OutboxItem  // held items with nothing to write now
	unchanged []int64             // items whose record already holds their state

	req  adapter.PushRequest
	need []adapter.Target
}

// decoded is a claimed outbox item and its payload.
type decoded struct {
	ob  store.OutboxItem
	pay outboxPayload
}

// pushBatch writes one claimed round of a platform's outbox and records
// its outcome in st.
func (p *Pipeline) pushBatch(ctx context.Context, pl *Platform, claimed []store.OutboxItem, hold func(store.OutboxItem) time.Time, st *DrainStats) error {
	r := &round{p: p, pl: pl, claimed: claimed, hold: hold, st: st,
		byID: map[string]store.OutboxItem{}, payloads: map[string]outboxPayload{}, prior: map[string][]store.Ownership{},
		held: map[int64]time.Time{}}
	items, err := r.decode(ctx)
	if err != nil {
		return err
	}
	var creations []decoded
	items = slices.DeleteFunc(items, func(d decoded) bool {
		if d.pay.Create != nil {
			creations = append(creations, d)
			return true
		}
		return false
	})
	var createErr error
	if len(creations) > 0 {
		// A failed creation call leaves its items to be retried; the
		// round's other items are written all the same.
		createErr = r.create(ctx, creations)
		if len(items) == 0 {
			return createErr
		}
	}
	ownedBy, err := r.load(ctx, items)
	if err != nil {
		return errors.Join(createErr, err)
	}
	for _, d := range items {
		if err := r.add(ctx, d, ownedBy[d.pay.Item.Ref.Key()]); err != nil {
			return errors.Join(createErr, err)
		}
	}
	return errors.Join(createErr, r.push(ctx))
}

// decode reads the claimed items' payloads. A payload that cannot be read
// will never get better: its item is parked.
func (r *round) decode(ctx context.Context) ([]decoded, error) {
	items := make([]decoded, 0, len(r.claimed))
	for _, ob := range r.claimed {
		var pay outboxPayload
		if err := json.Unmarshal(ob.Payload, &pay); err != nil {
			if ferr := r.p.store.OutboxFailed(ctx, ob.ID, "undecodable payload: "+err.Error(), true, time.Time{}); ferr != nil {
				return nil, ferr
			}
			r.st.Permanent++
			continue
		}
		items = append(items, decoded{ob, pay})
	}
	return items, nil
}

// load reads what the connector owns on the items' records now (writes
// of them that finished since the plan count), by record key, and the
// states earlier attempts may have written in part, which this round
// settles (see store.OutboxSuperseded).
func (r *round) load(ctx context.Context, items []decoded) (map[string][]store.Ownership, error) {
	refs := make([]domain.ExternalRef, 0, len(items))
	keys := make([]string, 0, len(items))
	for _, d := range items {
		refs = append(refs, d.pay.Item.Ref)
		keys = append(keys, d.ob.Key)
	}
	ownedBy, err := r.p.store.OwnershipMany(ctx, refs)
	if err != nil {
		return nil, fmt.Errorf("loading write-back ownership of %d %s records: %w", len(refs), r.pl.Name, err)
	}
	got, err := r.p.store.OutboxPriors(ctx, r.pl.Name, r.pl.Account, keys)
	if err != nil {
		return nil, fmt.Errorf("loading superseded %s write-backs: %w", r.pl.Name, err)
	}
	r.unsure, r.settles = map[string][]state{}, map[string][]int64{}
	for key, obs := range got {
		for _, ob := range obs {
			r.settles[key] = append(r.settles[key], ob.ID)
			var pay outboxPayload
			if err := json.Unmarshal(ob.Payload, &pay); err != nil {
				continue // unreadable: nothing to settle but the item
			}
			r.unsure[key] = append(r.unsure[key], pay.written())
		}
	}
	return ownedBy, nil
}

// add takes one item into the round: it supersedes an older item of the
// same record, recomputes what to write against owned, and either marks
// the item unchanged, holds its membership changes, or queues it for the
// push.
func (r *round) add(ctx context.Context, d decoded, owned []store.Ownership) error {
	ob, pay := d.ob, d.pay
	id := pay.Item.ID
	if older, dup := r.byID[id]; dup {
		if err := r.supersede(ctx, id, older); err != nil {
			return err
		}
	}
	r.prior[id] = owned
	if pay.Want != nil {
		item, changed := delta(pay.Item.Ref, *pay.Want, owned, r.unsure[id])
		if !changed {
			r.unchanged = append(r.unchanged, ob.ID)
			r.unchanged = append(r.unchanged, r.settles[id]...)
			return nil
		}
		item.ID = id
		if r.hold != nil && (len(item.Add) > 0 || len(item.Remove) > 0) {
			// The membership changes wait; the desired state in the
			// payload brings them back, recomputed, later.
			r.held[ob.ID] = r.hold(ob)
			item.Add, item.Remove = nil, nil
			if len(item.Properties) == 0 {
				r.deferOnly = append(r.deferOnly, ob)
				return nil
			}
		}
		pay.Item = item
	}
	r.byID[id] = ob
	r.payloads[id] = pay
	r.req.Items = append(r.req.Items, pay.Item)
	r.need = append(r.need, targetsFor(pay.Targets, pay.Item)...)
	return nil
}

// supersede sets aside older, an item of the record id claimed with a
// newer one: an item whose lease lapsed (its daemon died mid-push) and a
// newer one. Claims come oldest first, so the newer absolute state wins.
// The older is never pushed (now or after its lease lapses again) over
// the newer state, and what it may have written is settled by the newer.
func (r *round) supersede(ctx context.Context, id string, older store.OutboxItem) error {
	if err := r.p.store.OutboxSupersede(ctx, []int64{older.ID}); err != nil {
		return err
	}
	if op := r.payloads[id]; op.Want != nil {
		r.unsure[id] = append(r.unsure[id], *op.Want)
	}
	r.settles[id] = append(r.settles[id], older.ID)
	delete(r.held, older.ID)
	r.deferOnly = slices.DeleteFunc(r.deferOnly, func(x store.OutboxItem) bool { return x.ID == older.ID })
	r.unchanged = slices.DeleteFunc(r.unchanged, func(x int64) bool { return x == older.ID })
	r.req.Items = slices.DeleteFunc(r.req.Items, func(it adapter.PushItem) bool { return it.ID == id })
	return nil
}

// push ensures the round's targets, sends its items in one call and
// records the outcome. The round's outcome is recorded in one transaction
// after the push (or at once, when there is nothing to push): items with
// nothing left to write are done, items with only membership changes
// wait.
func (r *round) push(ctx context.Context) error {
	settle := store.Settlement{Done: r.unchanged}
	r.deferAll(&settle, r.deferOnly)
	if len(r.req.Items) == 0 {
		return r.settle(ctx, settle)
	}
	ids, err := r.p.ensureTargets(ctx, r.pl, r.need)
	if err != nil {
		// Missing targets (a custom field an admin must create, a list we
		// may not make) are fixed on the platform side: keep the items and
		// try again later rather than parking them for good.
		err = adapter.Retryable(err)
	} else {
		r.req.Targets = ids
		var results []adapter.PushResult
		r.st.Calls++
		r.st.Requests += estimateCalls(r.pl, r.req.Items)
		results, err = r.pl.Adapter.Push(ctx, r.req)
		if err == nil {
			return r.record(ctx, results, settle)
		}
	}
	if serr := r.settle(ctx, settle); serr != nil {
		return serr
	}
	return r.fail(ctx, err, ids == nil)
}

// fail reschedules every pushed item after the whole call failed (or its
// targets could not be ensured, noTargets): nothing is lost.
func (r *round) fail(ctx context.Context, err error, noTargets bool) error {
	permanent := adapter.KindOf(err) == adapter.KindPermanent
	delay := retryDelay(err, r.claimed[0].Attempts)
	if noTargets {
		delay = max(delay, time.Minute)
	}
	for _, ob := range r.byID {
		if ferr := r.p.store.OutboxFailed(ctx, ob.ID, err.Error(), permanent, r.p.now().Add(delay)); ferr != nil {
			return ferr
		}
	}
	if permanent {
		r.st.Permanent += len(r.byID)
	} else {
		r.st.Retryable += len(r.byID)
	}
	return fmt.Errorf("pushing %d write-backs to %s: %w", len(r.byID), r.pl.Name, err)
}

// record records a push's outcome beside settle: ownership of what it
// wrote, and each item done, deferred (its membership changes held) or
// failed. An item written whole settles its record's superseded items.
func (r *round) record(ctx context.Context, results []adapter.PushResult, settle store.Settlement) error {
	done := settle.Done
	var later []store.OutboxItem
	var owned []store.Ownership
	at := r.p.now().UTC()
	answered := map[string]bool{}
	for _, res := range results {
		ob, ok := r.byID[res.ID]
		if !ok || answered[res.ID] {
			continue
		}
		answered[res.ID] = true
		switch res.Status {
		case adapter.PushOK:
			if _, ok := r.held[ob.ID]; ok {
				later = append(later, ob)
			} else {
				done = append(done, ob.ID)
				done = append(done, r.settles[res.ID]...)
			}
			owned = append(owned, ownershipOf(r.payloads[res.ID].Item, r.prior[res.ID], at)...)
			r.st.OK++
		case adapter.PushPermanent:
			if err := r.p.store.OutboxFailed(ctx, ob.ID, res.Reason, true, time.Time{}); err != nil {
				return err
			}
			r.st.Permanent++
		default:
			d := res.RetryAfter
			if d <= 0 {
				d = backoffFor(ob.Attempts)
			}
			if err := r.p.store.OutboxFailed(ctx, ob.ID, res.Reason, false, at.Add(d)); err != nil {
				return err
			}
			r.st.Retryable++
		}
	}
	// An item the adapter did not answer for is retried.
	for id, ob := range r.byID {
		if !answered[id] {
			if err := r.p.store.OutboxFailed(ctx, ob.ID, "no result from adapter", false, at.Add(backoffFor(ob.Attempts))); err != nil {
				return err
			}
			r.st.Retryable++
		}
	}
	// What was written, what is finished and what waits, together: a
	// crash never leaves an item done without its ownership.
	settle.Owned, settle.Done = owned, done
	r.deferAll(&settle, later)
	if err := r.settle(ctx, settle); err != nil {
		return err
	}
	if r.p.hooks.OnPushed != nil {
		r.p.hooks.OnPushed(r.pl.Name, adapter.PushOK, r.st.OK)
	}
	return nil
}

// deferAll adds items to a settlement's deferrals, each to the time its
// membership changes are due.
func (r *round) deferAll(s *store.Settlement, items []store.OutboxItem) {
	for _, ob := range items {
		if s.Defer == nil {
			s.Defer = map[time.Time][]int64{}
		}
		s.Defer[r.held[ob.ID]] = append(s.Defer[r.held[ob.ID]], ob.ID)
		r.st.Deferred++
	}
}

// settle records the round's outcome (store.OutboxSettle) unless it is
// empty.
func (r *round) settle(ctx context.Context, s store.Settlement) error {
	if len(s.Owned) == 0 && len(s.Done) == 0 && len(s.Defer) == 0 {
		return nil
	}
	if err := r.p.store.OutboxSettle(ctx, s); err != nil {
		return fmt.Errorf("recording %s write-back: %w", r.pl.Name, err)
	}
	return nil
}
