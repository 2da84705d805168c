package woocommercefake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
)

func (f *Fake) listCustomers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p, ok := readPaging(w, q)
	if !ok {
		return
	}
	role := q.Get("role")
	if role == "" {
		role = "customer"
	}
	orderby := q.Get("orderby")
	if orderby == "" {
		orderby = "name"
	}
	switch orderby {
	case "id", "include", "name", "registered_date":
	default:
		invalidParam(w, "orderby", "orderby is not one of id, include, name, and registered_date.", "rest_not_in_enum")
		return
	}
	order := q.Get("order")
	if order == "" {
		order = "asc"
	}
	include, exclude := intList(q, "include"), intList(q, "exclude")
	email := strings.ToLower(q.Get("email"))
	var sel []*Customer
	for _, c := range f.customers {
		if (role != "all" && c.Role != role) || (include != nil && !include[c.ID]) || exclude[c.ID] ||
			(email != "" && strings.ToLower(c.Email) != email) {
			continue
		}
		sel = append(sel, c)
	}
	switch orderby {
	case "name":
		sort.SliceStable(sel, func(i, j int) bool { return sel[i].Username < sel[j].Username })
	case "registered_date":
		sort.SliceStable(sel, func(i, j int) bool { return sel[i].DateCreatedGMT < sel[j].DateCreatedGMT })
	}
	if order == "desc" {
		for i, j := 0, len(sel)-1; i < j; i, j = i+1, j-1 {
			sel[i], sel[j] = sel[j], sel[i]
		}
	}
	lo, hi := writePageHeaders(w, r, p, len(sel))
	out := make([]Customer, 0, hi-lo)
	for _, c := range sel[lo:hi] {
		out = append(out, *c)
	}
	writeJSON(w, http.StatusOK, out)
}

func readBody(w http.ResponseWriter, r *http.Request, v any) bool {
	data, err := io.ReadAll(io.LimitReader(r.Body, 32<<20))
	if err == nil && len(data) > 0 {
		err = json.Unmarshal(data, v)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "rest_invalid_json", "Invalid JSON body passed.", nil)
		return false
	}
	return true
}

// metaIn is a meta_data entry in a write request.
type metaIn struct {
	ID    int             `json:"id"`
	Key   string          `json:"key"`
	Value json.RawMessage `json:"value"`
}

// customerIn is the writable part of a customer.
type customerIn struct {
	ID        int       `json:"id"`
	Email     *string   `json:"email"`
	FirstName *string   `json:"first_name"`
	LastName  *string   `json:"last_name"`
	Billing   *Billing  `json:"billing"`
	Shipping  *Shipping `json:"shipping"`
	MetaData  []metaIn  `json:"meta_data"`
}

// upsertMeta applies meta entries: an id targets that entry, otherwise the
// first entry with the key is updated or a new one added; a null value
// deletes every entry with the key.
func (f *Fake) upsertMetaLocked(meta []Meta, in []metaIn) []Meta {
	for _, m := range in {
		raw := strings.TrimSpace(string(m.Value))
		if raw == "" || raw == "null" {
			kept := meta[:0]
			for _, e := range meta {
				if e.Key != m.Key && (m.ID == 0 || e.ID != m.ID) {
					kept = append(kept, e)
				}
			}
			meta = kept
			continue
		}
		var v any
		_ = json.Unmarshal(m.Value, &v)
		done := false
		for i := range meta {
			if (m.ID != 0 && meta[i].ID == m.ID) || (m.ID == 0 && meta[i].Key == m.Key) {
				meta[i].Value = v
				if m.Key != "" {
					meta[i].Key = m.Key
				}
				done = true
				break
			}
		}
		if !done {
			meta = append(meta, Meta{ID: f.nextMetaID, Key: m.Key, Value: v})
			f.nextMetaID++
		}
	}
	return meta
}

func (f *Fake) applyCustomerLocked(c *Customer, in customerIn) {
	if in.Email != nil {
		c.Email = *in.Email
	}
	if in.FirstName != nil {
		c.FirstName = *in.FirstName
	}
	if in.LastName != nil {
		c.LastName = *in.LastName
	}
	if in.Billing != nil {
		c.Billing = *in.Billing
	}
	if in.Shipping != nil {
		c.Shipping = *in.Shipping
	}
	if in.MetaData != nil {
		c.MetaData = f.upsertMetaLocked(c.MetaData, in.MetaData)
	}
	c.DateModified, c.DateModifiedGMT = f.dates(f.now())
}

func invalidCustomerID(status int) *apiError {
	return &apiError{Code: "woocommerce_rest_invalid_id", Message: "Invalid resource ID.", Data: map[string]any{"status": status}}
}

