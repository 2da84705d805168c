package segment

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/segconn/connector/plugins/sdk/domain"
)

// DefinitionReason says why a customer is (or is not) in each segment of
// one definition.
type DefinitionReason struct {
	Definition string   `json:"definition"`
	Kind       Kind     `json:"kind"`
	Segments   []string `json:"segments"`
	Control    []string `json:"control,omitempty"` // segments where the customer is in the holdout
	Reasons    []string `json:"reasons"`
	// Prediction is a predictive definition's numbers for the customer
	// with how sure they are; absent for other kinds and non-buyers.
	Prediction *PredictionDetail `json:"prediction,omitempty"`
}

// Explanation is everything that put one customer where they are.
type Explanation struct {
	CustomerID  string             `json:"customer_id"`
	AsOf        time.Time          `json:"as_of"`
	Features    map[string]any     `json:"features"`
	Definitions []DefinitionReason `json:"definitions"`
}

// ErrUnknownCustomer is returned for an id the run does not hold.
var ErrUnknownCustomer = errors.New("unknown customer")

// Explain returns the reasons for customer id's memberships in this run.
func (r *Result) Explain(id string) (Explanation, error) {
	i, ok := r.Lookup(id)
	if !ok {
		return Explanation{}, fmt.Errorf("explaining %q: %w", id, ErrUnknownCustomer)
	}
	c := &r.Dataset.Customers[i]
	masks := make([]uint32, len(r.masks))
	for d := range r.masks {
		masks[d] = r.masks[d][i]
	}
	f := r.Features[i]
	if f.Partial {
		computeInto(&f, c, r.asOfDay, int32(r.opts.KPIWindowDays))
	}
	return r.explain(i, c, &f, masks), nil
}

func (r *Result) explain(i int, c *Customer, f *Features, masks []uint32) Explanation {
	scale := math.Pow10(domain.CurrencyExponent(r.Dataset.Currency))
	ex := Explanation{CustomerID: c.ID, AsOf: r.AsOf, Features: map[string]any{
		"recency_days": f.RecencyDays, "frequency": f.Orders, "purchase_days": f.PurchaseDays,
		"monetary": float64(f.Monetary) / scale, "aov": f.AOV() / scale, "tenure_days": f.TenureDays,
		"items_per_order": f.ItemsPerOrder(), "distinct_categories": f.DistinctCategories(),
		"gap_mean_days": f.GapMeanDays, "gap_std_days": f.GapStdDays, "orders_in_window": f.OrdersInWindow,
		"refunded_or_cancelled": f.Refunded, "open_deals": f.OpenDeals,
	}}
	if f.Orders > 0 {
		mix := MixOf(c, r.asOfDay)
		shares := func(counts []int32, names []string) map[string]float64 {
			out := map[string]float64{}
			for k, n := range counts {
				if n > 0 && k < len(names) {
					name := names[k]
					if name == "" {
						name = "unknown"
					}
					out[name] = float64(n) / float64(mix.Orders)
				}
			}
			return out
		}
		months := []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}
		ex.Features["month_share"] = shares(mix.Months[:], months)
		ex.Features["device_share"] = shares(mix.Devices[:], r.Dataset.Devices)
		ex.Features["channel_share"] = shares(mix.Channels[:], r.Dataset.Channels)
		ex.Features["first_purchase"] = dayString(f.FirstDay)
		ex.Features["last_purchase"] = dayString(f.LastDay)
	}
	sc := &scratch{}
	for d, ft := range r.fitted {
		dr := DefinitionReason{Definition: r.defs[d].Name, Kind: r.defs[d].Kind, Segments: []string{}}
		for m := masks[d]; m != 0; m &= m - 1 {
			s := &r.Segments[r.segIdx[d][trailing(m)]]
			dr.Segments = append(dr.Segments, s.Name)
			if InHoldout(c.ID, s.Name, s.Holdout) {
				dr.Control = append(dr.Control, s.Name)
			}
		}
		dr.Reasons = ft.explain(i, c, f, sc, masks[d])
		if pf, ok := ft.(*predictiveFitted); ok {
			dr.Prediction = pf.detail(i, f, r.Dataset.Currency)
		}
		ex.Definitions = append(ex.Definitions, dr)
	}
	return ex
}

// ErrStale is returned by Rescore when the cached run is older than
// Options.MaxStaleness at the requested as-of time.
var ErrStale = errors.New("cached segmentation is stale; run a full recompute")

// Rescored is one customer segmented against the cached run.
type Rescored struct {
	Features    Features
	Segments    []string
	Memberships []domain.Membership
	masks       []uint32
}

