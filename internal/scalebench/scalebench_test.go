package scalebench

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strings"
	"testing"
)

// TestRunMeasuresEveryPhase runs the benchmark small and checks that every
// phase is measured, in order, with its CPU time and peak RSS, that the
// plan after the change queues write-back for no more records than the
// first plan did, and that the JSON carries the documented fields.
func TestRunMeasuresEveryPhase(t *testing.T) {
	if testing.Short() {
		t.Skip("fills a store from the fake platforms")
	}
	rep, err := Run(context.Background(), Options{Customers: 300, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"fill", "load", "engine", "recompute", "restart_recompute", "plan_from_empty", "apply", "settle_plan", "change", "steady_plan"}
	if len(rep.Phases) != len(want) {
		t.Fatalf("%d phases, want %v", len(rep.Phases), want)
	}
	var total float64
	for i, p := range rep.Phases {
		if p.Phase != want[i] {
			t.Errorf("phase %d is %s, want %s", i, p.Phase, want[i])
		}
		if p.CPUS < 0 || p.WallS <= 0 || p.PeakRSSMB <= 0 {
			t.Errorf("%s: wall %v s, CPU %v s, peak %v MB", p.Phase, p.WallS, p.CPUS, p.PeakRSSMB)
		}
		if p.EngineCPUS != rep.Phases[2].CPUS {
			t.Errorf("%s: engine CPU %v, the engine phase took %v", p.Phase, p.EngineCPUS, rep.Phases[2].CPUS)
		}
		total += p.CPUS
	}
	if rep.Phases[0].CPUS <= 0 || total <= 0 {
		t.Errorf("filling the store took %v CPU-s", rep.Phases[0].CPUS)
	}
	if rep.Profiles == 0 || !strings.Contains(rep.Phases[6].Detail, "written back") {
		t.Errorf("%d profiles; apply: %q", rep.Profiles, rep.Phases[6].Detail)
	}
	if want := fmt.Sprintf("%d profiles, %d from saved inputs", rep.Profiles, rep.Profiles); rep.Phases[4].Detail != want {
		t.Errorf("restart: %q, want %q", rep.Phases[4].Detail, want)
	}
	b, err := json.Marshal(rep.Phases[0])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"phase", "wall_s", "cpu_s", "peak_rss_mb", "engine_cpu_s"} {
		if _, ok := m[k]; !ok {
			t.Errorf("the JSON of a phase lacks %s: %s", k, b)
		}
	}
}

// TestMemoryPlatformsGiveTheFakesStore runs the benchmark on memory
// platforms and on the fake platforms with the same seed and checks that
// the connector sees the same business through both: as many records
// pulled and profiles made, and plans that change the same memberships
// and queue the same write-back, from empty and after the change. Only
// then do figures from memory platforms stand for the product's.
func TestMemoryPlatformsGiveTheFakesStore(t *testing.T) {
	if testing.Short() {
		t.Skip("fills two stores")
	}
	ctx := context.Background()
	fakes, err := Run(ctx, Options{Customers: 400, Seed: 3, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	mem, err := Run(ctx, Options{Customers: 400, Seed: 3, Dir: t.TempDir(), Platforms: "memory"})
	if err != nil {
		t.Fatal(err)
	}
	if len(mem.Phases) != len(fakes.Phases) {
		t.Fatalf("%d phases on memory platforms, %d on the fakes", len(mem.Phases), len(fakes.Phases))
	}
	if mem.Profiles != fakes.Profiles || mem.Profiles == 0 {
		t.Errorf("%d profiles from memory platforms, %d from the fakes", mem.Profiles, fakes.Profiles)
	}
	for i, p := range fakes.Phases {
		switch p.Phase {
		case "fill", "load", "restart_recompute", "plan_from_empty", "apply", "settle_plan", "change", "steady_plan":
			if mem.Phases[i].Detail != p.Detail {
				t.Errorf("%s: %q on memory platforms, %q on the fakes", p.Phase, mem.Phases[i].Detail, p.Detail)
			}
		}
	}
	if settle := mem.Phases[7]; settle.Phase != "settle_plan" || !strings.HasPrefix(settle.Detail, "0 membership changes, 0 write-back items") {
		t.Errorf("the plan after the write-back: %s %q", settle.Phase, settle.Detail)
	}
}

// TestRunInterruptedKeepsFinishedPhases cancels a run once the engine
// phase is measured and checks that the report still holds the phases
// finished so far, each with the engine's CPU time, so an interrupted
// long run says how far it got.
func TestRunInterruptedKeepsFinishedPhases(t *testing.T) {
	if testing.Short() {
		t.Skip("fills a store from the fake platforms")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var engine float64
	rep, err := Run(ctx, Options{Customers: 300, Dir: t.TempDir(), OnPhase: func(p Phase) {
		if p.Phase == "engine" {
			engine = p.CPUS
			cancel()
		}
	}})
	if err == nil {
		t.Fatal("a cancelled run returned no error")
	}
	if rep == nil || len(rep.Phases) < 3 {
		t.Fatalf("report after the interrupt: %+v", rep)
	}
	for _, p := range rep.Phases {
		if p.EngineCPUS != engine {
			t.Errorf("%s: engine CPU %v after the interrupt, the engine phase took %v", p.Phase, p.EngineCPUS, engine)
		}
	}
}

var benchCustomers = flag.Int("scale.customers", 10000, "customers BenchmarkSteadyPlan generates")

// BenchmarkSteadyPlan plans again and again over a store that is filled,
// planned, applied and written back once (not timed): the steady state of
// a shop of -scale.customers people. Profile it with -cpuprofile and
// pprof -focus 'Pipeline..Plan$' to leave the set-up out.
func BenchmarkSteadyPlan(b *testing.B) {
	ctx := context.Background()
	o := Options{Customers: *benchCustomers, Dir: b.TempDir()}
	e, err := start(ctx, &o)
	if err != nil {
		b.Fatal(err)
	}
	defer e.close(ctx)
	if _, err := e.app.SyncAll(ctx, nil, true); err != nil {
		b.Fatal(err)
	}
	plan, err := e.app.Pipeline.Plan(ctx, e.asOf)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := apply(ctx, e.app, plan); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.app.Pipeline.Plan(ctx, e.asOf); err != nil {
			b.Fatal(err)
		}
	}
}
