package sandbox

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/segconn/connector/connectors/hubspot/hubspotfake"
	"github.com/segconn/connector/connectors/salesforce/salesforcefake"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// Change is one change the firer made in a fake and the webhook request
// the fake sent about it.
type Change struct {
	Platform string
	Object   string // "order", "contact"
	ID       string // the record's id in the fake
	// Status is the target's HTTP answer to the (last) delivery attempt;
	// 0 when no request got an answer.
	Status int
	// Delivered is true when the fake saw a 2xx (and, for Salesforce, an Ack).
	Delivered bool
}

// FireReport counts what FireWebhooks did per platform.
type FireReport struct {
	Changes   map[string]int // changes made
	Delivered map[string]int // webhook deliveries acknowledged
	Failed    map[string]int // deliveries the fake gave up on
}

type firer struct {
	s         *Sandbox
	mu        sync.Mutex
	rng       *rand.Rand
	nextOrder int
	wooHooks  map[string]bool // delivery URLs registered in the WooCommerce fake
	sfIDs     []string        // Salesforce Contact ids
	byEmail   map[string]*Person
	order     map[string][]int // platform → a shuffled order of its records and, last, the next position (next)
}

func newFirer(s *Sandbox) *firer {
	f := &firer{s: s, rng: rand.New(rand.NewPCG(s.seed, 0xf1e)), wooHooks: map[string]bool{}, nextOrder: wooOrderBase + 1_000_000,
		byEmail: map[string]*Person{}}
	for i := range s.Data.People {
		f.byEmail[s.Data.People[i].Email] = &s.Data.People[i]
	}
	for _, c := range s.Data.Salesforce.Contacts {
		if c.Ref.ObjectType == domain.ObjectContact {
			f.sfIDs = append(f.sfIDs, s.sfIDs[c.Ref.ID])
		}
	}
	return f
}

// FireWebhooks makes n changes (0: until ctx ends) at perSecond, spread
// round-robin over the platforms named in targets (platform → the URL its
// webhooks go to), and lets each fake deliver its own signed webhook:
// WooCommerce a new order (topic order.created, registered on the first
// call for that URL), HubSpot a contact property change (v3 signature
// with the app's client secret), Salesforce a Contact update sent as an
// Outbound Message. Deliveries run concurrently, so a slow target does not
// lower the rate. It returns when every delivery finished.
func (s *Sandbox) FireWebhooks(ctx context.Context, targets map[string]string, perSecond float64, n int) (FireReport, error) {
	rep := FireReport{Changes: map[string]int{}, Delivered: map[string]int{}, Failed: map[string]int{}}
	var active []string
	for _, p := range s.names {
		if targets[p] != "" {
			active = append(active, p)
		}
	}
	for p := range targets {
		if !slices.Contains(s.names, p) {
			return rep, fmt.Errorf("firing sandbox webhooks: unknown platform %q", p)
		}
	}
	if len(active) == 0 {
		return rep, errors.New("firing sandbox webhooks: no target URL")
	}
	if perSecond <= 0 {
		return rep, fmt.Errorf("firing sandbox webhooks: rate must be positive, got %g", perSecond)
	}
	lim := rate.NewLimiter(rate.Limit(perSecond), 1)
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		errs []error
		sem  = make(chan struct{}, 64)
	)
	for i := 0; n <= 0 || i < n; i++ {
		if err := lim.Wait(ctx); err != nil {
			break // ctx ended
		}
		p := active[i%len(active)]
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			ch, err := s.Fire(ctx, p, targets[p])
			mu.Lock()
			defer mu.Unlock()
			rep.Changes[p]++
			switch {
			case err != nil:
				if ctx.Err() == nil {
					errs = append(errs, err)
				}
			case ch.Delivered:
				rep.Delivered[p]++
			default:
				rep.Failed[p]++
			}
		}()
	}
	wg.Wait()
	return rep, errors.Join(errs...)
}

