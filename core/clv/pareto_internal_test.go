package clv

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/mathext"
)

// refLogSI is ln(s/(r+s+x)·A0) by Fader & Hardie's 2F1 form (eq. 19 of
// their Pareto/NBD note), trusted where its argument is well below 1.
func refLogSI(p ParetoNBDParams, x, tx, T float64) float64 {
	r, alpha, s, beta := p.R, p.Alpha, p.S, p.Beta
	rsx := r + s + x
	var l1, l2 float64
	if alpha >= beta {
		l1 = math.Log(mathext.Hypergeo(rsx, s+1, rsx+1, (alpha-beta)/(alpha+tx))) - rsx*math.Log(alpha+tx)
		l2 = math.Log(mathext.Hypergeo(rsx, s+1, rsx+1, (alpha-beta)/(alpha+T))) - rsx*math.Log(alpha+T)
	} else {
		l1 = math.Log(mathext.Hypergeo(rsx, r+x, rsx+1, (beta-alpha)/(beta+tx))) - rsx*math.Log(beta+tx)
		l2 = math.Log(mathext.Hypergeo(rsx, r+x, rsx+1, (beta-alpha)/(beta+T))) - rsx*math.Log(beta+T)
	}
	return math.Log(s/rsx) + l1 + math.Log(-math.Expm1(l2-l1))
}

// simpsonLogIntegral is ln ∫_tx^T (a+τ)^−ea (b+τ)^−eb dτ by composite
// Simpson on u = ln((c+τ)/(c+tx)) with 20,000 panels: slow, simple, exact
// enough for a reference.
func simpsonLogIntegral(a, ea, b, eb, tx, T float64) float64 {
	c := min(a, b)
	n := 20000
	h := (math.Log(c+T) - math.Log(c+tx)) / float64(n)
	lf := func(u float64) float64 {
		tau := (c+tx)*math.Exp(u) - c
		return -ea*math.Log(a+tau) - eb*math.Log(b+tau) + math.Log(c+tau)
	}
	l0 := lf(0)
	f := func(u float64) float64 { return math.Exp(lf(u) - l0) }
	s := f(0) + f(float64(n)*h)
	for i := 1; i < n; i++ {
		w := 2.0
		if i%2 == 1 {
			w = 4
		}
		s += w * f(float64(i)*h)
	}
	return math.Log(s*h/3) + l0
}

func TestParetoQuadratureMatchesHypergeometricForm(t *testing.T) {
	worst := 0.0
	for _, p := range []ParetoNBDParams{
		{0.55, 10.6, 0.61, 11.7}, {0.55, 10.6, 0.61, 40}, {2, 3, 1.5, 1}, {0.3, 1, 0.2, 3}, {1.2, 30, 3, 15}, {0.8, 0.5, 0.9, 2},
		{0.83, 9.8, 0.01, 13000}, {1, 50, 0.6, 1}, {0.5, 200, 2, 0.3}, // 2F1 argument above 0.9
	} {
		for _, x := range []float64{0, 1, 3, 10, 40, 150} {
			for _, tt := range [][2]float64{{0, 39}, {5, 39}, {30.43, 38.86}, {38, 39}, {1, 78}, {70, 78}} {
				tx, T := tt[0], tt[1]
				if x == 0 {
					tx = 0
				}
				got := math.Log(p.S) + logIntegral(p.Alpha, p.R+x, p.Beta, p.S+1, tx, T)
				// The 2F1 form where its argument is small; Cephes loses
				// digits near 1, so a brute-force integral there.
				want := refLogSI(p, x, tx, T)
				if z := math.Abs(p.Alpha-p.Beta) / (max(p.Alpha, p.Beta) + tx); z > 0.9 {
					want = math.Log(p.S) + simpsonLogIntegral(p.Alpha, p.R+x, p.Beta, p.S+1, tx, T)
				}
				if d := math.Abs(got - want); d > worst {
					worst = d
				}
				if d := math.Abs(got - want); d > 1e-9 || math.IsNaN(got) {
					t.Errorf("%+v x=%v tx=%v T=%v: quadrature %.12g, reference %.12g", p, x, tx, T, got, want)
				}
			}
		}
	}
	t.Logf("largest difference in ln(s·I): %.3g", worst)
}

func TestParetoGradientMatchesFiniteDifferences(t *testing.T) {
	x := []float64{0, 1, 2, 5, 12, 40, 0, 3}
	tx := []float64{0, 10, 30.4, 20, 38, 38.5, 0, 1}
	T := []float64{38.9, 38.9, 38.9, 39, 39, 39, 12, 78}
	d, err := newRFM(x, tx, T)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range [][]float64{{0.553, 10.58, 0.606, 11.67}, {2, 3, 1.5, 1}, {0.83, 9.8, 0.05, 3000}} {
		g := make([]float64, 4)
		v := paretoLLGrad(d, p, g)
		if ref := paretoLL(d, p); math.Abs(v-ref) > 1e-7*math.Abs(ref) {
			t.Errorf("%v: value %.10g, 2F1 form %.10g", p, v, ref)
		}
		for k := range p {
			h := 1e-6 * p[k]
			up, dn := append([]float64(nil), p...), append([]float64(nil), p...)
			up[k] += h
			dn[k] -= h
			fd := (paretoLL(d, up) - paretoLL(d, dn)) / (2 * h)
			if math.Abs(fd-g[k]) > 1e-5*math.Max(1, math.Abs(fd)) {
				t.Errorf("%v: d/dp%d = %.8g, finite differences %.8g", p, k, g[k], fd)
			}
		}
	}
}
