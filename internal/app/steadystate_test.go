package app_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/internal/pipeline"
	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// queuedPerPlatform counts the outbox items a plan queues on each platform.
func queuedPerPlatform(plan *pipeline.Plan) map[string]int {
	out := map[string]int{}
	for _, pp := range plan.Platforms {
		out[pp.Platform] = pp.Queued()
	}
	return out
}

// TestSteadyStatePlanQueuesOnlyChangedRecords: once a cycle has written
// everything back, a plan at the same as-of queues nothing, and after k
// people change, a plan queues write-back for exactly the records of the
// people whose desired write-back state changed: one item per record they
// have on each platform, nothing for anyone else. It is the same whether
// or not the previous write-back has been drained yet.
func TestSteadyStatePlanQueuesOnlyChangedRecords(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end cycle against fake platforms")
	}
	ctx := context.Background()
	now := time.Now().UTC()
	sb, env, _ := startSandbox(t, 300, now)
	if _, err := env.Cycle(ctx, now, nil); err != nil {
		t.Fatal(err)
	}
	idle, err := env.Pipeline.Plan(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	for p, n := range queuedPerPlatform(idle) {
		if n != 0 {
			t.Errorf("%s: a plan with nothing changed queues %d write-back items, want 0", p, n)
		}
	}
	// k buyers place a large order.
	ids := sb.WooFake.CustomerIDs()
	const k = 12
	for i := 0; i < k; i++ {
		c, _ := sb.WooFake.Customer(ids[(i*17)%len(ids)])
		sb.NewWooOrder(c.ID, c.Email, []domain.LineItem{{SKU: "P", Name: "p", Category: "garden", Quantity: 5,
			UnitPrice: domain.Money{Amount: 2000_00, Currency: "USD"}}}, "desktop")
	}
	for _, p := range env.Pipeline.Platforms() {
		if _, err := env.Pipeline.Sync(ctx, p, false); err != nil {
			t.Fatal(err)
		}
	}
	plan, err := env.Pipeline.Plan(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	changed := map[string]bool{}
	for _, m := range plan.Memberships {
		changed[m.ProfileID] = true
	}
	// Scores are relative, so the orders also move a few others.
	if len(changed) == 0 {
		t.Fatalf("nobody changed memberships after %d new orders", k)
	}
	for _, pp := range plan.Platforms {
		// The records of changed people on this platform, and which
		// of them the plan writes to.
		want := map[string]bool{}
		for id := range changed {
			prof, err := env.Store.Profile(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range prof.Refs {
				if r.Platform == pp.Platform && r.ObjectType != "order" && r.ObjectType != "deal" && r.ObjectType != "opportunity" && r.ObjectType != "company" && r.ObjectType != "account" {
					want[r.Key()] = true
				}
			}
		}
		if n := pp.Queued(); n > len(want) {
			t.Errorf("%s: %d write-back items queued for %d changed people with %d records there", pp.Platform, n, len(changed), len(want))
		}
		for _, it := range pp.Items {
			if !want[it.ID] {
				t.Errorf("%s: write-back queued for %s, which belongs to nobody who changed", pp.Platform, it.ID)
			}
		}
	}
	// Recorded but not yet written: planning again queues nothing new.
	if err := env.Apply(ctx, plan); err != nil {
		t.Fatal(err)
	}
	again, err := env.Pipeline.Plan(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	for p, n := range queuedPerPlatform(again) {
		if n != 0 {
			t.Errorf("%s: planning again before the write-back drained queues %d items, want 0 (the queued ones already hold this state)", p, n)
		}
	}
}

// countingStore counts the profiles read one at a time.
type countingStore struct {
	store.Store
	single atomic.Int64
}

func (c *countingStore) Profile(ctx context.Context, id string) (domain.Profile, error) {
	c.single.Add(1)
	return c.Store.Profile(ctx, id)
}

func (c *countingStore) Memberships(ctx context.Context, id string) ([]domain.Membership, error) {
	c.single.Add(1)
	return c.Store.Memberships(ctx, id)
}

// TestFullPlanReadsNoProfileOnItsOwn: a full plan finds every profile's
// platform records in the scan that loads the profiles, with no query
// per profile, and plans the same as before.
func TestFullPlanReadsNoProfileOnItsOwn(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end cycle against fake platforms")
	}
	ctx := context.Background()
	now := time.Now().UTC()
	_, env, _ := startSandbox(t, 150, now)
	if _, err := env.Cycle(ctx, now, nil); err != nil {
		t.Fatal(err)
	}
	var platforms []*pipeline.Platform
	for _, name := range env.Pipeline.Platforms() {
		pl, err := env.Pipeline.Platform(name)
		if err != nil {
			t.Fatal(err)
		}
		platforms = append(platforms, pl)
	}
	cs := &countingStore{Store: env.Store}
	p := pipeline.New(pipeline.Options{Store: cs, Engine: env.Engine, Platforms: platforms, Currency: "USD"})
	later := now.Add(30 * 24 * time.Hour) // far enough for some write-back
	plan, err := p.Plan(ctx, later)
	if err != nil {
		t.Fatal(err)
	}
	if n := cs.single.Load(); n != 0 {
		t.Errorf("a full plan of %d profiles read %d of them one by one", plan.Profiles, n)
	}
	ref, err := env.Pipeline.Plan(ctx, later)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Fingerprint != ref.Fingerprint || queuedPerPlatform(plan)[platforms[0].Name] == 0 {
		t.Errorf("plan %s with %v queued; the application's plan is %s with %v", plan.Fingerprint, queuedPerPlatform(plan), ref.Fingerprint, queuedPerPlatform(ref))
	}
}

// changedRecords names the records (type/id) whose expected platform
// state differs between two snapshots: a property value or a list
// membership.
func changedRecords(before, after apptest.Expected) map[string]bool {
	out := map[string]bool{}
	for rk, props := range after.Props {
		old, ok := before.Props[rk]
		if !ok {
			out[rk] = true
			continue
		}
		for k, v := range props {
			if old[k] != v {
				out[rk] = true
			}
		}
	}
	for list, members := range after.Lists {
		for rk := range members {
			if !before.Lists[list][rk] {
				out[rk] = true
			}
		}
	}
	for list, members := range before.Lists {
		for rk := range members {
			if !after.Lists[list][rk] {
				out[rk] = true
			}
		}
	}
	return out
}

// TestSteadyStatePlanQueuesExactlyTheChangedRecords: after k people
// change, the plan queues exactly one write-back item for each record
// whose wanted state (a written property or a list membership) changed,
// computed independently from the stored memberships, on every platform:
// no fewer, no more.
func TestSteadyStatePlanQueuesExactlyTheChangedRecords(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end cycle against fake platforms")
	}
	ctx := context.Background()
	now := time.Now().UTC()
	sb, env, _ := startSandbox(t, 150, now)
	if _, err := env.Cycle(ctx, now, nil); err != nil {
		t.Fatal(err)
	}
	before := map[string]apptest.Expected{}
	for _, p := range env.Pipeline.Platforms() {
		before[p] = apptest.ComputeExpected(t, env, p)
	}
	ids := sb.WooFake.CustomerIDs()
	const k = 12
	for i := 0; i < k; i++ {
		c, _ := sb.WooFake.Customer(ids[(i*17)%len(ids)])
		sb.NewWooOrder(c.ID, c.Email, []domain.LineItem{{SKU: "P", Name: "p", Category: "garden", Quantity: 5,
			UnitPrice: domain.Money{Amount: 2000_00, Currency: "USD"}}}, "desktop")
	}
	for _, p := range env.Pipeline.Platforms() {
		if _, err := env.Pipeline.Sync(ctx, p, false); err != nil {
			t.Fatal(err)
		}
	}
	plan, err := env.Pipeline.Plan(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Apply(ctx, plan); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, pp := range plan.Platforms {
		want := changedRecords(before[pp.Platform], apptest.ComputeExpected(t, env, pp.Platform))
		got := map[string]bool{}
		for _, it := range pp.Items {
			// Item ids are platform/account/type/id; the expected
			// state is keyed type/id.
			parts := strings.SplitN(it.ID, "/", 3)
			if len(parts) != 3 {
				t.Fatalf("%s: item id %q is not platform/account/type/id", pp.Platform, it.ID)
			}
			if got[parts[2]] {
				t.Errorf("%s: %s queued twice", pp.Platform, parts[2])
			}
			got[parts[2]] = true
		}
		for rk := range want {
			if !got[rk] {
				t.Errorf("%s: %s changed its wanted state but no write-back was queued", pp.Platform, rk)
			}
		}
		for rk := range got {
			if !want[rk] {
				t.Errorf("%s: write-back queued for %s, whose wanted state did not change", pp.Platform, rk)
			}
		}
		t.Logf("%s: %d records changed, %d items queued", pp.Platform, len(want), len(got))
		total += len(want)
	}
	if total == 0 {
		t.Fatalf("%d new orders changed no platform record", k)
	}
}
