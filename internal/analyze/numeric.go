package analyze

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// heuristic is the fallback purchase model when no model can be fitted:
// a customer buys at their historical rate λ = (x+1)/max(T, 1) per week,
// is alive with probability exp(−λ·(T−tx)) (the chance of the observed
// silence at that rate) and, alive, keeps buying at λ.
type heuristic struct{ s summary }

func (heuristic) rate(x, T float64) float64 { return (x + 1) / math.Max(T, 1) }

func (h heuristic) PAlive(x, tx, T float64) float64 {
	return math.Exp(-h.rate(x, T) * (T - tx))
}

func (h heuristic) ConditionalExpected(t, x, tx, T float64) float64 {
	return h.PAlive(x, tx, T) * h.rate(x, T) * t
}

func pearson(x, y []float64) float64 {
	n := float64(len(x))
	if n < 3 {
		return math.NaN()
	}
	var mx, my float64
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx /= n
	my /= n
	var sxy, sxx, syy float64
	for i := range x {
		dx, dy := x[i]-mx, y[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	return sxy / math.Sqrt(sxx*syy)
}

// round2 and round6 round for the report; NaN and ±Inf (a model answering
// outside its domain) become 0, which JSON can carry.
func round2(v float64) float64 { return finiteOr0(math.Round(v*100) / 100) }
func round6(v float64) float64 { return finiteOr0(math.Round(v*1e6) / 1e6) }

func finiteOr0(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

// Num is a float that encodes NaN and ±Inf as JSON null (a standard error
// the Hessian could not give).
type Num float64

// MarshalJSON implements json.Marshaler.
func (n Num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}

func inputWarnings(agg *aggregator, custs []*customer) []string {
	var w []string
	st := agg.stats
	for _, is := range agg.issues {
		w = append(w, "skipped malformed "+is.Error())
	}
	if st.MalformedRows > len(agg.issues) {
		w = append(w, fmt.Sprintf("%d more malformed lines skipped", st.MalformedRows-len(agg.issues)))
	}
	if st.RowsWithoutCustomer > 0 {
		w = append(w, fmt.Sprintf("%d rows without a customer id skipped", st.RowsWithoutCustomer))
	}
	if st.CancellationRows > 0 {
		w = append(w, fmt.Sprintf("%d cancellation rows (%d orders) left out of frequency and monetary", st.CancellationRows, st.CancellationOrders))
	}
	if st.ReturnRows > 0 {
		w = append(w, fmt.Sprintf("%d return rows (quantity ≤ 0 or negative amount) left out", st.ReturnRows))
	}
	if st.NonPositivePriceRows > 0 {
		w = append(w, fmt.Sprintf("%d rows with a unit price ≤ 0 (adjustments, samples) left out", st.NonPositivePriceRows))
	}
	if st.RowsAfterAsOf > 0 {
		w = append(w, fmt.Sprintf("%d rows dated after the as-of day ignored", st.RowsAfterAsOf))
	}
	if n := st.CustomersSeen - len(custs); n > 0 {
		w = append(w, fmt.Sprintf("%d customers have no purchase line that counts (only cancellations, returns or later orders) and get no profile", n))
	}
	emails := map[string]int{}
	missing, inFile := 0, 0
	orphans := 0
	for _, c := range custs {
		if c.inFile {
			inFile++
			if c.email == "" {
				missing++
			} else {
				emails[strings.ToLower(c.email)]++
			}
		} else if agg.haveCustomersFile {
			orphans++
		}
	}
	if missing > 0 {
		w = append(w, fmt.Sprintf("%d of %d customers in the customers file have no email", missing, inFile))
	}
	dups := 0
	for _, n := range emails {
		if n > 1 {
			dups++
		}
	}
	if dups > 0 {
		w = append(w, fmt.Sprintf("%d email addresses are shared by more than one customer id (possible duplicates)", dups))
	}
	if orphans > 0 {
		w = append(w, fmt.Sprintf("%d customers with orders are not in the customers file", orphans))
	}
	return w
}

// ParseHorizon parses a horizon such as "52w", "365d", "12mo", "1y" or a
// Go duration ("8760h") into days.
func ParseHorizon(s string) (float64, error) {
	t := strings.TrimSpace(strings.ToLower(s))
	units := []struct {
		suffix string
		days   float64
	}{{"mo", 30.4375}, {"y", 365.25}, {"w", 7}, {"d", 1}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(t, u.suffix); ok {
			v, err := strconv.ParseFloat(num, 64)
			if err != nil || v <= 0 || math.IsInf(v, 0) {
				break
			}
			return v * u.days, nil
		}
	}
	d, err := time.ParseDuration(t)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("horizon %q: want a positive number of days, weeks, months or years (365d, 52w, 12mo, 1y) or a Go duration (8760h)", s)
	}
	return d.Hours() / 24, nil
}
