package clv

import (
	"math"

	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"
)

// loglik evaluates a model's total log-likelihood at natural (positive)
// parameters p. When grad is non-nil it also stores d LL / d p there.
type loglik func(p, grad []float64) float64

// mle is the outcome of a maximum-likelihood fit.
type mle struct {
	p         []float64
	ll        float64 // log-likelihood at p, without the penalty
	stdErr    []float64
	converged bool
	hessianOK bool      // the Hessian of −LL at p is finite and positive definite
	cov       []float64 // covariance of the log-parameters (dim×dim, row-major), nil unless hessianOK
}

// maximize finds the parameters maximising ll, starting at init. It
// optimises over log-parameters so every parameter stays positive, scales
// the objective by the customer count n so tolerances do not depend on the
// data size, and uses BFGS with ll's gradient, falling back to Nelder-Mead
// from the best point when BFGS stops without converging. l2 > 0 adds the
// penalty l2·Σp² to the scaled objective −LL/n, as lifetimes'
// penalizer_coef does; the reported log-likelihood leaves it out.
func maximize(ll loglik, init []float64, n, l2 float64) mle {
	dim := len(init)
	theta := make([]float64, dim)
	for i, v := range init {
		theta[i] = math.Log(v)
	}
	prob := objective(ll, dim, n, l2)
	f := prob.Func
	settings := &optimize.Settings{
		GradientThreshold: 1e-9,
		Converger:         &optimize.FunctionConverge{Absolute: 1e-13, Relative: 1e-13, Iterations: 50},
		MajorIterations:   2000,
	}
	best := theta
	bestF := f(theta)
	converged := false
	res, err := optimize.Minimize(prob, theta, settings, &optimize.BFGS{})
	if res != nil && res.F <= bestF {
		best, bestF = res.X, res.F
	}
	if err == nil && res != nil && (res.Status == optimize.GradientThreshold || res.Status == optimize.FunctionConvergence || res.Status == optimize.Success) {
		converged = true
	}
	// A line search that fails where the gradient has all but vanished is
	// at the optimum as far as float64 can tell (flat surfaces near a
	// boundary do this): accept it rather than restart.
	if !converged && res != nil && len(res.Gradient) == dim && floats.Norm(res.Gradient, math.Inf(1)) < 1e-4 {
		converged = true
	}
	if !converged {
		nm := &optimize.Settings{
			Converger:       &optimize.FunctionConverge{Absolute: 1e-12, Relative: 1e-12, Iterations: 200},
			FuncEvaluations: 5000,
		}
		res, err = optimize.Minimize(optimize.Problem{Func: f}, best, nm, &optimize.NelderMead{})
		if res != nil && res.F <= bestF {
			best, bestF = res.X, res.F
		}
		converged = err == nil && res != nil && res.Status == optimize.FunctionConvergence
	}
	out := mle{p: make([]float64, dim), converged: converged && finite(bestF)}
	for i, v := range best {
		out.p[i] = math.Exp(v)
	}
	out.ll = ll(out.p, nil)
	out.stdErr, out.cov = stdErrors(ll, best, out.p, n, l2)
	out.hessianOK = out.cov != nil
	return out
}

// objective is the function maximize minimises over log-parameters θ,
// −LL(e^θ)/n + l2·Σe^(2θ), with its gradient
// −∂LL/∂p·p/n + 2·l2·p² (chain rule through p = e^θ).
func objective(ll loglik, dim int, n, l2 float64) optimize.Problem {
	p := make([]float64, dim)
	gp := make([]float64, dim)
	toP := func(th []float64) {
		for i, v := range th {
			p[i] = math.Exp(v)
		}
	}
	f := func(th []float64) float64 {
		toP(th)
		v := ll(p, nil)
		if !finite(v) {
			return math.Inf(1)
		}
		return -v/n + l2*floats.Dot(p, p)
	}
	return optimize.Problem{Func: f, Grad: func(g, th []float64) {
		toP(th)
		v := ll(p, gp)
		for i := range g {
			g[i] = -gp[i]*p[i]/n + 2*l2*p[i]*p[i]
			if !finite(v) || !finite(g[i]) {
				g[i] = 0
			}
		}
	}}
}

// stdErrors returns the standard errors of the natural parameters from the
// numerical Hessian of the negative log-likelihood in log-parameter space,
// mapped back by the delta method (se_i = p_i · se(log p_i)), and the
// covariance matrix of the log-parameters. Entries are NaN and the
// covariance nil when the Hessian is not finite and positive definite.
// With a penalty the Hessian is that of the penalised objective.
func stdErrors(ll loglik, theta, p []float64, n, l2 float64) ([]float64, []float64) {
	dim := len(theta)
	se := make([]float64, dim)
	q := make([]float64, dim)
	negLL := func(th []float64) float64 {
		for i, v := range th {
			q[i] = math.Exp(v)
		}
		return -ll(q, nil) + n*l2*floats.Dot(q, q)
	}
	var h mat.SymDense
	fd.Hessian(&h, negLL, theta, &fd.Settings{Formula: fd.Central, Step: 1e-4})
	singular := func() ([]float64, []float64) {
		for i := range se {
			se[i] = math.NaN()
		}
		return se, nil
	}
	for i := range dim {
		for j := range dim {
			if !finite(h.At(i, j)) {
				return singular()
			}
		}
	}
	var chol mat.Cholesky
	if !chol.Factorize(&h) {
		return singular()
	}
	var cov mat.SymDense
	if err := chol.InverseTo(&cov); err != nil {
		return singular()
	}
	flat := make([]float64, dim*dim)
	for i := range dim {
		v := cov.At(i, i)
		if !(v > 0) || !finite(v) {
			return singular()
		}
		se[i] = p[i] * math.Sqrt(v)
		for j := range dim {
			flat[i*dim+j] = cov.At(i, j)
		}
	}
	return se, flat
}
