package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/domain"
)

func testOutboxClaimConcurrent(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t, store.Options{})
	const n = 300
	var items []store.OutboxItem
	for i := 0; i < n; i++ {
		items = append(items, store.OutboxItem{Platform: "hubspot", Account: "p1", Key: fmt.Sprintf("hubspot/p1/contact/%d", i), Payload: []byte(fmt.Sprint(i))})
	}
	items = append(items, store.OutboxItem{Platform: "salesforce", Account: "org", Key: "x", Payload: []byte("sf")})
	if err := s.OutboxEnqueue(ctx, items); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	claimed := map[int64]int{}
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				batch, err := s.OutboxClaim(ctx, "hubspot", "p1", 7, time.Hour)
				if err != nil {
					errs <- err
					return
				}
				if len(batch) == 0 {
					return
				}
				mu.Lock()
				for _, it := range batch {
					claimed[it.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(claimed) != n {
		t.Errorf("claimed %d distinct items, want %d", len(claimed), n)
	}
	for id, k := range claimed {
		if k != 1 {
			t.Errorf("item %d claimed %d times", id, k)
		}
	}
	stats, _ := s.OutboxStats(ctx)
	if stats[store.OutboxLeased] != n || stats[store.OutboxPending] != 1 {
		t.Errorf("stats = %v; want %d leased and salesforce's item pending", stats, n)
	}
}

func testOutboxRetry(t *testing.T, open Factory) {
	ctx := context.Background()
	clock := NewClock()
	s := open(t, store.Options{Now: clock.Now})
	enq := func(key, payload string) {
		t.Helper()
		if err := s.OutboxEnqueue(ctx, []store.OutboxItem{{Platform: "woocommerce", Key: key, Payload: []byte(payload)}}); err != nil {
			t.Fatal(err)
		}
	}
	enq("a", "a1")
	enq("a", "a2") // replaces the pending a1
	enq("b", "b1")
	got, err := s.OutboxClaim(ctx, "woocommerce", "", 10, time.Minute)
	if err != nil || len(got) != 2 || string(got[0].Payload) != "a2" || got[0].Attempts != 1 {
		t.Fatalf("claim = %+v, %v; want a2 and b1", got, err)
	}
	a, b := got[0], got[1]
	if err := s.OutboxFailed(ctx, a.ID, "HTTP 503", false, clock.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.OutboxFailed(ctx, b.ID, "HTTP 400: no such customer", true, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.OutboxClaim(ctx, "woocommerce", "", 10, time.Minute); len(c) != 0 {
		t.Errorf("claimed before retry time: %+v", c)
	}
	clock.Advance(90 * time.Second)
	c, _ := s.OutboxClaim(ctx, "woocommerce", "", 10, time.Minute)
	if len(c) != 1 || c[0].ID != a.ID || c[0].Attempts != 2 || c[0].LastError != "HTTP 503" {
		t.Fatalf("retry claim = %+v", c)
	}
	// While a is in flight a newer state is enqueued; a's failure then
	// yields to it instead of clashing.
	enq("a", "a3")
	if err := s.OutboxFailed(ctx, a.ID, "HTTP 503", false, clock.Now()); err != nil {
		t.Fatal(err)
	}
	c, _ = s.OutboxClaim(ctx, "woocommerce", "", 10, time.Minute)
	if len(c) != 1 || string(c[0].Payload) != "a3" {
		t.Fatalf("claim after supersede = %+v; want a3 only", c)
	}
	if err := s.OutboxDone(ctx, []int64{c[0].ID}); err != nil {
		t.Fatal(err)
	}
	stats, _ := s.OutboxStats(ctx)
	if stats[store.OutboxDone] != 2 || stats[store.OutboxFailed] != 1 || stats[store.OutboxPending] != 0 {
		t.Errorf("stats = %v", stats)
	}
	// A lease that runs out is claimable again.
	enq("c", "c1")
	if c, _ := s.OutboxClaim(ctx, "woocommerce", "", 10, time.Minute); len(c) != 1 {
		t.Fatalf("claim c = %+v", c)
	}
	clock.Advance(2 * time.Minute)
	if c, _ := s.OutboxClaim(ctx, "woocommerce", "", 10, time.Minute); len(c) != 1 || c[0].Attempts != 2 {
		t.Errorf("expired lease reclaim = %+v", c)
	}
}

// testOutboxSupersede: a newer item for a record closes an older one whose
// lease lapsed (its process died), so the old state is never written over
// the new; and an item waits while another item of its record is in flight.
func testOutboxSupersede(t *testing.T, open Factory) {
	ctx := context.Background()
	clock := NewClock()
	s := open(t, store.Options{Now: clock.Now})
	ob := hubspotOutbox{t, s}
	enq := ob.enq
	claim := func() []store.OutboxItem { return ob.claim(store.LaneAny) }
	enq("r", "old")
	if c := claim(); len(c) != 1 || string(c[0].Payload) != "old" {
		t.Fatalf("first claim = %+v", c)
	}
	// The claimer dies; meanwhile a newer state is queued.
	enq("r", "new")
	if c := claim(); len(c) != 0 {
		t.Fatalf("claimed %+v while another item of the record is in flight", c)
	}
	clock.Advance(2 * time.Minute) // the old lease lapses
	c := claim()
	if len(c) != 1 || string(c[0].Payload) != "new" {
		t.Fatalf("after the lapse, claim = %+v; want only the newer item", c)
	}
	// The dead attempt may have written the old state in part: it stays
	// as a prior of the record for the newer write to settle.
	priors, err := s.OutboxPriors(ctx, "hubspot", "", []string{"r", "other"})
	if err != nil {
		t.Fatal(err)
	}
	if len(priors) != 1 || len(priors["r"]) != 1 || string(priors["r"][0].Payload) != "old" || priors["r"][0].Status != store.OutboxSuperseded {
		t.Fatalf("priors = %+v; want the old item, superseded", priors)
	}
	if err := s.OutboxDone(ctx, []int64{c[0].ID, priors["r"][0].ID}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Minute)
	if c := claim(); len(c) != 0 {
		t.Fatalf("the superseded old item came back: %+v", c)
	}
	stats, _ := s.OutboxStats(ctx)
	if stats[store.OutboxDone] != 2 || stats[store.OutboxPending]+stats[store.OutboxLeased]+stats[store.OutboxSuperseded] != 0 {
		t.Errorf("stats = %v; want both items done", stats)
	}
}

// testOutboxSettle: a round's ownership, finished items and deferrals
// are recorded together, or none is.
func testOutboxSettle(t *testing.T, open Factory) {
	ctx := context.Background()
	clock := NewClock()
	s := open(t, store.Options{Now: clock.Now})
	ob := hubspotOutbox{t, s}
	ob.enq("a", "a1")
	ob.enq("b", "b1")
	c := ob.claim(store.LaneAny)
	if len(c) != 2 {
		t.Fatalf("claim = %+v", c)
	}
	ref := domain.ExternalRef{Platform: "hubspot", ObjectType: domain.ObjectContact, ID: "a"}
	until := clock.Now().Add(time.Minute)
	bad := store.Settlement{Owned: []store.Ownership{{Ref: ref, Target: "prop:x", Value: "1"}, {Ref: ref}}, Done: []int64{c[0].ID}, Defer: map[time.Time][]int64{until: {c[1].ID}}}
	if err := s.OutboxSettle(ctx, bad); err == nil {
		t.Fatal("a settlement with an ownership entry without target was accepted")
	}
	if o, _ := s.Ownership(ctx, ref); len(o) != 0 {
		t.Fatalf("a refused settlement recorded ownership %+v", o)
	}
	if stats, _ := s.OutboxStats(ctx); stats[store.OutboxLeased] != 2 {
		t.Fatalf("a refused settlement changed items: %v", stats)
	}
	good := bad
	good.Owned = good.Owned[:1]
	if err := s.OutboxSettle(ctx, good); err != nil {
		t.Fatal(err)
	}
	if o, _ := s.Ownership(ctx, ref); len(o) != 1 || o[0].Value != "1" {
		t.Errorf("ownership = %+v", o)
	}
	if stats, _ := s.OutboxStats(ctx); stats[store.OutboxDone] != 1 || stats[store.OutboxPending] != 1 {
		t.Errorf("stats = %v; want a done and b waiting", stats)
	}
	if got := ob.claim(store.LaneDeferred); len(got) != 0 {
		t.Fatalf("b came due before its time: %+v", got)
	}
	clock.Advance(time.Minute)
	if got := ob.claim(store.LaneDeferred); len(got) != 1 || got[0].Key != "b" || !got[0].Deferred {
		t.Errorf("deferred claim = %+v; want b", got)
	}
}

// testOutboxPriors: a retryable failure keeps a copy of the attempt's
// state as a prior of its record, which survives a newer state replacing
// the retry in place, and the record counts as open until it is settled.
func testOutboxPriors(t *testing.T, open Factory) {
	ctx := context.Background()
	clock := NewClock()
	s := open(t, store.Options{Now: clock.Now})
	ob := hubspotOutbox{t, s}
	ob.enq("r", "s1")
	ob.enq("q", "q1")
	c := ob.claim(store.LaneAny)
	if len(c) != 2 {
		t.Fatalf("claim = %+v", c)
	}
	if err := s.OutboxDone(ctx, []int64{c[1].ID}); err != nil {
		t.Fatal(err)
	}
	if err := s.OutboxFailed(ctx, c[0].ID, "list call failed", false, clock.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	// A retry that fails again with the same state keeps one copy.
	clock.Advance(time.Minute)
	if c = ob.claim(store.LaneAny); len(c) != 1 {
		t.Fatalf("retry claim = %+v", c)
	}
	if err := s.OutboxFailed(ctx, c[0].ID, "list call failed again", false, clock.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	ob.enq("r", "s2") // replaces the retry's payload in place
	open1, err := s.OutboxOpenKeys(ctx, "hubspot", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(open1) != 1 || !open1["r"] {
		t.Errorf("open keys = %v; want r only", open1)
	}
	// The same records with their items in queue order: the retry, now
	// carrying s2 in its original place, then the superseded attempt s1.
	items, err := s.OutboxOpen(ctx, "hubspot", "")
	if err != nil {
		t.Fatal(err)
	}
	if r := items["r"]; len(items) != 1 || len(r) != 2 || r[0].Status != store.OutboxPending || string(r[0].Payload) != "s2" ||
		r[1].Status != store.OutboxSuperseded || string(r[1].Payload) != "s1" {
		t.Errorf("open items = %+v; want r's pending s2, then superseded s1", items)
	}
	clock.Advance(time.Minute)
	c = ob.claim(store.LaneAny)
	if len(c) != 1 || string(c[0].Payload) != "s2" {
		t.Fatalf("claim = %+v; want the retry with the newer state", c)
	}
	priors, err := s.OutboxPriors(ctx, "hubspot", "", []string{"r"})
	if err != nil {
		t.Fatal(err)
	}
	if len(priors["r"]) != 1 || string(priors["r"][0].Payload) != "s1" {
		t.Fatalf("priors = %+v; want the failed attempt's state s1", priors)
	}
	if err := s.OutboxDone(ctx, []int64{c[0].ID, priors["r"][0].ID}); err != nil {
		t.Fatal(err)
	}
	if open2, _ := s.OutboxOpenKeys(ctx, "hubspot", ""); len(open2) != 0 {
		t.Errorf("open keys after settling = %v", open2)
	}
	if items, _ := s.OutboxOpen(ctx, "hubspot", ""); len(items) != 0 {
		t.Errorf("open items after settling = %+v", items)
	}
	if p, _ := s.OutboxPriors(ctx, "hubspot", "", []string{"r"}); len(p) != 0 {
		t.Errorf("priors after settling = %+v", p)
	}
}

// testOutboxDeferLanes: a deferred item leaves the fresh lane, comes due
// in the deferred lane at its time without the claim counting as an
// attempt, turns fresh again when a newer state of its record arrives,
// and is closed instead of deferred when a newer state arrived while it
// was leased.
func testOutboxDeferLanes(t *testing.T, open Factory) {
	ctx := context.Background()
	clock := NewClock()
	s := open(t, store.Options{Now: clock.Now})
	ob := hubspotOutbox{t, s}
	enq, claim := ob.enq, ob.claim
	keys := func(items []store.OutboxItem) []string {
		var out []string
		for _, it := range items {
			out = append(out, it.Key+"="+string(it.Payload))
		}
		return out
	}
	enq("a", "a1")
	enq("b", "b1")
	c := claim(store.LaneFresh)
	if len(c) != 2 || c[0].Deferred || c[0].Attempts != 1 {
		t.Fatalf("fresh claim = %+v", c)
	}
	created := c[0].CreatedAt
	if got := claim(store.LaneDeferred); len(got) != 0 {
		t.Fatalf("deferred lane holds %v before anything was deferred", keys(got))
	}
	// b's record gets a newer state while b1 is leased: deferring b1
	// closes it, since b2 carries everything.
	clock.Advance(time.Second)
	enq("b", "b2")
	if err := s.OutboxDefer(ctx, []int64{c[0].ID, c[1].ID}, clock.Now().Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := claim(store.LaneDeferred); len(got) != 0 {
		t.Fatalf("deferred items came due early: %v", keys(got))
	}
	if got := keys(claim(store.LaneFresh)); !slices.Equal(got, []string{"b=b2"}) {
		t.Fatalf("fresh lane after deferring = %v; want only the newer b2", got)
	}
	clock.Advance(2 * time.Second)
	if got := claim(store.LaneFresh); len(got) != 0 {
		t.Fatalf("a deferred item came back in the fresh lane: %v", keys(got))
	}
	d := claim(store.LaneDeferred)
	if len(d) != 1 || d[0].Key != "a" || !d[0].Deferred || d[0].Attempts != 1 || !d[0].CreatedAt.Equal(created) {
		t.Fatalf("deferred lane = %+v; want a1, deferred, one attempt, created %v", d, created)
	}
	// Deferred again and then superseded while pending: the newer state
	// is fresh, and keeps the record's first enqueue time.
	if err := s.OutboxDefer(ctx, []int64{d[0].ID}, clock.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	enq("a", "a2")
	f := claim(store.LaneAny)
	if got := keys(f); !slices.Equal(got, []string{"a=a2"}) || f[0].Deferred || !f[0].CreatedAt.Equal(created) {
		t.Fatalf("after a newer state, claim = %+v; want a2 fresh, created %v", f, created)
	}
	stats, _ := s.OutboxStats(ctx)
	if stats[store.OutboxDone] != 1 || stats[store.OutboxLeased] != 2 {
		t.Errorf("stats = %v; want b1 closed, a2 and b2 leased", stats)
	}
}

// testOutboxLateFailure: a claimer that outlives its lease and then
// reports a failure (or defers) does not bring back an item that a newer
// state of the record has already closed.
func testOutboxLateFailure(t *testing.T, open Factory) {
	ctx := context.Background()
	clock := NewClock()
	s := open(t, store.Options{Now: clock.Now})
	ob := hubspotOutbox{t, s}
	enq := func(payload string) { ob.enq("r", payload) }
	claim := func() []store.OutboxItem { return ob.claim(store.LaneAny) }
	for _, late := range []string{"failed", "deferred"} {
		enq(late + "-old")
		old := claim()
		enq(late + "-new")
		clock.Advance(2 * time.Minute) // the old claimer is slow, not dead
		fresh := claim()
		if len(fresh) != 1 || string(fresh[0].Payload) != late+"-new" {
			t.Fatalf("%s: claim after the lapse = %+v; want the newer item", late, fresh)
		}
		var err error
		if late == "failed" {
			err = s.OutboxFailed(ctx, old[0].ID, "timeout", false, clock.Now())
		} else {
			err = s.OutboxDefer(ctx, []int64{old[0].ID}, clock.Now())
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := s.OutboxDone(ctx, []int64{fresh[0].ID}); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Hour)
		if c := claim(); len(c) != 0 {
			t.Fatalf("%s: the closed old item came back: %+v", late, c)
		}
	}
}

// hubspotOutbox drives one store's HubSpot outbox for the outbox tests.
type hubspotOutbox struct {
	t *testing.T
	s store.Store
}

// enq queues payload for the record key.
func (o hubspotOutbox) enq(key, payload string) {
	o.t.Helper()
	if err := o.s.OutboxEnqueue(context.Background(), []store.OutboxItem{{Platform: "hubspot", Key: key, Payload: []byte(payload)}}); err != nil {
		o.t.Fatal(err)
	}
}

// claim leases up to 10 due items of a lane for a minute.
func (o hubspotOutbox) claim(lane store.OutboxLane) []store.OutboxItem {
	o.t.Helper()
	c, err := o.s.OutboxClaimLane(context.Background(), "hubspot", "", lane, 10, time.Minute)
	if err != nil {
		o.t.Fatal(err)
	}
	return c
}
