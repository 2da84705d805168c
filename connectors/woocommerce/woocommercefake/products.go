package woocommercefake

import (
	"net/http"
	"slices"
	"sort"
	"strings"
)

// ProductCategory is a product_cat term as a product lists it.
type ProductCategory struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
	Slug string `json:"slug"`
}

// Product is a /wc/v3/products resource, with the fields a segment
// connector reads. Categories are listed in the product's term order, and a
// product without any is in WooCommerce's default "Uncategorized" category
// (WooCommerce assigns it on save).
type Product struct {
	ID              int               `json:"id"`
	Name            string            `json:"name"`
	Slug            string            `json:"slug"`
	Type            string            `json:"type"`
	Status          string            `json:"status"`
	SKU             string            `json:"sku"`
	Price           string            `json:"price"`
	RegularPrice    string            `json:"regular_price"`
	DateCreated     string            `json:"date_created"`
	DateCreatedGMT  string            `json:"date_created_gmt"`
	DateModified    string            `json:"date_modified"`
	DateModifiedGMT string            `json:"date_modified_gmt"`
	Categories      []ProductCategory `json:"categories"`
	MetaData        []Meta            `json:"meta_data"`
}

// uncategorized is WooCommerce's default product category (term id 15 on a
// fresh install; the id varies between shops).
func uncategorized() ProductCategory {
	return ProductCategory{ID: 15, Name: "Uncategorized", Slug: "uncategorized"}
}

// AddProducts stores products, assigning ids (from the shared id sequence
// unless given), dates, defaults (simple, publish, slug from the name) and
// the Uncategorized category when none is given, and returns their ids.
func (f *Fake) AddProducts(ps ...Product) []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.products == nil {
		f.products = map[int]*Product{}
	}
	ids := make([]int, 0, len(ps))
	for _, p := range ps {
		if p.ID == 0 {
			p.ID = f.nextID
		}
		if p.ID >= f.nextID {
			f.nextID = p.ID + 1
		}
		now := f.now()
		if p.DateCreatedGMT == "" {
			p.DateCreated, p.DateCreatedGMT = f.dates(now)
		}
		p.DateModified, p.DateModifiedGMT = f.dates(now)
		if p.Type == "" {
			p.Type = "simple"
		}
		if p.Status == "" {
			p.Status = "publish"
		}
		if p.Slug == "" {
			p.Slug = strings.ReplaceAll(strings.ToLower(strings.TrimSpace(p.Name)), " ", "-")
		}
		if len(p.Categories) == 0 {
			p.Categories = []ProductCategory{uncategorized()}
		}
		p.Categories = slices.Clone(p.Categories)
		if p.MetaData == nil {
			p.MetaData = []Meta{}
		}
		f.products[p.ID] = &p
		ids = append(ids, p.ID)
	}
	return ids
}

// listProducts serves GET /products: paging, include, status (default any,
// which leaves out trashed products) and orderby id/include/title.
func (f *Fake) listProducts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p, ok := readPaging(w, q)
	if !ok {
		return
	}
	orderby := q.Get("orderby")
	if orderby == "" {
		orderby = "date"
	}
	switch orderby {
	case "date", "id", "include", "title", "slug", "modified", "menu_order", "price", "popularity", "rating":
	default:
		invalidParam(w, "orderby", "orderby is not one of date, id, include, title, slug, modified, menu_order, price, popularity, and rating.", "rest_not_in_enum")
		return
	}
	status := q.Get("status")
	if status == "" {
		status = "any"
	}
	include := intList(q, "include")
	var sel []*Product
	for _, pr := range f.products {
		if (include != nil && !include[pr.ID]) || (status == "any" && pr.Status == "trash") || (status != "any" && pr.Status != status) {
			continue
		}
		sel = append(sel, pr)
	}
	sort.Slice(sel, func(i, j int) bool { return sel[i].ID < sel[j].ID })
	switch orderby {
	case "date":
		sort.SliceStable(sel, func(i, j int) bool { return sel[i].DateCreatedGMT > sel[j].DateCreatedGMT })
	case "title":
		sort.SliceStable(sel, func(i, j int) bool { return sel[i].Name < sel[j].Name })
	}
	if q.Get("order") == "desc" && orderby != "date" {
		slices.Reverse(sel)
	}
	lo, hi := writePageHeaders(w, r, p, len(sel))
	out := make([]Product, 0, hi-lo)
	for _, pr := range sel[lo:hi] {
		out = append(out, *pr)
	}
	writeJSON(w, http.StatusOK, out)
}

// productItem serves GET /products/{id}.
func (f *Fake) productItem(w http.ResponseWriter, r *http.Request, id int) {
	pr, ok := f.products[id]
	if !ok || r.Method != http.MethodGet {
		if !ok {
			writeError(w, http.StatusNotFound, "woocommerce_rest_product_invalid_id", "Invalid ID.", nil)
			return
		}
		writeError(w, http.StatusNotFound, "rest_no_route", "No route was found matching the URL and request method.", nil)
		return
	}
	writeJSON(w, http.StatusOK, *pr)
}
