package analyze

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// writeGenerated writes an orders CSV of n lines for customers customers:
// order ids, dates over two years, quantities and unit prices.
func writeGenerated(tb testing.TB, dir string, customers, n int) string {
	tb.Helper()
	path := filepath.Join(dir, "orders.csv")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriter(f)
	rng := rand.New(rand.NewPCG(1, 2))
	fmt.Fprintln(w, "order_id,customer_id,order_date,quantity,unit_price")
	for i := range n {
		c := rng.IntN(customers)
		order := i / 3 // three lines an order
		day := 1 + (c*7+order)%700
		fmt.Fprintf(w, "%d,c%06d,2023-%02d-%02d 10:00:00,%d,%d.%02d\n", order, c, 1+day/60%12, 1+day%28, 1+rng.IntN(5), 1+rng.IntN(40), rng.IntN(100))
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	f.Close()
	return path
}

// BenchmarkRunOneMillionLines runs analyze (read, aggregate, fit BG/NBD,
// Pareto/NBD and Gamma-Gamma, segment, write JSON) on 1,000,000 generated
// lines of 100,000 customers.
func BenchmarkRunOneMillionLines(b *testing.B) {
	path := writeGenerated(b, b.TempDir(), 100_000, 1_000_000)
	opts := Options{Orders: path, AsOf: day("2023-12-31"), Output: "json"}
	b.ReportAllocs()
	for b.Loop() {
		if err := Run(context.Background(), opts, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadOneMillionLines is the reading and aggregation alone, the
// baseline the full run is compared with.
func BenchmarkReadOneMillionLines(b *testing.B) {
	path := writeGenerated(b, b.TempDir(), 100_000, 1_000_000)
	b.ReportAllocs()
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		rd, err := NewReader(f, Format{})
		if err != nil {
			b.Fatal(err)
		}
		agg := newAggregator(dayOf(day("2023-12-31")), dayOf(day("2023-12-31")), "")
		if err := agg.readAll(rd, func() error { return nil }); err != nil {
			b.Fatal(err)
		}
		agg.finish()
		f.Close()
	}
}
