package clv

import "math"

// TimeToNextPurchase is the time from T until the model expects the
// customer's next purchase: the smallest t with
// ConditionalExpected(t, x, tx, T) ≥ 1, the customer's own conditional
// expectation (which weighs in that the customer may have churned)
// reaching one purchase. It is found by bisection to within
// maxT/65536, and ok is false when the expectation stays below one
// up to maxT (the model does not expect another purchase in that time,
// as for most customers it believes lapsed) or when the model answers
// NaN.
//
// This is a point in time, not a distribution: the chance that the next
// purchase comes before it is neither a half nor the same for every
// customer. It is what "expected date of the next order" means here.
func TimeToNextPurchase(m PurchaseModel, x, tx, T, maxT float64) (t float64, ok bool) {
	if !(maxT > 0) {
		return 0, false
	}
	hi := m.ConditionalExpected(maxT, x, tx, T)
	if math.IsNaN(hi) || hi < 1 {
		return 0, false
	}
	lo, up := 0.0, maxT
	for up-lo > maxT/65536 {
		mid := (lo + up) / 2
		if e := m.ConditionalExpected(mid, x, tx, T); e >= 1 {
			up = mid
		} else {
			lo = mid
		}
	}
	return up, true
}
