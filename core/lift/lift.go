package lift

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"

	"gonum.org/v1/gonum/stat/distuv"
)

// Outcome is what one person did in the window after entering a segment.
type Outcome struct {
	Control bool  // in the holdout: nothing was written for them
	Orders  int   // orders in the window
	Revenue int64 // net revenue in the window, in minor units of one currency
}

// Options tune Measure. The zero value is the documented default.
type Options struct {
	Seed      uint64  // seeds the Monte Carlo draws and the bootstrap
	Draws     int     // posterior draws for conversion; default 20,000
	Resamples int     // bootstrap resamples for relative lifts; default 2,000
	Level     float64 // interval level; default 0.95
	// MinLift is the relative lift in conversion worth detecting, for the
	// "need about N more" estimate; default 0.2 (a fifth more buyers).
	MinLift float64
}

func (o Options) withDefaults() Options {
	if o.Draws <= 0 {
		o.Draws = 20000
	}
	if o.Resamples <= 0 {
		o.Resamples = 2000
	}
	if o.Level <= 0 || o.Level >= 1 {
		o.Level = 0.95
	}
	if o.MinLift <= 0 {
		o.MinLift = 0.2
	}
	return o
}

// Group summarises one side of the comparison.
type Group struct {
	People           int     `json:"people"`
	Converted        int     `json:"converted"`
	ConversionRate   float64 `json:"conversion_rate"`
	OrdersPerPerson  float64 `json:"orders_per_person"`
	RevenuePerPerson float64 `json:"revenue_per_person"` // minor units
}

// Num is a float64 that encodes NaN (no estimate) as JSON null.
type Num float64

// MarshalJSON implements json.Marshaler.
func (n Num) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(n)) || math.IsInf(float64(n), 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, float64(n), 'g', -1, 64), nil
}

// Interval is a two-sided interval at Options.Level; both ends are NaN
// when there is no estimate.
type Interval struct {
	Low  Num `json:"low"`
	High Num `json:"high"`
}

// Contains reports whether x lies in the interval.
func (i Interval) Contains(x float64) bool { return float64(i.Low) <= x && x <= float64(i.High) }

// Lift is members minus holdout for one measure. Relative is the ratio
// of the means less one; it and its interval are NaN when the holdout's
// mean is zero.
type Lift struct {
	Absolute          Num      `json:"absolute"`
	AbsoluteCI        Interval `json:"absolute_interval"`
	Relative          Num      `json:"relative"`
	RelativeCI        Interval `json:"relative_interval"`
	ProbMembersBetter Num      `json:"prob_members_better,omitempty"` // conversion only
}

// Verdict kinds.
const (
	TooFew       = "too_few"       // not enough people to tell
	Better       = "better"        // members convert more; the interval excludes zero
	Worse        = "worse"         // members convert less; the interval excludes zero
	NoDifference = "no_difference" // enough people, and the interval is narrow around zero
)

// Verdict is the answer in plain words.
type Verdict struct {
	Kind     string `json:"kind"`
	Text     string `json:"text"`
	NeedMore int    `json:"need_more,omitempty"` // more people the segment needs, for TooFew
}

// Result is the comparison of members with their holdout.
type Result struct {
	Members    Group   `json:"members"`
	Holdout    Group   `json:"holdout"`
	Conversion Lift    `json:"conversion"`
	Orders     Lift    `json:"orders_per_person"`
	Revenue    Lift    `json:"revenue_per_person"`
	Level      float64 `json:"level"`
	Verdict    Verdict `json:"verdict"`
}

// Measure compares members with the holdout. It needs at least two people
// on each side for intervals; with fewer it returns a TooFew verdict and
// NaN intervals.
func Measure(outcomes []Outcome, opts Options) Result {
	opts = opts.withDefaults()
	var mem, ctl sample
	for _, o := range outcomes {
		if o.Control {
			ctl.add(o)
		} else {
			mem.add(o)
		}
	}
	res := Result{Members: mem.group(), Holdout: ctl.group(), Level: opts.Level}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x6c696674)) // "lift"
	res.Conversion = conversion(mem, ctl, opts, rng)
	res.Orders = meanLift(mem.orders, ctl.orders, opts, rng)
	res.Revenue = meanLift(mem.revenue, ctl.revenue, opts, rng)
	res.Verdict = verdict(res, opts)
	return res
}

type sample struct {
	converted       int
	orders, revenue []float64
}

func (s *sample) add(o Outcome) {
	if o.Orders > 0 {
		s.converted++
	}
	s.orders = append(s.orders, float64(o.Orders))
	s.revenue = append(s.revenue, float64(o.Revenue))
}

func (s *sample) group() Group {
	n := len(s.orders)
	g := Group{People: n, Converted: s.converted}
	if n > 0 {
		g.ConversionRate = float64(s.converted) / float64(n)
		g.OrdersPerPerson = mean(s.orders)
		g.RevenuePerPerson = mean(s.revenue)
	}
	return g
}

// conversion draws from the two Beta posteriors.
func conversion(mem, ctl sample, opts Options, rng *rand.Rand) Lift {
	nm, nc := len(mem.orders), len(ctl.orders)
	pm, pc := rate(mem.converted, nm), rate(ctl.converted, nc)
	l := Lift{Absolute: Num(pm - pc), Relative: Num(ratio(pm, pc))}
	if nm < 2 || nc < 2 {
		l.AbsoluteCI, l.RelativeCI = nanInterval(), nanInterval()
		return l
	}
	bm := distuv.Beta{Alpha: 1 + float64(mem.converted), Beta: 1 + float64(nm-mem.converted), Src: rng}
	bc := distuv.Beta{Alpha: 1 + float64(ctl.converted), Beta: 1 + float64(nc-ctl.converted), Src: rng}
	diff := make([]float64, opts.Draws)
	rel := make([]float64, 0, opts.Draws)
	better := 0
	for i := range diff {
		a, b := bm.Rand(), bc.Rand()
		diff[i] = a - b
		if a > b {
			better++
		}
		if b > 0 {
			rel = append(rel, a/b-1)
		}
	}
	l.AbsoluteCI = percentile(diff, opts.Level)
	l.RelativeCI = percentile(rel, opts.Level)
	l.ProbMembersBetter = Num(float64(better) / float64(opts.Draws))
	return l
}

