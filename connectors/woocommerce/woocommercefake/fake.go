// Package woocommercefake is a faithful in-process WooCommerce REST API
// (wp-json/wc/v3) for tests, the sandbox and the demo, in the manner of
// net/http/httptest.
//
// It implements what the connector relies on, with WooCommerce's own
// paths, parameters, headers and error bodies: customers and orders with
// page/per_page/offset paging (per_page 1..100, X-WP-Total,
// X-WP-TotalPages, Link), orders filtered by modified_after/modified_before
// with dates_are_gmt, status and customer; single GET/PUT; the customers
// batch endpoint with its 100-item limit (413) and per-item errors inside a
// 200; meta_data upsert by key; webhooks with the unsigned ping, signed
// deliveries, no retries and auto-disable after repeated failures.
// Authentication is WooCommerce's: HTTP Basic or query-string keys over
// HTTPS, OAuth 1.0a one-legged over plain HTTP (15-minute window, nonce
// replay rejected), read-only keys refused on writes.
//
// Faults can be injected through the kit the fakes share (plugins/sdk/adapter/fakekit:
// 429/503 with or without Retry-After, HTML pages from a "firewall",
// connection resets before the answer or mid-body, bodies cut short,
// latency), with WordPress's error bodies, besides per-item batch errors; and
// every API call is counted per endpoint. The package has no package-level
// mutable state: many fakes can run in one process. Only the standard
// library and golang.org/x/time/rate (for the optional server-side
// throttle) are used.
package woocommercefake

import (
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter/fakekit"
	"golang.org/x/time/rate"
)

// Permission is what an API key may do.
type Permission string

// Key permissions.
const (
	Read      Permission = "read"
	Write     Permission = "write"
	ReadWrite Permission = "read_write"
)

// Key is a REST API key pair.
type Key struct {
	ConsumerKey    string
	ConsumerSecret string
	Permission     Permission
}

// Options configure a Fake. Zero values have defaults.
type Options struct {
	// Keys are the accepted API keys. Default: one read_write pair
	// ck_test / cs_test.
	Keys []Key
	// AssumeHTTPS makes a plain-HTTP listener behave as if TLS terminated
	// in front of it (a proxy), so Basic and query-string auth work there.
	AssumeHTTPS bool
	// Now is the store clock. Default time.Now.
	Now func() time.Time
	// SiteLocation is the store's timezone for the date_* fields (the
	// *_gmt twins are UTC). Default UTC+2.
	SiteLocation *time.Location
	// BatchLimit is the woocommerce_rest_batch_items_limit. Default 100.
	BatchLimit int
	// WebhookMaxFailures is woocommerce_max_webhook_delivery_failures
	// (default 5): a failed delivery that finds more consecutive failures
	// already counted than this disables the webhook, so with 5 the
	// seventh consecutive failure does (see Trigger).
	WebhookMaxFailures int
	// SiteSalt is the WordPress auth salt that keys wp_hash, from which
	// webhook delivery ids are made. Default: a fixed test salt.
	SiteSalt string
	// Logger receives the fake's own debug logs. Default: discard.
	Logger *slog.Logger
	// WebhookClient sends deliveries and pings. Default: a client with a
	// 60 s timeout that does not follow redirects.
	WebhookClient *http.Client
	// Version is reported in webhook user agents. Default "9.4.0".
	Version string
	// AutoWebhooks makes writes through the REST API (customer updates,
	// batch writes, order updates and deletions) fire the matching
	// customer.* and order.* webhooks shortly after the answer, as
	// WooCommerce does. Seeding through the Go methods fires nothing; use
	// Trigger for that.
	AutoWebhooks bool
}

// Fake is an in-memory WooCommerce store with its REST API.
type Fake struct {
	// Server serves the REST API (Start, StartTLS, URL, Client, Close,
	// Serve, Handler, Wrap).
	*fakekit.Server
	// Faults injects failures (Inject, SetRate, SetLatency, Served).
	*fakekit.Faults

	opts Options
	log  *slog.Logger

	mu         sync.Mutex
	customers  []*Customer // sorted by id
	custByID   map[int]*Customer
	orders     []*orderRec // sorted by id
	orderByID  map[int]*orderRec
	products   map[int]*Product
	webhooks   map[int]*webhookRec
	nextID     int
	nextMetaID int
	nonces     map[string]time.Time
	calls      map[string]int
	limiter    *rate.Limiter
	throttled  int
	itemErrors map[int]apiError
	batchSizes []int
	deliveries []Delivery
	events     []pendingEvent
}

type pendingEvent struct {
	topic string
	id    int
}

func (f *Fake) eventLocked(topic string, id int) {
	if f.opts.AutoWebhooks {
		f.events = append(f.events, pendingEvent{topic, id})
	}
}

type orderRec struct {
	o        Order
	modified time.Time
	created  time.Time
}

