package segment

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/segconn/connector/core/clv"
)

// NextOrderHorizonDays bounds expected_next_order_days: a customer the
// purchase model does not expect to buy again within it gets -1.
const NextOrderHorizonDays = 730

// NextOrderDays is the number of days from the as-of day to a customer's
// expected next order (the rule name expected_next_order_days), or -1
// when none is expected or the customer never bought.
//
// With a sound purchase model (BG/NBD, MBG/NBD or Pareto/NBD, as the
// run's first predictive definition or the default one fits it) it is the
// first day by which the customer's conditional expected purchases reach
// one ([clv.TimeToNextPurchase]): it weighs in that the customer may have
// churned, so a customer silent for many of their own gaps gets -1 rather
// than a date in the past, and a one-time buyer gets a date from the
// population's purchase rates. Without a sound model (the heuristic) it
// is the customer's own average gap minus the days since the last order,
// 0 when that is already past, and -1 below two purchase-days.
func NextOrderDays(m clv.PurchaseModel, f *Features) int {
	if m == nil {
		return ownNextOrderDays(f)
	}
	if f.Orders == 0 {
		return -1
	}
	x, tx, T := f.ModelInputs()
	T = max(T, 1.0/7)
	w, ok := clv.TimeToNextPurchase(m, x, tx, T, NextOrderHorizonDays/7.0)
	if !ok {
		return -1
	}
	return int(math.Ceil(w * 7))
}

// nextOrderDays is NextOrderDays with the run's model, the customer's own
// gap under the heuristic or without predictions.
func (pr *predictions) nextOrderDays(f *Features) int {
	if pr == nil || pr.heuristic {
		return ownNextOrderDays(f)
	}
	return NextOrderDays(pr.purchase, f)
}

// avgDaysBetweenOrders is the mean gap between purchase-days, -1 below two.
func avgDaysBetweenOrders(f *Features) float64 {
	if f.PurchaseDays < 2 {
		return -1
	}
	return float64(f.GapMeanDays)
}

// ownNextOrderDays is the customer's average gap minus the days since the
// last purchase (0 when overdue), -1 below two purchase-days.
func ownNextOrderDays(f *Features) int {
	if f.PurchaseDays < 2 {
		return -1
	}
	return max(0, int(math.Round(float64(f.GapMeanDays)))-int(f.RecencyDays))
}

// nextOrderLine is explain's line on the next order.
func nextOrderLine(days int, f *Features, model bool) string {
	avg := "average days between orders: none (fewer than two purchase-days)"
	if g := avgDaysBetweenOrders(f); g >= 0 {
		avg = fmt.Sprintf("average days between orders: %.1f", g)
	}
	how := "from the customer's own average gap"
	if model {
		how = "when the model's expected purchases reach one"
	}
	switch {
	case days < 0 && model:
		return fmt.Sprintf("next order: none expected within %d days (%s); %s", NextOrderHorizonDays, how, avg)
	case days < 0:
		return "next order: not estimable without a model below two purchase-days; " + avg
	}
	return fmt.Sprintf("next order expected in %d days (%s); %s", days, how, avg)
}

// NextOrder returns customer i's expected next-order date (YYYY-MM-DD,
// "" when none is expected within NextOrderHorizonDays) and average days
// between orders (one decimal, "" below two purchase-days), the values
// the next-order write-back properties receive.
func (r *Result) NextOrder(i int) (date, gap string) {
	f := r.Features[i]
	if f.Partial {
		computeInto(&f, &r.Dataset.Customers[i], r.asOfDay, int32(r.opts.KPIWindowDays))
	}
	return r.NextOrderOf(&f, r.AsOf)
}

// NextOrderOf is NextOrder for features computed at asOf (a Rescore's).
func (r *Result) NextOrderOf(f *Features, asOf time.Time) (date, gap string) {
	if d := r.shared.nextOrderDays(f); d >= 0 {
		date = dayString(DayOf(asOf) + int32(d))
	}
	if g := avgDaysBetweenOrders(f); g >= 0 {
		gap = strconv.FormatFloat(math.Round(g*10)/10, 'f', -1, 64)
	}
	return date, gap
}
