package scalebench

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// Memory platforms (Options.Platforms "memory") serve the generated
// records to the connector without HTTP and take every write-back at
// once. They exist so the benchmark reaches a million customers: the
// fake platforms hold each record as the platform's JSON, about 30 KB a
// customer, while the generator's own records take a tenth of that. What
// they leave out is the connectors' share: HTTP, paging, rate limits and
// mapping the platforms' JSON to domain records. Everything from the
// store on (identity resolution, change logs, recompute, plan, outbox,
// settlement) is the product's own code, as with the fakes.

// memBusiness is the generated business, split by platform and object.
type memBusiness struct {
	platforms map[string]*memPlatform
	currency  string
	// buyers are WooCommerce customers the change phase gives an order.
	buyers []domain.Contact
}

// newMemBusiness files the dataset's records by platform and object, in
// the order the generator made them, and keeps n WooCommerce customers,
// evenly spaced, for the change phase.
func newMemBusiness(d *sandbox.Dataset, n int) *memBusiness {
	mb := &memBusiness{platforms: map[string]*memPlatform{}, currency: d.Currency}
	for name, recs := range map[string]*sandbox.Records{sandbox.HubSpot: &d.HubSpot, sandbox.Salesforce: &d.Salesforce, sandbox.WooCommerce: &d.WooCommerce} {
		mp := &memPlatform{objects: map[string]*memObject{}}
		// Records are filed by the object the connector pulls them as:
		// Salesforce leads come with contacts and opportunities with
		// orders, HubSpot deals are their own object.
		add := func(object string, c adapter.Change) {
			obj := mp.objects[object]
			if obj == nil {
				obj = &memObject{}
				mp.objects[object] = obj
			}
			obj.changes = append(obj.changes, c)
		}
		for i := range recs.Companies {
			c := &recs.Companies[i]
			add(domain.ObjectCompany, adapter.Change{Kind: adapter.ChangeUpsert, Ref: c.Ref, Company: c})
		}
		for i := range recs.Contacts {
			c := &recs.Contacts[i]
			add(domain.ObjectContact, adapter.Change{Kind: adapter.ChangeUpsert, Ref: c.Ref, Contact: c})
		}
		for i := range recs.Orders {
			o := &recs.Orders[i]
			object := domain.ObjectOrder
			if o.Ref.ObjectType == domain.ObjectDeal {
				object = domain.ObjectDeal
			}
			add(object, adapter.Change{Kind: adapter.ChangeUpsert, Ref: o.Ref, Order: o})
		}
		mb.platforms[name] = mp
	}
	woo := d.WooCommerce.Contacts
	if n = min(n, len(woo)); n > 0 {
		step := max(1, len(woo)/n)
		for i := range n {
			mb.buyers = append(mb.buyers, woo[(i*step)%len(woo)])
		}
	}
	return mb
}

// adapter is the memory platform of the given name, described by the
// platform's built-in connector.
func (mb *memBusiness) adapter(name string, builtin adapter.Adapter) adapter.Adapter {
	mp := mb.platforms[name]
	mp.describer = builtin
	return mp
}

// forget drops the records of objects that later pulls resume past
// (incremental ones), keeping their count so cursors stay valid; a
// platform re-reads the others whole on every pull, so they stay. It
// frees the memory the fill needed before the phases that measure it.
func (mb *memBusiness) forget(ctx context.Context) error {
	for _, mp := range mb.platforms {
		desc, err := mp.Describe(ctx)
		if err != nil {
			return err
		}
		mp.mu.Lock()
		for _, o := range desc.Capabilities.Incremental {
			if obj := mp.objects[o]; obj != nil {
				obj.dropped += len(obj.changes)
				obj.changes = nil
			}
		}
		mp.mu.Unlock()
	}
	return nil
}

// newOrders gives n kept WooCommerce customers a new order each, stamped
// at, as a day's trade would.
func (mb *memBusiness) newOrders(n int, at time.Time) int {
	mp := mb.platforms[sandbox.WooCommerce]
	mp.mu.Lock()
	defer mp.mu.Unlock()
	obj := mp.objects[domain.ObjectOrder]
	if obj == nil {
		obj = &memObject{}
		mp.objects[domain.ObjectOrder] = obj
	}
	n = min(n, len(mb.buyers))
	for i := range n {
		c := mb.buyers[i]
		mp.nextID++
		ref := domain.ExternalRef{Platform: sandbox.WooCommerce, ObjectType: domain.ObjectOrder, ID: strconv.Itoa(900_000_000 + mp.nextID), LastModified: at}
		price := domain.Money{Amount: int64(25_00 + (i%20)*10_00), Currency: mb.currency}
		qty := int64(1 + i%4)
		o := &domain.Order{Ref: ref, CustomerRef: c.Ref, BillingEmail: c.Emails[0], CreatedAt: at, UpdatedAt: at,
			Status: domain.StatusCompleted, RawStatus: "completed", Currency: mb.currency,
			Total: domain.Money{Amount: price.Amount * qty, Currency: mb.currency}, Channel: "checkout", Device: "desktop",
			Items: []domain.LineItem{{SKU: "SCALE-1", Name: "Gift box", Category: "gifts", Quantity: qty, UnitPrice: price}}}
		obj.changes = append(obj.changes, adapter.Change{Kind: adapter.ChangeUpsert, Ref: ref, Order: o})
	}
	return n
}

