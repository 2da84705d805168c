package segment

import (
	"bufio"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/internal/testenv"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// loadCDNOW reads a CDNOW file (whitespace separated: id, [sample id,]
// YYYYMMDD, CDs, dollars) into a dataset keyed by idCol.
func loadCDNOW(t *testing.T, rel string, idCol, dateCol int) *Dataset {
	t.Helper()
	f, err := os.Open(testenv.SharedFile(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ds := &Dataset{Currency: "USD", Devices: []string{""}, Channels: []string{""}}
	index := map[string]int{}
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		fs := strings.Fields(sc.Text())
		if len(fs) < dateCol+3 {
			continue
		}
		if line == 1 && fs[dateCol] == "date" {
			continue // header
		}
		id := strings.TrimLeft(fs[idCol], "0")
		d, err := time.Parse("20060102", fs[dateCol])
		if err != nil {
			t.Fatalf("%s line %d: date %q: %v", rel, line, fs[dateCol], err)
		}
		cds, err := strconv.Atoi(fs[dateCol+1])
		if err != nil {
			t.Fatalf("%s line %d: CDs %q: %v", rel, line, fs[dateCol+1], err)
		}
		amt, err := domain.ParseMinor(fs[dateCol+2], 2)
		if err != nil {
			t.Fatalf("%s line %d: %v", rel, line, err)
		}
		i, ok := index[id]
		if !ok {
			i = len(ds.Customers)
			index[id] = i
			ds.Customers = append(ds.Customers, Customer{ID: id})
		}
		ds.Customers[i].Orders = append(ds.Customers[i].Orders, OrderFact{
			Day: DayOf(d), Year: uint16(d.Year()), Month: uint8(d.Month()), Amount: amt, Items: int32(cds),
		})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return ds
}

var cdnowCalibrationEnd = time.Date(1997, 9, 30, 0, 0, 0, 0, time.UTC)

// The predictive kind reproduces the published CDNOW numbers from raw
// transactions, as Fader, Hardie & Lee (2005) set the data up ("Counting
// Your Customers the Easy Way", Marketing Science 24(2)): same-day merging,
// weeks, calibration ending 1997-09-30.
func TestCDNOWPredictiveReproducesPublishedNumbers(t *testing.T) {
	ds := loadCDNOW(t, "data/cdnow/CDNOW_sample.txt", 1, 2)
	if len(ds.Customers) != 2357 {
		t.Fatalf("%d customers, want 2357", len(ds.Customers))
	}
	r := run(t, ds, cdnowCalibrationEnd, []any{map[string]any{"name": "clv", "kind": "predictive",
		"params": map[string]any{"horizon_days": 273, "discount_rate": 0, "fit_sample": 0}}}, Options{})
	near := func(what string, got, want, tol float64) {
		t.Helper()
		if math.Abs(got-want) > tol {
			t.Errorf("%s = %.6f, want %.6f ± %g", what, got, want, tol)
		}
	}
	m := r.Models()
	bg, gg := m["purchase"], m["spend"]
	if bg.Name != "bgnbd" || gg.Name != "gamma_gamma" {
		t.Fatalf("models %+v", m)
	}
	near("r", bg.Params["r"], 0.243, 1e-3)
	near("alpha", bg.Params["alpha"], 4.414, 1e-3)
	near("a", bg.Params["a"], 0.793, 1e-3)
	near("b", bg.Params["b"], 2.426, 1e-3)
	near("bgnbd log-likelihood", bg.LogLikelihood, -9582.429, 0.01)
	near("p", gg.Params["p"], 6.25, 0.01)
	near("q", gg.Params["q"], 3.74, 0.01)
	near("gamma", gg.Params["gamma"], 15.44, 0.02)
	if gg.N != 946 {
		t.Errorf("gamma-gamma fitted on %d customers, want 946", gg.N)
	}
	i, ok := r.Lookup("1")
	if !ok {
		t.Fatal("customer 1 missing")
	}
	p1, _ := r.Predict(i)
	near("customer 1 expected purchases in 39 weeks", p1.ExpectedPurchases, 1.226, 1e-3)
	near("customer 1 P(alive)", p1.PAlive, 0.7266, 1e-3)
	sum := 0.0
	repeat := 0.0
	for i := range ds.Customers {
		p, _ := r.Predict(i)
		sum += p.ExpectedPurchases
		x, _, _ := r.Features[i].ModelInputs()
		repeat += x
	}
	near("summed holdout expectation", sum, 1653.4, 0.5)
	near("calibration repeat purchase-days", repeat, 2457, 0)
	ex, err := r.Explain("1")
	if err != nil {
		t.Fatal(err)
	}
	want := "inputs: x=2 repeat purchase-days, tx=30.43 weeks, T=38.86 weeks"
	if got := ex.Definitions[0].Reasons[1]; got != want {
		t.Errorf("explain: %q, want %q", got, want)
	}
}

// RFM on the full CDNOW master file: 23,570 customers, scores follow the
// tie rule, and the named groups order by value as their names promise.
func TestCDNOWMasterRFM(t *testing.T) {
	ds := loadCDNOW(t, "data/cdnow/CDNOW_master.txt", 0, 1)
	if len(ds.Customers) != 23570 {
		t.Fatalf("%d customers, want 23570", len(ds.Customers))
	}
	asOf := time.Date(1998, 7, 1, 0, 0, 0, 0, time.UTC)
	r := run(t, ds, asOf, []any{
		map[string]any{"name": "rfm", "kind": "rfm"},
		map[string]any{"name": "k", "kind": "cluster", "params": map[string]any{"k_max": 4}},
	}, Options{})
	orders := 0
	for i := range r.Features {
		orders += int(r.Features[i].Orders)
	}
	if orders != 69659 {
		t.Errorf("%d orders, want 69659", orders)
	}
	// every F score: the share of customers strictly below it is within its band
	for i := range r.Features {
		s, ok := r.RFM(i)
		if !ok {
			t.Fatalf("customer %d unscored", i)
		}
		if r.Features[i].Orders == 1 && s.F != 1 {
			t.Fatalf("one-time buyer with F=%d", s.F)
		}
	}
	mean := func(seg string) float64 {
		idx := r.Members(seg)
		if len(idx) == 0 {
			t.Fatalf("%s is empty", seg)
		}
		s := 0.0
		for _, i := range idx {
			s += float64(r.Features[i].Monetary)
		}
		return s / float64(len(idx)) / 100
	}
	if c, l := mean("rfm:champions"), mean("rfm:lost"); c < 5*l {
		t.Errorf("champions spend %.2f on average, lost %.2f", c, l)
	}
	// clusters cover every buyer
	total := 0
	for _, s := range r.Segments {
		if s.Definition == "k" {
			total += len(r.Members(s.Name))
		}
	}
	if total != 23570 {
		t.Errorf("clusters hold %d customers, want 23570", total)
	}
}

// The Pareto/NBD option of the predictive kind on the same data.
func TestCDNOWParetoNBDThroughTheEngine(t *testing.T) {
	if testing.Short() {
		t.Skip("Pareto/NBD fitting takes a few seconds")
	}
	ds := loadCDNOW(t, "data/cdnow/CDNOW_sample.txt", 1, 2)
	r := run(t, ds, cdnowCalibrationEnd, []any{map[string]any{"name": "clv", "kind": "predictive",
		"params": map[string]any{"model": "pareto_nbd", "horizon_days": 364, "fit_sample": 0}}}, Options{})
	pm := r.Models()["purchase"]
	if pm.Name != "pareto_nbd" {
		t.Fatalf("models %+v (warnings %+v)", r.Models(), r.Warnings)
	}
	for _, c := range []struct {
		k         string
		want, tol float64
	}{{"r", 0.553, 2e-3}, {"alpha", 10.578, 2e-3}, {"s", 0.606, 2e-3}, {"beta", 11.669, 0.05}} {
		if got := pm.Params[c.k]; math.Abs(got-c.want) > c.tol {
			t.Errorf("%s = %.5f, want %.3f ± %g", c.k, got, c.want, c.tol)
		}
	}
	if math.Abs(pm.LogLikelihood-(-9594.976)) > 0.01 {
		t.Errorf("log-likelihood %.4f, want -9594.976 ± 0.01", pm.LogLikelihood)
	}
}
