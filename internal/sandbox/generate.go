package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/segconn/connector/plugins/sdk/domain"
)

// Platform names, as the connectors name themselves.
const (
	HubSpot     = "hubspot"
	Salesforce  = "salesforce"
	WooCommerce = "woocommerce"
)

// Kind is what a generated person is to the business.
type Kind string

// Kinds of people.
const (
	KindBuyer    Kind = "buyer"    // has bought at least once
	KindLead     Kind = "lead"     // known, never bought, no deal
	KindProspect Kind = "prospect" // has an open deal, has not bought
)

// Params are the model's parameters. Rates are per year, amounts in major
// units of the currency. Zero fields take DefaultParams' values.
type Params struct {
	// Purchase rate while alive: λ ~ Gamma(shape R, rate Alpha).
	R, Alpha float64
	// Dropout rate: μ ~ Gamma(shape S, rate Beta); lifetime ~ Exponential(μ).
	S, Beta float64
	// Gamma-Gamma spend: per-customer ν ~ Gamma(Q, Gamma), each order's
	// value ~ Gamma(P, ν), so a customer's mean order is P/ν.
	P, Q, Gamma float64
	// Shares of people; prospects are the rest.
	BuyerShare, LeadShare float64
	// Shares of buyers.
	SeasonalShare, BulkShare, GuestShare float64
	// Presence on each CRM by kind (buyer, lead, prospect).
	HubSpotShare, SalesforceShare [3]float64
	// WooLeadShare is the share of leads with a WooCommerce account but no order.
	WooLeadShare float64
	// CompanyShare is the share of non-prospects working for a company.
	CompanyShare float64
}

// DefaultParams describe a small online shop with some B2B sales: about
// 60% of people in WooCommerce, 50% in HubSpot, 40% in Salesforce.
func DefaultParams() Params {
	return Params{
		R: 1.5, Alpha: 0.6, // mean 2.5 purchases a year while alive
		S: 1.0, Beta: 2.0, // mean dropout 0.5/year
		P: 6, Q: 4, Gamma: 45, // mean order value about 90
		BuyerShare: 0.62, LeadShare: 0.25,
		SeasonalShare: 0.10, BulkShare: 0.06, GuestShare: 0.10,
		HubSpotShare:    [3]float64{0.45, 0.60, 0.65},
		SalesforceShare: [3]float64{0.30, 0.50, 0.65},
		WooLeadShare:    0.08,
		CompanyShare:    0.30,
	}
}

func (p Params) withDefaults() Params {
	d := DefaultParams()
	fill := func(v *float64, def float64) {
		if *v == 0 {
			*v = def
		}
	}
	fill(&p.R, d.R)
	fill(&p.Alpha, d.Alpha)
	fill(&p.S, d.S)
	fill(&p.Beta, d.Beta)
	fill(&p.P, d.P)
	fill(&p.Q, d.Q)
	fill(&p.Gamma, d.Gamma)
	fill(&p.BuyerShare, d.BuyerShare)
	fill(&p.LeadShare, d.LeadShare)
	fill(&p.SeasonalShare, d.SeasonalShare)
	fill(&p.BulkShare, d.BulkShare)
	fill(&p.GuestShare, d.GuestShare)
	fill(&p.WooLeadShare, d.WooLeadShare)
	fill(&p.CompanyShare, d.CompanyShare)
	if p.HubSpotShare == [3]float64{} {
		p.HubSpotShare = d.HubSpotShare
	}
	if p.SalesforceShare == [3]float64{} {
		p.SalesforceShare = d.SalesforceShare
	}
	return p
}

// GenOptions configure Generate.
type GenOptions struct {
	Seed      uint64
	Customers int       // people to generate; default 1000
	AsOf      time.Time // the present; required (the generator reads no clock)
	Years     int       // history before AsOf; default 3
	Currency  string    // ISO 4217; default USD
	Params    Params
}

