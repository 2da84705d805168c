package clv

import (
	"math"
	"slices"
	"strconv"
)

// The checks below are the ones a practitioner runs on a purchase model
// fitted on a calibration period and watched over a holdout (Fader, Hardie
// & Lee 2005, Section 7): conditional expectations by calibration
// frequency, aggregate tracking of repeat purchases, and the
// frequency/recency matrix of P(alive) and expected purchases. They return
// data; drawing them is the caller's business.

// FrequencyBin is one calibration-frequency class of the conditional
// expectation check: the customers with x repeat purchases in the
// calibration period (x ≥ the censor value pooled in the last class),
// their mean actual repeat purchases in the holdout and the model's mean
// conditional expectation for them.
type FrequencyBin struct {
	X         string  `json:"x"` // "0", "1", …, "7+"
	Customers int     `json:"customers"`
	Actual    float64 `json:"actual_mean"`
	Expected  float64 `json:"expected_mean"`
}

// ConditionalByFrequency groups customers by calibration frequency x
// (classes 0 … censor−1 and censor+) and compares their mean holdout
// repeat purchases with the mean of expected, each customer's
// ConditionalExpected(t*, x, tx, T) (the caller computes it once, as it
// also serves the holdout error): the model's "conditional expectations"
// figure. Empty classes are left out.
func ConditionalByFrequency(x, holdout, expected []float64, censor int) []FrequencyBin {
	if censor < 1 {
		censor = 1
	}
	type acc struct {
		n             int
		actual, expec float64
	}
	bins := make([]acc, censor+1)
	for i := range x {
		k := min(int(x[i]), censor)
		if k < 0 {
			continue
		}
		bins[k].n++
		bins[k].actual += holdout[i]
		bins[k].expec += expected[i]
	}
	out := make([]FrequencyBin, 0, len(bins))
	for k, b := range bins {
		if b.n == 0 {
			continue
		}
		label := strconv.Itoa(k)
		if k == censor {
			label += "+"
		}
		out = append(out, FrequencyBin{X: label, Customers: b.n, Actual: b.actual / float64(b.n), Expected: b.expec / float64(b.n)})
	}
	return out
}

// UnconditionalModel gives a new customer's expected purchases E[X(t)] in
// the t time units after the first purchase.
type UnconditionalModel interface {
	ExpectedPurchases(t float64) float64
}

// TrackPoint is one period of the aggregate tracking check: actual and
// expected repeat purchases in the period and cumulated up to its end.
type TrackPoint struct {
	Period             int     `json:"period"` // 1-based
	End                float64 `json:"end"`    // time from the origin to the period's end
	Actual             int     `json:"actual"`
	Expected           float64 `json:"expected"`
	CumulativeActual   int     `json:"cumulative_actual"`
	CumulativeExpected float64 `json:"cumulative_expected"`
}

// Tracking compares actual and expected repeat purchases period by period.
// births are the customers' first-purchase times and repeats the times of
// every repeat purchase, both measured from a common origin; period k
// ends at k·length. The expected cumulative count at time e is
// Σ over customers born before e of E[X(e − birth)], the sum Fader, Hardie
// & Lee (2005) plot against the actual cumulative count; a purchase at
// exactly the end of a period counts in the next. Customers sharing a birth
// time are evaluated once.
func Tracking(m UnconditionalModel, births, repeats []float64, periods int, length float64) []TrackPoint {
	if periods < 1 || !(length > 0) {
		return nil
	}
	bs := slices.Clone(births)
	slices.Sort(bs)
	type group struct {
		t float64
		n int
	}
	var groups []group
	for _, b := range bs {
		if len(groups) > 0 && groups[len(groups)-1].t == b {
			groups[len(groups)-1].n++
			continue
		}
		groups = append(groups, group{b, 1})
	}
	rs := slices.Clone(repeats)
	slices.Sort(rs)
	out := make([]TrackPoint, periods)
	j := 0
	var prevA int
	var prevE float64
	for k := range out {
		end := float64(k+1) * length
		for j < len(rs) && rs[j] < end {
			j++
		}
		e := 0.0
		for _, g := range groups {
			if g.t >= end {
				break
			}
			if v := m.ExpectedPurchases(end - g.t); !math.IsNaN(v) {
				e += float64(g.n) * v
			}
		}
		out[k] = TrackPoint{Period: k + 1, End: end, Actual: j - prevA, Expected: e - prevE, CumulativeActual: j, CumulativeExpected: e}
		prevA, prevE = j, e
	}
	return out
}

// AliveMatrix is P(alive) and expected purchases over a horizon for a grid
// of frequency x (rows) and recency tx (columns) at one age T.
type AliveMatrix struct {
	T        float64     `json:"T"`
	Horizon  float64     `json:"horizon"`
	X        []float64   `json:"x"`
	Tx       []float64   `json:"tx"`
	PAlive   [][]float64 `json:"p_alive"`
	Expected [][]float64 `json:"expected"`
}

// FrequencyRecencyMatrix evaluates m on x = 0 … maxX and cols recencies
// evenly from 0 to T (a customer with x = 0 has tx = 0, so that row
// repeats the tx = 0 value; the literature's matrix does the same).
func FrequencyRecencyMatrix(m PurchaseModel, maxX int, T float64, cols int, horizon float64) AliveMatrix {
	cols = max(cols, 2)
	am := AliveMatrix{T: T, Horizon: horizon}
	for j := range cols {
		am.Tx = append(am.Tx, T*float64(j)/float64(cols-1))
	}
	for x := 0; x <= maxX; x++ {
		pa, ex := make([]float64, cols), make([]float64, cols)
		for j, tx := range am.Tx {
			if x == 0 {
				tx = 0
			}
			pa[j] = m.PAlive(float64(x), tx, T)
			ex[j] = m.ConditionalExpected(horizon, float64(x), tx, T)
		}
		am.X = append(am.X, float64(x))
		am.PAlive = append(am.PAlive, pa)
		am.Expected = append(am.Expected, ex)
	}
	return am
}
