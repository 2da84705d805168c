package pipeline_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/segconn/connector/core/segment"
	"github.com/segconn/connector/internal/pipeline"
	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/internal/store/sqlite"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// resegmentAsOf is the time the fill's orders lead up to and the first
// full run is computed at.
var resegmentAsOf = time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)

// resegmentDefinitions are the segment sets BenchmarkResegmentOne runs:
// the configuration's default (rfm, lifecycle, value) and that set with
// a predictive segment, whose purchase and spend models a run fits.
func resegmentDefinitions() map[string][]any {
	wb := func(prop string, list bool) map[string]any {
		t := map[string]any{"property": prop}
		if list {
			t["list"] = true
		}
		return map[string]any{platform: t}
	}
	def := []any{
		map[string]any{"name": "rfm", "kind": "rfm", "writeback": wb("rfm_segment", true)},
		map[string]any{"name": "lifecycle", "kind": "lifecycle", "writeback": wb("lifecycle_stage", false)},
		map[string]any{"name": "value", "kind": "value", "writeback": wb("value_tier", false)},
	}
	pred := append(def[:len(def):len(def)],
		map[string]any{"name": "clv", "kind": "predictive", "writeback": wb("clv_tier", false)})
	return map[string][]any{"default": def, "predictive": pred}
}

// fillResegmentStore stores n people on the benchmark platform, each with
// one to eight orders over the two years before resegmentAsOf, and
// returns their profile ids in the order they were stored.
func fillResegmentStore(b *testing.B, st store.Store, n int) []string {
	b.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	const page = 500
	var ids []string
	for start := 0; start < n; start += page {
		var chs []adapter.Change
		for j := start; j < min(start+page, n); j++ {
			cref := domain.ExternalRef{Platform: platform, ObjectType: domain.ObjectContact, ID: fmt.Sprintf("c%07d", j)}
			created := resegmentAsOf.AddDate(-2, 0, 0)
			chs = append(chs, adapter.Change{Kind: adapter.ChangeUpsert, Ref: cref, Contact: &domain.Contact{
				Ref: cref, Emails: []string{fmt.Sprintf("p%07d@example.com", j)}, FirstName: "P", CreatedAt: created, UpdatedAt: created}})
			for k := range 1 + rng.IntN(8) {
				chs = append(chs, resegmentOrder(cref, fmt.Sprintf("o%07d-%d", j, k),
					resegmentAsOf.Add(-time.Duration(rng.IntN(730*24))*time.Hour), int64(1000+rng.IntN(50000))))
			}
		}
		res, err := st.ApplyPage(ctx, platform, "", domain.ObjectContact, chs, nil, fmt.Sprint(start))
		if err != nil {
			b.Fatalf("storing people %d to %d: %v", start, start+page, err)
		}
		ids = append(ids, res.Created...)
	}
	if len(ids) != n {
		b.Fatalf("stored %d profiles, want %d", len(ids), n)
	}
	return ids
}

func resegmentOrder(customer domain.ExternalRef, id string, created time.Time, cents int64) adapter.Change {
	ref := domain.ExternalRef{Platform: platform, ObjectType: domain.ObjectOrder, ID: id}
	o := &domain.Order{
		Ref: ref, CustomerRef: customer, CreatedAt: created, UpdatedAt: created,
		Status: domain.StatusCompleted, Currency: "USD", Total: domain.Money{Amount: cents, Currency: "USD"},
		Items: []domain.LineItem{{SKU: "SKU-1", Name: "Item", Category: "books", Quantity: 1, UnitPrice: domain.Money{Amount: cents, Currency: "USD"}}},
	}
	return adapter.Change{Kind: adapter.ChangeUpsert, Ref: ref, Order: o}
}

// resegmentCPU is this process's user and system CPU time so far.
func resegmentCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkResegmentOne is the webhook path's planning step for a batch
// of one: over a SQLite store of N people whose full plan was computed
// and applied (the first cycle), each op stores a new order of one person
// (as a webhook's fetch does; not measured) and then plans that person
// with Pipeline.Resegment. It reports the CPU time (user and system,
// SQLite's included) and wall time of Resegment alone per op.
func BenchmarkResegmentOne(b *testing.B) {
	for _, n := range []int{10_000, 50_000} {
		for _, set := range []string{"default", "predictive"} {
			b.Run(fmt.Sprintf("people=%d/segments=%s", n, set), func(b *testing.B) {
				benchResegmentOne(b, n, resegmentDefinitions()[set])
			})
		}
	}
}

func benchResegmentOne(b *testing.B, n int, raw []any) {
	ctx := context.Background()
	defs, err := segment.ParseDefinitions(raw)
	if err != nil {
		b.Fatal(err)
	}
	eng, err := segment.NewEngine(defs, segment.Options{})
	if err != nil {
		b.Fatal(err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), sqlite.FileName), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	ids := fillResegmentStore(b, st, n)
	p := pipeline.New(pipeline.Options{Store: st, Engine: eng, Now: func() time.Time { return resegmentAsOf }, Platforms: []*pipeline.Platform{{
		Name: platform, Adapter: &recorder{},
		Desc: adapter.Descriptor{Name: platform, Capabilities: adapter.Capabilities{MaxPushBatch: 100}},
	}}})
	plan, err := p.Plan(ctx, resegmentAsOf)
	if err != nil {
		b.Fatalf("first plan: %v", err)
	}
	if err := p.Apply(ctx, plan); err != nil {
		b.Fatalf("applying the first plan: %v", err)
	}
	rng := rand.New(rand.NewPCG(uint64(n), 11))
	var cpu time.Duration
	changed := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		k := rng.IntN(n)
		cref := domain.ExternalRef{Platform: platform, ObjectType: domain.ObjectContact, ID: fmt.Sprintf("c%07d", k)}
		at := resegmentAsOf.Add(time.Duration(i+1) * time.Minute)
		res, err := st.ApplyPage(ctx, platform, "", domain.ObjectOrder,
			[]adapter.Change{resegmentOrder(cref, fmt.Sprintf("w%07d", i), at, 70000)}, nil, "")
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Touched) != 1 || res.Touched[0] != ids[k] {
			b.Fatalf("the order touched %v, want [%s]", res.Touched, ids[k])
		}
		before := resegmentCPU(b)
		b.StartTimer()
		plan, err := p.Resegment(ctx, res.Touched, at)
		b.StopTimer()
		cpu += resegmentCPU(b) - before
		if err != nil {
			b.Fatal(err)
		}
		if len(plan.Memberships) > 0 {
			changed++
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(changed)/float64(b.N), "changed/op")
}
