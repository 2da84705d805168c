package clv

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Documented minimums below which the models refuse to fit.
const (
	// MinCustomers is the fewest customers a purchase model is fitted on.
	MinCustomers = 30
	// MinRepeaters is the fewest customers with a repeat purchase (x > 0)
	// a purchase model needs: without repeaters the dropout process is not
	// identified.
	MinRepeaters = 10
	// MinSpendCustomers is the fewest repeat customers with a positive
	// mean spend the Gamma-Gamma model is fitted on.
	MinSpendCustomers = 10
)

// ErrInsufficientData is matched (errors.Is) by *InsufficientDataError.
var ErrInsufficientData = errors.New("too few customers to fit the model")

// InsufficientDataError reports that a model was asked to fit fewer
// customers than its documented minimum; callers fall back to a heuristic.
type InsufficientDataError struct {
	Model string // "bgnbd", "pareto_nbd" or "gamma_gamma"
	What  string // what was counted, e.g. "customers with a repeat purchase"
	Have  int
	Need  int
}

func (e *InsufficientDataError) Error() string {
	return fmt.Sprintf("fitting %s: %d %s, need at least %d", e.Model, e.Have, e.What, e.Need)
}

// Is makes errors.Is(err, ErrInsufficientData) true.
func (e *InsufficientDataError) Is(target error) bool { return target == ErrInsufficientData }

// InputError names the customer (by index into the input slices) and the
// value that made an input unusable.
type InputError struct {
	Index int
	Field string
	Value float64
	Why   string
}

func (e *InputError) Error() string {
	return fmt.Sprintf("customer %d: %s = %v: %s", e.Index, e.Field, e.Value, e.Why)
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// rfm is a purchase-model data set compressed to distinct (x, tx, T)
// triples with weights, plus indices into the distinct x values and the
// distinct time values so per-evaluation work is done once per value.
type rfm struct {
	x, tx, T []float64 // distinct triples
	w        []float64 // customers per triple
	n        int       // customers
	repeat   int       // customers with x > 0

	xs       []float64 // distinct x values
	xi       []int32   // triple → index in xs
	ts       []float64 // distinct time values (tx and T)
	txi, tTi []int32   // triple → index in ts
}

// newRFM validates and compresses the calibration summaries.
func newRFM(x, tx, T []float64) (*rfm, error) {
	if len(x) != len(tx) || len(x) != len(T) {
		return nil, fmt.Errorf("input slices differ in length: x %d, tx %d, T %d", len(x), len(tx), len(T))
	}
	type key struct{ x, tx, T float64 }
	idx := make(map[key]int32)
	d := &rfm{n: len(x)}
	for i := range x {
		xi, txi, Ti := x[i], tx[i], T[i]
		switch {
		case !finite(xi) || xi < 0 || xi != math.Trunc(xi):
			return nil, &InputError{i, "x", xi, "frequency must be a non-negative whole number"}
		case !finite(Ti) || Ti <= 0:
			return nil, &InputError{i, "T", Ti, "age must be positive"}
		case !finite(txi) || txi < 0 || txi > Ti:
			return nil, &InputError{i, "tx", txi, "recency must lie in [0, T]"}
		case xi == 0 && txi != 0:
			return nil, &InputError{i, "tx", txi, "recency must be 0 when x = 0"}
		case xi > 0 && txi == 0:
			// Repeat purchases on the first day: allowed, tx = 0 is a
			// legitimate (if degenerate) recency.
		}
		if xi > 0 {
			d.repeat++
		}
		k := key{xi, txi, Ti}
		j, ok := idx[k]
		if !ok {
			j = int32(len(d.x))
			idx[k] = j
			d.x = append(d.x, xi)
			d.tx = append(d.tx, txi)
			d.T = append(d.T, Ti)
			d.w = append(d.w, 0)
		}
		d.w[j]++
	}
	d.xs, d.xi = distinct(d.x, nil)
	d.ts, d.txi = distinct(d.tx, d.T)
	_, d.tTi = indexOf(d.ts, d.T)
	return d, nil
}

// distinct returns the sorted distinct values of a (and b) and the index of
// each element of a in them.
func distinct(a, b []float64) ([]float64, []int32) {
	vals := make([]float64, 0, len(a)+len(b))
	vals = append(vals, a...)
	vals = append(vals, b...)
	slices.Sort(vals)
	vals = slices.Compact(vals)
	_, ix := indexOf(vals, a)
	return vals, ix
}

func indexOf(sorted, a []float64) ([]float64, []int32) {
	ix := make([]int32, len(a))
	for i, v := range a {
		j, _ := slices.BinarySearch(sorted, v)
		ix[i] = int32(j)
	}
	return sorted, ix
}

func (d *rfm) check(model string) error {
	if d.n < MinCustomers {
		return &InsufficientDataError{Model: model, What: "customers", Have: d.n, Need: MinCustomers}
	}
	if d.repeat < MinRepeaters {
		return &InsufficientDataError{Model: model, What: "customers with a repeat purchase", Have: d.repeat, Need: MinRepeaters}
	}
	return nil
}

// logSumExp returns log(exp(a) + exp(b)).
func logSumExp(a, b float64) float64 {
	if a < b {
		a, b = b, a
	}
	if math.IsInf(a, -1) {
		return a
	}
	return a + math.Log1p(math.Exp(b-a))
}

func lgamma(v float64) float64 {
	l, _ := math.Lgamma(v)
	return l
}
