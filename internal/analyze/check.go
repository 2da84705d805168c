package analyze

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Purchase is one order held in memory: who bought, when and for how much
// (Amount in 1/10,000 of the currency unit, as Line.Amount).
type Purchase struct {
	Customer string
	Order    string
	Time     time.Time
	Amount   int64
}

// CheckOptions configure Check.
type CheckOptions struct {
	// AsOf is the last day orders count; CalibrationEnd, when before it,
	// ends the period the models are fitted on and starts the holdout.
	AsOf, CalibrationEnd time.Time
	// HorizonDays is the prediction horizon of the P(alive) and
	// expected-purchase matrix (default 365).
	HorizonDays float64
	// ParetoSample bounds the customers Pareto/NBD is fitted on, a
	// deterministic sample by id (0: the package's ParetoSample). Its
	// likelihood costs some hundred times BG/NBD's per customer.
	ParetoSample int
}

// Check fits and checks the purchase and spend models on orders already
// in memory, as Run does on a file, and returns the report's models
// (parameters, diagnostics, the comparison and the holdout checks) and
// warnings. It scores no profile and segments nobody: it is the model
// check the web app shows, on the same rules as the CSV mode.
func Check(ctx context.Context, orders []Purchase, o CheckOptions) (*Report, error) {
	opts := Options{Orders: "-", AsOf: o.AsOf, CalibrationEnd: o.CalibrationEnd, HorizonDays: o.HorizonDays, checkOnly: true, paretoCap: o.ParetoSample}
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	asOf := dayOf(opts.AsOf)
	calEnd := asOf
	if !opts.CalibrationEnd.IsZero() {
		calEnd = dayOf(opts.CalibrationEnd)
		if calEnd > asOf {
			return nil, fmt.Errorf("calibration end %s is after the as-of day %s", opts.CalibrationEnd.Format(time.DateOnly), opts.AsOf.Format(time.DateOnly))
		}
	}
	agg := newAggregator(asOf, calEnd, "")
	for i, p := range orders {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		agg.stats.Rows++
		agg.add(Line{Num: i + 1, Customer: p.Customer, Order: p.Order, Time: p.Time, Amount: p.Amount})
	}
	custs := agg.finish()
	if len(custs) == 0 {
		return nil, errors.New("checking the models: no orders")
	}
	a, err := analyse(ctx, custs, agg, map[string]int{}, opts, asOf, calEnd)
	if err != nil {
		return nil, fmt.Errorf("checking the models: %w", err)
	}
	return &a.report, nil
}
