package clv_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/segconn/connector/core/clv"
)

// simulateBGNBD draws n customers from a BG/NBD population: each has a
// purchase rate λ ~ Gamma(r, α) and a dropout probability p ~ Beta(a, b),
// buys at time 0, then as a Poisson process until T, dropping out after
// each repeat purchase with probability p. T is drawn in whole days over
// a 52-week cohort window (days/7) and purchase times are rounded down to
// whole days, as real exports are, so the summaries repeat and compress.
func simulateBGNBD(n int, p clv.BGNBDParams, seed uint64) (x, tx, T []float64) {
	src := rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)
	rng := rand.New(src)
	lam := distuv.Gamma{Alpha: p.R, Beta: p.Alpha, Src: src}
	drop := distuv.Beta{Alpha: p.A, Beta: p.B, Src: src}
	x, tx, T = make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range n {
		age := float64(39*7+rng.IntN(13*7)) / 7
		l, q := lam.Rand(), drop.Rand()
		var t, last float64
		k := 0
		for {
			t += rng.ExpFloat64() / l
			if t > age {
				break
			}
			k++
			last = math.Floor(t*7) / 7
			if rng.Float64() < q {
				break
			}
		}
		x[i], tx[i], T[i] = float64(k), last, age
	}
	return x, tx, T
}

// simulateGammaGamma draws x repeat purchases per customer (1..10) and
// their mean value from a Gamma-Gamma population with parameters p, rounded
// to cents.
func simulateGammaGamma(n int, p clv.GammaGammaParams, seed uint64) (x, m []float64) {
	src := rand.NewPCG(seed, seed^0x51afd7ed558ccd)
	rng := rand.New(src)
	nu := distuv.Gamma{Alpha: p.Q, Beta: p.Gamma, Src: src}
	x, m = make([]float64, n), make([]float64, n)
	for i := range n {
		k := 1 + rng.IntN(10)
		z := distuv.Gamma{Alpha: p.P, Beta: nu.Rand(), Src: src}
		var s float64
		for range k {
			s += z.Rand()
		}
		x[i], m[i] = float64(k), math.Max(0.01, math.Round(s/float64(k)*100)/100)
	}
	return x, m
}

func TestBGNBDRecoversSimulatedParameters(t *testing.T) {
	truth := clv.BGNBDParams{R: 0.5, Alpha: 6, A: 0.8, B: 2.5}
	n := 20000
	if testing.Short() {
		n = 5000
	}
	x, tx, T := simulateBGNBD(n, truth, 42)
	fit, err := clv.FitBGNBD(x, tx, T)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("truth %+v, fit %+v, se %+v", truth, fit.Params, fit.StdErr)
	got := []float64{fit.Params.R, fit.Params.Alpha, fit.Params.A, fit.Params.B}
	want := []float64{truth.R, truth.Alpha, truth.A, truth.B}
	se := []float64{fit.StdErr.R, fit.StdErr.Alpha, fit.StdErr.A, fit.StdErr.B}
	names := []string{"r", "alpha", "a", "b"}
	for i := range got {
		// Within 3.5 standard errors and 25 % of the truth.
		if d := math.Abs(got[i] - want[i]); d > 3.5*se[i] || d > 0.25*want[i] {
			t.Errorf("%s = %.4f (se %.4f), truth %.4f", names[i], got[i], se[i], want[i])
		}
	}
}

func TestGammaGammaRecoversSimulatedParameters(t *testing.T) {
	truth := clv.GammaGammaParams{P: 6, Q: 4, Gamma: 15}
	x, m := simulateGammaGamma(20000, truth, 7)
	fit, err := clv.FitGammaGamma(x, m)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("truth %+v, fit %+v, se %+v", truth, fit.Params, fit.StdErr)
	got := []float64{fit.Params.P, fit.Params.Q, fit.Params.Gamma}
	want := []float64{truth.P, truth.Q, truth.Gamma}
	se := []float64{fit.StdErr.P, fit.StdErr.Q, fit.StdErr.Gamma}
	for i := range got {
		if d := math.Abs(got[i] - want[i]); d > 3.5*se[i] || d > 0.15*want[i] {
			t.Errorf("param %d = %.4f (se %.4f), truth %.4f", i, got[i], se[i], want[i])
		}
	}
}

