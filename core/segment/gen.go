package segment

import (
	"math"
	"math/rand/v2"
	"strconv"
	"time"
)

// GenConfig describes a synthetic dataset for benchmarks, the sandbox and
// the sqlite comparison script.
type GenConfig struct {
	Customers         int       // profiles
	OrdersPerCustomer float64   // mean orders per profile (leads included)
	Seed              uint64    // same seed, same data
	AsOf              time.Time // orders fall in the Years before it
	Years             int       // history length (default 3)
}

// Generate builds a deterministic synthetic dataset: about 5 % leads
// without orders, buyers whose order counts are geometric (heavy-tailed
// enough for RFM) spread over an active period that ends after an
// exponential time (mean 18 months), lognormal order values, 1–6 items, three devices and
// channels, twelve categories, a few refunds, cancellations and open
// deals, 3 % profiles without email and some duplicate emails. All orders
// live in one backing array, so ten million of them are one 320 MB
// allocation.
func Generate(cfg GenConfig) *Dataset {
	if cfg.Years <= 0 {
		cfg.Years = 3
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5e9))
	ds := &Dataset{
		Currency:   "USD",
		Categories: []string{"books", "music", "video", "games", "garden", "kitchen", "toys", "sports", "beauty", "fashion", "tools", "pets"},
		Devices:    []string{"", "desktop", "mobile", "tablet"},
		Channels:   []string{"", "web", "pos", "checkout"},
	}
	end := DayOf(cfg.AsOf)
	span := int32(cfg.Years * 365)
	start := end - span
	// calendar lookup for the span
	years := make([]uint16, span+1)
	months := make([]uint8, span+1)
	for d := int32(0); d <= span; d++ {
		t := dayTime(start + d)
		years[d], months[d] = uint16(t.Year()), uint8(t.Month())
	}
	countries := []string{"US", "DE", "FR", "GB", "NL", "ES", "IT", "CA"}
	genders := []string{"female", "male", ""}
	pool := make([]*Attrs, 0, len(countries)*len(genders))
	for _, c := range countries {
		for _, g := range genders {
			pool = append(pool, &Attrs{Country: c, Gender: g, City: c + "-city"})
		}
	}
	buyerMean := cfg.OrdersPerCustomer / 0.95
	p := 1 / max(buyerMean, 1) // geometric on {1,2,…} with mean buyerMean
	counts := make([]int32, cfg.Customers)
	total := 0
	for i := range counts {
		if rng.Float64() < 0.05 {
			continue
		}
		n := int32(1)
		if p < 1 {
			n = 1 + int32(math.Floor(math.Log(1-rng.Float64())/math.Log(1-p)))
		}
		n = min(n, 2000)
		counts[i] = n
		total += int(n)
	}
	orders := make([]OrderFact, total)
	ds.Customers = make([]Customer, cfg.Customers)
	off := 0
	for i := range ds.Customers {
		c := &ds.Customers[i]
		c.ID = "c" + strconv.Itoa(i+1)
		if rng.Float64() >= 0.03 {
			e := i + 1
			if rng.Float64() < 0.01 {
				e = rng.IntN(cfg.Customers) + 1 // a duplicate address
			}
			c.Email = "c" + strconv.Itoa(e) + "@example.com"
		}
		c.Attrs = pool[rng.IntN(len(pool))]
		n := int(counts[i])
		c.Orders = orders[off : off+n : off+n]
		off += n
		if n == 0 {
			continue
		}
		first := rng.Int32N(span)
		// customers drop out: active for an exponential time (mean 18
		// months), so recency and P(alive) carry information
		lifetime := min(span-first, int32(rng.ExpFloat64()*548))
		mu := 3.2 + rng.NormFloat64()*0.5 // the customer's typical basket
		dev, ch := uint8(1+rng.IntN(3)), uint8(1+rng.IntN(3))
		// n sorted days in [first, span]
		day := first
		step := float64(lifetime) / float64(n)
		for k := 0; k < n; k++ {
			if k > 0 {
				day += int32(rng.ExpFloat64() * step * 0.9)
				day = min(day, span)
			}
			o := &c.Orders[k]
			o.Day = start + day
			o.Year, o.Month = years[day], months[day]
			o.Amount = int64(math.Exp(mu+rng.NormFloat64()*0.6) * 100)
			o.Items = 1 + rng.Int32N(6)
			c1, c2 := rng.IntN(12), rng.IntN(12) // one or two categories
			o.Categories = 1<<c1 | 1<<c2
			o.Device, o.Channel = dev, ch
			if rng.Float64() < 0.3 {
				o.Device = uint8(1 + rng.IntN(3))
			}
			switch r := rng.Float64(); {
			case r < 0.02:
				o.Status = StatusRefunded
			case r < 0.035:
				o.Status = StatusCancelled
			case r < 0.04:
				o.Status = StatusOpen
			}
		}
	}
	st := CountEmails(ds.Customers)
	ds.Emails = &st
	return ds
}
