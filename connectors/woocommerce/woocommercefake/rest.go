package woocommercefake

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// APIPrefix is where the REST API lives under the store URL.
const APIPrefix = "/wp-json/wc/v3"

var idSegment = regexp.MustCompile(`/[0-9]+(/|$)`)

func endpointKey(method, path string) string {
	return method + " " + idSegment.ReplaceAllString(path, "/{id}$1")
}

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, APIPrefix), "/")
	if !strings.HasPrefix(r.URL.Path, APIPrefix+"/") {
		path = r.URL.Path
	}
	f.mu.Lock()
	f.calls[endpointKey(r.Method, path)]++
	f.mu.Unlock()
	// Faults and the host's throttle come before WordPress sees the
	// request, as a proxy's or the web server's would.
	f.Faults.Handle(w, r, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !f.throttle(w, r) {
			f.answer(w, r, path)
		}
	}))
}

// answer serves an API request that met no fault.
func (f *Fake) answer(w http.ResponseWriter, r *http.Request, path string) {
	w.Header().Set("Date", f.opts.Now().UTC().Format(http.TimeFormat))
	if !strings.HasPrefix(r.URL.Path, APIPrefix+"/") {
		writeError(w, http.StatusNotFound, "rest_no_route", "No route was found matching the URL and request method.", nil)
		return
	}

	f.mu.Lock()
	defer func() {
		events := f.events
		f.events = nil
		f.mu.Unlock()
		if len(events) > 0 {
			// WooCommerce queues webhook deliveries and sends them after
			// the request (Action Scheduler), so they arrive a moment later.
			go func() {
				for _, e := range events {
					f.Trigger(context.Background(), e.topic, e.id)
				}
			}()
		}
	}()
	key, aerr := f.authenticateLocked(r)
	if aerr != nil {
		writeAPIError(w, aerr)
		return
	}
	write := r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodOptions
	if write && key.Permission == Read {
		writeAPIError(w, authErr("The API key provided does not have write permissions."))
		return
	}
	if !write && key.Permission == Write {
		writeAPIError(w, authErr("The API key provided does not have read permissions."))
		return
	}

	seg := strings.Split(strings.TrimPrefix(path, "/"), "/")
	var id int
	hasID := false
	if len(seg) == 2 {
		if n, err := strconv.Atoi(seg[1]); err == nil {
			id, hasID = n, true
		}
	}
	switch {
	case len(seg) == 1 && seg[0] == "customers" && r.Method == http.MethodGet:
		f.listCustomers(w, r)
	case len(seg) == 1 && seg[0] == "orders" && r.Method == http.MethodGet:
		f.listOrders(w, r)
	case len(seg) == 1 && seg[0] == "products" && r.Method == http.MethodGet:
		f.listProducts(w, r)
	case hasID && seg[0] == "products":
		f.productItem(w, r, id)
	case len(seg) == 1 && seg[0] == "webhooks" && r.Method == http.MethodGet:
		f.listWebhooks(w, r)
	case len(seg) == 1 && seg[0] == "webhooks" && r.Method == http.MethodPost:
		f.createWebhook(w, r)
	case len(seg) == 2 && seg[0] == "customers" && seg[1] == "batch" && isWrite(r.Method):
		f.batchCustomers(w, r)
	case hasID && seg[0] == "customers":
		f.customerItem(w, r, id)
	case hasID && seg[0] == "orders":
		f.orderItem(w, r, id)
	case hasID && seg[0] == "webhooks":
		f.webhookItem(w, r, id)
	default:
		writeError(w, http.StatusNotFound, "rest_no_route", "No route was found matching the URL and request method.", nil)
	}
}

