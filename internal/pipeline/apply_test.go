package pipeline_test

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/segconn/connector/internal/pipeline"
	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/internal/store/postgres"
	"github.com/segconn/connector/internal/store/sqlite"
	"github.com/segconn/connector/internal/testenv"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// applyStores opens, per backend, a fresh store: a SQLite file, or an
// isolated PostgreSQL schema dropped when the test ends.
func applyStores() map[string]func(t testing.TB) store.Store {
	return map[string]func(t testing.TB) store.Store{
		"sqlite": func(t testing.TB) store.Store {
			s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), sqlite.FileName), store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
		"postgres": func(t testing.TB) store.Store {
			dsn := testenv.PostgresDSN(t)
			schema := testenv.PostgresSchema(t, dsn, "apply_test")
			s, err := postgres.Open(context.Background(), dsn, postgres.Options{Schema: schema})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
	}
}

// wideTargets are write-back targets shaped like a real configuration's:
// enumeration properties whose options name every segment, and lists.
func wideTargets() []adapter.Target {
	var out []adapter.Target
	for i := range 8 {
		t := adapter.Target{Key: fmt.Sprintf("prop:score_%d", i), Kind: adapter.TargetProperty, Name: fmt.Sprintf("Segment score %d", i)}
		for j := range 10 {
			t.Options = append(t.Options, fmt.Sprintf("rfm:segment-label-%d-%d", i, j))
		}
		out = append(out, t)
	}
	for i := range 4 {
		out = append(out, adapter.Target{Key: fmt.Sprintf("list:segment_%d", i), Kind: adapter.TargetList, Name: fmt.Sprintf("Segment list %d", i)})
	}
	return out
}

// widePlan is a plan queueing write-back for n records, each setting
// every property and joining every list, keyed under prefix.
func widePlan(n int, prefix string) *pipeline.Plan {
	targets := wideTargets()
	items := make([]adapter.PushItem, n)
	for i := range items {
		ref := domain.ExternalRef{Platform: platform, ObjectType: domain.ObjectContact, ID: fmt.Sprintf("%s%08d", prefix, i)}
		it := adapter.PushItem{ID: ref.Key(), Ref: ref, Properties: map[string]string{}}
		for _, t := range targets {
			if t.Kind == adapter.TargetList {
				it.Add = append(it.Add, t.Key)
			} else {
				it.Properties[t.Key] = t.Options[i%len(t.Options)]
			}
		}
		items[i] = it
	}
	return &pipeline.Plan{Platforms: []pipeline.PlatformPlan{{Platform: platform, Targets: targets, Items: items}}}
}

func applyPipeline(st store.Store) *pipeline.Pipeline {
	return pipeline.New(pipeline.Options{Store: st, Platforms: []*pipeline.Platform{{
		Name: platform, Adapter: &recorder{},
		Desc: adapter.Descriptor{Name: platform, Capabilities: adapter.Capabilities{MaxPushBatch: 100}},
	}}})
}

// heapHeld runs fn with the collector running often (GOGC=10) and
// returns how far the live heap rose above what was live before it,
// counting what stayed live across two consecutive collections, and how
// many collections ran. (Objects allocated while a collection marks
// count as live in that cycle even when they are garbage at once: on a
// busy machine one slow cycle can take in tens of megabytes of a
// driver's short-lived buffers. Memory a caller holds survives the next
// cycle too.)
func heapHeld(fn func() error) (held uint64, cycles int, err error) {
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	sample := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}, {Name: "/gc/heap/live:bytes"}}
	runtime.GC()
	metrics.Read(sample)
	first, base := sample[0].Value.Uint64(), sample[1].Value.Uint64()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(200 * time.Microsecond)
		defer tick.Stop()
		seen, prev := first, base
		for {
			metrics.Read(sample)
			if c, live := sample[0].Value.Uint64(), sample[1].Value.Uint64(); c != seen {
				if both := min(prev, live); both > base {
					held = max(held, both-base)
				}
				seen, prev = c, live
				cycles++
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	})
	err = fn()
	close(stop)
	wg.Wait()
	return held, cycles, err
}

// TestApplyMemoryIsBoundedByABatch: applying a plan holds a batch of its
// encoded write-back at a time, not the whole plan's. The plan's outbox
// encodes to about 3.2 KB a record, 63 MB for 20,000 records; applying
// it may hold a few batches' worth, not that. (Apply once encoded the
// whole outbox before the transaction: at 40,000 records it held 152 MB
// on SQLite and 167 MB on PostgreSQL.)
func TestApplyMemoryIsBoundedByABatch(t *testing.T) {
	n := 20_000
	if testing.Short() {
		n = 10_000
	}
	for name, open := range applyStores() {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := open(t)
			p := applyPipeline(st)
			plan := widePlan(n, "r")
			held, cycles, err := heapHeld(func() error { return p.Apply(ctx, plan) })
			if err != nil {
				t.Fatal(err)
			}
			stats, err := st.OutboxStats(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if stats[store.OutboxPending] != n {
				t.Fatalf("outbox %v after applying; want %d pending", stats, n)
			}
			var encoded int64
			if err := st.Database().SQL.QueryRowContext(ctx, `SELECT SUM(OCTET_LENGTH(payload)) FROM outbox`).Scan(&encoded); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: applying %d records (%.1f MB of encoded write-back) held %.1f MB more heap (%d collections)",
				name, n, float64(encoded)/(1<<20), float64(held)/(1<<20), cycles)
			if cycles < 3 {
				t.Fatalf("only %d collections ran while applying; the measure needs several", cycles)
			}
			const limit = 16 << 20
			if held > limit {
				t.Errorf("applying %d records held %.1f MB more heap; want at most %d MB (a batch's worth, not the plan's)",
					n, float64(held)/(1<<20), limit>>20)
			}
		})
	}
}

// BenchmarkApply queues a plan of 20,000 records per op and reports the
// cost per record: this process's CPU time (user and system, SQLite's
// included) and wall time.
func BenchmarkApply(b *testing.B) {
	const n = 20_000
	for name, open := range applyStores() {
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			p := applyPipeline(open(b))
			b.ReportAllocs()
			var cpu time.Duration
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				plan := widePlan(n, fmt.Sprintf("b%d-", i))
				runtime.GC()
				before := cpuTime(b)
				b.StartTimer()
				if err := p.Apply(ctx, plan); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				cpu += cpuTime(b) - before
				b.StartTimer()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*n), "cpu-ns/record")
		})
	}
}

// cpuTime is the user and system CPU time this process has used.
func cpuTime(t testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
