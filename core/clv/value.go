package clv

import "math"

// PurchaseModel is a fitted purchase model (BG/NBD or Pareto/NBD).
type PurchaseModel interface {
	// PAlive is the probability the customer is still active at T.
	PAlive(x, tx, T float64) float64
	// ConditionalExpected is the expected number of purchases in (T, T+t].
	ConditionalExpected(t, x, tx, T float64) float64
}

// Horizon describes a lifetime-value horizon: Length in model time units
// split into Periods equal steps, each discounted at DiscountRate (per
// step, e.g. 0.01 for 1 % a month with monthly steps).
type Horizon struct {
	Length       float64
	Periods      int
	DiscountRate float64
}

// CLV is the discounted expected value of a customer over h (see the
// package doc for the formula): the purchases model predicts how many
// purchases fall in each step and spend is the expected value of each
// (GammaGammaParams.ConditionalSpend). Periods < 1 is treated as 1.
func CLV(m PurchaseModel, x, tx, T, spend float64, h Horizon) float64 {
	k := max(h.Periods, 1)
	step := h.Length / float64(k)
	var total, prev float64
	for i := 1; i <= k; i++ {
		cur := m.ConditionalExpected(step*float64(i), x, tx, T)
		total += (cur - prev) / math.Pow(1+h.DiscountRate, float64(i))
		prev = cur
	}
	return spend * total
}
