package segment

import (
	"compress/gzip"
	"encoding/csv"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/internal/testenv"
)

// loadOnlineRetail reads the UCI Online Retail export with the usual
// cleaning: rows with a customer id, not a cancellation (invoice "C…"),
// quantity and unit price above zero; one order per invoice, its amount
// the sum of quantity × unit price in pence.
func loadOnlineRetail(t *testing.T) *Dataset {
	t.Helper()
	f, err := os.Open(testenv.SharedFile(t, "data/online-retail/online_retail.csv.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	r := csv.NewReader(gz)
	r.ReuseRecord = true
	if _, err := r.Read(); err != nil { // header
		t.Fatal(err)
	}
	ds := &Dataset{Currency: "GBP", Devices: []string{""}, Channels: []string{""}}
	index := map[string]int{}
	type key struct {
		cust int
		inv  string
	}
	order := map[key]int{}
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("line %d: %v", line, err)
		}
		inv, qtyS, dateS, priceS, id := rec[0], rec[3], rec[4], rec[5], rec[6]
		if id == "" || strings.HasPrefix(inv, "C") {
			continue
		}
		qty, err1 := strconv.Atoi(qtyS)
		price, err2 := strconv.ParseFloat(priceS, 64)
		d, err3 := time.Parse("2006-01-02 15:04:05", dateS)
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatalf("line %d: %q %q %q", line, qtyS, priceS, dateS)
		}
		if qty <= 0 || price <= 0 {
			continue
		}
		i, ok := index[id]
		if !ok {
			i = len(ds.Customers)
			index[id] = i
			ds.Customers = append(ds.Customers, Customer{ID: id})
		}
		c := &ds.Customers[i]
		k := key{i, inv}
		j, ok := order[k]
		if !ok {
			j = len(c.Orders)
			order[k] = j
			c.Orders = append(c.Orders, OrderFact{Day: DayOf(d), Year: uint16(d.Year()), Month: uint8(d.Month())})
		}
		c.Orders[j].Amount += int64(math.Round(float64(qty) * price * 100))
		c.Orders[j].Items += int32(qty)
	}
	return ds // the export is in invoice order, so each customer's orders are sorted
}

// onlineRetailAsOf is the day after the last invoice (2011-12-09).
var onlineRetailAsOf = time.Date(2011, 12, 10, 0, 0, 0, 0, time.UTC)

// On Online Retail BG/NBD runs to a → 0 (nobody churns). The predictive
// kind must say so and fall back, so lapsed buyers are not all alive and
// the at-risk group is not empty.
func TestOnlineRetailDegenerateFitFallsBack(t *testing.T) {
	ds := loadOnlineRetail(t)
	if len(ds.Customers) != 4338 {
		t.Fatalf("%d customers, want 4338", len(ds.Customers))
	}
	r := run(t, ds, onlineRetailAsOf, []any{
		map[string]any{"name": "rfm", "kind": "rfm"},
		map[string]any{"name": "clv", "kind": "predictive"},
	}, Options{})
	var warned string
	for _, w := range r.Warnings {
		if w.Kind == "model" && strings.Contains(w.Message, "degenerate") {
			warned = w.Message
		}
	}
	if warned == "" {
		t.Errorf("no warning about the degenerate fit: %+v", r.Warnings)
	}
	t.Logf("warning: %s; models %+v", warned, r.Models())
	var lost, lostAlive int
	for i := range ds.Customers {
		sc, ok := r.RFM(i)
		p, _ := r.Predict(i)
		if ok && sc.Group == "Lost" {
			lost++
			if p.PAlive > 0.9 {
				lostAlive++
			}
		}
	}
	atRisk := len(r.Members("clv:at-risk"))
	t.Logf("Lost %d, with P(alive) > 0.9: %d; at-risk %d", lost, lostAlive, atRisk)
	if lost == 0 || float64(lostAlive) >= 0.1*float64(lost) {
		t.Errorf("%d of %d Lost customers have P(alive) > 0.9, want under 10%%", lostAlive, lost)
	}
	if atRisk == 0 {
		t.Error("at-risk is empty")
	}
}
