package segment

import (
	"math"
	"math/bits"
	"slices"
	"sync"
)

// Features are one customer's numbers at an as-of day. Only orders dated on
// or before the as-of day count; of those only purchases (see [StatusOf])
// feed the purchase features. Purchases with a negative net amount are left
// out and counted in NegativeAmounts (a data-quality warning). Money is in
// minor units; days are whole UTC days.
type Features struct {
	Monetary        int64  // net value of purchases
	MaxOrder        int64  // largest single purchase
	RevenueInWindow int64  // net value of purchases in the KPI window
	Categories      uint64 // categories bought (bit set)
	RepeatSpend     float64
	FirstDay        int32  // first purchase day; valid when Orders > 0
	LastDay         int32  // last purchase day; valid when Orders > 0
	Orders          int32  // purchases (frequency)
	PurchaseDays    int32  // distinct days with a purchase
	RecencyDays     int32  // as-of − last purchase; -1 without purchases
	TenureDays      int32  // as-of − first purchase; -1 without purchases
	Items           int32  // items over all purchases
	MaxItems        int32  // items in the largest (by items) purchase
	OrdersInWindow  int32  // purchases within the KPI window ending at as-of
	LastGapDays     int32  // days between the last two purchase-days; 0 with fewer
	Refunded        uint16 // fully refunded or cancelled orders (saturating)
	OpenDeals       uint16 // (saturating)
	LostDeals       uint16 // (saturating)
	NegativeAmounts uint16 // (saturating)
	Years           int16  // distinct calendar years with a purchase
	SeasonalYears   int16  // most distinct years in which one calendar month had a purchase
	GapMeanDays     float32
	GapStdDays      float32
	PeakMonthsShare float32 // share of purchases in the two busiest calendar months
	// Partial marks features of a full run whose definitions need only the
	// core ones (see computeCore); Explain recomputes the rest.
	Partial bool
}

// Mix is how a customer's purchases spread over calendar months, devices
// and channels (counts). It is computed on demand (rules, explain) rather
// than stored per customer, which keeps Features at 112 bytes.
type Mix struct {
	Orders   int32
	Months   [12]int32
	Devices  [MaxCodes]int32
	Channels [MaxCodes]int32
}

// MixOf counts c's purchases dated on or before asOfDay.
func MixOf(c *Customer, asOfDay int32) Mix {
	var m Mix
	for i := range c.Orders {
		o := &c.Orders[i]
		if o.Day > asOfDay {
			continue // no order assumed
		}
		if o.Status != StatusPurchase || o.Amount < 0 {
			continue
		}
		m.Orders++
		if o.Month >= 1 && o.Month <= 12 {
			m.Months[o.Month-1]++
		}
		m.Devices[o.Device%MaxCodes]++
		m.Channels[o.Channel%MaxCodes]++
	}
	return m
}

func inc16(v *uint16) {
	if *v < math.MaxUint16 {
		*v++
	}
}

// IsBuyer reports whether the customer made at least one purchase.
func (f *Features) IsBuyer() bool { return f.Orders > 0 }

// AOV is the average order value in minor units (0 without purchases).
func (f *Features) AOV() float64 {
	if f.Orders == 0 {
		return 0
	}
	return float64(f.Monetary) / float64(f.Orders)
}

// ItemsPerOrder is the mean items per purchase.
func (f *Features) ItemsPerOrder() float64 {
	if f.Orders == 0 {
		return 0
	}
	return float64(f.Items) / float64(f.Orders)
}

// DistinctCategories is how many categories the customer bought from.
func (f *Features) DistinctCategories() int { return bits.OnesCount64(f.Categories) }

// ModelInputs returns the purchase-model summary in weeks, as the BTYD
// literature defines it: x = repeat purchase-days, tx = weeks from the first
// to the last purchase, T = weeks from the first purchase to as-of.
func (f *Features) ModelInputs() (x, tx, T float64) {
	if f.Orders == 0 {
		return 0, 0, 0
	}
	return float64(f.PurchaseDays - 1), float64(f.LastDay-f.FirstDay) / 7, float64(f.TenureDays) / 7
}

// ComputeFeatures computes one customer's features at asOfDay with a KPI
// window of windowDays.
func ComputeFeatures(c *Customer, asOfDay, windowDays int32) Features {
	var f Features
	computeInto(&f, c, asOfDay, windowDays)
	return f
}

// sortedCustomer returns c, or a copy with its orders sorted by day when
// they are not (the features assume day order); ok is false for a copy.
func sortedCustomer(c *Customer) (*Customer, bool) {
	for i := 1; i < len(c.Orders); i++ {
		if c.Orders[i].Day < c.Orders[i-1].Day {
			cc := *c
			cc.Orders = slices.Clone(c.Orders)
			slices.SortStableFunc(cc.Orders, func(a, b OrderFact) int { return int(a.Day) - int(b.Day) })
			return &cc, false
		}
	}
	return c, true
}

// computeInto computes all features of c, sorting its orders first if needed.
func computeInto(f *Features, c *Customer, asOfDay, windowDays int32) {
	c, _ = sortedCustomer(c)
	computeSorted(f, c, asOfDay, windowDays)
}

