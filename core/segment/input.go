package segment

import (
	"fmt"
	"hash/maphash"
	"slices"
	"strings"
	"time"

	"github.com/segconn/connector/plugins/sdk/domain"
)

// Status is what an order means for segmentation. The cancellation and
// refund rule lives in [StatusOf]: only [StatusPurchase] orders count as
// purchases, and their amount is the net amount (total minus refunds).
type Status uint8

const (
	// StatusPurchase is a paid order (domain processing or completed) whose
	// net amount is still positive after partial refunds.
	StatusPurchase Status = iota
	// StatusRefunded is an order refunded in full (status refunded, or a
	// paid order whose refunds reach its total).
	StatusRefunded
	// StatusCancelled covers cancelled, failed, pending and on-hold orders:
	// nothing was bought (yet).
	StatusCancelled
	// StatusOpen is an open deal or opportunity: a prospect signal.
	StatusOpen
	// StatusLost is a deal closed lost.
	StatusLost
)

// StatusOf applies the cancellation and refund rule to a domain order:
//
//   - processing or completed with Total − Refunded > 0: a purchase worth the
//     net amount (partial refunds reduce monetary value, they do not remove
//     the order);
//   - processing or completed with Refunded ≥ Total, or status refunded: a
//     full refund, not a purchase;
//   - cancelled, failed, pending, on hold: not a purchase;
//   - open and lost: deals, used by the lifecycle kind only.
func StatusOf(o *domain.Order) Status {
	switch {
	case o.Status.IsPurchase():
		if o.Total.Amount-o.Refunded.Amount <= 0 && o.Total.Amount > 0 {
			return StatusRefunded
		}
		return StatusPurchase
	case o.Status == domain.StatusRefunded:
		return StatusRefunded
	case o.Status == domain.StatusOpen:
		return StatusOpen
	case o.Status == domain.StatusLost:
		return StatusLost
	default:
		return StatusCancelled
	}
}

// OrderFact is one order reduced to what the features need: 32 bytes, so ten
// million orders take about 320 MB. Time has whole-day resolution (UTC), which
// is what recency, the purchase models (purchase-days) and seasonality use.
type OrderFact struct {
	Amount     int64  // net amount in minor units of the dataset currency
	Categories uint64 // bit set of category codes (Dataset.Categories; codes ≥ 64 fold onto code%64)
	Day        int32  // days since 1970-01-01 UTC
	Items      int32  // sum of line quantities
	Year       uint16 // calendar year of Day
	Month      uint8  // 1..12
	Device     uint8  // code into Dataset.Devices; 0 = unknown
	Channel    uint8  // code into Dataset.Channels; 0 = unknown
	Status     Status
}

// Attrs are the profile attributes rule expressions and lifecycle stages
// look at. Customers without any share a nil pointer.
type Attrs struct {
	Gender         string
	Country        string
	Region         string
	City           string
	Industry       string
	LifecycleStage string
	Employees      int64
	CompanyRevenue float64 // major units
	BirthDay       int32   // days since epoch; valid when HasBirth
	HasBirth       bool
	CreatedDay     int32 // profile creation day; valid when HasCreated
	HasCreated     bool
	Platforms      []string // platforms the profile is known on (hubspot, salesforce, …), sorted
	Custom         map[string]string
}

// Customer is one profile with its orders sorted by day.
type Customer struct {
	ID     string
	Email  string // primary, normalised; "" when missing
	Attrs  *Attrs
	Orders []OrderFact
}

// MaxCodes is how many distinct devices or channels a dataset can name
// (code 0 is "unknown"); further names share the last code, "other".
const MaxCodes = 8

// Dataset is the engine's input: customers plus the dictionaries their codes
// refer to and what conversion had to leave out.
type Dataset struct {
	Customers  []Customer
	Currency   string
	Categories []string // code → name
	Devices    []string // code → name; [0] = ""
	Channels   []string // code → name; [0] = ""
	// OrphanOrders counts orders that belong to no customer (reported by the
	// caller through Builder.AddOrphans); a data-quality warning.
	OrphanOrders int
	// Problems lists orders left out during conversion, naming each.
	Problems []string
	// Emails summarises the customers' addresses; Builder and Generate
	// fill it, and Run computes it when it is nil.
	Emails *EmailStats
}

// EmailStats counts profiles without an email address and addresses held
// by more than one profile (possible duplicates).
type EmailStats struct {
	Missing    int
	Duplicates int
}

