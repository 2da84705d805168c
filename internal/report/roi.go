package report

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/segconn/connector/internal/config"
	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/domain"

	"github.com/segconn/connector/core/lift"
)

// ROI is what a segment's spend earned, from its lift: only the revenue
// the members made beyond what the holdout suggests they would have made
// anyway counts, never the segment's whole revenue.
type ROI struct {
	Segment  string `json:"segment"`
	Currency string `json:"currency"`
	Spend    int64  `json:"spend_minor"` // minor units
	// IncrementalRevenue is revenue lift per person times members, with
	// its interval carried through from the lift's.
	IncrementalRevenue   lift.Num      `json:"incremental_revenue_minor"`
	IncrementalRevenueCI lift.Interval `json:"incremental_revenue_interval"`
	// IncrementalBuyers is conversion lift times members.
	IncrementalBuyers lift.Num `json:"incremental_buyers"`
	// CAC is spend per incremental buyer; NaN when there are none.
	CAC lift.Num `json:"cac_minor"`
	// ROI is (incremental revenue − spend) / spend, with its interval.
	ROI   lift.Num      `json:"roi"`
	ROICI lift.Interval `json:"roi_interval"`
	Text  string        `json:"text"`
}

// ComputeROI turns a segment's lift and its spend (minor units of the
// lift's currency) into incremental revenue, CAC and ROI.
func ComputeROI(l SegmentLift, spend int64) (ROI, error) {
	if spend <= 0 {
		return ROI{}, fmt.Errorf("roi for %s: spend must be positive, got %d", l.Segment, spend)
	}
	n := float64(l.Result.Members.People)
	rev := l.Result.Revenue
	r := ROI{Segment: l.Segment, Currency: l.Currency, Spend: spend,
		IncrementalRevenue:   lift.Num(float64(rev.Absolute) * n),
		IncrementalRevenueCI: lift.Interval{Low: lift.Num(float64(rev.AbsoluteCI.Low) * n), High: lift.Num(float64(rev.AbsoluteCI.High) * n)},
		IncrementalBuyers:    lift.Num(float64(l.Result.Conversion.Absolute) * n),
	}
	s := float64(spend)
	roi := func(x lift.Num) lift.Num { return lift.Num((float64(x) - s) / s) }
	r.ROI = roi(r.IncrementalRevenue)
	r.ROICI = lift.Interval{Low: roi(r.IncrementalRevenueCI.Low), High: roi(r.IncrementalRevenueCI.High)}
	if b := float64(r.IncrementalBuyers); b > 0 {
		r.CAC = lift.Num(s / b)
	} else {
		r.CAC = lift.Num(math.NaN())
	}
	switch {
	case math.IsNaN(float64(r.ROICI.Low)):
		r.Text = "not enough people to estimate the return yet"
	case float64(r.ROICI.Low) > 0:
		r.Text = fmt.Sprintf("pays for itself: every 1 spent returned %.2f beyond the spend (95%% interval %.2f to %.2f)", float64(r.ROI), float64(r.ROICI.Low), float64(r.ROICI.High))
	case float64(r.ROICI.High) < 0:
		r.Text = fmt.Sprintf("loses money: the extra revenue does not cover the spend (ROI %.0f%%, 95%% interval %.0f%% to %.0f%%)", 100*float64(r.ROI), 100*float64(r.ROICI.Low), 100*float64(r.ROICI.High))
	default:
		r.Text = fmt.Sprintf("unclear: ROI %.0f%%, and the 95%% interval (%.0f%% to %.0f%%) spans break-even", 100*float64(r.ROI), 100*float64(r.ROICI.Low), 100*float64(r.ROICI.High))
	}
	return r, nil
}

// SpendROI sums each segment's configured spend that started before
// asOf, in the lift's currency, and turns its lift into ROI.
func SpendROI(spend []config.Spend, lifts []SegmentLift, asOf time.Time) ([]ROI, error) {
	var out []ROI
	for _, l := range lifts {
		var total int64
		for _, s := range spend {
			from, _, err := s.Period()
			if err != nil {
				return nil, err
			}
			if s.Segment != l.Segment || !from.Before(asOf) {
				continue
			}
			if s.Currency != l.Currency {
				return nil, fmt.Errorf("spend for %s is in %s but its revenue is in %s: amounts in different currencies are not converted", s.Segment, s.Currency, l.Currency)
			}
			m, err := s.Minor()
			if err != nil {
				return nil, err
			}
			total += m
		}
		if total == 0 {
			continue
		}
		r, err := ComputeROI(l, total)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// SpendSource lists the spend entered in the app.
type SpendSource interface {
	SpendEntries(ctx context.Context) ([]store.Spend, error)
}

// AllSpend is the configuration's spend entries followed by those
// entered in the app: ROI sums both.
func AllSpend(ctx context.Context, src SpendSource, configured []config.Spend) ([]config.Spend, error) {
	entered, err := src.SpendEntries(ctx)
	if err != nil {
		return nil, err
	}
	out := slices.Clone(configured)
	for _, s := range entered {
		out = append(out, config.Spend{Segment: s.Segment, Currency: s.Currency, From: s.From, To: s.To,
			Amount: domain.FormatMinor(s.AmountMinor, domain.CurrencyExponent(s.Currency))})
	}
	return out, nil
}
