package clv

import (
	"math"
	"testing"
)

// linear is a model whose new customer buys one repeat purchase a week.
type linear struct{}

func (linear) ExpectedPurchases(t float64) float64 { return t }

// Tracking counts a purchase at exactly a period's end in the next period,
// sums the expectation over customers born before each end (customers
// sharing a birth time once), and differences the cumulative figures.
func TestTracking(t *testing.T) {
	births := []float64{0, 0, 1.5, 3}
	repeats := []float64{0.5, 1, 1.99, 2, 2.5}
	pts := Tracking(linear{}, births, repeats, 3, 1)
	wantCum := []int{1, 3, 5}
	wantExp := []float64{2, 4 + 0.5, 6 + 1.5} // 2 born at 0, one at 1.5; the one born at 3 never counts
	for k, p := range pts {
		if p.Period != k+1 || p.End != float64(k+1) || p.CumulativeActual != wantCum[k] || math.Abs(p.CumulativeExpected-wantExp[k]) > 1e-12 {
			t.Errorf("period %d: %+v, want cumulative %d actual and %.1f expected", k+1, p, wantCum[k], wantExp[k])
		}
	}
	if pts[1].Actual != 2 || math.Abs(pts[1].Expected-2.5) > 1e-12 {
		t.Errorf("period 2 weekly figures %+v", pts[1])
	}
	if Tracking(linear{}, births, repeats, 0, 1) != nil || Tracking(linear{}, births, repeats, 3, 0) != nil {
		t.Error("no periods or a zero length gave points")
	}
}

func TestConditionalByFrequencyPoolsTheTail(t *testing.T) {
	x := []float64{0, 0, 1, 3, 9}
	hold := []float64{1, 0, 2, 4, 6}
	exp := []float64{0.5, 0.5, 1, 3, 5}
	bins := ConditionalByFrequency(x, hold, exp, 3)
	want := []FrequencyBin{{"0", 2, 0.5, 0.5}, {"1", 1, 2, 1}, {"3+", 2, 5, 4}}
	if len(bins) != len(want) {
		t.Fatalf("bins %+v, want %+v", bins, want)
	}
	for i := range want {
		if bins[i] != want[i] {
			t.Errorf("bin %d: %+v, want %+v", i, bins[i], want[i])
		}
	}
}
