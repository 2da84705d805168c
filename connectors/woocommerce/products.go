package woocommerce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
)

// categoryTTL is how long a product's category is trusted before it is
// looked up again; products are recategorised rarely.
const categoryTTL = 24 * time.Hour

// productCategories caches the category of each product, so an order's
// line items get theirs with at most one GET /products per page of orders
// (100 products per call, through the same rate-limited client). A
// product's category is the name of its first category other than
// WooCommerce's default "Uncategorized"; a product with none, or one that
// no longer exists, has "" (cached too, so it is not asked for again).
type productCategories struct {
	now func() time.Time

	mu   sync.Mutex
	byID map[int]categoryEntry
}

type categoryEntry struct {
	name string
	at   time.Time
}

func newProductCategories(now func() time.Time) *productCategories {
	return &productCategories{now: now, byID: map[int]categoryEntry{}}
}

// of returns the cached category of a product ("" when unknown).
func (p *productCategories) of(id int) string {
	if p == nil || id <= 0 {
		return ""
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.byID[id].name
}

// missing returns the ids not cached or cached too long ago, sorted.
func (p *productCategories) missing(ids map[int]bool) []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	var out []int
	for id := range ids {
		if e, ok := p.byID[id]; id > 0 && (!ok || now.Sub(e.at) > categoryTTL) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

func (p *productCategories) put(found map[int]string, asked []int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	for _, id := range asked {
		p.byID[id] = categoryEntry{name: found[id], at: now}
	}
}

type wcProduct struct {
	ID         int `json:"id"`
	Categories []struct {
		Name string `json:"name"`
		Slug string `json:"slug"`
	} `json:"categories"`
}

// primaryCategory is the first category that is not the default one.
func primaryCategory(p wcProduct) string {
	for _, c := range p.Categories {
		if c.Slug != "uncategorized" && strings.TrimSpace(c.Name) != "" {
			return strings.TrimSpace(c.Name)
		}
	}
	return ""
}

// productIDsOf returns the product ids of the line items of a page of
// orders (a JSON array); records that do not decode are skipped here and
// quarantined by the order mapping.
func productIDsOf(body []byte) map[int]bool {
	var raws []json.RawMessage
	if json.Unmarshal(body, &raws) != nil {
		raws = []json.RawMessage{body}
	}
	ids := map[int]bool{}
	for _, raw := range raws {
		var o struct {
			LineItems []struct {
				ProductID int `json:"product_id"`
			} `json:"line_items"`
		}
		if json.Unmarshal(raw, &o) != nil {
			continue
		}
		for _, li := range o.LineItems {
			if li.ProductID > 0 {
				ids[li.ProductID] = true
			}
		}
	}
	return ids
}

// lookUpCategories fetches the categories of the products in ids that the
// cache lacks. A retryable failure is returned (the pull is retried); a
// permanent one (for example a key that may not read products) is logged
// and the orders go on without categories.
func (c *Connector) lookUpCategories(ctx context.Context, a *api, cats *productCategories, ids map[int]bool) error {
	need := cats.missing(ids)
	for start := 0; start < len(need); start += 100 {
		chunk := need[start:min(start+100, len(need))]
		list := make([]string, len(chunk))
		for i, id := range chunk {
			list[i] = strconv.Itoa(id)
		}
		q := url.Values{"include": {strings.Join(list, ",")}, "per_page": {"100"}}
		var products []wcProduct
		if _, err := a.do(ctx, "listing woocommerce products for their categories", "GET", "/products", q, nil, &products); err != nil {
			var ae *adapter.Error
			if errors.As(err, &ae) && ae.Kind == adapter.KindPermanent {
				c.log.WarnContext(ctx, "product categories cannot be read; orders are kept without them", "products", len(chunk), "err", err)
				return nil
			}
			return fmt.Errorf("looking up categories of %d products: %w", len(chunk), err)
		}
		found := make(map[int]string, len(products))
		for _, p := range products {
			found[p.ID] = primaryCategory(p)
		}
		cats.put(found, chunk)
	}
	return nil
}
