package app_test

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/internal/pipeline"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/adapter"
)

// leaseSkip is longer than every outbox lease.
const leaseSkip = 5 * time.Minute

// TestLapsedLeaseIsSupersededByNewerItem: a daemon died while pushing a
// record's write-back (its outbox item stays leased); a newer write-back
// for the same record is queued; once the lease lapses, the next drain
// writes the newer state and closes both items, and never pushes the
// older state over the newer.
func TestLapsedLeaseIsSupersededByNewerItem(t *testing.T) {
	if testing.Short() {
		t.Skip("drains against a fake platform")
	}
	ctx := context.Background()
	f := newLeaseFixture(t)
	f.queue("Older State")
	f.dieHoldingLease()
	f.queue("Newer State")
	f.offset.Store(int64(leaseSkip)) // the lease lapses
	sizes := len(f.sb.WooFake.BatchSizes())
	st, err := f.env.Pipeline.Drain(ctx, sandbox.WooCommerce)
	if err != nil {
		t.Fatal(err)
	}
	f.checkClosed()
	f.checkValue("Newer State")
	if bs := f.sb.WooFake.BatchSizes()[sizes:]; len(bs) != 1 || bs[0] != 1 || st.OK != 1 {
		t.Errorf("drain pushed batches %v (%d ok); want one batch holding the record once", bs, st.OK)
	}
}

// TestLapsedLeaseAfterNewerItemWasQueued: as above, but a drain runs
// while the dead daemon's lease still holds (as a surviving replica or a
// quickly restarted daemon does). The newer item waits while the record
// has a write in flight; once the lease lapses, the older item is closed
// and the newer state written, never the older over the newer.
func TestLapsedLeaseAfterNewerItemWasQueued(t *testing.T) {
	if testing.Short() {
		t.Skip("drains against a fake platform")
	}
	ctx := context.Background()
	f := newLeaseFixture(t)
	before := f.value()
	f.queue("Older State")
	f.dieHoldingLease()
	f.queue("Newer State")
	if _, err := f.env.Pipeline.Drain(ctx, sandbox.WooCommerce); err != nil {
		t.Fatal(err)
	}
	f.checkValue(before)             // nothing written while the older write may be in flight
	f.offset.Store(int64(leaseSkip)) // the lease lapses
	if _, err := f.env.Pipeline.Drain(ctx, sandbox.WooCommerce); err != nil {
		t.Fatal(err)
	}
	f.checkClosed()
	f.checkValue("Newer State")
}

// leaseFixture is a synced sandbox and an App whose store clock the test
// moves, with one WooCommerce record to queue write-backs for.
type leaseFixture struct {
	t      *testing.T
	sb     *sandbox.Sandbox
	env    *app.App
	offset *atomic.Int64
	pp     pipeline.PlatformPlan
	item   adapter.PushItem
}

func newLeaseFixture(t *testing.T) *leaseFixture {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	sb, err := sandbox.Start(ctx, sandbox.Options{Seed: 3, Customers: 60, AsOf: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	l := sb.ConnectorConfig(t.TempDir())
	if err := apptest.PrepareSandbox(sb, l); err != nil {
		t.Fatal(err)
	}
	f := &leaseFixture{t: t, sb: sb, offset: new(atomic.Int64)}
	f.env, err = app.Open(ctx, l, slog.New(slog.DiscardHandler), apptest.Factories(), app.Options{StoreNow: func() time.Time { return time.Now().Add(time.Duration(f.offset.Load())) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.env.Close(ctx) })
	rep, err := f.env.Cycle(ctx, now, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range rep.Plan().Platforms {
		if p.Platform == sandbox.WooCommerce {
			f.pp = p
		}
	}
	for _, it := range f.pp.Items {
		if _, ok := it.Properties["prop:rfm_segment"]; ok {
			f.item = it
			break
		}
	}
	if f.item.ID == "" {
		t.Fatal("no WooCommerce write-back with an rfm_segment value in the first cycle")
	}
	return f
}

// queue queues a write-back of the record with this rfm_segment value.
func (f *leaseFixture) queue(value string) {
	f.t.Helper()
	it := f.item
	it.Add, it.Remove = nil, nil
	it.Properties = map[string]string{"prop:rfm_segment": value}
	if err := f.env.Pipeline.Apply(context.Background(), &pipeline.Plan{Platforms: []pipeline.PlatformPlan{{Platform: sandbox.WooCommerce, Targets: f.pp.Targets, Items: []adapter.PushItem{it}}}}); err != nil {
		f.t.Fatal(err)
	}
}

// dieHoldingLease claims the queued item as a daemon would that then dies
// before marking it done.
func (f *leaseFixture) dieHoldingLease() {
	f.t.Helper()
	pl, err := f.env.Pipeline.Platform(sandbox.WooCommerce)
	if err != nil {
		f.t.Fatal(err)
	}
	if claimed, err := f.env.Store.OutboxClaim(context.Background(), sandbox.WooCommerce, pl.Account, 1000, time.Minute); err != nil || len(claimed) != 1 {
		f.t.Fatalf("claiming the older item: %d claimed, %v", len(claimed), err)
	}
}

func (f *leaseFixture) checkClosed() {
	f.t.Helper()
	stats, err := f.env.Store.OutboxStats(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	if stats[store.OutboxLeased]+stats[store.OutboxPending] != 0 {
		f.t.Errorf("after the drain: %d leased and %d pending items; both should be closed", stats[store.OutboxLeased], stats[store.OutboxPending])
	}
}

// value is the record's rfm_segment value on the platform.
func (f *leaseFixture) value() string {
	id, _ := strconv.Atoi(f.item.Ref.ID)
	key := f.env.Pipeline.TargetIDs(sandbox.WooCommerce)["prop:rfm_segment"]
	return fmt.Sprint(f.sb.WooFake.CustomerMeta(id)[key])
}

func (f *leaseFixture) checkValue(want string) {
	f.t.Helper()
	if got := f.value(); got != want {
		f.t.Errorf("customer %s rfm_segment = %q, want %q", f.item.Ref.ID, got, want)
	}
}