func (f *Fake) customerItem(w http.ResponseWriter, r *http.Request, id int) {
	c, ok := f.custByID[id]
	switch r.Method {
	case http.MethodGet:
		if !ok {
			writeAPIError(w, invalidCustomerID(http.StatusNotFound))
			return
		}
		writeJSON(w, http.StatusOK, c)
	case http.MethodPost, http.MethodPut, http.MethodPatch:
		var in customerIn
		if !readBody(w, r, &in) {
			return
		}
		if !ok {
			writeAPIError(w, invalidCustomerID(http.StatusBadRequest))
			return
		}
		if e, bad := f.itemErrors[id]; bad {
			writeAPIError(w, &e)
			return
		}
		f.applyCustomerLocked(c, in)
		f.eventLocked("customer.updated", id)
		writeJSON(w, http.StatusOK, c)
	case http.MethodDelete:
		if !ok {
			writeAPIError(w, invalidCustomerID(http.StatusNotFound))
			return
		}
		if q := r.URL.Query().Get("force"); q != "true" && q != "1" {
			writeError(w, http.StatusNotImplemented, "woocommerce_rest_trash_not_supported", "Customers do not support trashing.", nil)
			return
		}
		cp := *c
		f.deleteCustomerLocked(id)
		f.eventLocked("customer.deleted", id)
		writeJSON(w, http.StatusOK, cp)
	default:
		writeError(w, http.StatusNotFound, "rest_no_route", "No route was found matching the URL and request method.", nil)
	}
}

type batchIn struct {
	Create []customerIn `json:"create"`
	Update []customerIn `json:"update"`
	Delete []int        `json:"delete"`
}

type itemError struct {
	ID    int      `json:"id"`
	Error apiError `json:"error"`
}

func (f *Fake) batchCustomers(w http.ResponseWriter, r *http.Request) {
	var in batchIn
	if !readBody(w, r, &in) {
		return
	}
	n := len(in.Create) + len(in.Update) + len(in.Delete)
	if n > f.opts.BatchLimit {
		writeError(w, http.StatusRequestEntityTooLarge, "woocommerce_rest_request_entity_too_large",
			fmt.Sprintf("Unable to accept more than %d items for this request.", f.opts.BatchLimit), nil)
		return
	}
	f.batchSizes = append(f.batchSizes, n)
	out := map[string][]any{}
	for _, c := range in.Create {
		email := ""
		if c.Email != nil {
			email = *c.Email
		}
		if email == "" {
			out["create"] = append(out["create"], itemError{Error: apiError{Code: "rest_missing_callback_param", Message: "Missing parameter(s): email", Data: map[string]any{"status": 400}}})
			continue
		}
		if f.emailTakenLocked(email) {
			// WordPress keeps one account per email: wc_create_new_customer
			// refuses a second with this code (WooCommerce core,
			// includes/wc-user-functions.php).
			out["create"] = append(out["create"], itemError{Error: apiError{Code: "registration-error-email-exists",
				Message: "An account is already registered with your email address. Please log in.", Data: map[string]any{"status": 400}}})
			continue
		}
		nc := &Customer{ID: f.nextID, Role: "customer", MetaData: []Meta{}}
		f.nextID++
		nc.DateCreated, nc.DateCreatedGMT = f.dates(f.now())
		nc.Username = strings.Split(email, "@")[0]
		f.applyCustomerLocked(nc, c)
		f.custByID[nc.ID] = nc
		f.customers = append(f.customers, nc)
		f.eventLocked("customer.created", nc.ID)
		out["create"] = append(out["create"], nc)
	}
	for _, u := range in.Update {
		c, ok := f.custByID[u.ID]
		if !ok {
			out["update"] = append(out["update"], itemError{ID: u.ID, Error: *invalidCustomerID(http.StatusBadRequest)})
			continue
		}
		if e, bad := f.itemErrors[u.ID]; bad {
			out["update"] = append(out["update"], itemError{ID: u.ID, Error: e})
			continue
		}
		f.applyCustomerLocked(c, u)
		f.eventLocked("customer.updated", u.ID)
		out["update"] = append(out["update"], *c)
	}
	for _, id := range in.Delete {
		c, ok := f.custByID[id]
		if !ok {
			out["delete"] = append(out["delete"], itemError{ID: id, Error: *invalidCustomerID(http.StatusBadRequest)})
			continue
		}
		cp := *c
		f.deleteCustomerLocked(id)
		f.eventLocked("customer.deleted", id)
		out["delete"] = append(out["delete"], cp)
	}
	writeJSON(w, http.StatusOK, out)
}

// emailTakenLocked reports whether a customer account has the email
// (WordPress compares emails without case).
func (f *Fake) emailTakenLocked(email string) bool {
	for _, c := range f.customers {
		if strings.EqualFold(c.Email, email) {
			return true
		}
	}
	return false
}