// New returns an empty Fake.
func New(opts Options) *Fake {
	if len(opts.Keys) == 0 {
		opts.Keys = []Key{{ConsumerKey: "ck_test", ConsumerSecret: "cs_test", Permission: ReadWrite}}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SiteLocation == nil {
		opts.SiteLocation = time.FixedZone("site", 2*3600)
	}
	if opts.BatchLimit == 0 {
		opts.BatchLimit = 100
	}
	if opts.WebhookMaxFailures == 0 {
		opts.WebhookMaxFailures = 5
	}
	if opts.SiteSalt == "" {
		opts.SiteSalt = "woocommercefake auth salt"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.WebhookClient == nil {
		opts.WebhookClient = &http.Client{
			Timeout:       60 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if opts.Version == "" {
		opts.Version = "9.4.0"
	}
	f := &Fake{
		Faults:     fakekit.NewFaults(platformError, defaultFaults()...),
		opts:       opts,
		log:        opts.Logger,
		custByID:   map[int]*Customer{},
		orderByID:  map[int]*orderRec{},
		webhooks:   map[int]*webhookRec{},
		nextID:     1,
		nextMetaID: 1,
		nonces:     map[string]time.Time{},
		calls:      map[string]int{},
		itemErrors: map[int]apiError{},
	}
	f.Server = fakekit.NewServer(http.HandlerFunc(f.serve))
	return f
}

// SetKeys replaces the accepted API keys, e.g. to revoke a key mid-run (as
// deleting its WordPress user does) or to rotate it.
func (f *Fake) SetKeys(keys ...Key) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.opts.Keys = append([]Key(nil), keys...)
}

// --- clock and dates ---

const wooDate = "2006-01-02T15:04:05"

func (f *Fake) now() time.Time { return f.opts.Now().UTC().Truncate(time.Second) }

// Now is the store clock (Options.Now).
func (f *Fake) Now() time.Time { return f.opts.Now() }

func (f *Fake) dates(t time.Time) (local, gmt string) {
	return t.In(f.opts.SiteLocation).Format(wooDate), t.UTC().Format(wooDate)
}

// --- seeding ---

// AddCustomers stores customers, assigning ids (when zero), dates (when
// empty), role "customer" and meta ids, and returns their ids.
func (f *Fake) AddCustomers(cs ...Customer) []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	ids := make([]int, 0, len(cs))
	for _, c := range cs {
		c := c
		if c.ID == 0 {
			c.ID = f.nextID
		}
		if c.ID >= f.nextID {
			f.nextID = c.ID + 1
		}
		now := f.now()
		if c.DateCreatedGMT == "" {
			c.DateCreated, c.DateCreatedGMT = f.dates(now)
		}
		c.DateModified, c.DateModifiedGMT = f.dates(now)
		if c.Role == "" {
			c.Role = "customer"
		}
		if c.Username == "" {
			c.Username = strings.Split(c.Email, "@")[0]
		}
		if c.MetaData == nil {
			c.MetaData = []Meta{}
		}
		for i := range c.MetaData {
			if c.MetaData[i].ID == 0 {
				c.MetaData[i].ID = f.nextMetaID
				f.nextMetaID++
			}
		}
		cp := c
		if old, ok := f.custByID[c.ID]; ok {
			*old = cp
		} else {
			f.custByID[c.ID] = &cp
			f.customers = append(f.customers, &cp)
			sort.Slice(f.customers, func(i, j int) bool { return f.customers[i].ID < f.customers[j].ID })
		}
		ids = append(ids, c.ID)
	}
	return ids
}

// AddOrders stores orders, assigning ids, numbers, dates (created and
// modified now, unless DateCreatedGMT is given) and defaults (status
// processing, currency USD, created_via checkout), and returns their ids.
func (f *Fake) AddOrders(os ...Order) []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	ids := make([]int, 0, len(os))
	for _, o := range os {
		if o.ID == 0 {
			o.ID = f.nextID
		}
		if o.ID >= f.nextID {
			f.nextID = o.ID + 1
		}
		now := f.now()
		created := now
		if o.DateCreatedGMT == "" {
			o.DateCreated, o.DateCreatedGMT = f.dates(now)
		} else if t, err := time.Parse(wooDate, o.DateCreatedGMT); err == nil {
			created = t
			if o.DateCreated == "" {
				o.DateCreated, _ = f.dates(t)
			}
		}
		o.DateModified, o.DateModifiedGMT = f.dates(now)
		if o.Number == "" {
			o.Number = fmt.Sprint(o.ID)
		}
		if o.Status == "" {
			o.Status = "processing"
		}
		if o.Currency == "" {
			o.Currency = "USD"
		}
		if o.CreatedVia == "" {
			o.CreatedVia = "checkout"
		}
		if o.Version == "" {
			o.Version = f.opts.Version
		}
		if o.OrderKey == "" {
			o.OrderKey = fmt.Sprintf("wc_order_%010d", o.ID)
		}
		for _, z := range []*string{&o.DiscountTotal, &o.DiscountTax, &o.ShippingTotal, &o.ShippingTax, &o.CartTax, &o.TotalTax} {
			if *z == "" {
				*z = "0.00"
			}
		}
		if o.MetaData == nil {
			o.MetaData = []Meta{}
		}
		if o.LineItems == nil {
			o.LineItems = []LineItem{}
		}
		lineItemMeta(o.LineItems)
		if o.Refunds == nil {
			o.Refunds = []Refund{}
		}
		rec := &orderRec{o: o, modified: now, created: created}
		if _, ok := f.orderByID[o.ID]; ok {
			*f.orderByID[o.ID] = *rec
		} else {
			f.orderByID[o.ID] = rec
			f.orders = append(f.orders, rec)
			if n := len(f.orders); n > 1 && f.orders[n-2].o.ID > o.ID {
				sort.Slice(f.orders, func(i, j int) bool { return f.orders[i].o.ID < f.orders[j].o.ID })
			}
		}
		ids = append(ids, o.ID)
	}
	return ids
}

// lineItemMeta gives line items without meta an empty list: WooCommerce
// renders a line item's meta_data as [] when it has none, never null.
func lineItemMeta(items []LineItem) {
	for i := range items {
		if items[i].MetaData == nil {
			items[i].MetaData = []Meta{}
		}
	}
}

// UpdateOrder changes an order in place as the store would (an admin
// edit, a payment, a refund) and bumps its modified date. It reports
// whether the order exists.
func (f *Fake) UpdateOrder(id int, change func(*Order)) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	rec, ok := f.orderByID[id]
	if !ok {
		return false
	}
	change(&rec.o)
	lineItemMeta(rec.o.LineItems)
	rec.modified = f.now()
	rec.o.DateModified, rec.o.DateModifiedGMT = f.dates(rec.modified)
	return true
}

