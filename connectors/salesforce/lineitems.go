package salesforce

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// productTTL is how long a Product2's name, code and family are trusted
// before they are read again.
const productTTL = 24 * time.Hour

// lineItemSource names the child sObject holding a parent's line items.
type lineItemSource struct{ object, parent string }

// lineItemSources are the line item objects of the order-like sObjects.
func lineItemSources(object string) (lineItemSource, bool) {
	switch object {
	case "Opportunity":
		return lineItemSource{"OpportunityLineItem", "OpportunityId"}, true
	case "Order":
		return lineItemSource{"OrderItem", "OrderId"}, true
	}
	return lineItemSource{}, false
}

// product is what a line item takes from its Product2.
type product struct {
	name, code, family string
	at                 time.Time
}

// productCache keeps Product2 rows by id, so each page of opportunities or
// orders reads only the products it has not seen in the last day.
type productCache struct {
	mu   sync.Mutex
	byID map[string]product
}

func (p *productCache) get(id string) product {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.byID[id]
}

func (p *productCache) missing(ids []string, now time.Time) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, id := range ids {
		if e, ok := p.byID[id]; !ok || now.Sub(e.at) > productTTL {
			out = append(out, id)
		}
	}
	return out
}

func (p *productCache) put(id string, pr product) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.byID == nil {
		p.byID = map[string]product{}
	}
	p.byID[id] = pr
}

// attachLineItems gives the opportunities or orders among changes their
// line items (OpportunityLineItem or OrderItem), each named, coded and
// categorised by its Product2 (Family is the category). Items are read 200
// parents per query and products 200 per query, only those not cached. An
// org where the objects cannot be read (Products or Orders not enabled, no
// access) is logged at WARN and the orders are kept without items.
func (c *Connector) attachLineItems(ctx context.Context, object string, changes []adapter.Change, m *mapper) error {
	src, ok := lineItemSources(object)
	if !ok {
		return nil
	}
	byID := map[string]*domain.Order{}
	var parents []string
	for _, ch := range changes {
		if ch.Order != nil && validID(ch.Ref.ID) {
			byID[ch.Ref.ID] = ch.Order
			parents = append(parents, ch.Ref.ID)
		}
	}
	type line struct {
		parent, product string
		qty             int64
		price           domain.Money
	}
	var lines []line
	var productIDs []string
	for start := 0; start < len(parents); start += MaxCollection {
		chunk := parents[start:min(start+MaxCollection, len(parents))]
		soql := "SELECT Id, " + src.parent + ", Product2Id, Quantity, UnitPrice FROM " + src.object +
			" WHERE " + src.parent + " IN " + idList(chunk) + " ORDER BY " + src.parent + " ASC, Id ASC"
		err := c.queryPages(ctx, soql, false, 0, func(recs []map[string]any) error {
			for _, rm := range recs {
				r := row(rm)
				o := byID[r.str(src.parent)]
				if o == nil {
					continue
				}
				qty, err := domain.ParseMinor(r.str("Quantity"), 0)
				if err != nil {
					return fmt.Errorf("%s %s field Quantity: %w", src.object, r.str("Id"), err)
				}
				price, err := m.money(r, "UnitPrice", o.Currency)
				if err != nil {
					return fmt.Errorf("%s %s: %w", src.object, r.str("Id"), err)
				}
				lines = append(lines, line{parent: r.str(src.parent), product: r.str("Product2Id"), qty: qty, price: price})
				if pid := r.str("Product2Id"); validID(pid) && !slices.Contains(productIDs, pid) {
					productIDs = append(productIDs, pid)
				}
			}
			return nil
		})
		if err != nil {
			return c.skipUnreadable(ctx, err, "reading salesforce "+src.object)
		}
	}
	if err := c.loadProducts(ctx, productIDs); err != nil {
		return c.skipUnreadable(ctx, err, "reading salesforce Product2")
	}
	for _, l := range lines {
		pr := c.products.get(l.product)
		o := byID[l.parent]
		o.Items = append(o.Items, domain.LineItem{SKU: pr.code, Name: pr.name, Category: pr.family, Quantity: l.qty, UnitPrice: l.price})
	}
	return nil
}

// loadProducts reads the Product2 rows the cache lacks.
func (c *Connector) loadProducts(ctx context.Context, ids []string) error {
	now := c.now()
	need := c.products.missing(ids, now)
	for start := 0; start < len(need); start += MaxCollection {
		chunk := need[start:min(start+MaxCollection, len(need))]
		found := map[string]bool{}
		err := c.queryPages(ctx, "SELECT Id, Name, ProductCode, Family FROM Product2 WHERE Id IN "+idList(chunk), false, 0, func(recs []map[string]any) error {
			for _, rm := range recs {
				r := row(rm)
				c.products.put(r.str("Id"), product{name: r.str("Name"), code: r.str("ProductCode"), family: r.str("Family"), at: now})
				found[r.str("Id")] = true
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, id := range chunk {
			if !found[id] {
				c.products.put(id, product{at: now}) // deleted: no name or family, and not asked again today
			}
		}
	}
	return nil
}

// skipUnreadable returns retryable and quota errors (the pull is retried)
// and logs permanent ones, after which the orders go on without items.
func (c *Connector) skipUnreadable(ctx context.Context, err error, doing string) error {
	var ae *adapter.Error
	if errors.As(err, &ae) && (ae.Kind == adapter.KindPermanent || ae.Kind == adapter.KindAuth) {
		c.log.WarnContext(ctx, "line items cannot be read; orders are kept without them", "doing", doing, "err", err)
		return nil
	}
	return c.mapErr(err, doing)
}
