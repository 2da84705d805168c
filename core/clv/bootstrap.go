package clv

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// ErrNoCovariance is returned by Bootstrap when the fit's Hessian was
// singular, so no interval can be drawn.
var ErrNoCovariance = errors.New("the fit has no covariance (singular Hessian): no intervals")

// drawLog draws n parameter vectors exp(log p + L z).
func drawLog(p, cov []float64, n int, seed uint64) ([][]float64, error) {
	dim := len(p)
	if cov == nil || len(cov) != dim*dim {
		return nil, ErrNoCovariance
	}
	var chol mat.Cholesky
	if !chol.Factorize(mat.NewSymDense(dim, slices.Clone(cov))) {
		return nil, ErrNoCovariance
	}
	var l mat.TriDense
	chol.LTo(&l)
	rng := rand.New(rand.NewPCG(seed, seed^0x2545f4914f6cdd1d))
	out := make([][]float64, n)
	z := make([]float64, dim)
	for k := range out {
		for i := range z {
			z[i] = rng.NormFloat64()
		}
		v := make([]float64, dim)
		for i := range dim {
			s := math.Log(p[i])
			for j := 0; j <= i; j++ {
				s += l.At(i, j) * z[j]
			}
			v[i] = math.Exp(s)
		}
		out[k] = v
	}
	return out, nil
}

// Bootstrap draws n BG/NBD parameter sets from the fit's asymptotic
// distribution (see Uncertainty in the package doc).
func (f BGNBDFit) Bootstrap(n int, seed uint64) ([]PurchaseModel, error) {
	d, err := drawLog([]float64{f.Params.R, f.Params.Alpha, f.Params.A, f.Params.B}, f.cov, n, seed)
	out := make([]PurchaseModel, len(d))
	for i, v := range d {
		out[i] = BGNBDParams{v[0], v[1], v[2], v[3]}
	}
	return out, err
}

// Bootstrap draws n MBG/NBD parameter sets, as BGNBDFit.Bootstrap.
func (f MBGNBDFit) Bootstrap(n int, seed uint64) ([]PurchaseModel, error) {
	d, err := drawLog([]float64{f.Params.R, f.Params.Alpha, f.Params.A, f.Params.B}, f.cov, n, seed)
	out := make([]PurchaseModel, len(d))
	for i, v := range d {
		out[i] = MBGNBDParams{v[0], v[1], v[2], v[3]}
	}
	return out, err
}

// Bootstrap draws n Pareto/NBD parameter sets, as BGNBDFit.Bootstrap.
func (f ParetoNBDFit) Bootstrap(n int, seed uint64) ([]PurchaseModel, error) {
	d, err := drawLog([]float64{f.Params.R, f.Params.Alpha, f.Params.S, f.Params.Beta}, f.cov, n, seed)
	out := make([]PurchaseModel, len(d))
	for i, v := range d {
		out[i] = ParetoNBDParams{v[0], v[1], v[2], v[3]}
	}
	return out, err
}

// Bootstrap draws n Gamma-Gamma parameter sets, as BGNBDFit.Bootstrap.
func (f GammaGammaFit) Bootstrap(n int, seed uint64) ([]GammaGammaParams, error) {
	d, err := drawLog([]float64{f.Params.P, f.Params.Q, f.Params.Gamma}, f.cov, n, seed)
	out := make([]GammaGammaParams, len(d))
	for i, v := range d {
		out[i] = GammaGammaParams{v[0], v[1], v[2]}
	}
	return out, err
}

// Interval is a central interval of a prediction.
type Interval struct {
	Lo float64 `json:"lo"`
	Hi float64 `json:"hi"`
}

// Contains reports whether v lies in the closed interval.
func (i Interval) Contains(v float64) bool { return v >= i.Lo && v <= i.Hi }

// CustomerIntervals are one customer's prediction intervals.
type CustomerIntervals struct {
	PAlive   Interval `json:"p_alive"`
	Expected Interval `json:"expected_purchases"`
	CLV      Interval `json:"clv"`
}

// Intervals evaluates a customer (x, tx, T, mean repeat spend m) under
// every purchase draw and returns central intervals at level (e.g. 0.9):
// P(alive), expected purchases over h.Length, and CLV. The CLV of draw k
// is spend_k · E_k[Y(H)] · disc, with spend_k the k-th spend draw's
// ConditionalSpend (or spend when spendDraws is empty) and disc the
// point estimate's discount factor, CLV(point) / (spend · E[Y(H)]):
// discounting depends on when within the horizon purchases fall, which
// moves far less between draws than how many there are, so one model
// evaluation per draw suffices. It needs at least 2 draws.
func Intervals(draws []PurchaseModel, spendDraws []GammaGammaParams, level, x, tx, T, m, spend float64, h Horizon, point PurchaseModel) CustomerIntervals {
	n := len(draws)
	if n < 2 {
		return CustomerIntervals{}
	}
	disc := 1.0
	if e := point.ConditionalExpected(h.Length, x, tx, T); e > 0 && spend > 0 {
		disc = CLV(point, x, tx, T, spend, h) / (spend * e)
	}
	pa, ex, cv := make([]float64, n), make([]float64, n), make([]float64, n)
	for k, d := range draws {
		pa[k] = d.PAlive(x, tx, T)
		ex[k] = d.ConditionalExpected(h.Length, x, tx, T)
		s := spend
		if len(spendDraws) > 0 {
			s = spendDraws[k%len(spendDraws)].ConditionalSpend(x, m)
		}
		cv[k] = s * ex[k] * disc
	}
	return CustomerIntervals{PAlive: Central(pa, level), Expected: Central(ex, level), CLV: Central(cv, level)}
}

// Central returns the central level interval of v's empirical
// distribution (type-7 quantiles, NaNs dropped). It reorders v.
func Central(v []float64, level float64) Interval {
	v = slices.DeleteFunc(v, math.IsNaN)
	if len(v) == 0 {
		return Interval{math.NaN(), math.NaN()}
	}
	slices.Sort(v)
	q := func(p float64) float64 {
		h := p * float64(len(v)-1)
		lo := int(h)
		if lo+1 >= len(v) {
			return v[len(v)-1]
		}
		return v[lo] + (h-float64(lo))*(v[lo+1]-v[lo])
	}
	a := (1 - level) / 2
	return Interval{q(a), q(1 - a)}
}
