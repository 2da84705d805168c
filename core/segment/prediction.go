package segment

import (
	"github.com/segconn/connector/core/clv"
)

// PredictionDetail is one customer's predictions with how sure they are,
// for explain: each point estimate (the one segments use) beside its
// central interval at Level from a parametric bootstrap of the fit (see
// core/clv's Uncertainty). Intervals are absent, and NoInterval says why,
// under the heuristic or when the fit has no covariance.
type PredictionDetail struct {
	// Model is the purchase model that predicts, or "heuristic".
	Model             string        `json:"model"`
	HorizonDays       int           `json:"horizon_days"`
	Level             float64       `json:"level,omitempty"`
	PAlive            float64       `json:"p_alive"`
	PAliveInterval    *clv.Interval `json:"p_alive_interval,omitempty"`
	ExpectedPurchases float64       `json:"expected_purchases"`
	ExpectedInterval  *clv.Interval `json:"expected_purchases_interval,omitempty"`
	// CLV is in major units of Currency.
	CLV         float64       `json:"clv"`
	CLVInterval *clv.Interval `json:"clv_interval,omitempty"`
	Currency    string        `json:"currency,omitempty"`
	NoInterval  string        `json:"no_interval,omitempty"`
}

// ExplainLevel is the level of explain's intervals.
const ExplainLevel = 0.9

// detail returns customer i's (or a rescored customer's, i < 0)
// predictions with their intervals; nil without purchases.
func (f *predictiveFitted) detail(i int, ft *Features, currency string) *PredictionDetail {
	if ft.Orders == 0 {
		return nil
	}
	pr := f.pred
	a, e, _, c := pr.at(i, ft)
	d := &PredictionDetail{Model: "heuristic", HorizonDays: f.p.HorizonDays, PAlive: a, ExpectedPurchases: e, CLV: c / pr.scale, Currency: currency}
	if !pr.heuristic && pr.purchase != nil {
		d.Model = pr.purchaseInfo.Name
	}
	ci, ok := pr.intervals(ft)
	switch {
	case ok:
		d.Level = ExplainLevel
		d.PAliveInterval, d.ExpectedInterval, d.CLVInterval = &ci.PAlive, &ci.Expected, &ci.CLV
	case d.Model == "heuristic":
		d.NoInterval = "the heuristic has no fitted parameters to be unsure of: " + pr.reason
	default:
		d.NoInterval = "the fit has no covariance (its likelihood is flat in some direction), so no interval can be drawn"
	}
	return d
}