// CountEmails computes EmailStats. It sorts 64-bit hashes of the addresses
// rather than building a map of strings (a hash collision, about 1 in 10^7
// at a million addresses, would over-count by one).
func CountEmails(cs []Customer) EmailStats {
	var st EmailStats
	hashes := make([]uint64, 0, len(cs))
	seed := maphash.MakeSeed()
	for i := range cs {
		if cs[i].Email == "" {
			st.Missing++
		} else {
			hashes = append(hashes, maphash.String(seed, cs[i].Email))
		}
	}
	hashes = radixSort(hashes)
	for i := 1; i < len(hashes); i++ {
		if hashes[i] == hashes[i-1] && (i == 1 || hashes[i-1] != hashes[i-2]) {
			st.Duplicates++
		}
	}
	return st
}

// Builder converts domain profiles and orders into a Dataset, interning
// category, device and channel names into small codes.
type Builder struct {
	ds       Dataset
	cats     map[string]int
	devices  map[string]uint8
	channels map[string]uint8
	strs     map[string]string // strings shared by decoded customers (codec.go)
}

// NewBuilder returns a Builder for a dataset whose amounts are in currency.
// Orders in another currency are left out and named in Dataset.Problems:
// the core does no currency conversion.
func NewBuilder(currency string) *Builder {
	return &Builder{
		ds:       Dataset{Currency: strings.ToUpper(currency), Devices: []string{""}, Channels: []string{""}},
		cats:     map[string]int{},
		devices:  map[string]uint8{"": 0},
		channels: map[string]uint8{"": 0},
	}
}

// maxProblems bounds Dataset.Problems; the count of the rest is appended.
const maxProblems = 100

func (b *Builder) problem(format string, args ...any) {
	if len(b.ds.Problems) < maxProblems {
		b.ds.Problems = append(b.ds.Problems, fmt.Sprintf(format, args...))
	}
}

// AddOrphans records n orders that could not be matched to any profile.
func (b *Builder) AddOrphans(n int) { b.ds.OrphanOrders += n }

// Add converts one profile and its orders and appends the customer.
func (b *Builder) Add(p *domain.Profile, orders []domain.Order) {
	b.ds.Customers = append(b.ds.Customers, b.Customer(p, orders))
}

// Customer converts one profile and its orders without appending it, for
// incremental rescoring. Orders in another currency are skipped and named
// in the builder's problems.
func (b *Builder) Customer(p *domain.Profile, orders []domain.Order) Customer {
	return b.convert(p, orders, nil)
}

// convert is Customer; with enc set it also records what the encoding of
// the customer needs (see AppendCustomer).
func (b *Builder) convert(p *domain.Profile, orders []domain.Order, enc *encoder) Customer {
	c := Customer{ID: p.ID, Email: domain.NormalizeEmail(p.PrimaryEmail())}
	c.Attrs = attrsOf(p)
	c.Orders = make([]OrderFact, 0, len(orders))
	for i := range orders {
		o := &orders[i]
		cur := o.Total.Currency
		if cur == "" {
			cur = o.Currency
		}
		if b.ds.Currency != "" && cur != "" && !strings.EqualFold(cur, b.ds.Currency) {
			b.leftOut(p.ID, o.Ref.Key(), cur)
			if enc != nil {
				enc.skipped = append(enc.skipped, o.Ref.Key(), cur)
			}
			continue
		}
		t := o.CreatedAt.UTC()
		device, channel := strings.ToLower(o.Device), strings.ToLower(o.Channel)
		f := OrderFact{
			Amount:  o.Total.Amount - o.Refunded.Amount,
			Day:     DayOf(t),
			Year:    uint16(t.Year()),
			Month:   uint8(t.Month()),
			Device:  intern(b.devices, &b.ds.Devices, device),
			Channel: intern(b.channels, &b.ds.Channels, channel),
			Status:  StatusOf(o),
		}
		var eo *encodedOrder
		if enc != nil {
			enc.orders = append(enc.orders, encodedOrder{device: enc.name(device), channel: enc.name(channel)})
			eo = &enc.orders[len(enc.orders)-1]
		}
		for _, li := range o.Items {
			f.Items += int32(li.Quantity)
			if li.Category != "" {
				f.Categories |= 1 << (uint(b.category(li.Category)) % 64)
				if eo != nil {
					eo.cats = append(eo.cats, enc.name(li.Category))
				}
			}
		}
		if eo != nil {
			eo.fact = f
		}
		c.Orders = append(c.Orders, f)
	}
	slices.SortStableFunc(c.Orders, func(a, b OrderFact) int { return int(a.Day) - int(b.Day) })
	return c
}

