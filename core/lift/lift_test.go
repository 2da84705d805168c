package lift

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// simulate draws n members and k holdout people: each converts with its
// group's rate, buys 1 + Poisson-ish extra orders and spends an
// exponential amount per order with the group's mean (minor units).
func simulate(rng *rand.Rand, n, k int, pm, pc, spendM, spendC float64) []Outcome {
	out := make([]Outcome, 0, n+k)
	draw := func(control bool, p, spend float64) Outcome {
		o := Outcome{Control: control}
		if rng.Float64() < p {
			o.Orders = 1
			for rng.Float64() < 0.3 {
				o.Orders++
			}
			for range o.Orders {
				o.Revenue += int64(rng.ExpFloat64() * spend)
			}
		}
		return o
	}
	for range n {
		out = append(out, draw(false, pm, spendM))
	}
	for range k {
		out = append(out, draw(true, pc, spendC))
	}
	return out
}

func TestKnownEffectIsInsideTheIntervals(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	// Members convert at 30%, the holdout at 20%; spend per order is the
	// same, so revenue per person rises by the conversion lift times
	// orders per buyer times spend: 0.10 × (1/0.7) × 5,000.
	outs := simulate(rng, 9000, 1000, 0.30, 0.20, 5000, 5000)
	r := Measure(outs, Options{Seed: 1})
	if !r.Conversion.AbsoluteCI.Contains(0.10) {
		t.Errorf("conversion lift interval %+v does not contain the true 0.10", r.Conversion.AbsoluteCI)
	}
	if !r.Conversion.RelativeCI.Contains(0.5) {
		t.Errorf("relative conversion lift interval %+v does not contain the true 0.5", r.Conversion.RelativeCI)
	}
	truth := 0.10 / 0.7 * 5000
	if !r.Revenue.AbsoluteCI.Contains(truth) {
		t.Errorf("revenue lift interval %+v does not contain the true %.0f", r.Revenue.AbsoluteCI, truth)
	}
	if !r.Revenue.RelativeCI.Contains(0.5) {
		t.Errorf("relative revenue lift interval %+v does not contain the true 0.5", r.Revenue.RelativeCI)
	}
	if r.Verdict.Kind != Better || !strings.Contains(r.Verdict.Text, "more than the holdout") {
		t.Errorf("verdict %+v, want better", r.Verdict)
	}
	if r.Conversion.ProbMembersBetter < 0.999 {
		t.Errorf("P(members better) = %v", r.Conversion.ProbMembersBetter)
	}
	if r.Members.People != 9000 || r.Holdout.People != 1000 {
		t.Errorf("groups %d/%d", r.Members.People, r.Holdout.People)
	}
}

// With no true effect, a 95% interval should contain zero in about 95%
// of simulations. 200 seeded runs; the binomial spread of the count at
// 95% is ±3 points, so 90–99% is the acceptance band.
func TestNoEffectCoverage(t *testing.T) {
	const runs = 200
	rng := rand.New(rand.NewPCG(7, 7))
	var conv, rev, orders int
	for i := range runs {
		outs := simulate(rng, 1800, 200, 0.2, 0.2, 4000, 4000)
		r := Measure(outs, Options{Seed: uint64(i), Draws: 4000, Resamples: 100})
		if r.Conversion.AbsoluteCI.Contains(0) {
			conv++
		}
		if r.Revenue.AbsoluteCI.Contains(0) {
			rev++
		}
		if r.Orders.AbsoluteCI.Contains(0) {
			orders++
		}
	}
	t.Logf("coverage of zero over %d runs with no effect: conversion %.1f%%, orders %.1f%%, revenue %.1f%%",
		runs, 100*float64(conv)/runs, 100*float64(orders)/runs, 100*float64(rev)/runs)
	for name, c := range map[string]int{"conversion": conv, "orders": orders, "revenue": rev} {
		if got := float64(c) / runs; got < 0.90 || got > 0.99 {
			t.Errorf("%s: interval contained zero in %.1f%% of runs, want about 95%%", name, 100*got)
		}
	}
}