func TestFewCustomers(t *testing.T) {
	truth := clv.BGNBDParams{R: 0.5, Alpha: 6, A: 0.8, B: 2.5}
	x, tx, T := simulateBGNBD(clv.MinCustomers+20, truth, 3)
	fit, err := clv.FitBGNBD(x, tx, T)
	if err != nil {
		t.Fatalf("fitting %d customers: %v", len(x), err)
	}
	// It answers, with its uncertainty: standard errors far larger than
	// with thousands of customers.
	if !(fit.StdErr.R > 0.05) && !math.IsNaN(fit.StdErr.R) {
		t.Errorf("few-customer fit reports se(r) = %v, want a large or undefined uncertainty", fit.StdErr.R)
	}
	t.Logf("50-customer fit %+v se %+v", fit.Params, fit.StdErr)

	_, err = clv.FitBGNBD(x[:clv.MinCustomers-1], tx[:clv.MinCustomers-1], T[:clv.MinCustomers-1])
	var ide *clv.InsufficientDataError
	if !errors.As(err, &ide) || !errors.Is(err, clv.ErrInsufficientData) || ide.Have != clv.MinCustomers-1 {
		t.Errorf("fitting %d customers: err = %v, want an InsufficientDataError", clv.MinCustomers-1, err)
	}
	// Enough customers but no repeaters.
	zeros := make([]float64, 100)
	ages := make([]float64, 100)
	for i := range ages {
		ages[i] = 10
	}
	if _, err := clv.FitParetoNBD(zeros, zeros, ages); !errors.Is(err, clv.ErrInsufficientData) {
		t.Errorf("fitting customers without repeat purchases: err = %v, want ErrInsufficientData", err)
	}
	if _, err := clv.FitGammaGamma(zeros, zeros); !errors.Is(err, clv.ErrInsufficientData) {
		t.Errorf("Gamma-Gamma on no repeat customers: err = %v, want ErrInsufficientData", err)
	}
}

func TestBadInputNamesTheCustomer(t *testing.T) {
	x := []float64{1, 0, 2}
	for _, c := range []struct {
		tx, T []float64
		field string
		index int
	}{
		{[]float64{1, 0, 3}, []float64{5, 5, 2}, "tx", 2},
		{[]float64{1, 0.5, 1}, []float64{5, 5, 5}, "tx", 1},
		{[]float64{1, 0, 1}, []float64{5, math.NaN(), 5}, "T", 1},
	} {
		_, err := clv.FitBGNBD(x, c.tx, c.T)
		var ie *clv.InputError
		if !errors.As(err, &ie) || ie.Field != c.field || ie.Index != c.index {
			t.Errorf("err = %v, want an InputError on customer %d field %s", err, c.index, c.field)
		}
	}
	_, err := clv.FitGammaGamma([]float64{1, 2.5}, []float64{3, 4})
	var ie *clv.InputError
	if !errors.As(err, &ie) || ie.Index != 1 || ie.Field != "x" {
		t.Errorf("err = %v, want an InputError on customer 1 field x", err)
	}
	if _, err := clv.FitBGNBD([]float64{1}, nil, nil); err == nil {
		t.Error("mismatched lengths accepted")
	}
}

// BenchmarkFitBGNBD1M fits BG/NBD to 1,000,000 simulated customers.
func BenchmarkFitBGNBD1M(b *testing.B) {
	x, tx, T := simulateBGNBD(1_000_000, clv.BGNBDParams{R: 0.5, Alpha: 6, A: 0.8, B: 2.5}, 1)
	b.ResetTimer()
	for range b.N {
		if _, err := clv.FitBGNBD(x, tx, T); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFitGammaGamma1M fits Gamma-Gamma to 1,000,000 simulated repeat
// customers with cent-rounded mean spends.
func BenchmarkFitGammaGamma1M(b *testing.B) {
	x, m := simulateGammaGamma(1_000_000, clv.GammaGammaParams{P: 6, Q: 4, Gamma: 15}, 1)
	b.ResetTimer()
	for range b.N {
		if _, err := clv.FitGammaGamma(x, m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFitBGNBDCDNOW is the baseline the 1M benchmarks compare with:
// the 2,357-customer CDNOW calibration summary.
func BenchmarkFitBGNBDCDNOW(b *testing.B) {
	x, tx, T := simulateBGNBD(2357, clv.BGNBDParams{R: 0.243, Alpha: 4.414, A: 0.793, B: 2.426}, 1)
	b.ResetTimer()
	for range b.N {
		if _, err := clv.FitBGNBD(x, tx, T); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFitParetoNBD10k fits Pareto/NBD to 10,000 simulated customers
// with many repeat purchases (the quadrature path of the likelihood).
func BenchmarkFitParetoNBD10k(b *testing.B) {
	x, tx, T := simulateBGNBD(10000, clv.BGNBDParams{R: 2, Alpha: 6, A: 0.8, B: 8}, 5)
	b.ResetTimer()
	for range b.N {
		if _, err := clv.FitParetoNBD(x, tx, T); err != nil {
			b.Fatal(err)
		}
	}
}
