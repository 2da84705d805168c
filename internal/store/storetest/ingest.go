package storetest

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// IngestCustomers is how many people the ingest benchmark's business has;
// its WooCommerce shop holds about 60% of them as contacts, and 13,444
// orders with 39,896 line items.
const IngestCustomers = 6000

// IngestPage is one page of a full sync: the changes of one object type.
type IngestPage struct {
	Object  string
	Changes []adapter.Change
}

// IngestPages generates the ingest benchmark's pages: the sandbox
// generator's WooCommerce contacts, then their orders with line items, in
// pages of BenchPageSize, as a full sync of the shop delivers them.
func IngestPages(tb testing.TB) (pages []IngestPage, records int) {
	tb.Helper()
	ds, err := sandbox.Generate(sandbox.GenOptions{Seed: 16, Customers: IngestCustomers, AsOf: t0})
	if err != nil {
		tb.Fatal(err)
	}
	recs := ds.Platform(sandbox.WooCommerce)
	var contacts, orders []adapter.Change
	for i := range recs.Contacts {
		c := recs.Contacts[i]
		contacts = append(contacts, adapter.Change{Kind: adapter.ChangeUpsert, Ref: c.Ref, Contact: &c})
	}
	for i := range recs.Orders {
		o := recs.Orders[i]
		orders = append(orders, adapter.Change{Kind: adapter.ChangeUpsert, Ref: o.Ref, Order: &o})
	}
	for _, part := range []struct {
		object string
		chs    []adapter.Change
	}{{domain.ObjectContact, contacts}, {domain.ObjectOrder, orders}} {
		for start := 0; start < len(part.chs); start += BenchPageSize {
			pages = append(pages, IngestPage{Object: part.object, Changes: part.chs[start:min(start+BenchPageSize, len(part.chs))]})
		}
	}
	return pages, len(contacts) + len(orders)
}

// Baseline writes the ingest benchmark's pages the cheapest way the
// database allows, as the yardstick for ApplyPage: equivalent rows
// (one per contact, per order and per line item), no identity
// resolution. Setup runs untimed before each fill, on the fresh store's
// database, and prepares empty tables; Fill writes every page.
type Baseline struct {
	Name  string
	Setup func(ctx context.Context, tb testing.TB, db store.Database)
	Fill  func(ctx context.Context, tb testing.TB, db store.Database, pages []IngestPage)
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkIngest fills a fresh store with IngestPages through ApplyPage
// and, in the same iteration, fills fresh tables through the baseline.
// It reports each one's records per CPU-second of this process and per
// wall second, and the ratios of ApplyPage to the baseline (the issue's
// target: at least 0.5). On PostgreSQL the server's CPU is not this
// process's, so the wall ratio is the one to quote there.
func BenchmarkIngest(b *testing.B, open Factory, base Baseline) {
	ctx := context.Background()
	pages, records := IngestPages(b)
	var applyCPU, baseCPU, applyWall, baseWall time.Duration
	fills := 0
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		s := open(b, store.Options{})
		db := s.Database()
		base.Setup(ctx, b, db)
		b.StartTimer()

		w0, c0 := time.Now(), cpuTime(b)
		for i, p := range pages {
			if _, err := s.ApplyPage(ctx, sandbox.WooCommerce, "", p.Object, p.Changes, nil, fmt.Sprint(i)); err != nil {
				b.Fatal(err)
			}
		}
		w1, c1 := time.Now(), cpuTime(b)
		base.Fill(ctx, b, db, pages)
		w2, c2 := time.Now(), cpuTime(b)

		applyWall += w1.Sub(w0)
		applyCPU += c1 - c0
		baseWall += w2.Sub(w1)
		baseCPU += c2 - c1
		fills++
	}
	n := float64(records * fills)
	b.ReportMetric(n/applyCPU.Seconds(), "apply_rec/cpu-s")
	b.ReportMetric(n/baseCPU.Seconds(), base.Name+"_rec/cpu-s")
	b.ReportMetric(baseCPU.Seconds()/applyCPU.Seconds(), "ratio_cpu")
	b.ReportMetric(n/applyWall.Seconds(), "apply_rec/s")
	b.ReportMetric(n/baseWall.Seconds(), base.Name+"_rec/s")
	b.ReportMetric(baseWall.Seconds()/applyWall.Seconds(), "ratio_wall")
}
