package clv

import (
	"math"

	"gonum.org/v1/gonum/mathext"
)

// BGNBDParams are the BG/NBD parameters: purchase rates are Gamma(R, Alpha)
// across customers (shape R, rate Alpha), dropout probabilities Beta(A, B).
type BGNBDParams struct {
	R     float64 `json:"r"`
	Alpha float64 `json:"alpha"`
	A     float64 `json:"a"`
	B     float64 `json:"b"`
}

// BGNBDFit is a fitted BG/NBD model.
type BGNBDFit struct {
	Params        BGNBDParams `json:"params"`
	LogLikelihood float64     `json:"log_likelihood"`
	N             int         `json:"n"`       // customers fitted
	StdErr        BGNBDParams `json:"std_err"` // standard errors (NaN when the Hessian is singular)
	Converged     bool        `json:"converged"`
	// Diagnostics lists what is wrong with the fit, empty when nothing is
	// (see Diagnostic); Degenerate reports whether any is severe.
	Diagnostics []Diagnostic `json:"diagnostics"`
	// Penalizer is the L2 coefficient the fit used (0: plain maximum likelihood).
	Penalizer float64 `json:"penalizer,omitempty"`
	cov       []float64
}

// Degenerate reports whether a diagnostic says the fit's predictions are
// not to be trusted.
func (f BGNBDFit) Degenerate() bool { return anySevere(f.Diagnostics) }

// FitBGNBD fits the BG/NBD model by maximum likelihood to per-customer
// calibration summaries (see the package doc for x, tx and T). It returns
// an *InputError naming the first unusable customer, or an
// *InsufficientDataError below MinCustomers / MinRepeaters.
func FitBGNBD(x, tx, T []float64) (BGNBDFit, error) {
	return FitBGNBDWith(x, tx, T, FitOptions{})
}

// FitBGNBDWith is FitBGNBD with options (an L2 penalizer).
func FitBGNBDWith(x, tx, T []float64, o FitOptions) (BGNBDFit, error) {
	d, err := newRFM(x, tx, T)
	if err != nil {
		return BGNBDFit{}, err
	}
	if err := d.check("bgnbd"); err != nil {
		return BGNBDFit{}, err
	}
	if err := o.check(); err != nil {
		return BGNBDFit{}, err
	}
	ev := newBGNBDEval(d, false)
	m := maximize(ev.ll, []float64{1, 1, 1, 1}, float64(d.n), o.L2)
	f := BGNBDFit{
		Params:        BGNBDParams{m.p[0], m.p[1], m.p[2], m.p[3]},
		LogLikelihood: m.ll,
		N:             d.n,
		StdErr:        BGNBDParams{m.stdErr[0], m.stdErr[1], m.stdErr[2], m.stdErr[3]},
		Converged:     m.converged,
		Penalizer:     o.L2,
		cov:           m.cov,
	}
	f.Diagnostics = append(fitDiagnostics(m, "r", "alpha", "a", "b"), betaDropoutDiagnostics(f.Params.A, f.Params.B)...)
	f.Diagnostics = appendRecency(f.Diagnostics, f.Params, d)
	return f, nil
}

// bgnbdEval holds scratch space for evaluating the BG/NBD likelihood, or
// the MBG/NBD one when k = 1.
type bgnbdEval struct {
	d                          *rfm
	k                          float64   // 0 for BG/NBD, 1 for MBG/NBD
	cx, dr, da, db, lbx1, ibx1 []float64 // per distinct x
	logT, invT                 []float64 // per distinct time value
}

func newBGNBDEval(d *rfm, modified bool) *bgnbdEval {
	nx, nt := len(d.xs), len(d.ts)
	k := 0.0
	if modified {
		k = 1
	}
	return &bgnbdEval{d: d, k: k,
		cx: make([]float64, nx), dr: make([]float64, nx), da: make([]float64, nx), db: make([]float64, nx), lbx1: make([]float64, nx), ibx1: make([]float64, nx),
		logT: make([]float64, nt), invT: make([]float64, nt)}
}