// Targets returns the per-platform webhook URLs under one base URL, the
// layout `connector sandbox --webhook-target` uses: base/hubspot,
// base/woocommerce (and base/woocommerce-2, … for further shops) and
// base/salesforce/<path secret> (the Salesforce connector authenticates
// Outbound Messages by that last path segment).
func (s *Sandbox) Targets(base string) map[string]string {
	base = strings.TrimRight(base, "/")
	out := map[string]string{
		HubSpot:    base + "/" + HubSpot,
		Salesforce: base + "/" + Salesforce + "/" + s.endpoints[Salesforce].Credentials["webhook_path_secret"],
	}
	for name := range s.Shops {
		out[name] = base + "/" + name
	}
	return out
}

// Fire makes one change on a platform and has its fake send the webhook
// to target.
func (s *Sandbox) Fire(ctx context.Context, platform, target string) (Change, error) {
	if s.Shops[platform] != nil {
		return s.fireWoo(ctx, platform, target)
	}
	switch platform {
	case HubSpot:
		return s.fireHubSpot(ctx, target)
	case Salesforce:
		return s.fireSalesforce(ctx, target)
	}
	return Change{}, fmt.Errorf("firing sandbox webhook: unknown platform %q", platform)
}

// NewWooOrder adds a completed order of the given items for a WooCommerce
// customer (0 for a guest with billingEmail) as a shopper would, without
// sending a webhook, and returns its id.
func (s *Sandbox) NewWooOrder(customerID int, billingEmail string, items []domain.LineItem, device string) int {
	return s.NewShopOrder(WooCommerce, customerID, billingEmail, items, device)
}

// NewShopOrder is NewWooOrder in the named shop (ShopName).
func (s *Sandbox) NewShopOrder(shop string, customerID int, billingEmail string, items []domain.LineItem, device string) int {
	fake := s.Shops[shop]
	if fake == nil {
		panic("sandbox: no shop " + shop) // a programming error in a test
	}
	details := s.Data.WooOrderDetails
	for i := range s.Data.MoreShops {
		if shop == ShopName(i+1) {
			details = s.Data.MoreShops[i].OrderDetails
		}
	}
	f := s.fire
	f.mu.Lock()
	f.nextOrder++
	id := f.nextOrder
	f.mu.Unlock()
	var total int64
	for _, it := range items {
		total += it.Quantity * it.UnitPrice.Amount
	}
	now := s.now().UTC().Truncate(time.Second)
	o := domain.Order{
		Ref: domain.ExternalRef{Platform: shop, ObjectType: domain.ObjectOrder, ID: strconv.Itoa(id)}, CreatedAt: now,
		UpdatedAt: now, Status: domain.StatusCompleted, RawStatus: "completed", Currency: s.Data.Currency,
		Total: domain.Money{Amount: total, Currency: s.Data.Currency}, Items: items, Channel: "checkout",
		Device: device, BillingEmail: billingEmail,
	}
	if customerID > 0 {
		o.CustomerRef = domain.ExternalRef{Platform: shop, ObjectType: domain.ObjectContact, ID: strconv.Itoa(customerID)}
		if c, ok := fake.Customer(customerID); ok && billingEmail == "" {
			o.BillingEmail = c.Email
		}
	}
	if device == "" {
		o.Device = "desktop"
	}
	per := f.byEmail[domain.NormalizeEmail(o.BillingEmail)]
	s.mu.Lock()
	details[o.Ref.ID] = WooDetails{UserAgent: userAgents[o.Device][0], SourceType: "typein"}
	wo := s.wooOrder(o, per, details[o.Ref.ID])
	s.mu.Unlock()
	fake.AddOrders(wo)
	return id
}

func (f *firer) intN(n int) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rng.IntN(n)
}

// next picks which of n records of a platform the next change goes to:
// each record once, in a seeded shuffled order, before any is picked
// again. A person edits many records, not the same one back and forth;
// repeated edits of one record within minutes are what the flap guard
// holds, and a firer that made them by chance made tests that wait for
// every write-back flaky.
func (f *firer) next(platform string, n int) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.order == nil {
		f.order = map[string][]int{}
	}
	o := f.order[platform]
	if len(o) == 0 || len(o) != n+1 {
		o = append(f.rng.Perm(n), 0) // the last slot counts what was used
	}
	i := o[n]
	o[n] = (i + 1) % n
	f.order[platform] = o
	return o[i]
}

