package hubspot

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/segconn/connector/plugins/sdk/domain"
)

// hsObject is a CRM record as HubSpot returns it (SimplePublicObject).
type hsObject struct {
	ID           string             `json:"id"`
	Properties   map[string]*string `json:"properties"`
	CreatedAt    string             `json:"createdAt"`
	UpdatedAt    string             `json:"updatedAt"`
	Archived     bool               `json:"archived"`
	ArchivedAt   string             `json:"archivedAt"`
	Associations map[string]struct {
		Results []struct {
			ID   string `json:"id"`
			Type string `json:"type"`
		} `json:"results"`
	} `json:"associations"`
}

func (o *hsObject) prop(name string) string {
	if v := o.Properties[name]; v != nil {
		return strings.TrimSpace(*v)
	}
	return ""
}

// mapErr is a mapping failure naming the field.
type mapErr struct{ field, reason string }

func (e *mapErr) Error() string { return e.field + ": " + e.reason }

// parseTime reads HubSpot timestamps: ISO 8601 (API timestamps, datetime
// properties), epoch milliseconds (date properties, webhooks) or a bare date.
func parseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms).UTC(), true
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000Z0700", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// decodeObject parses one raw record and its id and timestamps.
func decodeObject(raw json.RawMessage) (hsObject, error) {
	var o hsObject
	if err := json.Unmarshal(raw, &o); err != nil {
		return o, &mapErr{"record", "not a HubSpot object: " + err.Error()}
	}
	if _, err := strconv.ParseInt(o.ID, 10, 64); err != nil {
		return o, &mapErr{"id", fmt.Sprintf("%q is not a HubSpot record id", o.ID)}
	}
	if _, ok := parseTime(o.UpdatedAt); !ok {
		return o, &mapErr{"updatedAt", fmt.Sprintf("%q is not a timestamp", o.UpdatedAt)}
	}
	if o.CreatedAt != "" {
		if _, ok := parseTime(o.CreatedAt); !ok {
			return o, &mapErr{"createdAt", fmt.Sprintf("%q is not a timestamp", o.CreatedAt)}
		}
	}
	return o, nil
}

func (o *hsObject) times() (created, updated time.Time) {
	created, _ = parseTime(o.CreatedAt)
	updated, _ = parseTime(o.UpdatedAt)
	return created, updated
}

func splitMulti(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ";") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// contactProps are the contact properties the connector reads.
func contactProps(extra []string) []string {
	base := []string{"email", "firstname", "lastname", "phone", "mobilephone", "address", "city", "state", "zip", "country",
		"company", "jobtitle", "industry", "lifecyclestage", "date_of_birth", "gender", "associatedcompanyid",
		"hs_email_optout", "hs_merged_object_ids", "createdate", "lastmodifieddate", "hs_object_id"}
	for _, e := range engagementProps {
		base = append(base, e.hs)
	}
	for _, e := range extra {
		if !slices.Contains(base, e) {
			base = append(base, e)
		}
	}
	return base
}

func companyProps() []string {
	return []string{"name", "domain", "industry", "numberofemployees", "annualrevenue", "country", "hs_merged_object_ids", "createdate", "hs_lastmodifieddate", "hs_object_id"}
}
func dealProps() []string {
	return []string{"dealname", "amount", "closedate", "dealstage", "pipeline", "deal_currency_code", "hs_is_closed_won", "hs_is_closed", "createdate", "hs_lastmodifieddate", "hs_object_id"}
}
func orderProps() []string {
	return []string{"hs_order_name", "hs_total_price", "hs_currency_code", "hs_pipeline_stage", "hs_external_order_id", "hs_external_created_date", "hs_refund_amount", "hs_billing_address_email", "hs_source_store", "createdate", "hs_lastmodifieddate", "hs_object_id"}
}
func lineItemProps() []string {
	return []string{"name", "hs_sku", "price", "quantity", "amount", "hs_product_id", lineItemCategory}
}

// lineItemCategory is the line item property that carries the product's
// category. HubSpot has no built-in product category; shops create a
// product property, and HubSpot copies a product's property values onto
// the line items made from it. A portal without the property simply
// returns none (HubSpot leaves unknown properties out of read answers).
const lineItemCategory = "category"

