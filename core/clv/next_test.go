package clv

import (
	"math"
	"testing"
)

// TestTimeToNextPurchase checks the next-purchase time on the published
// CDNOW BG/NBD parameters: at the returned time the conditional expectation
// is one purchase; a frequent, recent buyer is due within weeks; a
// frequent buyer silent for 19 weeks (the "increasing frequency paradox"
// customer of the BTYD walkthrough, E[X(52)] = 0.004) is not due at all.
func TestTimeToNextPurchase(t *testing.T) {
	p := BGNBDParams{R: 0.2425982, Alpha: 4.4136842, A: 0.7929899, B: 2.4261667}
	const maxT = 104
	// Customer 1: E[X(39)] = 1.226, so the expectation reaches one before 39 weeks.
	w, ok := TimeToNextPurchase(p, 2, 30.43, 38.86, maxT)
	if !ok || w <= 0 || w >= 39 {
		t.Fatalf("customer 1: %v weeks (ok %v), want inside (0, 39)", w, ok)
	}
	if e := p.ConditionalExpected(w, 2, 30.43, 38.86); math.Abs(e-1) > 2e-3 {
		t.Errorf("customer 1: E[X(%.3f)] = %.4f, want 1", w, e)
	}
	// Customer 1516 (x=26, tx=30.86, T=31): 25.76 purchases expected in 52 weeks.
	w, ok = TimeToNextPurchase(p, 26, 30.85714, 31, maxT)
	if !ok || w < 1 || w > 3 {
		t.Errorf("customer 1516: %v weeks (ok %v), want about 52/25.76 ≈ 2", w, ok)
	}
	if _, ok := TimeToNextPurchase(p, 20, 20, 39, maxT); ok {
		t.Error("a frequent buyer silent for 19 weeks is expected to buy again within two years")
	}
	if _, ok := TimeToNextPurchase(p, 2, 30.43, 38.86, 0); ok {
		t.Error("maxT 0 gave a time")
	}
}
