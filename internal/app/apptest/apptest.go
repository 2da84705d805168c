// Package apptest starts the connector against the sandbox's fake
// platforms and checks, independently of the write-back code, that every
// platform holds exactly what the computed segments say. The tests of
// internal/app and internal/daemon share it.
package apptest

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/segconn/connector/connectors"
	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/config"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/internal/testenv"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// Factories are the built-in adapters as app.Open takes them.
func Factories() map[string]app.Factory {
	out := map[string]app.Factory{}
	for n, f := range connectors.Builtin() {
		out[n] = app.Factory(f)
	}
	return out
}

// PrepareSandbox creates the Salesforce fields the configured segments
// write to.
func PrepareSandbox(sb *sandbox.Sandbox, l *config.Loaded) error {
	defs, err := app.SegmentDefinitions(l)
	if err != nil {
		return err
	}
	sb.PrepareWriteback(defs)
	return nil
}

// StartSandbox starts a sandbox of customers generated as of at, and an
// App pointed at it, both closed when the test ends.
func StartSandbox(t testing.TB, customers int, at time.Time, opts app.Options) (*sandbox.Sandbox, *app.App, *config.Loaded) {
	t.Helper()
	return StartSandboxWith(t, sandbox.Options{Customers: customers, AsOf: at}, opts)
}

// StartSandboxWith is StartSandbox with the sandbox's options (its seed
// is 11 unless given), for a test that gives the fakes a clock.
func StartSandboxWith(t testing.TB, so sandbox.Options, opts app.Options) (*sandbox.Sandbox, *app.App, *config.Loaded) {
	t.Helper()
	ctx := context.Background()
	if so.Seed == 0 {
		so.Seed = 11
	}
	sb, err := sandbox.Start(ctx, so)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	l := sb.ConnectorConfig(t.TempDir())
	if err := PrepareSandbox(sb, l); err != nil {
		t.Fatal(err)
	}
	a, err := app.Open(ctx, l, slog.New(slog.DiscardHandler), Factories(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(context.Background()) })
	return sb, a, l
}

// WaitStoreQuiet waits until a store's inbox and outbox have stayed empty
// for a second (a busy machine can pause a worker between two steps
// for longer than a few hundred milliseconds).
func WaitStoreQuiet(t testing.TB, st store.Store, timeout time.Duration) {
	t.Helper()
	ctx := context.Background()
	testenv.Settle(t, timeout, time.Second, "the store's inbox and outbox empty", func() bool {
		pending, err1 := st.InboxPending(ctx, 10)
		stats, err2 := st.OutboxStats(ctx)
		return err1 == nil && err2 == nil && len(pending) == 0 && stats[store.OutboxPending]+stats[store.OutboxLeased] == 0
	})
}

// AwaitStoreDrained waits until a store's inbox has no unprocessed event
// and its outbox no item waiting or being written, for a caller that has
// stored all the work it will give (webhooks delivered and acknowledged,
// a Cycle returned, no schedule running). Then the first look at empty
// queues is final: marking events processed queues their write-back in
// the same transaction, and settling a pushed item defers its membership
// changes in the same transaction, so no step leaves both empty with work
// still to come.
func AwaitStoreDrained(t testing.TB, st store.Store, within time.Duration) {
	t.Helper()
	ctx := context.Background()
	testenv.Await(t, within, "the store's inbox and outbox drained", func() error {
		pending, err := st.InboxPending(ctx, 10)
		if err != nil {
			return err
		}
		stats, err := st.OutboxStats(ctx)
		if err != nil {
			return err
		}
		if n := stats[store.OutboxPending] + stats[store.OutboxLeased]; len(pending) > 0 || n > 0 {
			return fmt.Errorf("%d+ webhook events unprocessed, %d write-back items waiting or being written", len(pending), n)
		}
		return nil
	})
}

// NotYetChampion finds a profile on both WooCommerce and HubSpot that is
// not in rfm:champions and returns its WooCommerce customer id, HubSpot
// contact id and profile id.
func NotYetChampion(t testing.TB, a *app.App) (wooID int, hsID, profileID string) {
	t.Helper()
	ctx := context.Background()
	after := ""
	for {
		ps, err := a.Store.ListProfiles(ctx, after, 200)
		if err != nil || len(ps) == 0 {
			t.Fatalf("no profile on both WooCommerce and HubSpot (%v)", err)
		}
		after = ps[len(ps)-1].ID
		for _, p := range ps {
			var w, h string
			for _, r := range p.Refs {
				if r.Platform == sandbox.WooCommerce && r.ObjectType == domain.ObjectContact {
					w = r.ID
				}
				if r.Platform == sandbox.HubSpot && r.ObjectType == domain.ObjectContact {
					h = r.ID
				}
			}
			ms, _ := a.Store.Memberships(ctx, p.ID)
			champion := false
			for _, m := range ms {
				champion = champion || m.Segment == "rfm:champions"
			}
			// Someone who opted out of marketing email is in no list.
			optedOut := p.Consent.Email == domain.ConsentDenied || p.Consent.Email == domain.ConsentRevoked
			if w != "" && h != "" && !champion && !optedOut {
				id, _ := strconv.Atoi(w)
				return id, h, p.ID
			}
		}
	}
}