// category returns the code of a category name, giving it the next one
// the first time it is met.
func (b *Builder) category(name string) int {
	code, ok := b.cats[name]
	if !ok {
		code = len(b.ds.Categories)
		b.cats[name] = code
		b.ds.Categories = append(b.ds.Categories, name)
	}
	return code
}

// leftOut names an order left out for its currency in the problems.
func (b *Builder) leftOut(profile, order, currency string) {
	b.problem("profile %s order %s: currency %s is not the dataset currency %s; left out", profile, order, currency, b.ds.Currency)
}

// Dataset returns the dataset built so far. The builder may go on
// converting customers for Result.Rescore (Builder.Customer), so that their
// codes agree with the run's; names it meets for the first time extend the
// builder's dictionaries, never those of a Result (Run copies them). A
// Builder is not safe for concurrent use.
func (b *Builder) Dataset() *Dataset {
	st := CountEmails(b.ds.Customers)
	b.ds.Emails = &st
	return &b.ds
}

// DatasetOf returns a dataset of the given customers with the builder's
// dictionaries: for a dataset patched from an earlier one, whose
// unchanged customers keep the codes this builder gave them and whose
// changed ones it converts again (Customer). The builder's own customers
// are not touched.
func (b *Builder) DatasetOf(customers []Customer) *Dataset {
	ds := b.ds
	ds.Customers = customers
	st := CountEmails(customers)
	ds.Emails = &st
	return &ds
}

// FromDomain converts one profile and its orders with a throwaway builder;
// convenient for tests and single rescoring. Codes are local to the call, so
// use a shared Builder when category, device or channel names matter.
func FromDomain(p *domain.Profile, orders []domain.Order, currency string) Customer {
	return NewBuilder(currency).Customer(p, orders)
}

func intern(m map[string]uint8, names *[]string, s string) uint8 {
	if c, ok := m[s]; ok {
		return c
	}
	if len(*names) >= MaxCodes {
		if len(*names) == MaxCodes && (*names)[MaxCodes-1] != "other" {
			(*names)[MaxCodes-1] = "other"
		}
		return MaxCodes - 1
	}
	c := uint8(len(*names))
	m[s] = c
	*names = append(*names, s)
	return c
}

func attrsOf(p *domain.Profile) *Attrs {
	a := &Attrs{
		Gender:         strings.ToLower(p.Gender),
		Country:        strings.ToUpper(p.Address.Country),
		Region:         p.Address.Region,
		City:           p.Address.City,
		LifecycleStage: strings.ToLower(p.LifecycleStage),
		Custom:         p.Attributes,
	}
	for _, r := range p.Refs {
		if r.Platform != "" && !slices.Contains(a.Platforms, r.Platform) {
			a.Platforms = append(a.Platforms, r.Platform)
		}
	}
	slices.Sort(a.Platforms)
	if p.Company != nil {
		a.Industry = p.Company.Industry
		a.Employees = p.Company.Employees
		a.CompanyRevenue = p.Company.AnnualRevenue.Float()
		if a.Country == "" {
			a.Country = strings.ToUpper(p.Company.Country)
		}
	}
	if bd, err := time.Parse(time.DateOnly, p.BirthDate); err == nil {
		a.BirthDay, a.HasBirth = DayOf(bd), true
	}
	if !p.CreatedAt.IsZero() {
		a.CreatedDay, a.HasCreated = DayOf(p.CreatedAt), true
	}
	if len(a.Custom) == 0 && a.Gender == "" && a.Country == "" && a.Region == "" && a.City == "" &&
		a.Industry == "" && a.LifecycleStage == "" && a.Employees == 0 && a.CompanyRevenue == 0 &&
		!a.HasBirth && !a.HasCreated && len(a.Platforms) == 0 {
		return nil
	}
	return a
}

// DayOf returns the UTC day number of t (days since 1970-01-01).
func DayOf(t time.Time) int32 {
	s := t.Unix()
	d := s / 86400
	if s%86400 < 0 {
		d--
	}
	return int32(d)
}

// dayTime returns midnight UTC of day d.
func dayTime(d int32) time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// dayString formats day d as YYYY-MM-DD.
func dayString(d int32) string { return dayTime(d).Format(time.DateOnly) }