// memObject is one object type's records on a memory platform; the
// first dropped of them were forgotten after the fill.
type memObject struct {
	changes []adapter.Change
	dropped int
}

// memPage is the page size of a memory platform's pulls: HubSpot's and
// WooCommerce's largest page.
const memPage = 100

// memPlatform is one platform of a memoryBusiness. It serves pulls from
// memory, with the built-in connector's description, and takes every
// write-back as done.
type memPlatform struct {
	describer adapter.Adapter // the built-in connector; only Describe is called

	mu      sync.Mutex
	objects map[string]*memObject
	nextID  int
}

var errMemory = errors.New("not offered by the benchmark's memory platforms")

// Describe reports the built-in connector's description.
func (m *memPlatform) Describe(ctx context.Context) (adapter.Descriptor, error) {
	return m.describer.Describe(ctx)
}

// ValidateConfig accepts any configuration: nothing is reached.
func (m *memPlatform) ValidateConfig(context.Context, adapter.Config) ([]adapter.Diagnostic, error) {
	return nil, nil
}

// Configure does nothing: nothing is reached.
func (m *memPlatform) Configure(context.Context, adapter.Config) error { return nil }

// Pull hands the object's records over, memPage at a time. The cursor is
// the position after the last record handed over; objects the connector
// does not pull incrementally are read whole every time, as the
// connector would.
func (m *memPlatform) Pull(ctx context.Context, req adapter.PullRequest, sink adapter.PageSink) error {
	desc, err := m.Describe(ctx)
	if err != nil {
		return err
	}
	at := 0
	if !req.Full && req.Cursor != "" && slices.Contains(desc.Capabilities.Incremental, req.Object) {
		if at, err = strconv.Atoi(req.Cursor); err != nil {
			return adapter.Permanent(fmt.Errorf("memory platform: cursor %q of %s is not a position: %w", req.Cursor, req.Object, err))
		}
	}
	for {
		m.mu.Lock()
		obj := m.objects[req.Object]
		var page []adapter.Change
		if obj != nil {
			if at < obj.dropped {
				m.mu.Unlock()
				return adapter.Permanent(fmt.Errorf("memory platform: %s records before %d were forgotten after the fill", req.Object, obj.dropped))
			}
			from := at - obj.dropped
			if from >= 0 && from < len(obj.changes) {
				page = obj.changes[from:min(from+memPage, len(obj.changes))]
			}
		}
		m.mu.Unlock()
		if len(page) == 0 {
			return nil
		}
		at += len(page)
		if err := sink(ctx, adapter.Page{Changes: page, Cursor: strconv.Itoa(at)}); err != nil {
			return err
		}
	}
}

// Fetch is not offered: the benchmark sends no webhooks.
func (m *memPlatform) Fetch(context.Context, adapter.FetchRequest) ([]adapter.Change, error) {
	return nil, adapter.Permanent(fmt.Errorf("fetch: %w", errMemory))
}

// EnsureTargets reports every target as made, under its own key.
func (m *memPlatform) EnsureTargets(_ context.Context, targets []adapter.Target) ([]adapter.EnsuredTarget, error) {
	out := make([]adapter.EnsuredTarget, len(targets))
	for i, t := range targets {
		out[i] = adapter.EnsuredTarget{Key: t.Key, PlatformID: t.Key, Created: true}
	}
	return out, nil
}

// Push takes every item as written.
func (m *memPlatform) Push(_ context.Context, req adapter.PushRequest) ([]adapter.PushResult, error) {
	out := make([]adapter.PushResult, len(req.Items))
	for i, it := range req.Items {
		out[i] = adapter.PushResult{ID: it.ID, Status: adapter.PushOK}
	}
	return out, nil
}

// VerifyWebhook is not offered: the benchmark sends no webhooks.
func (m *memPlatform) VerifyWebhook(context.Context, adapter.WebhookRequest) (adapter.WebhookResult, error) {
	return adapter.WebhookResult{}, adapter.Permanent(fmt.Errorf("webhooks: %w", errMemory))
}

// Close does nothing.
func (m *memPlatform) Close(context.Context) error { return nil }