// ll is the BG/NBD log-likelihood (FHL 2005, eq. 6) summed over customers,
// with its analytic gradient when grad is non-nil:
//
//	LL_i = lnΓ(r+x) − lnΓ(r) + r ln α + ln B(a, b+x) − ln B(a, b)
//	       + ln[ (α+T)^−(r+x) + 1{x>0} · a/(b+x−1) · (α+tx)^−(r+x) ]
//
// With k = 1 it is the MBG/NBD log-likelihood (Batislam, Denizel &
// Filiztekin 2007), where a customer may also drop out right after the
// first purchase:
//
//	LL_i = lnΓ(r+x) − lnΓ(r) + r ln α + ln B(a, b+x+1) − ln B(a, b)
//	       + ln[ (α+T)^−(r+x) + a/(b+x) · (α+tx)^−(r+x) ]
//
// Writing the bracket as e^A3 + e^A4 and w4 = e^A4/(e^A3+e^A4), the
// gradient is
//
//	∂/∂r = ψ(r+x) − ψ(r) + ln α − (1−w4) ln(α+T) − w4 ln(α+tx)
//	∂/∂α = r/α − (r+x)·[(1−w4)/(α+T) + w4/(α+tx)]
//	∂/∂a = ψ(a+b) − ψ(a+b+x+k) + w4/a
//	∂/∂b = ψ(a+b) − ψ(b) + ψ(b+x+k) − ψ(a+b+x+k) − w4/(b+x+k−1)
func (e *bgnbdEval) ll(p, grad []float64) float64 {
	r, alpha, a, b := p[0], p[1], p[2], p[3]
	d, k := e.d, e.k
	wantGrad := grad != nil
	lgr, lgab, lgb := lgamma(r), lgamma(a+b), lgamma(b)
	var psr, psab, psb float64
	if wantGrad {
		psr, psab, psb = mathext.Digamma(r), mathext.Digamma(a+b), mathext.Digamma(b)
	}
	for j, x := range d.xs {
		e.cx[j] = lgamma(r+x) - lgr + lgamma(b+x+k) - lgb + lgab - lgamma(a+b+x+k)
		if x > 0 || k > 0 {
			e.lbx1[j] = math.Log(b + x + k - 1)
			e.ibx1[j] = 1 / (b + x + k - 1)
		}
		if wantGrad {
			psabx := mathext.Digamma(a + b + x + k)
			e.dr[j] = mathext.Digamma(r+x) - psr
			e.da[j] = psab - psabx
			e.db[j] = psab + mathext.Digamma(b+x+k) - psb - psabx
		}
	}
	for j, t := range d.ts {
		e.logT[j] = math.Log(alpha + t)
		e.invT[j] = 1 / (alpha + t)
	}
	la, lal := math.Log(a), math.Log(alpha)
	var sum, gr, gal, ga, gb float64
	for i, x := range d.x {
		xj, tT, ttx := d.xi[i], d.tTi[i], d.txi[i]
		w := d.w[i]
		rx := r + x
		a3 := -rx * e.logT[tT]
		v := a3
		w4 := 0.0
		if x > 0 || k > 0 {
			a4 := la - e.lbx1[xj] - rx*e.logT[ttx]
			v = logSumExp(a3, a4)
			w4 = math.Exp(a4 - v)
		}
		sum += w * (e.cx[xj] + v)
		if wantGrad {
			w3 := 1 - w4
			gr += w * (e.dr[xj] - w3*e.logT[tT] - w4*e.logT[ttx])
			gal += w * (-rx * (w3*e.invT[tT] + w4*e.invT[ttx]))
			ga += w * (e.da[xj] + w4/a)
			gb += w * (e.db[xj] - w4*e.ibx1[xj])
		}
	}
	n := float64(d.n)
	sum += n * r * lal
	if wantGrad {
		grad[0] = gr + n*lal
		grad[1] = gal + n*r/alpha
		grad[2] = ga
		grad[3] = gb
	}
	return sum
}

// LogLikelihoodAt returns the BG/NBD log-likelihood of the data at params,
// for checking a published estimate against a data set.
func (p BGNBDParams) LogLikelihoodAt(x, tx, T []float64) (float64, error) {
	d, err := newRFM(x, tx, T)
	if err != nil {
		return 0, err
	}
	return newBGNBDEval(d, false).ll([]float64{p.R, p.Alpha, p.A, p.B}, nil), nil
}

// PAlive is the probability that a customer with history (x, tx, T) is
// still active at T.
func (p BGNBDParams) PAlive(x, tx, T float64) float64 {
	if x == 0 {
		return 1
	}
	lr := math.Log(p.A) - math.Log(p.B+x-1) + (p.R+x)*(math.Log(p.Alpha+T)-math.Log(p.Alpha+tx))
	return 1 / (1 + math.Exp(lr))
}

// ExpectedPurchases is E[X(t)], the expected number of repeat purchases in
// (0, t] of a customer picked at random from the population at their first
// purchase.
func (p BGNBDParams) ExpectedPurchases(t float64) float64 {
	if t <= 0 {
		return 0
	}
	z := t / (p.Alpha + t)
	h := mathext.Hypergeo(p.R, p.B, p.A+p.B-1, z)
	return (p.A + p.B - 1) / (p.A - 1) * (1 - math.Pow(p.Alpha/(p.Alpha+t), p.R)*h)
}

// ConditionalExpected is E[Y(t) | x, tx, T], the expected number of
// purchases in (T, T+t] of a customer with calibration history (x, tx, T)
// (FHL 2005, eq. 10).
func (p BGNBDParams) ConditionalExpected(t, x, tx, T float64) float64 {
	if t <= 0 {
		return 0
	}
	r, alpha, a, b := p.R, p.Alpha, p.A, p.B
	z := t / (alpha + T + t)
	h := mathext.Hypergeo(r+x, b+x, a+b+x-1, z)
	num := (a + b + x - 1) / (a - 1) * (1 - math.Exp((r+x)*(math.Log(alpha+T)-math.Log(alpha+T+t)))*h)
	return num * p.PAlive(x, tx, T)
}

// PAlive is FitBGNBD's Params.PAlive.
func (f BGNBDFit) PAlive(x, tx, T float64) float64 { return f.Params.PAlive(x, tx, T) }

// ExpectedPurchases is FitBGNBD's Params.ExpectedPurchases.
func (f BGNBDFit) ExpectedPurchases(t float64) float64 { return f.Params.ExpectedPurchases(t) }

// ConditionalExpected is FitBGNBD's Params.ConditionalExpected.
func (f BGNBDFit) ConditionalExpected(t, x, tx, T float64) float64 {
	return f.Params.ConditionalExpected(t, x, tx, T)
}
