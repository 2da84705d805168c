package analyze

import (
	"cmp"
	"errors"
	"hash/fnv"
	"io"
	"slices"
	"strings"
	"time"
)

// InputStats counts what happened to the rows of the orders file.
type InputStats struct {
	Rows                 int     `json:"rows"`                    // data rows read (header excluded)
	RowsUsed             int     `json:"rows_used"`               // purchase lines that count
	RowsWithoutCustomer  int     `json:"rows_without_customer"`   // no customer id: skipped
	MalformedRows        int     `json:"malformed_rows"`          // unreadable: skipped, listed in warnings
	CancellationRows     int     `json:"cancellation_rows"`       // order id with the cancel prefix
	CancellationOrders   int     `json:"cancellation_orders"`     // distinct cancelled order ids
	ReturnRows           int     `json:"return_rows"`             // quantity ≤ 0 or negative amount (not a cancellation)
	NonPositivePriceRows int     `json:"non_positive_price_rows"` // unit price ≤ 0: adjustments, samples
	RowsAfterAsOf        int     `json:"rows_after_as_of"`        // dated after the as-of day: ignored
	CustomersSeen        int     `json:"customers_seen"`          // distinct customer ids on any row
	CustomersWithOrders  int     `json:"customers_with_orders"`   // with at least one purchase line
	Orders               int     `json:"orders"`                  // distinct orders (order id, or customer and timestamp)
	PurchaseDays         int     `json:"purchase_days"`           // distinct customer-days with a purchase
	Revenue              float64 `json:"revenue"`                 // sum of the purchase lines
	FirstOrder           string  `json:"first_order,omitempty"`
	LastOrder            string  `json:"last_order,omitempty"`
}

// customer is the running aggregate of one customer's purchase lines: one
// 32-byte entry per distinct order (sorted by order key), never the lines.
type customer struct {
	id     string
	orders []order
	last   int  // index of the order the previous line went to
	inFile bool // listed in the customers file
	email  string

	// Derived by finish.
	days        []int32 // distinct purchase days, sorted
	total       int64   // 1/10,000 currency units
	firstDayAmt int64   // value bought on days[0]
	calTotal    int64   // value bought on days ≤ calibration end
}

// order is one order: its key (hash of the order id, or the line's
// timestamp when the file has no order column), day, value and items.
type order struct {
	key    uint64
	day    int32
	amount int64 // 1/10,000 currency units
	items  int64 // 1/10,000 units
}

// addLine folds a line into its order, creating the order on its first line.
func (c *customer) addLine(key uint64, day int32, amount, items int64) {
	if c.last < len(c.orders) && c.orders[c.last].key == key {
		o := &c.orders[c.last]
		o.amount += amount
		o.items += items
		o.day = min(o.day, day)
		return
	}
	i, found := slices.BinarySearchFunc(c.orders, key, func(o order, k uint64) int { return cmp.Compare(o.key, k) })
	if !found {
		c.orders = slices.Insert(c.orders, i, order{key: key, day: day})
	}
	o := &c.orders[i]
	o.amount += amount
	o.items += items
	o.day = min(o.day, day)
	c.last = i
}

// aggregator folds order lines into per-customer aggregates.
type aggregator struct {
	asOf, calEnd int32 // days, inclusive
	cancelPrefix string
	// haveCustomersFile says a customers file was read, so customers with
	// orders but no entry there are worth a warning.
	haveCustomersFile bool
	customers         map[string]*customer
	cancelled         map[uint64]struct{}
	stats             InputStats
	issues            []*LineError // the first maxIssues malformed lines
	first, last       time.Time
}

const maxIssues = 20

func newAggregator(asOf, calEnd int32, cancelPrefix string) *aggregator {
	return &aggregator{asOf: asOf, calEnd: calEnd, cancelPrefix: cancelPrefix,
		customers: map[string]*customer{}, cancelled: map[uint64]struct{}{}}
}

