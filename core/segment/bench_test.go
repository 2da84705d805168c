package segment

import (
	"context"
	"sync"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user+system CPU time so far. Benchmarks report
// it per operation next to wall time: on a shared machine wall time grows
// with other people's load, CPU time much less.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loop runs fn b.N times reporting CPU seconds per operation.
func loop(b *testing.B, fn func()) {
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime(b)
	n := 0
	for b.Loop() {
		fn()
		n++
	}
	b.ReportMetric((cpuTime(b)-start).Seconds()/float64(n), "cpu-s/op")
}

var benchAsOf = time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)

// allKinds is one definition of every kind, as the YAML decoder gives it.
func allKinds(predictiveSample int) []any {
	return []any{
		map[string]any{"name": "rfm", "kind": "rfm", "holdout_percent": 10,
			"writeback": map[string]any{"hubspot": map[string]any{"property": "rfm_segment", "list": true}}},
		map[string]any{"name": "value", "kind": "value"},
		map[string]any{"name": "behavior", "kind": "behavioral"},
		map[string]any{"name": "stage", "kind": "lifecycle"},
		map[string]any{"name": "clv", "kind": "predictive", "params": map[string]any{"fit_sample": predictiveSample}},
		map[string]any{"name": "clusters", "kind": "cluster"},
		map[string]any{"name": "de-mobile", "kind": "rule", "params": map[string]any{"expr": `country == "DE" and device == "mobile" and monetary > 100`}},
	}
}

func mustEngine(tb testing.TB, raw []any, opts Options) *Engine {
	tb.Helper()
	defs, err := ParseDefinitions(raw)
	if err != nil {
		tb.Fatalf("parsing definitions: %v", err)
	}
	e, err := NewEngine(defs, opts)
	if err != nil {
		tb.Fatalf("new engine: %v", err)
	}
	return e
}

type benchData struct {
	once sync.Once
	ds   *Dataset
}

var big benchData // benchmark fixture, built once per test binary

func bigDataset() *Dataset {
	big.once.Do(func() {
		big.ds = Generate(GenConfig{Customers: 1_000_000, OrdersPerCustomer: 10, Seed: 42, AsOf: benchAsOf})
	})
	return big.ds
}

// BenchmarkRecompute1M is a full run of every kind over 1,000,000
// customers and about 10,000,000 orders.
func BenchmarkRecompute1M(b *testing.B) {
	ds := bigDataset()
	orders := 0
	for i := range ds.Customers {
		orders += len(ds.Customers[i].Orders)
	}
	b.Logf("%d customers, %d orders", len(ds.Customers), orders)
	e := mustEngine(b, allKinds(20_000), Options{})
	loop(b, func() {
		if _, err := e.Run(context.Background(), ds, benchAsOf); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkRecomputeRFM1M is the RFM-only run the sqlite script compares with.
func BenchmarkRecomputeRFM1M(b *testing.B) {
	ds := bigDataset()
	e := mustEngine(b, []any{map[string]any{"name": "rfm", "kind": "rfm"}}, Options{})
	loop(b, func() {
		if _, err := e.Run(context.Background(), ds, benchAsOf); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkRescoreOne rescores one customer against a cached 100,000
// customer run with every kind.
func BenchmarkRescoreOne(b *testing.B) {
	ds := Generate(GenConfig{Customers: 100_000, OrdersPerCustomer: 10, Seed: 7, AsOf: benchAsOf})
	e := mustEngine(b, allKinds(0), Options{})
	r, err := e.Run(context.Background(), ds, benchAsOf)
	if err != nil {
		b.Fatal(err)
	}
	c := ds.Customers[12345]
	c.Orders = append(c.Orders[:len(c.Orders):len(c.Orders)], OrderFact{Day: DayOf(benchAsOf), Amount: 4999, Items: 2, Year: 2026, Month: 6, Device: 2, Channel: 1})
	at := benchAsOf.Add(time.Hour)
	loop(b, func() {
		if _, err := r.Rescore(&c, at); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkRecompute1MReusingModels is the scheduled full run between
// model refits: every kind, with the purchase and spend models reused.
func BenchmarkRecompute1MReusingModels(b *testing.B) {
	ds := bigDataset()
	e := mustEngine(b, allKinds(20_000), Options{})
	prev, err := e.Run(context.Background(), ds, benchAsOf)
	if err != nil {
		b.Fatal(err)
	}
	loop(b, func() {
		if _, err := e.RunReusing(context.Background(), ds, benchAsOf.Add(time.Hour), prev); err != nil {
			b.Fatal(err)
		}
	})
}
