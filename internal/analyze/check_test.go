package analyze

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/segconn/connector/internal/testenv"
)

// cdnowPurchases reads the CDNOW sample into memory as Check takes it.
func cdnowPurchases(t testing.TB) []Purchase {
	t.Helper()
	f, err := os.Open(testenv.SharedFile(t, "data/cdnow/CDNOW_sample.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd, err := NewReader(f, Format{Preset: "cdnow-sample"})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	var out []Purchase
	for {
		l, err := rd.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, Purchase{Customer: l.Customer, Order: l.Order, Time: l.Time, Amount: l.Amount})
	}
}

// Check on purchases held in memory fits what Run fits on the file: the
// published CDNOW BG/NBD parameters, every model in the comparison, and
// the holdout checks the web app draws.
func TestCheckInMemoryMatchesTheFile(t *testing.T) {
	t.Parallel()
	rep, err := Check(context.Background(), cdnowPurchases(t), CheckOptions{AsOf: day("1998-06-30"), CalibrationEnd: day("1997-09-30"), HorizonDays: 39 * 7})
	if err != nil {
		t.Fatal(err)
	}
	m := rep.Models
	if m.BGNBD == nil || m.MBGNBD == nil || m.ParetoNBD == nil {
		t.Fatalf("fits missing: %+v", m)
	}
	near(t, "bgnbd r", m.BGNBD.R, 0.243, 1e-3)
	near(t, "bgnbd alpha", m.BGNBD.Alpha, 4.414, 1e-3)
	near(t, "bgnbd a", m.BGNBD.A, 0.793, 1e-3)
	near(t, "bgnbd b", m.BGNBD.B, 2.426, 1e-3)
	near(t, "bgnbd LL", m.BGNBD.LogLikelihood, -9582.429, 0.01)
	if len(m.Comparison) != 3 || m.Diagnostics == nil || len(m.Diagnostics.ByFrequency) != diagnosticsCensor+1 || len(m.Diagnostics.Tracking) == 0 {
		t.Errorf("comparison %d models, diagnostics %+v: want three models, eight frequency classes and the tracking", len(m.Comparison), m.Diagnostics)
	}
	if rep.Input.PurchaseDays != 6696 {
		t.Errorf("purchase-days %d, want 6696 as from the file", rep.Input.PurchaseDays)
	}
}

// BenchmarkCheck10k is the web app's model check on 10,000 customers
// with about five purchases each: three purchase models, Gamma-Gamma and
// the diagnostics, Pareto/NBD on a sample of 1,000 as the web app fits it.
func BenchmarkCheck10k(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var ps []Purchase
	for c := range 10_000 {
		first := rng.IntN(400)
		n := 1 + rng.IntN(9)
		for k := range n {
			day := first + k*(5+rng.IntN(60))
			if day > 700 {
				break
			}
			ps = append(ps, Purchase{Customer: fmt.Sprintf("c%05d", c), Order: fmt.Sprintf("%d-%d", c, k), Time: start.AddDate(0, 0, day), Amount: int64(1+rng.IntN(200)) * 10_000})
		}
	}
	opts := CheckOptions{AsOf: start.AddDate(0, 0, 700), CalibrationEnd: start.AddDate(0, 0, 500), ParetoSample: 1000}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Check(context.Background(), ps, opts); err != nil {
			b.Fatal(err)
		}
	}
}
