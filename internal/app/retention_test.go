package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// TestPruneKeepsOwnershipAndPlanExact: after a cycle, pruning with the
// configured windows deletes the done write-back items once they are old
// enough, and the connector still knows what it owns: a plan afterwards
// finds nothing to write.
func TestPruneKeepsOwnershipAndPlanExact(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end cycle against fake platforms")
	}
	ctx := context.Background()
	now := time.Now().UTC()
	_, env, _ := startSandbox(t, 60, now)
	if _, err := env.Cycle(ctx, now, nil); err != nil {
		t.Fatal(err)
	}
	before, _ := env.Store.OutboxStats(ctx)
	if before[store.OutboxDone] == 0 {
		t.Fatal("the cycle wrote nothing; the test needs done items")
	}
	if got, err := env.Prune(ctx, time.Now()); err != nil || got.Outbox != 0 {
		t.Fatalf("pruning within the window deleted %+v (%v); want nothing", got, err)
	}
	head, err := env.Store.MembershipHistoryHead(ctx)
	if err != nil || head == 0 {
		t.Fatalf("the cycle recorded no membership history (%v)", err)
	}
	hist, err := env.Store.MembershipHistorySince(ctx, 0, int(head)+1)
	if err != nil {
		t.Fatal(err)
	}
	// With a history window (no outbound webhook to wait for), the
	// history past it goes too; current memberships stay.
	env.Config.Config.Retention.History = 24 * time.Hour
	sizes, _ := env.Store.SegmentSizes(ctx)
	got, err := env.Prune(ctx, time.Now().Add(env.Config.Config.Retention.Outbox+time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got.History != len(hist) {
		t.Fatalf("pruned %d of %d history entries past the window", got.History, len(hist))
	}
	if after, _ := env.Store.SegmentSizes(ctx); len(after) != len(sizes) {
		t.Fatalf("segment sizes after pruning history: %v, before %v", after, sizes)
	}
	if got.Outbox != before[store.OutboxDone] {
		t.Fatalf("pruned %d of %d done items past the window", got.Outbox, before[store.OutboxDone])
	}
	owned := 0
	ps, _ := env.Store.ListProfiles(ctx, "", 60)
	for _, p := range ps {
		for _, r := range p.Refs {
			if r.ObjectType == domain.ObjectContact {
				o, _ := env.Store.Ownership(ctx, r)
				owned += len(o)
			}
		}
	}
	if owned == 0 {
		t.Fatal("no ownership left after pruning")
	}
	plan, err := env.Plan(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, pp := range plan.Platforms {
		if len(pp.Items) > 0 {
			t.Fatalf("after pruning, a plan would write %d items to %s", len(pp.Items), pp.Platform)
		}
	}
}