// UpdateCustomer changes a customer in place and bumps its modified date.
func (f *Fake) UpdateCustomer(id int, change func(*Customer)) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.custByID[id]
	if !ok {
		return false
	}
	change(c)
	c.DateModified, c.DateModifiedGMT = f.dates(f.now())
	return true
}

// DeleteOrder removes an order for good (as DELETE ?force=true does).
func (f *Fake) DeleteOrder(id int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.deleteOrderLocked(id)
}

func (f *Fake) deleteOrderLocked(id int) bool {
	if _, ok := f.orderByID[id]; !ok {
		return false
	}
	delete(f.orderByID, id)
	i := sort.Search(len(f.orders), func(i int) bool { return f.orders[i].o.ID >= id })
	f.orders = append(f.orders[:i], f.orders[i+1:]...)
	return true
}

// DeleteCustomer removes a customer.
func (f *Fake) DeleteCustomer(id int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.deleteCustomerLocked(id)
}

func (f *Fake) deleteCustomerLocked(id int) bool {
	if _, ok := f.custByID[id]; !ok {
		return false
	}
	delete(f.custByID, id)
	i := sort.Search(len(f.customers), func(i int) bool { return f.customers[i].ID >= id })
	f.customers = append(f.customers[:i], f.customers[i+1:]...)
	return true
}

// --- inspection ---

// Customer returns a copy of a customer.
func (f *Fake) Customer(id int) (Customer, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.custByID[id]
	if !ok {
		return Customer{}, false
	}
	cp := *c
	cp.MetaData = append([]Meta(nil), c.MetaData...)
	return cp, true
}

// CustomerMeta returns a customer's meta values by key (the first entry
// per key, as get_meta does).
func (f *Fake) CustomerMeta(id int) map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.custByID[id]
	if !ok {
		return nil
	}
	m := map[string]any{}
	for _, e := range c.MetaData {
		if _, seen := m[e.Key]; !seen {
			m[e.Key] = e.Value
		}
	}
	return m
}

// Order returns a copy of an order.
func (f *Fake) Order(id int) (Order, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.orderByID[id]
	if !ok {
		return Order{}, false
	}
	return r.o, true
}

// OrderIDs lists every order id (trash included), ascending.
func (f *Fake) OrderIDs() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	ids := make([]int, len(f.orders))
	for i, r := range f.orders {
		ids[i] = r.o.ID
	}
	return ids
}

// CustomerIDs lists every customer id, ascending.
func (f *Fake) CustomerIDs() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	ids := make([]int, len(f.customers))
	for i, c := range f.customers {
		ids[i] = c.ID
	}
	return ids
}

// Calls returns how many API requests each endpoint received, keyed like
// "GET /orders" or "POST /customers/batch" (ids replaced by {id}); faulted
// and throttled requests count too.
func (f *Fake) Calls() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := make(map[string]int, len(f.calls))
	for k, v := range f.calls {
		m[k] = v
	}
	return m
}

// TotalCalls is the sum of Calls.
func (f *Fake) TotalCalls() int {
	n := 0
	for _, v := range f.Calls() {
		n += v
	}
	return n
}

// ResetCalls zeroes the call counters, the throttle count and the batch
// size log.
func (f *Fake) ResetCalls() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = map[string]int{}
	f.throttled = 0
	f.batchSizes = nil
}

// BatchSizes lists the item count of every accepted customers/batch call.
func (f *Fake) BatchSizes() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int(nil), f.batchSizes...)
}