// Person is the generator's ground truth about one real person, before
// any platform saw them. Tests and the demo compare what the connector
// reconstructs against it.
type Person struct {
	Key        string            `json:"key"` // "p00001"
	Kind       Kind              `json:"kind"`
	Email      string            `json:"email"` // canonical, lower case
	FirstName  string            `json:"first_name"`
	LastName   string            `json:"last_name"`
	Gender     string            `json:"gender,omitempty"`
	BirthDate  string            `json:"birth_date,omitempty"`
	Phone      string            `json:"phone"` // E.164
	Address    domain.Address    `json:"address"`
	Company    int               `json:"company"` // index into Dataset.Companies, -1 for none
	Device     string            `json:"device"`  // preferred device: mobile, desktop, tablet
	Channel    string            `json:"channel"` // preferred channel: checkout, pos, admin
	Attributes map[string]string `json:"attributes,omitempty"`

	Lambda     float64   `json:"lambda"` // purchases per year while alive
	Mu         float64   `json:"mu"`     // dropout rate per year
	AcquiredAt time.Time `json:"acquired_at"`
	// ChurnedAt is when the person stopped buying; zero if still alive at AsOf.
	ChurnedAt time.Time `json:"churned_at,omitzero"`
	Seasonal  string    `json:"seasonal,omitempty"` // season name for seasonal buyers
	Bulk      bool      `json:"bulk,omitempty"`
	Purchases int       `json:"purchases"` // web orders generated (any status)

	InWooCommerce bool `json:"in_woocommerce"`
	WooGuest      bool `json:"woo_guest,omitempty"` // only guest orders, no account
	InHubSpot     bool `json:"in_hubspot"`
	InSalesforce  bool `json:"in_salesforce"`
	// Shops are the WooCommerce shops (0 the first) the person has an
	// account or orders in, when the sandbox runs several.
	Shops []int `json:"shops,omitempty"`
}

// Churned reports whether the person had stopped buying by AsOf.
func (p *Person) Churned() bool { return !p.ChurnedAt.IsZero() }

// Records are what one platform holds, as the platform's connector maps
// them to domain types. Ref ids are the ids the sandbox seeds the fake
// with (Salesforce assigns its own; see Sandbox.SalesforceID).
type Records struct {
	Contacts  []domain.Contact `json:"contacts"`
	Companies []domain.Company `json:"companies"`
	// Orders are purchases (WooCommerce orders, closed-won deals and
	// opportunities) and open or lost deals (StatusOpen, StatusLost).
	Orders []domain.Order `json:"orders"`
}

// Dataset is a generated business.
type Dataset struct {
	Seed      uint64           `json:"seed"`
	AsOf      time.Time        `json:"as_of"`
	Currency  string           `json:"currency"`
	People    []Person         `json:"people"`
	Companies []domain.Company `json:"companies"` // ground truth firmographics

	WooCommerce Records `json:"woocommerce"`
	HubSpot     Records `json:"hubspot"`
	Salesforce  Records `json:"salesforce"`

	// Woo carries WooCommerce-only details the domain types do not hold
	// (user agents, attribution), keyed by order id.
	WooOrderDetails map[string]WooDetails `json:"woo_order_details"`

	// MoreShops are the WooCommerce shops beyond the first (WooCommerce)
	// when the sandbox runs several; see ShopName.
	MoreShops []Shop `json:"more_shops,omitempty"`
}

// WooDetails are the raw WooCommerce fields of one order.
type WooDetails struct {
	UserAgent  string `json:"user_agent"`
	SourceType string `json:"source_type"` // _wc_order_attribution_source_type
}