// Rescore segments one changed (or new) customer against the cut points,
// thresholds, centres and models of this full run, without touching
// anyone else. Convert the customer with the Builder that built the run's
// dataset so category, device and channel codes agree.
//
// Staleness bound: the customer's own features are exact at asOf; what
// they are compared with (RFM cut points, value-tier thresholds, bulk
// percentiles, cluster centres, fitted models) is the full run's, at most
// Options.MaxStaleness (default 24h) older than asOf, otherwise Rescore
// returns ErrStale. For a customer whose values did not change, the result
// equals the full run's exactly; for a changed customer, a score can
// differ from what a full run would give only by the drift of the cut
// points, i.e. by how far the customers who changed since the full run
// moved the 20 %, 40 %, … boundaries. The daemon's scheduled full runs
// refresh them.
func (r *Result) Rescore(c *Customer, asOf time.Time) (Rescored, error) {
	if d := asOf.Sub(r.AsOf); d > r.opts.MaxStaleness || d < -r.opts.MaxStaleness {
		return Rescored{}, fmt.Errorf("rescoring %s at %s against the run of %s: %w", c.ID, asOf.Format(time.RFC3339), r.AsOf.Format(time.RFC3339), ErrStale)
	}
	var out Rescored
	computeInto(&out.Features, c, DayOf(asOf), int32(r.opts.KPIWindowDays))
	var sc scratch
	out.masks = make([]uint32, len(r.fitted))
	for d, ft := range r.fitted {
		m := ft.assign(-1, c, &out.Features, &sc)
		out.masks[d] = m
		for ; m != 0; m &= m - 1 {
			s := &r.Segments[r.segIdx[d][trailing(m)]]
			out.Segments = append(out.Segments, s.Name)
			out.Memberships = append(out.Memberships, domain.Membership{ProfileID: c.ID, Segment: s.Name, Control: InHoldout(c.ID, s.Name, s.Holdout)})
		}
	}
	return out, nil
}

// ExplainRescored explains a Rescore result.
func (r *Result) ExplainRescored(c *Customer, rs Rescored) Explanation {
	return r.explain(-1, c, &rs.Features, rs.masks)
}

// RFM returns customer i's scores under the first rfm definition.
func (r *Result) RFM(i int) (RFMScore, bool) {
	for _, ft := range r.fitted {
		if rf, ok := ft.(*rfmFitted); ok && r.Features[i].Orders > 0 {
			return rf.score(&r.Features[i]), true
		}
	}
	return RFMScore{}, false
}

// Prediction is one customer's predictive numbers (money in major units).
type Prediction struct {
	PAlive            float64 `json:"p_alive"`
	ExpectedPurchases float64 `json:"expected_purchases"`
	ExpectedSpend     float64 `json:"expected_spend"`
	CLV               float64 `json:"clv"`
	Heuristic         bool    `json:"heuristic,omitempty"`
}

// Predict returns customer i's predictions from the first predictive
// definition (or the default model a predicted value tier fitted).
func (r *Result) Predict(i int) (Prediction, bool) {
	if r.shared == nil {
		return Prediction{}, false
	}
	a, e, s, c := r.shared.at(i, &r.Features[i])
	return Prediction{PAlive: a, ExpectedPurchases: e, ExpectedSpend: s, CLV: c / r.shared.scale, Heuristic: r.shared.heuristic}, true
}

// Models reports the fitted models of the first predictive definition:
// "purchase" (bgnbd or pareto_nbd) and "spend" (gamma_gamma), absent when
// the heuristic answered.
func (r *Result) Models() map[string]ModelInfo {
	out := map[string]ModelInfo{}
	if r.shared == nil {
		return out
	}
	if r.shared.purchase != nil {
		out["purchase"] = r.shared.purchaseInfo
	}
	if r.shared.spend != nil {
		out["spend"] = r.shared.spendInfo
	}
	return out
}

// ModelsFittedAt is the as-of day the first predictive definition's models
// were fitted (earlier than AsOf when RunReusing reused them); zero
// without a predictive fit.
func (r *Result) ModelsFittedAt() time.Time {
	if r.shared == nil {
		return time.Time{}
	}
	return dayTime(r.shared.fittedAt)
}

// PurchaseMethod says what made the first predictive definition's (or
// the default model's) predictions: the fitted purchase model's name, or
// "heuristic" with the reason the heuristic answered (too few repeat
// buyers, a failed or degenerate fit). ok is false without any
// predictive fit in the run.
func (r *Result) PurchaseMethod() (method, reason string, ok bool) {
	if r.shared == nil {
		return "", "", false
	}
	if r.shared.heuristic || r.shared.purchase == nil {
		return "heuristic", r.shared.reason, true
	}
	return r.shared.purchaseInfo.Name, r.shared.reason, true
}