func (s *Sandbox) fireWoo(ctx context.Context, shop, target string) (Change, error) {
	f := s.fire
	fake := s.Shops[shop]
	f.mu.Lock()
	if !f.wooHooks[target] {
		f.wooHooks[target] = true
		fake.AddWebhook("segconn sandbox order.created", "order.created", target, s.endpoints[shop].Credentials["webhook_secret"])
	}
	f.mu.Unlock()
	cs := s.Data.Platform(shop).Contacts
	if len(cs) == 0 {
		return Change{}, errors.New("firing woocommerce webhook: the store has no customers")
	}
	c := cs[f.next(shop, len(cs))]
	id, _ := strconv.Atoi(c.Ref.ID)
	n := 1 + f.intN(3)
	var items []domain.LineItem
	for range n {
		p := catalog[f.intN(len(catalog))]
		items = append(items, domain.LineItem{SKU: p.sku, Name: p.name, Category: p.category, Quantity: 1,
			UnitPrice: domain.Money{Amount: p.price, Currency: s.Data.Currency}})
	}
	oid := s.NewShopOrder(shop, id, "", items, []string{"mobile", "desktop", "tablet"}[f.intN(3)])
	ds := fake.Trigger(ctx, "order.created", oid)
	ch := Change{Platform: shop, Object: domain.ObjectOrder, ID: strconv.Itoa(oid)}
	for _, d := range ds {
		if d.Topic == "order.created" {
			ch.Status = d.Status
			ch.Delivered = ch.Delivered || (d.Status >= 200 && d.Status < 300)
		}
	}
	return ch, nil
}

func (s *Sandbox) fireHubSpot(ctx context.Context, target string) (Change, error) {
	f := s.fire
	cs := s.Data.HubSpot.Contacts
	if len(cs) == 0 {
		return Change{}, errors.New("firing hubspot webhook: the portal has no contacts")
	}
	c := cs[f.next(HubSpot, len(cs))]
	s.HubSpotFake.Update("contacts", c.Ref.ID, map[string]string{"interest": interests[f.intN(len(interests))] + "-" + strconv.Itoa(f.intN(1000))})
	events := s.HubSpotFake.TakeEvents()
	ch := Change{Platform: HubSpot, Object: domain.ObjectContact, ID: c.Ref.ID}
	if len(events) == 0 {
		// Another concurrent Fire took this change's event with its own.
		ch.Delivered = true
		return ch, nil
	}
	rep, err := s.HubSpotFake.Deliver(ctx, hubspotfake.Delivery{
		URL: target, Signing: hubspotfake.Signing{ClientSecret: s.endpoints[HubSpot].Credentials["client_secret"]},
		MaxRetries: 3,
	}, events)
	if err != nil {
		return ch, fmt.Errorf("firing hubspot webhook: %w", err)
	}
	if len(rep.Statuses) > 0 {
		ch.Status = rep.Statuses[len(rep.Statuses)-1]
	}
	ch.Delivered = rep.Failed == 0
	return ch, nil
}

func (s *Sandbox) fireSalesforce(ctx context.Context, target string) (Change, error) {
	f := s.fire
	if len(f.sfIDs) == 0 {
		return Change{}, errors.New("firing salesforce webhook: the org has no contacts")
	}
	id := f.sfIDs[f.next(Salesforce, len(f.sfIDs))]
	s.SalesforceFake.Update("Contact", id, map[string]any{"Title": []string{"Owner", "Buyer", "Manager", "Director", "Founder"}[f.intN(5)]})
	notes := s.SalesforceFake.OutboundFor("Contact", id)
	d, err := s.SalesforceFake.SendOutbound(ctx, target, notes, salesforcefake.OutboundOptions{MaxAttempts: 5})
	ch := Change{Platform: Salesforce, Object: domain.ObjectContact, ID: id, Delivered: d.Acked}
	if len(d.Statuses) > 0 {
		ch.Status = d.Statuses[len(d.Statuses)-1]
	}
	if err != nil {
		return ch, fmt.Errorf("firing salesforce webhook: %w", err)
	}
	return ch, nil
}