func isWrite(m string) bool {
	return m == http.MethodPost || m == http.MethodPut || m == http.MethodPatch
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeAPIError(w http.ResponseWriter, e *apiError) {
	status, _ := e.Data["status"].(int)
	writeJSON(w, status, e)
}

func writeError(w http.ResponseWriter, status int, code, msg string, extra map[string]any) {
	data := map[string]any{"status": status}
	for k, v := range extra {
		data[k] = v
	}
	writeJSON(w, status, apiError{Code: code, Message: msg, Data: data})
}

// invalidParam answers WordPress's rest_invalid_param for one parameter.
func invalidParam(w http.ResponseWriter, param, reason, detailCode string) {
	writeError(w, http.StatusBadRequest, "rest_invalid_param", "Invalid parameter(s): "+param, map[string]any{
		"params":  map[string]string{param: reason},
		"details": map[string]any{param: map[string]any{"code": detailCode, "message": reason, "data": nil}},
	})
}

// paging reads page, per_page and offset with WordPress's validation.
type paging struct{ page, perPage, offset int }

func readPaging(w http.ResponseWriter, q url.Values) (paging, bool) {
	p := paging{page: 1, perPage: 10, offset: -1}
	for _, spec := range []struct {
		name string
		dst  *int
		min  int
		max  int
	}{{"page", &p.page, 1, 0}, {"per_page", &p.perPage, 1, 100}, {"offset", &p.offset, 0, 0}} {
		v := q.Get(spec.name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			invalidParam(w, spec.name, spec.name+" is not of type integer.", "rest_invalid_type")
			return p, false
		}
		if spec.max > 0 && (n < spec.min || n > spec.max) {
			invalidParam(w, spec.name, fmt.Sprintf("%s must be between %d (inclusive) and %d (inclusive)", spec.name, spec.min, spec.max), "rest_out_of_bounds")
			return p, false
		}
		if n < spec.min {
			invalidParam(w, spec.name, fmt.Sprintf("%s must be greater than or equal to %d", spec.name, spec.min), "rest_out_of_bounds")
			return p, false
		}
		*spec.dst = n
	}
	return p, true
}

// writePage slices n items per paging, sets the WordPress collection
// headers and returns the [lo, hi) range to render.
func writePageHeaders(w http.ResponseWriter, r *http.Request, p paging, total int) (int, int) {
	pages := (total + p.perPage - 1) / p.perPage
	lo := (p.page - 1) * p.perPage
	if p.offset >= 0 {
		lo = p.offset
	}
	hi := lo + p.perPage
	if lo > total {
		lo = total
	}
	if hi > total {
		hi = total
	}
	h := w.Header()
	h.Set("X-WP-Total", strconv.Itoa(total))
	h.Set("X-WP-TotalPages", strconv.Itoa(pages))
	base := *r.URL
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	base.Scheme, base.Host = scheme, r.Host
	link := func(page int, rel string) string {
		q := r.URL.Query()
		for k := range q {
			if strings.HasPrefix(k, "oauth_") || k == "consumer_key" || k == "consumer_secret" {
				q.Del(k)
			}
		}
		q.Set("page", strconv.Itoa(page))
		u := base
		u.RawQuery = q.Encode()
		return fmt.Sprintf("<%s>; rel=\"%s\"", u.String(), rel)
	}
	var links []string
	if p.page > 1 && pages > 0 {
		prev := p.page - 1
		if prev > pages {
			prev = pages
		}
		links = append(links, link(prev, "prev"))
	}
	if p.page < pages {
		links = append(links, link(p.page+1, "next"))
	}
	if len(links) > 0 {
		h.Set("Link", strings.Join(links, ", "))
	}
	return lo, hi
}

func intList(q url.Values, name string) map[int]bool {
	vals := q[name]
	if len(vals) == 0 {
		vals = q[name+"[]"]
	}
	if len(vals) == 0 {
		return nil
	}
	m := map[int]bool{}
	for _, v := range vals {
		for _, s := range strings.Split(v, ",") {
			if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
				m[n] = true
			}
		}
	}
	return m
}

func strList(q url.Values, name string) []string {
	vals := q[name]
	if len(vals) == 0 {
		vals = q[name+"[]"]
	}
	var out []string
	for _, v := range vals {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// parseDateParam parses an ISO 8601 filter date; without a zone it is GMT
// when dates_are_gmt is true and site-local otherwise.
func (f *Fake) parseDateParam(v string, gmt bool) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z07:00"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, true
		}
	}
	loc := f.opts.SiteLocation
	if gmt {
		loc = time.UTC
	}
	for _, layout := range []string{wooDate, "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func orderStatus(s string) bool {
	switch s {
	case "any", "pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed", "trash", "checkout-draft":
		return true
	}
	return false
}