// Hash returns a SHA-256 over the whole dataset; equal seeds and options
// give equal hashes.
func (d *Dataset) Hash() string {
	b, err := json.Marshal(d)
	if err != nil {
		panic("sandbox: encoding dataset: " + err.Error()) // plain data: cannot fail
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Id bases per platform, so ids read as what they are.
const (
	wooCustomerBase = 1
	wooOrderBase    = 100000
	hsContactBase   = 1000
	hsCompanyBase   = 5000000
	hsDealBase      = 9000000
	sfAccountBase   = 1
	sfContactBase   = 1
	sfOppBase       = 1
)

// sfID makes a Salesforce-shaped placeholder id (prefix + counter); the
// fake assigns its own on insert.
func sfID(prefix string, n int) string { return fmt.Sprintf("%s%012dSBX", prefix, n) }

type gen struct {
	opts   GenOptions
	p      Params
	rng    *rand.Rand
	src    rand.Source
	start  time.Time
	emails map[string]bool
	ds     *Dataset
	cw     []float64 // cumulative country weights
	// per-platform counters
	wooCust, wooOrder, hsContact, hsDeal, sfContact, sfLead, sfOpp int
	hsCompanyOf, sfAccountOf                                       map[int]string
	fold                                                           *strings.Replacer
}

// Generate builds a dataset. The same options give the same dataset.
func Generate(opts GenOptions) (*Dataset, error) {
	if opts.AsOf.IsZero() {
		return nil, errors.New("generating sandbox data: AsOf is required")
	}
	if opts.Customers < 0 {
		return nil, fmt.Errorf("generating sandbox data: customers must not be negative, got %d", opts.Customers)
	}
	if opts.Customers == 0 {
		opts.Customers = 1000
	}
	if opts.Years <= 0 {
		opts.Years = 3
	}
	if opts.Currency == "" {
		opts.Currency = "USD"
	}
	opts.AsOf = opts.AsOf.UTC().Truncate(time.Second)
	src := rand.NewPCG(opts.Seed, 0x5e9c0_11)
	g := &gen{
		opts: opts, p: opts.Params.withDefaults(), src: src, rng: rand.New(src),
		start:  opts.AsOf.AddDate(-opts.Years, 0, 0),
		emails: map[string]bool{},
		ds: &Dataset{Seed: opts.Seed, AsOf: opts.AsOf, Currency: strings.ToUpper(opts.Currency),
			WooOrderDetails: map[string]WooDetails{}},
		hsCompanyOf: map[int]string{}, sfAccountOf: map[int]string{},
		// The few non-ASCII letters of the word lists, for email addresses.
		fold: strings.NewReplacer("ü", "ue", "ö", "oe", "ä", "ae", "é", "e", "á", "a", "ß", "ss"),
	}
	total := 0.0
	for _, c := range countries {
		total += c.weight
		g.cw = append(g.cw, total)
	}
	g.companies(max(3, opts.Customers/12))
	for i := range opts.Customers {
		g.person(i)
	}
	return g.ds, nil
}

func (g *gen) chance(p float64) bool { return g.rng.Float64() < p }

func pick[T any](g *gen, xs []T) T { return xs[g.rng.IntN(len(xs))] }

func (g *gen) gamma(shape, rate float64) float64 {
	return distuv.Gamma{Alpha: shape, Beta: rate, Src: g.src}.Rand()
}

func (g *gen) country() country {
	x := g.rng.Float64() * g.cw[len(g.cw)-1]
	i, _ := slices.BinarySearch(g.cw, x)
	return countries[min(i, len(countries)-1)]
}

// at returns a time uniformly between a and b, truncated to the second.
func (g *gen) at(a, b time.Time) time.Time {
	if !b.After(a) {
		return a.Truncate(time.Second)
	}
	return a.Add(time.Duration(g.rng.Int64N(int64(b.Sub(a))))).Truncate(time.Second)
}

func (g *gen) money(minor int64) domain.Money {
	return domain.Money{Amount: minor, Currency: g.ds.Currency}
}

func (g *gen) companies(n int) {
	used := map[string]bool{}
	for i := range n {
		name := ""
		for name == "" || used[name] {
			name = pick(g, companyWords1) + " " + pick(g, companyWords2)
			if used[name] {
				name += " " + strconv.Itoa(i)
			}
		}
		used[name] = true
		c := g.country()
		// Employees: log-normal around 25, revenue ~ 120k per head with noise.
		emp := int64(math.Max(1, math.Round(math.Exp(3.2+1.3*g.rng.NormFloat64()))))
		rev := int64(float64(emp) * 120000 * math.Exp(0.5*g.rng.NormFloat64()))
		domainName := strings.ToLower(strings.ReplaceAll(name, " ", "")) + "." + strings.ToLower(map[bool]string{true: "com", false: c.code}[c.code == "US"])
		g.ds.Companies = append(g.ds.Companies, domain.Company{
			Name: name + " " + pick(g, companySuffixes), Domain: domainName, Industry: pick(g, industries),
			Employees: emp, AnnualRevenue: g.money(rev / 1000 * 1000 * 100), Country: c.code,
			UpdatedAt: g.at(g.start, g.opts.AsOf),
		})
	}
}

func (g *gen) email(first, last, dom string) string {
	base := strings.ToLower(g.fold.Replace(first) + "." + strings.ReplaceAll(g.fold.Replace(last), " ", ""))
	base = strings.ReplaceAll(base, "'", "")
	e := base + "@" + dom
	for n := 2; g.emails[e]; n++ {
		e = base + strconv.Itoa(n) + "@" + dom
	}
	g.emails[e] = true
	return e
}

// caseVariant renders an email the way a platform's users typed it.
func caseVariant(e string, style int) string {
	switch style {
	case 1: // Title.Case@Domain.com
		local, dom, _ := strings.Cut(e, "@")
		parts := strings.Split(local, ".")
		for i, p := range parts {
			if p != "" {
				parts[i] = strings.ToUpper(p[:1]) + p[1:]
			}
		}
		return strings.Join(parts, ".") + "@" + strings.ToUpper(dom[:1]) + dom[1:]
	case 2:
		return strings.ToUpper(e)
	default:
		return e
	}
}

// styleOf draws a casing style from weights for lower, title and upper.
func (g *gen) styleOf(lower, title float64) int {
	x := g.rng.Float64()
	switch {
	case x < lower:
		return 0
	case x < lower+title:
		return 1
	default:
		return 2
	}
}

func (g *gen) person(i int) {
	p := g.p
	asOf := g.opts.AsOf
	per := Person{Key: fmt.Sprintf("p%05d", i+1), Company: -1, Attributes: map[string]string{}}
	switch x := g.rng.Float64(); {
	case x < p.BuyerShare:
		per.Kind = KindBuyer
	case x < p.BuyerShare+p.LeadShare:
		per.Kind = KindLead
	default:
		per.Kind = KindProspect
	}
	switch x := g.rng.Float64(); {
	case x < 0.49:
		per.Gender, per.FirstName = "female", pick(g, femaleNames)
	case x < 0.96:
		per.Gender, per.FirstName = "male", pick(g, maleNames)
	case x < 0.98:
		per.Gender, per.FirstName = "nonbinary", pick(g, append(femaleNames[:4:4], maleNames[:4]...))
	default:
		per.FirstName = pick(g, append(femaleNames[:4:4], maleNames[:4]...))
	}
	per.LastName = pick(g, lastNames)
	if g.chance(0.85) {
		age := 18 + int(math.Min(62, math.Abs(g.rng.NormFloat64()*14+22)))
		bd := asOf.AddDate(-age, 0, -g.rng.IntN(365))
		per.BirthDate = bd.Format("2006-01-02")
	}
	companyShare := p.CompanyShare
	if per.Kind == KindProspect {
		companyShare = 0.9
	}
	var c country
	if g.chance(companyShare) {
		// A few companies employ many of the people: square the draw.
		u := g.rng.Float64()
		per.Company = int(u * u * float64(len(g.ds.Companies)))
		co := g.ds.Companies[per.Company]
		for _, cc := range countries {
			if cc.code == co.Country {
				c = cc
			}
		}
		per.Email = g.email(per.FirstName, per.LastName, co.Domain)
	} else {
		c = g.country()
		per.Email = g.email(per.FirstName, per.LastName, pick(g, personalDomains))
	}
	ci := g.rng.IntN(len(c.cities))
	per.Address = domain.Address{
		Line1: fmt.Sprintf("%d %s", 1+g.rng.IntN(240), pick(g, streets)), City: c.cities[ci], Region: c.regions[ci],
		PostalCode: fmt.Sprintf("%05d", g.rng.IntN(99999)), Country: c.code,
	}
	per.Phone = fmt.Sprintf("%s%d%08d", c.phone, 2+g.rng.IntN(7), g.rng.IntN(100000000))
	switch x := g.rng.Float64(); {
	case x < 0.55:
		per.Device = "mobile"
	case x < 0.90:
		per.Device = "desktop"
	default:
		per.Device = "tablet"
	}
	switch x := g.rng.Float64(); {
	case x < 0.85:
		per.Channel = "checkout"
	case x < 0.95:
		per.Channel = "pos"
	default:
		per.Channel = "admin"
	}
	per.Attributes["interest"] = pick(g, interests)
	per.Attributes["acquisition_source"] = pick(g, acquisitionSources)
	per.Attributes["newsletter"] = strconv.FormatBool(g.chance(0.55))
	if g.chance(0.3) {
		per.Attributes["loyalty_member"] = "true"
	}

	// Platform presence.
	k := map[Kind]int{KindBuyer: 0, KindLead: 1, KindProspect: 2}[per.Kind]
	per.InHubSpot = g.chance(p.HubSpotShare[k])
	per.InSalesforce = g.chance(p.SalesforceShare[k])
	switch per.Kind {
	case KindBuyer:
		per.InWooCommerce = true
		per.WooGuest = g.chance(p.GuestShare)
	case KindLead:
		per.InWooCommerce = g.chance(p.WooLeadShare)
		if !per.InHubSpot && !per.InSalesforce && !per.InWooCommerce {
			per.InHubSpot = true
		}
	case KindProspect:
		if !per.InHubSpot && !per.InSalesforce {
			per.InSalesforce = true
		}
	}

	// The buying process.
	var orders []domain.Order
	switch per.Kind {
	case KindBuyer:
		per.Lambda = g.gamma(p.R, p.Alpha)
		per.Mu = g.gamma(p.S, p.Beta)
		nu := g.gamma(p.Q, p.Gamma)
		per.Bulk = g.chance(p.BulkShare)
		if g.chance(p.SeasonalShare) {
			s := pick(g, seasons)
			per.Seasonal = s.name
		}
		orders = g.purchases(&per, nu)
		per.Purchases = len(orders)
	case KindLead:
		per.AcquiredAt = g.at(g.start, asOf)
	case KindProspect:
		per.AcquiredAt = g.at(asOf.AddDate(0, -6, 0), asOf)
	}
	g.ds.People = append(g.ds.People, per)
	g.place(&g.ds.People[len(g.ds.People)-1], orders)
}

// purchases simulates one buyer's orders (without refs): Poisson purchases
// at rate λ from acquisition until death at an exponential lifetime, or,
// for seasonal buyers, one to three orders in the season of each year
// they are alive.
func (g *gen) purchases(per *Person, nu float64) []domain.Order {
	asOf := g.opts.AsOf
	var times []time.Time
	if per.Seasonal != "" {
		var s season
		for _, x := range seasons {
			if x.name == per.Seasonal {
				s = x
			}
		}
		// Acquisition falls in a season window within the history.
		var windows [][2]time.Time
		for y := g.start.Year(); y <= asOf.Year(); y++ {
			a := time.Date(y, time.Month(s.months[0]), 1, 0, 0, 0, 0, time.UTC)
			b := time.Date(y, time.Month(s.months[len(s.months)-1])+1, 1, 0, 0, 0, 0, time.UTC)
			if b.After(asOf) {
				b = asOf
			}
			if a.Before(g.start) {
				a = g.start
			}
			if b.After(a) {
				windows = append(windows, [2]time.Time{a, b})
			}
		}
		w0 := g.rng.IntN(len(windows))
		per.AcquiredAt = g.at(windows[w0][0], windows[w0][1])
		end := per.AcquiredAt.Add(g.lifetime(per.Mu))
		times = append(times, per.AcquiredAt)
		for _, w := range windows[w0+1:] {
			if w[0].After(end) {
				break
			}
			for range 1 + g.rng.IntN(3) {
				if t := g.at(w[0], w[1]); t.Before(end) {
					times = append(times, t)
				}
			}
		}
		if end.Before(asOf) {
			per.ChurnedAt = end.Truncate(time.Second)
		}
	} else {
		per.AcquiredAt = g.at(g.start, asOf.Add(-24*time.Hour))
		end := per.AcquiredAt.Add(g.lifetime(per.Mu))
		if end.Before(asOf) {
			per.ChurnedAt = end.Truncate(time.Second)
		} else {
			end = asOf
		}
		times = append(times, per.AcquiredAt)
		for t := per.AcquiredAt; len(times) < 200; {
			// The gap is drawn in float hours and compared with what is
			// left before converting: a slow buyer's gap can be
			// centuries, beyond what a time.Duration holds.
			gap := g.rng.ExpFloat64() / per.Lambda * 365.25 * 24
			if gap >= end.Sub(t).Hours() {
				break
			}
			t = t.Add(time.Duration(gap * float64(time.Hour)))
			times = append(times, t.Truncate(time.Second))
		}
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	out := make([]domain.Order, 0, len(times))
	for _, t := range times {
		out = append(out, g.order(per, t, nu))
	}
	return out
}

func (g *gen) lifetime(mu float64) time.Duration {
	years := g.rng.ExpFloat64() / mu
	return time.Duration(math.Min(years, 50) * 365.25 * 24 * float64(time.Hour))
}

// order builds one web order at t worth about a Gamma(P, ν) draw.
func (g *gen) order(per *Person, t time.Time, nu float64) domain.Order {
	target := int64(g.gamma(g.p.P, nu) * 100)
	var items []domain.LineItem
	var total int64
	if per.Bulk {
		for range 1 + g.rng.IntN(3) {
			pr := catalog[g.rng.IntN(len(catalog))]
			q := int64(10 + g.rng.IntN(41))
			items = append(items, domain.LineItem{SKU: pr.sku, Name: pr.name, Category: pr.category, Quantity: q, UnitPrice: g.money(pr.price)})
			total += q * pr.price
		}
	} else {
		for len(items) == 0 || (total < target*85/100 && len(items) < 12) {
			pr := catalog[g.rng.IntN(len(catalog))]
			q := int64(1)
			if g.chance(0.2) {
				q = 2
			}
			if j := slices.IndexFunc(items, func(l domain.LineItem) bool { return l.SKU == pr.sku }); j >= 0 {
				items[j].Quantity += q
			} else {
				items = append(items, domain.LineItem{SKU: pr.sku, Name: pr.name, Category: pr.category, Quantity: q, UnitPrice: g.money(pr.price)})
			}
			total += q * pr.price
		}
	}
	o := domain.Order{CreatedAt: t, Currency: g.ds.Currency, Total: g.money(total), Items: items,
		Channel: per.Channel, Device: per.Device}
	if g.chance(0.2) {
		o.Device = pick(g, []string{"mobile", "desktop", "tablet"})
	}
	if g.chance(0.1) {
		o.Channel = "checkout"
	}
	age := g.opts.AsOf.Sub(t)
	switch x := g.rng.Float64(); {
	case age < 72*time.Hour && x < 0.6:
		o.Status, o.RawStatus = domain.StatusProcessing, "processing"
	case age < 72*time.Hour && x < 0.7:
		o.Status, o.RawStatus = domain.StatusPending, "pending"
	case age < 72*time.Hour && x < 0.75:
		o.Status, o.RawStatus = domain.StatusOnHold, "on-hold"
	case x < 0.88:
		o.Status, o.RawStatus = domain.StatusCompleted, "completed"
	case x < 0.91:
		o.Status, o.RawStatus = domain.StatusRefunded, "refunded"
		o.Refunded = o.Total
	case x < 0.94:
		o.Status, o.RawStatus = domain.StatusCancelled, "cancelled"
	case x < 0.96:
		o.Status, o.RawStatus = domain.StatusFailed, "failed"
	default:
		o.Status, o.RawStatus = domain.StatusCompleted, "completed"
		o.Refunded = g.money(items[0].UnitPrice.Amount) // one item returned
	}
	done := t.Add(time.Duration(1+g.rng.IntN(96)) * time.Hour)
	if done.After(g.opts.AsOf) {
		done = g.opts.AsOf
	}
	o.UpdatedAt = done
	return o
}
