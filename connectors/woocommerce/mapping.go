package woocommerce

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/segconn/connector/plugins/sdk/domain"
)

// The WooCommerce shapes the connector reads. Only what is mapped is
// declared; everything else in the payload is ignored.

type wcAddress struct {
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Company   string `json:"company"`
	Address1  string `json:"address_1"`
	Address2  string `json:"address_2"`
	City      string `json:"city"`
	State     string `json:"state"`
	Postcode  string `json:"postcode"`
	Country   string `json:"country"`
	Email     string `json:"email"`
	Phone     string `json:"phone"`
}

type wcMeta struct {
	ID    int             `json:"id"`
	Key   string          `json:"key"`
	Value json.RawMessage `json:"value"`
}

type wcCustomer struct {
	ID               int       `json:"id"`
	DateCreatedGMT   string    `json:"date_created_gmt"`
	DateModifiedGMT  string    `json:"date_modified_gmt"`
	Email            string    `json:"email"`
	FirstName        string    `json:"first_name"`
	LastName         string    `json:"last_name"`
	Role             string    `json:"role"`
	Username         string    `json:"username"`
	Billing          wcAddress `json:"billing"`
	Shipping         wcAddress `json:"shipping"`
	IsPayingCustomer bool      `json:"is_paying_customer"`
	MetaData         []wcMeta  `json:"meta_data"`
}

type wcLineItem struct {
	Name      string      `json:"name"`
	ProductID int         `json:"product_id"`
	Quantity  json.Number `json:"quantity"`
	Subtotal  string      `json:"subtotal"`
	Total     string      `json:"total"`
	SKU       string      `json:"sku"`
	Price     json.Number `json:"price"`
}

type wcRefund struct {
	ID    int    `json:"id"`
	Total string `json:"total"`
}

type wcOrder struct {
	ID                int          `json:"id"`
	Status            string       `json:"status"`
	Currency          string       `json:"currency"`
	CreatedVia        string       `json:"created_via"`
	DateCreatedGMT    string       `json:"date_created_gmt"`
	DateModifiedGMT   string       `json:"date_modified_gmt"`
	Total             string       `json:"total"`
	CustomerID        int          `json:"customer_id"`
	CustomerUserAgent string       `json:"customer_user_agent"`
	Billing           wcAddress    `json:"billing"`
	LineItems         []wcLineItem `json:"line_items"`
	Refunds           []wcRefund   `json:"refunds"`
}

// wooTime parses WooCommerce's zone-less *_gmt timestamps as UTC (a zone
// suffix, when a plugin adds one, is honoured).
func wooTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, fmt.Errorf("%s: missing", field)
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05", time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%s: cannot parse %q as a date", field, s)
}

// mapper turns WooCommerce JSON into domain records.
type mapper struct {
	account   string
	statusMap map[string]string
	owned     func(key string) bool
	cats      *productCategories // line item categories by product id; nil maps none
	consent   Consent            // where the newsletter opt-in is (consent.go)
}

func (m *mapper) ref(object string, id int, modified time.Time) domain.ExternalRef {
	return domain.ExternalRef{Platform: Name, Account: m.account, ObjectType: object, ID: strconv.Itoa(id), LastModified: modified}
}