func (f *Fake) listOrders(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p, ok := readPaging(w, q)
	if !ok {
		return
	}
	gmt := q.Get("dates_are_gmt") == "true" || q.Get("dates_are_gmt") == "1"
	type bound struct {
		name string
		t    time.Time
		set  bool
	}
	bounds := []*bound{{name: "modified_after"}, {name: "modified_before"}, {name: "after"}, {name: "before"}}
	for _, b := range bounds {
		if v := q.Get(b.name); v != "" {
			t, ok := f.parseDateParam(v, gmt)
			if !ok {
				invalidParam(w, b.name, "Invalid date.", "rest_invalid_date")
				return
			}
			b.t, b.set = t, true
		}
	}
	statuses := strList(q, "status")
	for _, s := range statuses {
		if !orderStatus(s) {
			invalidParam(w, "status", "status[0] is not one of any, trash, pending, processing, on-hold, completed, cancelled, refunded, failed, and checkout-draft.", "rest_not_in_enum")
			return
		}
	}
	orderby := q.Get("orderby")
	if orderby == "" {
		orderby = "date"
	}
	switch orderby {
	case "date", "id", "include", "title", "slug", "modified":
	default:
		invalidParam(w, "orderby", "orderby is not one of date, id, include, title, slug, and modified.", "rest_not_in_enum")
		return
	}
	order := q.Get("order")
	if order == "" {
		order = "desc"
	}
	if order != "asc" && order != "desc" {
		invalidParam(w, "order", "order is not one of asc and desc.", "rest_not_in_enum")
		return
	}
	include, exclude := intList(q, "include"), intList(q, "exclude")
	customer, hasCustomer := 0, q.Get("customer") != ""
	if hasCustomer {
		n, err := strconv.Atoi(q.Get("customer"))
		if err != nil {
			invalidParam(w, "customer", "customer is not of type integer.", "rest_invalid_type")
			return
		}
		customer = n
	}
	statusOK := func(s string) bool {
		if len(statuses) == 0 {
			return s != "trash"
		}
		for _, want := range statuses {
			if want == s || (want == "any" && s != "trash") {
				return true
			}
		}
		return false
	}
	var sel []*orderRec
	for _, rec := range f.orders {
		o := &rec.o
		if !statusOK(o.Status) || (include != nil && !include[o.ID]) || exclude[o.ID] || (hasCustomer && o.CustomerID != customer) {
			continue
		}
		if bounds[0].set && !rec.modified.After(bounds[0].t) || bounds[1].set && !rec.modified.Before(bounds[1].t) ||
			bounds[2].set && !rec.created.After(bounds[2].t) || bounds[3].set && !rec.created.Before(bounds[3].t) {
			continue
		}
		sel = append(sel, rec)
	}
	less := func(a, b *orderRec) bool {
		switch orderby {
		case "date":
			if !a.created.Equal(b.created) {
				return a.created.Before(b.created)
			}
		case "modified":
			if !a.modified.Equal(b.modified) {
				return a.modified.Before(b.modified)
			}
		}
		return a.o.ID < b.o.ID
	}
	if orderby != "id" && orderby != "include" {
		sort.SliceStable(sel, func(i, j int) bool { return less(sel[i], sel[j]) })
	}
	if order == "desc" {
		for i, j := 0, len(sel)-1; i < j; i, j = i+1, j-1 {
			sel[i], sel[j] = sel[j], sel[i]
		}
	}
	lo, hi := writePageHeaders(w, r, p, len(sel))
	out := make([]Order, 0, hi-lo)
	for _, rec := range sel[lo:hi] {
		out = append(out, rec.o)
	}
	writeJSON(w, http.StatusOK, out)
}

func invalidOrderID() *apiError {
	return &apiError{Code: "woocommerce_rest_shop_order_invalid_id", Message: "Invalid ID.", Data: map[string]any{"status": http.StatusNotFound}}
}

func (f *Fake) orderItem(w http.ResponseWriter, r *http.Request, id int) {
	rec, ok := f.orderByID[id]
	if !ok {
		writeAPIError(w, invalidOrderID())
		return
	}
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, rec.o)
	case http.MethodPost, http.MethodPut, http.MethodPatch:
		var in struct {
			Status   *string  `json:"status"`
			MetaData []metaIn `json:"meta_data"`
		}
		if !readBody(w, r, &in) {
			return
		}
		if in.Status != nil {
			if !orderStatus(*in.Status) || *in.Status == "any" {
				invalidParam(w, "status", "status is not one of pending, processing, on-hold, completed, cancelled, refunded, failed, and checkout-draft.", "rest_not_in_enum")
				return
			}
			rec.o.Status = *in.Status
		}
		if in.MetaData != nil {
			rec.o.MetaData = f.upsertMetaLocked(rec.o.MetaData, in.MetaData)
		}
		rec.modified = f.now()
		rec.o.DateModified, rec.o.DateModifiedGMT = f.dates(rec.modified)
		f.eventLocked("order.updated", id)
		writeJSON(w, http.StatusOK, rec.o)
	case http.MethodDelete:
		cp := rec.o
		if q := r.URL.Query().Get("force"); q == "true" || q == "1" {
			f.deleteOrderLocked(id)
		} else {
			rec.o.Status = "trash"
			rec.modified = f.now()
			rec.o.DateModified, rec.o.DateModifiedGMT = f.dates(rec.modified)
			cp = rec.o
		}
		f.eventLocked("order.deleted", id)
		writeJSON(w, http.StatusOK, cp)
	default:
		writeError(w, http.StatusNotFound, "rest_no_route", "No route was found matching the URL and request method.", nil)
	}
}