// computeSorted computes all features of c, whose orders are sorted by day.
func computeSorted(f *Features, c *Customer, asOfDay, windowDays int32) {
	*f = Features{RecencyDays: -1, TenureDays: -1}
	var (
		months     [13]int32
		monthYears [13]int16
		monthLast  [13]uint16
		prevDay    int32 = math.MinInt32
		lastYear   uint16
		firstValue int64
		gapSum     float64
		gapSq      float64
	)
	winStart := asOfDay - windowDays
	for i := range c.Orders {
		o := &c.Orders[i]
		if o.Day > asOfDay {
			break
		}
		switch o.Status {
		case StatusPurchase:
		case StatusOpen:
			inc16(&f.OpenDeals)
			continue
		case StatusLost:
			inc16(&f.LostDeals)
			continue
		default:
			inc16(&f.Refunded)
			continue
		}
		if o.Amount < 0 {
			inc16(&f.NegativeAmounts)
			continue
		}
		if f.Orders == 0 {
			f.FirstDay = o.Day
		}
		f.Orders++
		f.Monetary += o.Amount
		f.Items += o.Items
		f.Categories |= o.Categories
		if o.Amount > f.MaxOrder {
			f.MaxOrder = o.Amount
		}
		if o.Items > f.MaxItems {
			f.MaxItems = o.Items
		}
		if o.Day > winStart {
			f.OrdersInWindow++
			f.RevenueInWindow += o.Amount
		}
		if o.Day == f.FirstDay {
			firstValue += o.Amount
		}
		if o.Day != prevDay {
			if prevDay != math.MinInt32 {
				g := float64(o.Day - prevDay)
				gapSum += g
				gapSq += g * g
				f.LastGapDays = o.Day - prevDay
			}
			f.PurchaseDays++
			prevDay = o.Day
		}
		if o.Year != lastYear {
			f.Years++
			lastYear = o.Year
		}
		m := o.Month
		if m > 12 {
			m = 0
		}
		months[m]++
		if monthLast[m] != o.Year {
			monthLast[m] = o.Year
			monthYears[m]++
		}
	}
	if f.Orders == 0 {
		return
	}
	f.LastDay = prevDay
	f.RecencyDays = asOfDay - f.LastDay
	f.TenureDays = asOfDay - f.FirstDay
	if f.PurchaseDays > 1 {
		n := float64(f.PurchaseDays - 1)
		mean := gapSum / n
		f.GapMeanDays = float32(mean)
		v := gapSq/n - mean*mean
		if v < 0 {
			v = 0
		}
		f.GapStdDays = float32(math.Sqrt(v))
		f.RepeatSpend = float64(f.Monetary-firstValue) / n
	}
	var top1, top2 int32
	for m := 1; m <= 12; m++ {
		if int16(monthYears[m]) > f.SeasonalYears {
			f.SeasonalYears = monthYears[m]
		}
		switch c := months[m]; {
		case c > top1:
			top1, top2 = c, top1
		case c > top2:
			top2 = c
		}
	}
	f.PeakMonthsShare = float32(top1+top2) / float32(f.Orders)
}

// computeCore (orders sorted by day) fills only the features rfm, value, lifecycle and cluster
// definitions, KPIs and warnings read (counts, money, first and last day,
// window, items and categories) in a much tighter loop; gaps, purchase-days,
// seasonality and shares stay zero and Partial is set.
//
// It also checks the day order in the same pass and returns false, with f
// incomplete, when the orders are not sorted.
func computeCore(f *Features, c *Customer, asOfDay, windowDays int32) (sorted bool) {
	*f = Features{RecencyDays: -1, TenureDays: -1, Partial: true}
	winStart := asOfDay - windowDays
	prev := int32(math.MinInt32)
	for i := range c.Orders {
		o := &c.Orders[i]
		if o.Day < prev {
			return false
		}
		prev = o.Day
		if o.Day > asOfDay {
			continue // later ones are too, but keep checking the order
		}
		if o.Status != StatusPurchase {
			switch o.Status {
			case StatusOpen:
				inc16(&f.OpenDeals)
			case StatusLost:
				inc16(&f.LostDeals)
			default:
				inc16(&f.Refunded)
			}
			continue
		}
		if o.Amount < 0 {
			inc16(&f.NegativeAmounts)
			continue
		}
		if f.Orders == 0 {
			f.FirstDay = o.Day
		}
		f.Orders++
		f.Monetary += o.Amount
		f.Items += o.Items
		f.Categories |= o.Categories
		f.LastDay = o.Day
		if o.Amount > f.MaxOrder {
			f.MaxOrder = o.Amount
		}
		if o.Items > f.MaxItems {
			f.MaxItems = o.Items
		}
		if o.Day > winStart {
			f.OrdersInWindow++
			f.RevenueInWindow += o.Amount
		}
	}
	if f.Orders > 0 {
		f.RecencyDays = asOfDay - f.LastDay
		f.TenureDays = asOfDay - f.FirstDay
	}
	return true
}

// computeAll fills feats for every customer using up to workers goroutines,
// all features when full, else the core ones. It returns the indexes of
// customers whose orders were not sorted by day (they were sorted for the
// computation; the dataset is not modified).
func computeAll(feats []Features, cs []Customer, asOfDay, windowDays int32, workers int, full bool) []int {
	var mu sync.Mutex
	var unsorted []int
	parallel(len(cs), workers, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			c := &cs[i]
			if !full && computeCore(&feats[i], c, asOfDay, windowDays) {
				continue
			}
			c, ok := sortedCustomer(c)
			if !ok {
				mu.Lock()
				unsorted = append(unsorted, i)
				mu.Unlock()
			}
			if full {
				computeSorted(&feats[i], c, asOfDay, windowDays)
			} else {
				computeCore(&feats[i], c, asOfDay, windowDays)
			}
		}
	})
	slices.Sort(unsorted)
	return unsorted
}

// parallel splits [0,n) into chunks handled by up to workers goroutines.
func parallel(n, workers int, fn func(lo, hi int)) {
	if workers < 1 {
		workers = 1
	}
	if n < 4096 || workers == 1 {
		fn(0, n)
		return
	}
	chunk := (n + workers - 1) / workers
	var wg sync.WaitGroup
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	wg.Wait()
}