func TestTooFewPeopleSaysHowManyMore(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	r := Measure(simulate(rng, 45, 5, 0.2, 0.2, 1000, 1000), Options{Seed: 1})
	if r.Verdict.Kind != TooFew || r.Verdict.NeedMore <= 0 {
		t.Fatalf("verdict %+v, want too_few with a number", r.Verdict)
	}
	if !strings.Contains(r.Verdict.Text, "too few people to tell yet: need about") {
		t.Errorf("text %q", r.Verdict.Text)
	}
	// A segment of the size it asked for, with no effect, no longer says
	// "too few" (or, by chance in the pooled rate, asks for little more).
	n := 50 + r.Verdict.NeedMore
	r2 := Measure(simulate(rng, n*9/10, n/10, 0.2, 0.2, 1000, 1000), Options{Seed: 1})
	if r2.Verdict.Kind == TooFew && r2.Verdict.NeedMore > n/5 {
		t.Errorf("at the size asked for (%d) it still needs %d more: %+v", n, r2.Verdict.NeedMore, r2.Verdict)
	}
	t.Logf("45 members and 5 in the holdout: %s; at %d people: %s", r.Verdict.Text, n, r2.Verdict.Text)
}

func TestEmptyAndTinyGroupsGiveNoIntervalAndEncode(t *testing.T) {
	for _, outs := range [][]Outcome{nil, {{Orders: 1, Revenue: 100}}, {{Orders: 1}, {Control: true}}} {
		r := Measure(outs, Options{})
		if r.Verdict.Kind != TooFew {
			t.Errorf("%v: verdict %+v", outs, r.Verdict)
		}
		if !math.IsNaN(float64(r.Conversion.AbsoluteCI.Low)) {
			t.Errorf("%v: interval %+v from fewer than two people a side", outs, r.Conversion.AbsoluteCI)
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("%v: encoding: %v", outs, err)
		}
		if !strings.Contains(string(b), `"low":null`) {
			t.Errorf("%v: no estimate should encode as null: %s", outs, b)
		}
	}
}

func TestSameSeedSameAnswer(t *testing.T) {
	outs := simulate(rand.New(rand.NewPCG(5, 5)), 500, 60, 0.25, 0.2, 3000, 3000)
	a, _ := json.Marshal(Measure(outs, Options{Seed: 9}))
	b, _ := json.Marshal(Measure(outs, Options{Seed: 9}))
	if string(a) != string(b) {
		t.Fatal("same outcomes and seed gave different results")
	}
}

func TestOutcomesCountFromFirstEntryOverCompleteWindows(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, d) }
	entries := []Entry{
		{Person: "ann", At: day(10)},
		{Person: "ann", At: day(40)}, // re-entry: ann still counts from day 10
		{Person: "bob", At: day(0), Control: true},
		{Person: "cat", At: day(80)}, // window ends day 110, after asOf: pending
		{Person: "dan", At: day(5)},
	}
	orders := []Order{
		{Person: "ann", At: day(9), Revenue: 999},   // before entry: not counted
		{Person: "ann", At: day(10), Revenue: 1000}, // at entry: counted
		{Person: "ann", At: day(39), Revenue: 500},  // last day of the window
		{Person: "ann", At: day(40), Revenue: 700},  // window is [10, 40): not counted
		{Person: "bob", At: day(29), Revenue: 300},
		{Person: "cat", At: day(81), Revenue: 100},
		{Person: "eve", At: day(1), Revenue: 100}, // never entered
	}
	c := Outcomes(entries, orders, 30*24*time.Hour, day(100))
	if c.Pending != 1 {
		t.Errorf("pending %d, want 1 (cat)", c.Pending)
	}
	want := []Outcome{{Orders: 2, Revenue: 1500}, {Control: true, Orders: 1, Revenue: 300}, {}}
	if len(c.Outcomes) != len(want) {
		t.Fatalf("outcomes %+v, want %+v", c.Outcomes, want)
	}
	for i := range want {
		if c.Outcomes[i] != want[i] {
			t.Errorf("outcome %d = %+v, want %+v", i, c.Outcomes[i], want[i])
		}
	}
}