// mapContact maps a contact. Problems in optional fields drop the field
// (and keep the raw value in Attributes) rather than the person.
func (s state) mapContact(o hsObject) *domain.Contact {
	created, updated := o.times()
	c := &domain.Contact{
		Ref:            s.ref(domain.ObjectContact, o.ID, updated),
		FirstName:      o.prop("firstname"),
		LastName:       o.prop("lastname"),
		Gender:         strings.ToLower(o.prop("gender")),
		LifecycleStage: strings.ToLower(o.prop("lifecyclestage")),
		MergedIDs:      splitMulti(o.prop("hs_merged_object_ids")),
		CreatedAt:      created,
		UpdatedAt:      updated,
		Attributes:     map[string]string{},
	}
	if e := o.prop("email"); e != "" {
		c.Emails = []string{e}
	}
	for _, p := range []string{"phone", "mobilephone"} {
		if v := o.prop(p); v != "" && !slices.Contains(c.Phones, v) {
			c.Phones = append(c.Phones, v)
		}
	}
	if dob := o.prop("date_of_birth"); dob != "" {
		if t, ok := parseTime(dob); ok {
			c.BirthDate = t.Format("2006-01-02")
		} else {
			c.Attributes["date_of_birth"] = dob
		}
	}
	c.Address = domain.Address{Line1: o.prop("address"), City: o.prop("city"), Region: o.prop("state"), PostalCode: o.prop("zip")}
	if country := o.prop("country"); country != "" {
		if cc, ok := domain.NormalizeCountry(country); ok {
			c.Address.Country = cc
		} else {
			c.Attributes["country_raw"] = country
		}
	}
	switch strings.ToLower(o.prop("hs_email_optout")) {
	case "true":
		c.Consent.Email = domain.ConsentDenied
	}
	for _, p := range []string{"jobtitle", "industry", "company"} {
		if v := o.prop(p); v != "" {
			c.Attributes[p] = v
		}
	}
	for _, p := range s.cfg.Properties {
		if v := o.prop(p); v != "" {
			c.Attributes[p] = v
		}
	}
	mapEngagement(o, c.Attributes)
	if id := o.prop("associatedcompanyid"); id != "" {
		c.CompanyRef = s.ref(domain.ObjectCompany, id, time.Time{})
	}
	if len(c.Attributes) == 0 {
		c.Attributes = nil
	}
	return c
}

// mapCompany maps a company; a malformed number is an error naming it.
func (s state) mapCompany(o hsObject) (*domain.Company, error) {
	_, updated := o.times()
	co := &domain.Company{
		Ref:       s.ref(domain.ObjectCompany, o.ID, updated),
		Name:      o.prop("name"),
		Domain:    o.prop("domain"),
		Industry:  o.prop("industry"),
		UpdatedAt: updated,
	}
	if v := o.prop("numberofemployees"); v != "" {
		n, err := domain.ParseMinor(v, 0)
		if err != nil {
			return nil, &mapErr{"properties.numberofemployees", fmt.Sprintf("%q is not a number", v)}
		}
		co.Employees = n
	}
	if v := o.prop("annualrevenue"); v != "" {
		m, err := domain.ParseMoney(v, s.cfg.Currency)
		if err != nil {
			return nil, &mapErr{"properties.annualrevenue", fmt.Sprintf("%q is not a decimal amount", v)}
		}
		co.AnnualRevenue = m
	}
	if v := o.prop("country"); v != "" {
		if cc, ok := domain.NormalizeCountry(v); ok {
			co.Country = cc
		} else {
			co.CountryRaw = v
		}
	}
	return co, nil
}