// contact maps a customer. Emails are kept as given (the store normalises);
// WooCommerce already gives ISO alpha-2 country codes.
func (m *mapper) contact(c *wcCustomer) (*domain.Contact, error) {
	if c.ID <= 0 {
		return nil, fmt.Errorf("id: missing")
	}
	created, err := wooTime("date_created_gmt", c.DateCreatedGMT)
	if err != nil {
		return nil, err
	}
	var modified time.Time
	if c.DateModifiedGMT != "" {
		if modified, err = wooTime("date_modified_gmt", c.DateModifiedGMT); err != nil {
			return nil, err
		}
	}
	email := strings.TrimSpace(c.Email)
	if email == "" {
		email = strings.TrimSpace(c.Billing.Email)
	}
	if email == "" {
		return nil, fmt.Errorf("email: missing (neither email nor billing.email is set)")
	}
	ct := &domain.Contact{
		Ref:       m.ref(domain.ObjectContact, c.ID, modified),
		Emails:    []string{email},
		FirstName: firstNonEmpty(c.FirstName, c.Billing.FirstName),
		LastName:  firstNonEmpty(c.LastName, c.Billing.LastName),
		Address:   address(c.Billing),
		CreatedAt: created,
		UpdatedAt: modified,
		Attributes: map[string]string{
			"woocommerce_role":       c.Role,
			"woocommerce_username":   c.Username,
			"woocommerce_is_paying":  strconv.FormatBool(c.IsPayingCustomer),
			"woocommerce_registered": "true",
		},
	}
	ct.Consent = m.consentOf(c.MetaData, modified)
	if be := strings.TrimSpace(c.Billing.Email); be != "" && !strings.EqualFold(be, email) {
		ct.Emails = append(ct.Emails, be)
	}
	if p := strings.TrimSpace(c.Billing.Phone); p != "" {
		ct.Phones = []string{p}
	}
	rawCountry := c.Billing.Country
	if ct.Address == (domain.Address{}) && strings.TrimSpace(rawCountry) == "" {
		ct.Address = address(c.Shipping)
		rawCountry = c.Shipping.Country
	}
	var unknownCountry string
	if raw := strings.TrimSpace(rawCountry); raw != "" && ct.Address.Country == "" {
		unknownCountry = raw
		ct.Attributes["country_raw"] = raw
	}
	if c.Billing.Company != "" {
		ct.Company = &domain.Company{Name: c.Billing.Company, Country: ct.Address.Country, CountryRaw: unknownCountry}
	}
	lastActive(c.MetaData, ct.Attributes)
	return ct, nil
}

// lastActive maps the wc_last_active user meta, the day WooCommerce last
// saw the signed-in customer log in or load a page (Unix seconds of that
// UTC midnight, a string), to the engagement attribute of the last web
// visit. It is WooCommerce's only per-person activity record: the wc/v3
// customer has no last-active field (date_modified is the last profile
// save), and wc-admin's date_last_active is a report of the analytics
// API, not of wc/v3. A value that is not a time is kept raw.
func lastActive(meta []wcMeta, attrs map[string]string) {
	for _, m := range meta {
		if m.Key != "wc_last_active" {
			continue
		}
		var s string
		if json.Unmarshal(m.Value, &s) != nil {
			s = strings.TrimSpace(string(m.Value)) // a number
		}
		if secs, err := strconv.ParseInt(s, 10, 64); err == nil && secs > 0 {
			attrs[domain.AttrLastVisit] = time.Unix(secs, 0).UTC().Format(time.RFC3339)
		} else if s != "" {
			attrs["woocommerce_wc_last_active"] = s
		}
		return
	}
}

// address maps a billing or shipping address. WooCommerce stores ISO alpha-2
// codes, but imports and plugins leave names behind; a country that
// NormalizeCountry cannot place is left empty here and kept by the caller.
func address(a wcAddress) domain.Address {
	cc, _ := domain.NormalizeCountry(a.Country)
	return domain.Address{Line1: a.Address1, Line2: a.Address2, City: a.City, Region: a.State, PostalCode: a.Postcode, Country: cc}
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return ""
}

// Order status rule (documented in README): processing and completed are
// purchases; pending, checkout-draft and on-hold are not yet; cancelled,
// failed and refunded orders are kept (the core sees the attempt) but
// never count as revenue, and a refunded order's Refunded equals its
// total; trash is a deletion. Unknown (plugin) statuses follow status_map
// and default to on_hold, so they never inflate revenue.
func (m *mapper) status(raw string) (domain.OrderStatus, bool) {
	if v, ok := m.statusMap[raw]; ok {
		if v == "delete" {
			return "", false
		}
		return domain.OrderStatus(v), true
	}
	switch raw {
	case "pending", "checkout-draft":
		return domain.StatusPending, true
	case "processing":
		return domain.StatusProcessing, true
	case "on-hold":
		return domain.StatusOnHold, true
	case "completed":
		return domain.StatusCompleted, true
	case "cancelled":
		return domain.StatusCancelled, true
	case "refunded":
		return domain.StatusRefunded, true
	case "failed":
		return domain.StatusFailed, true
	case "trash":
		return "", false
	}
	return domain.StatusOnHold, true
}