// meanLift is Welch's interval for the difference of means and a
// percentile bootstrap for their ratio.
func meanLift(m, c []float64, opts Options, rng *rand.Rand) Lift {
	l := Lift{AbsoluteCI: nanInterval(), RelativeCI: nanInterval(), Relative: Num(math.NaN())}
	if len(m) == 0 || len(c) == 0 {
		l.Absolute = Num(math.NaN())
		return l
	}
	mm, mc := mean(m), mean(c)
	l.Absolute, l.Relative = Num(mm-mc), Num(ratio(mm, mc))
	if len(m) < 2 || len(c) < 2 {
		return l
	}
	vm, vc := variance(m, mm)/float64(len(m)), variance(c, mc)/float64(len(c))
	se := math.Sqrt(vm + vc)
	if se == 0 {
		l.AbsoluteCI = Interval{l.Absolute, l.Absolute}
	} else {
		df := (vm + vc) * (vm + vc) / (vm*vm/float64(len(m)-1) + vc*vc/float64(len(c)-1))
		t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Quantile(1 - (1-opts.Level)/2)
		l.AbsoluteCI = Interval{Num(mm - mc - t*se), Num(mm - mc + t*se)}
	}
	if mc > 0 {
		rel := make([]float64, 0, opts.Resamples)
		for range opts.Resamples {
			bc := resampleMean(c, rng)
			if bc > 0 {
				rel = append(rel, resampleMean(m, rng)/bc-1)
			}
		}
		l.RelativeCI = percentile(rel, opts.Level)
	}
	return l
}

func resampleMean(x []float64, rng *rand.Rand) float64 {
	var s float64
	for range x {
		s += x[rng.IntN(len(x))]
	}
	return s / float64(len(x))
}

// verdict puts the conversion lift into words and, when the interval
// still straddles zero, estimates how many more people it takes.
func verdict(r Result, opts Options) Verdict {
	pct := fmt.Sprintf("%.0f%%", opts.Level*100)
	nm, nc := r.Members.People, r.Holdout.People
	total := nm + nc
	ci := r.Conversion.AbsoluteCI
	if nm >= 2 && nc >= 2 && !ci.Contains(0) {
		kind, word := Better, "more"
		if float64(r.Conversion.Absolute) < 0 {
			kind, word = Worse, "less"
		}
		return Verdict{Kind: kind, Text: fmt.Sprintf("members converted %s than the holdout: %+.1f points (%s interval %+.1f to %+.1f)",
			word, 100*float64(r.Conversion.Absolute), pct, 100*float64(ci.Low), 100*float64(ci.High))}
	}
	if total == 0 {
		return Verdict{Kind: TooFew, Text: "no one has completed the window yet"}
	}
	pooled := float64(r.Members.Converted+r.Holdout.Converted) / float64(total)
	need := neededPerGroup(pooled, opts.MinLift)
	if nm < need || nc < need {
		// At the current holdout share, the smaller side reaches need
		// when the segment has need/share people.
		share := float64(min(nm, nc)) / float64(total)
		if share == 0 {
			share = 0.5
		}
		more := max(int(math.Ceil(float64(need)/share))-total, 1)
		return Verdict{Kind: TooFew, NeedMore: more,
			Text: fmt.Sprintf("too few people to tell yet: need about %d more to see a %.0f%% lift in conversion (%d members and %d in the holdout so far)",
				more, 100*opts.MinLift, nm, nc)}
	}
	return Verdict{Kind: NoDifference, Text: fmt.Sprintf("no clear difference: members and holdout convert alike (%s interval %+.1f to %+.1f points)",
		pct, 100*float64(ci.Low), 100*float64(ci.High))}
}

// neededPerGroup is the two-proportion sample size per group for a
// two-sided 5% test with 80% power to see the rate p rise by the
// relative lift minLift (at least one point).
func neededPerGroup(p, minLift float64) int {
	d := math.Max(minLift*p, 0.01)
	p1, p2 := p, p+d
	if p2 > 1 {
		p1, p2 = p-d, p
	}
	z := distuv.UnitNormal.Quantile(0.975) + distuv.UnitNormal.Quantile(0.8)
	n := z * z * (p1*(1-p1) + p2*(1-p2)) / (d * d)
	return int(math.Ceil(n))
}

func rate(k, n int) float64 {
	if n == 0 {
		return math.NaN()
	}
	return float64(k) / float64(n)
}

func ratio(a, b float64) float64 {
	if b == 0 || math.IsNaN(b) {
		return math.NaN()
	}
	return a/b - 1
}

func mean(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

func variance(x []float64, m float64) float64 {
	var s float64
	for _, v := range x {
		s += (v - m) * (v - m)
	}
	return s / float64(len(x)-1)
}

func percentile(x []float64, level float64) Interval {
	if len(x) == 0 {
		return nanInterval()
	}
	slices.Sort(x)
	at := func(q float64) float64 {
		i := int(math.Round(q * float64(len(x)-1)))
		return x[min(max(i, 0), len(x)-1)]
	}
	a := (1 - level) / 2
	return Interval{Num(at(a)), Num(at(1 - a))}
}

func nanInterval() Interval { return Interval{Num(math.NaN()), Num(math.NaN())} }