// mapDeal maps a deal to an order: closed-won deals are purchases
// (completed, dated by closedate), closed-lost ones lost, the rest open.
func (s state) mapDeal(o hsObject) (*domain.Order, error) {
	created, updated := o.times()
	stage := o.prop("dealstage")
	cur := strings.ToUpper(o.prop("deal_currency_code"))
	if cur == "" {
		cur = strings.ToUpper(s.cfg.Currency)
	}
	ord := &domain.Order{
		Ref:       s.ref(domain.ObjectDeal, o.ID, updated),
		CreatedAt: created,
		UpdatedAt: updated,
		RawStatus: stage,
		Currency:  cur,
		Total:     domain.Money{Currency: cur},
		Channel:   "crm",
	}
	won := o.prop("hs_is_closed_won") == "true" || slices.Contains(s.cfg.Deals.WonStages, stage)
	lost := !won && (slices.Contains(s.cfg.Deals.LostStages, stage) || o.prop("hs_is_closed") == "true")
	switch {
	case won:
		ord.Status = domain.StatusCompleted
	case lost:
		ord.Status = domain.StatusLost
	default:
		ord.Status = domain.StatusOpen
	}
	if v := o.prop("amount"); v != "" {
		m, err := domain.ParseMoney(v, cur)
		if err != nil {
			return nil, &mapErr{"properties.amount", fmt.Sprintf("%q is not a decimal amount", v)}
		}
		ord.Total = m
	}
	if v := o.prop("closedate"); v != "" && (won || lost) {
		t, ok := parseTime(v)
		if !ok {
			return nil, &mapErr{"properties.closedate", fmt.Sprintf("%q is not a date", v)}
		}
		ord.CreatedAt = t
	}
	return ord, nil
}

// orderStatus maps a commerce order's pipeline stage by its wording.
func orderStatus(stage string) domain.OrderStatus {
	s := strings.ToLower(stage)
	switch {
	case strings.Contains(s, "cancel"):
		return domain.StatusCancelled
	case strings.Contains(s, "refund"):
		return domain.StatusRefunded
	case strings.Contains(s, "fail"):
		return domain.StatusFailed
	case strings.Contains(s, "hold"):
		return domain.StatusOnHold
	case strings.Contains(s, "process"), strings.Contains(s, "paid"):
		return domain.StatusProcessing
	case strings.Contains(s, "ship"), strings.Contains(s, "deliver"), strings.Contains(s, "fulfil"), strings.Contains(s, "complete"):
		return domain.StatusCompleted
	default:
		return domain.StatusPending
	}
}

// mapOrder maps a commerce order.
func (s state) mapOrder(o hsObject) (*domain.Order, error) {
	created, updated := o.times()
	cur := strings.ToUpper(o.prop("hs_currency_code"))
	if cur == "" {
		cur = strings.ToUpper(s.cfg.Currency)
	}
	ord := &domain.Order{
		Ref:          s.ref(domain.ObjectOrder, o.ID, updated),
		CreatedAt:    created,
		UpdatedAt:    updated,
		RawStatus:    o.prop("hs_pipeline_stage"),
		Status:       orderStatus(o.prop("hs_pipeline_stage")),
		Currency:     cur,
		Total:        domain.Money{Currency: cur},
		BillingEmail: o.prop("hs_billing_address_email"),
		Channel:      o.prop("hs_source_store"),
	}
	if v := o.prop("hs_total_price"); v != "" {
		m, err := domain.ParseMoney(v, cur)
		if err != nil {
			return nil, &mapErr{"properties.hs_total_price", fmt.Sprintf("%q is not a decimal amount", v)}
		}
		ord.Total = m
	}
	if v := o.prop("hs_refund_amount"); v != "" {
		m, err := domain.ParseMoney(v, cur)
		if err != nil {
			return nil, &mapErr{"properties.hs_refund_amount", fmt.Sprintf("%q is not a decimal amount", v)}
		}
		ord.Refunded = m
	}
	if v := o.prop("hs_external_created_date"); v != "" {
		t, ok := parseTime(v)
		if !ok {
			return nil, &mapErr{"properties.hs_external_created_date", fmt.Sprintf("%q is not a date", v)}
		}
		ord.CreatedAt = t
	}
	return ord, nil
}

// mapLineItem maps a line item; unit price falls back to amount/quantity.
func mapLineItem(o hsObject, currency string) (domain.LineItem, error) {
	li := domain.LineItem{SKU: o.prop("hs_sku"), Name: o.prop("name"), Category: o.prop(lineItemCategory), Quantity: 1, UnitPrice: domain.Money{Currency: currency}}
	if v := o.prop("quantity"); v != "" {
		q, err := domain.ParseMinor(v, 0)
		if err != nil {
			return li, &mapErr{"line_items." + o.ID + ".quantity", fmt.Sprintf("%q is not a number", v)}
		}
		li.Quantity = q
	}
	if v := o.prop("price"); v != "" {
		m, err := domain.ParseMoney(v, currency)
		if err != nil {
			return li, &mapErr{"line_items." + o.ID + ".price", fmt.Sprintf("%q is not a decimal amount", v)}
		}
		li.UnitPrice = m
	}
	return li, nil
}