// order maps an order. It returns a nil order and no error when the
// status says the order is gone (trash).
func (m *mapper) order(o *wcOrder) (*domain.Order, error) {
	if o.ID <= 0 {
		return nil, fmt.Errorf("id: missing")
	}
	status, keep := m.status(o.Status)
	if !keep {
		return nil, nil
	}
	if len(strings.TrimSpace(o.Currency)) != 3 {
		return nil, fmt.Errorf("currency: %q is not an ISO 4217 code", o.Currency)
	}
	created, err := wooTime("date_created_gmt", o.DateCreatedGMT)
	if err != nil {
		return nil, err
	}
	var modified time.Time
	if o.DateModifiedGMT != "" {
		if modified, err = wooTime("date_modified_gmt", o.DateModifiedGMT); err != nil {
			return nil, err
		}
	}
	total, err := domain.ParseMoney(o.Total, o.Currency)
	if err != nil {
		return nil, fmt.Errorf("total: %w", err)
	}
	out := &domain.Order{
		Ref:          m.ref(domain.ObjectOrder, o.ID, modified),
		BillingEmail: strings.TrimSpace(o.Billing.Email),
		CreatedAt:    created,
		UpdatedAt:    modified,
		Status:       status,
		RawStatus:    o.Status,
		Currency:     total.Currency,
		Total:        total,
		Channel:      o.CreatedVia,
		Device:       device(o.CustomerUserAgent),
	}
	if o.CustomerID > 0 {
		out.CustomerRef = m.ref(domain.ObjectContact, o.CustomerID, time.Time{})
	} else if out.BillingEmail == "" {
		return nil, fmt.Errorf("billing.email: missing on a guest order (customer_id 0), so it cannot be attached to anyone")
	}
	refunded := domain.Money{Currency: total.Currency}
	for i, r := range o.Refunds {
		amt, err := domain.ParseMoney(r.Total, o.Currency)
		if err != nil {
			return nil, fmt.Errorf("refunds[%d].total: %w", i, err)
		}
		if amt.Amount < 0 {
			amt.Amount = -amt.Amount
		}
		refunded.Amount += amt.Amount
	}
	if status == domain.StatusRefunded && refunded.Amount < total.Amount {
		refunded.Amount = total.Amount
	}
	if refunded.Amount != 0 {
		out.Refunded = refunded
	}
	for i, li := range o.LineItems {
		qty, err := strconv.ParseInt(li.Quantity.String(), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("line_items[%d].quantity: %q is not a whole number", i, li.Quantity.String())
		}
		var price domain.Money
		if li.Price != "" {
			if price, err = domain.ParseMoney(li.Price.String(), o.Currency); err != nil {
				return nil, fmt.Errorf("line_items[%d].price: %w", i, err)
			}
		} else if qty != 0 {
			sub, err := domain.ParseMoney(li.Subtotal, o.Currency)
			if err != nil {
				return nil, fmt.Errorf("line_items[%d].subtotal: %w", i, err)
			}
			price = domain.Money{Amount: sub.Amount / qty, Currency: sub.Currency}
		}
		sku := li.SKU
		if sku == "" && li.ProductID > 0 {
			sku = "product:" + strconv.Itoa(li.ProductID)
		}
		out.Items = append(out.Items, domain.LineItem{SKU: sku, Name: li.Name, Category: m.cats.of(li.ProductID), Quantity: qty, UnitPrice: price})
	}
	return out, nil
}

// device classifies customer_user_agent for technographic segments.
func device(ua string) string {
	if ua == "" {
		return ""
	}
	l := strings.ToLower(ua)
	switch {
	case strings.Contains(l, "ipad") || strings.Contains(l, "tablet") || (strings.Contains(l, "android") && !strings.Contains(l, "mobile")):
		return "tablet"
	case strings.Contains(l, "mobi") || strings.Contains(l, "iphone") || strings.Contains(l, "android"):
		return "mobile"
	case strings.Contains(l, "bot") || strings.Contains(l, "curl") || strings.Contains(l, "woocommerce"):
		return "other"
	default:
		return "desktop"
	}
}