func dayOf(t time.Time) int32 {
	return int32(t.Unix() / 86400)
}

func dayTime(d int32) time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

func hashString(s string) uint64 {
	h := fnv.New64a()
	_, _ = io.WriteString(h, s)
	return h.Sum64()
}

// readAll streams every line of r into the aggregator. Malformed lines are
// counted and the first few kept for warnings; other errors end reading.
func (a *aggregator) readAll(r *Reader, ctxErr func() error) error {
	for {
		if a.stats.Rows%4096 == 0 {
			if err := ctxErr(); err != nil {
				return err
			}
		}
		l, err := r.Next()
		if err == io.EOF {
			return nil
		}
		var le *LineError
		if errors.As(err, &le) {
			a.stats.Rows++
			a.stats.MalformedRows++
			if len(a.issues) < maxIssues {
				a.issues = append(a.issues, le)
			}
			continue
		}
		if err != nil {
			return err
		}
		a.stats.Rows++
		a.add(l)
	}
}

// add applies the documented line rules (see the package doc).
func (a *aggregator) add(l Line) {
	cancel := a.cancelPrefix != "" && strings.HasPrefix(l.Order, a.cancelPrefix)
	if cancel {
		a.stats.CancellationRows++
		a.cancelled[hashString(l.Order)] = struct{}{}
	}
	if l.Customer == "" {
		a.stats.RowsWithoutCustomer++
		return
	}
	c := a.customers[l.Customer]
	if c == nil {
		c = &customer{id: l.Customer}
		a.customers[l.Customer] = c
	}
	switch {
	case cancel:
		return
	case (l.HasQty && l.Quantity <= 0 && l.HasPrice) || l.Amount < 0:
		a.stats.ReturnRows++
		return
	case l.HasPrice && l.Price <= 0:
		a.stats.NonPositivePriceRows++
		return
	}
	day := dayOf(l.Time)
	if day > a.asOf {
		a.stats.RowsAfterAsOf++
		return
	}
	a.stats.RowsUsed++
	if a.first.IsZero() || l.Time.Before(a.first) {
		a.first = l.Time
	}
	if l.Time.After(a.last) {
		a.last = l.Time
	}
	var key uint64
	if l.Order != "" {
		key = hashString(l.Order)
	} else {
		key = uint64(l.Time.UnixNano())
	}
	var items int64
	if l.HasQty {
		items = l.Quantity
	}
	c.addLine(key, day, l.Amount, items)
}

// finish derives each customer's purchase days and totals, computes the
// input statistics and returns the customers sorted by id.
func (a *aggregator) finish() []*customer {
	out := make([]*customer, 0, len(a.customers))
	var revenue int64
	for _, c := range a.customers {
		a.stats.CustomersSeen++
		if !c.inFile && len(c.orders) == 0 {
			continue
		}
		out = append(out, c)
		if len(c.orders) == 0 {
			continue
		}
		a.stats.CustomersWithOrders++
		a.stats.Orders += len(c.orders)
		c.days = make([]int32, 0, len(c.orders))
		first := c.orders[0].day
		for _, o := range c.orders {
			c.days = append(c.days, o.day)
			first = min(first, o.day)
		}
		slices.Sort(c.days)
		c.days = slices.Compact(c.days)
		a.stats.PurchaseDays += len(c.days)
		for _, o := range c.orders {
			c.total += o.amount
			if o.day == first {
				c.firstDayAmt += o.amount
			}
			if o.day <= a.calEnd {
				c.calTotal += o.amount
			}
		}
		revenue += c.total
	}
	a.stats.CancellationOrders = len(a.cancelled)
	a.stats.Revenue = float64(revenue) / 1e4
	if !a.first.IsZero() {
		a.stats.FirstOrder = a.first.Format(time.DateTime)
		a.stats.LastOrder = a.last.Format(time.DateTime)
	}
	slices.SortFunc(out, func(x, y *customer) int { return cmp.Compare(x.id, y.id) })
	return out
}
