package daemon_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/segconn/connector/internal/daemon"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/internal/testenv"
)

// runDaemon runs a daemon with opts on a loopback port until the test
// ends.
func runDaemon(t *testing.T, env *testEnv, opts daemon.Options) *daemon.Daemon {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opts.Listener = ln
	d := env.newDaemon(opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("daemon: %v", err)
		}
	})
	d.Addr()
	return d
}

// jobRows opens the job queue's tables, which live in the store's file.
func jobRows(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestWritebackWaitsForEveryFirstPull: on a first start, segments
// computed while only HubSpot has been pulled are not written back; once
// the other platforms' first pulls finish, write-back runs.
func TestWritebackWaitsForEveryFirstPull(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end daemon against fake platforms")
	}
	ctx := context.Background()
	now := time.Now().UTC()
	_, env, _ := startSandboxEnvAt(t, 60, now)
	if _, err := env.Sync(ctx, sandbox.HubSpot, false); err != nil {
		t.Fatal(err)
	}
	if _, err := env.ResegmentAll(ctx, now); err != nil {
		t.Fatal(err)
	}
	queued, _ := env.Store.OutboxStats(ctx)
	if queued[store.OutboxPending] == 0 {
		t.Fatal("nothing queued for HubSpot; the test needs write-back waiting")
	}
	d := runDaemon(t, env, daemon.Options{NoSchedule: true, DrainInterval: 100 * time.Millisecond})
	// Ten drain intervals: write-back that was not held back would run.
	testenv.Consistently(t, time.Second, "write-back held back before Salesforce and WooCommerce are pulled", func() bool {
		stats, _ := env.Store.OutboxStats(ctx)
		if stats[store.OutboxDone] != 0 || stats[store.OutboxPending] != queued[store.OutboxPending] {
			t.Logf("outbox %v (queued %v)", stats, queued)
			return false
		}
		return true
	})
	if held := d.WritebackHeld(); len(held) != 2 {
		t.Fatalf("WritebackHeld = %v; want salesforce and woocommerce", held)
	}
	for _, p := range []string{sandbox.Salesforce, sandbox.WooCommerce} {
		if _, err := env.Sync(ctx, p, false); err != nil {
			t.Fatal(err)
		}
	}
	testenv.Eventually(t, 20*time.Second, "write-back after every first pull", func() bool {
		st, _ := env.Store.OutboxStats(ctx)
		return st[store.OutboxDone] > 0 && st[store.OutboxPending]+st[store.OutboxLeased] == 0
	})
	if held := d.WritebackHeld(); len(held) != 0 {
		t.Fatalf("WritebackHeld = %v after every first pull", held)
	}
}

// TestOnePullTickMakesOneResegmentation: the pulls of every platform on
// one tick (one of them slow) are followed by one full resegmentation,
// not one per platform.
func TestOnePullTickMakesOneResegmentation(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end daemon against fake platforms")
	}
	ctx := context.Background()
	now := time.Now().UTC()
	sb, env, l := startSandboxEnvAt(t, 60, now)
	l.Config.Schedule.PullInterval = time.Hour
	l.Config.Schedule.ReconcileInterval = 24 * time.Hour
	sb.WooFake.SetLatency(400 * time.Millisecond)
	runDaemon(t, env, daemon.Options{DrainInterval: 100 * time.Millisecond})
	db := jobRows(t, l.Config.Store.Path)
	count := func(kind, state string) int {
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM river_job WHERE kind = ? AND state = ?`, kind, state).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// The pull interval is an hour: once the first tick's jobs have all
	// ended (run, or given way), no job is left to make another
	// resegmentation.
	testenv.Await(t, 2*time.Minute, "the first tick's pulls and resegmentations ended", func() error {
		var left int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM river_job WHERE state NOT IN ('completed', 'cancelled', 'discarded')`).Scan(&left); err != nil {
			return err
		}
		if pulls := count("sync", "completed"); left > 0 || pulls != 3 {
			return fmt.Errorf("%d pulls completed, %d jobs not ended", pulls, left)
		}
		return nil
	})
	// A resegmentation that gave way to a later one is cancelled, not run.
	if n := count("resegment", "completed"); n != 1 {
		t.Fatalf("one tick of 3 pulls made %d resegmentations; want 1", n)
	}
}

// TestPullsOfOnePlatformNeverOverlap: a pull asked for while the
// platform's previous pull still runs starts only after it has finished.
func TestPullsOfOnePlatformNeverOverlap(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end daemon against fake platforms")
	}
	ctx := context.Background()
	now := time.Now().UTC()
	sb, env, l := startSandboxEnvAt(t, 60, now)
	sb.WooFake.SetLatency(300 * time.Millisecond)
	d := runDaemon(t, env, daemon.Options{NoSchedule: true})
	for range 2 {
		if err := d.EnqueueSync(ctx, sandbox.WooCommerce, true); err != nil {
			t.Fatal(err)
		}
	}
	db := jobRows(t, l.Config.Store.Path)
	type run struct{ start, end int64 }
	var runs []run
	testenv.Eventually(t, 60*time.Second, "the two pulls", func() bool {
		rows, err := db.QueryContext(ctx, `SELECT attempted_at, finalized_at FROM river_job WHERE kind = 'sync' AND state = 'completed' ORDER BY finalized_at`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		runs = runs[:0]
		for rows.Next() {
			var a, f time.Time
			if err := rows.Scan(&a, &f); err != nil {
				t.Fatal(err)
			}
			runs = append(runs, run{a.UnixMilli(), f.UnixMilli()})
		}
		return len(runs) == 2
	})
	if runs[1].start < runs[0].end {
		t.Fatalf("the second pull started %d ms before the first finished", runs[0].end-runs[1].start)
	}
}
