package salesforce

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// Object types used in ExternalRef.ObjectType. People are "contact" or
// "lead" (a Salesforce subtype of domain.ObjectContact) so write-back
// knows which sObject to update.
const (
	refContact     = domain.ObjectContact
	refLead        = "lead"
	refAccount     = domain.ObjectCompany
	refOpportunity = "opportunity"
	refOrder       = domain.ObjectOrder
)

// row is one record as a map, from REST JSON (strings, json.Number,
// bools, nil), Bulk CSV or Outbound Message XML (strings, "" for null).
type row map[string]any

func (r row) str(k string) string {
	switch v := r[k].(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return ""
}

func (r row) boolean(k string) bool {
	switch v := r[k].(type) {
	case bool:
		return v
	case string:
		b, _ := strconv.ParseBool(v)
		return b
	}
	return false
}

// timeOf parses a Salesforce date-time (REST "…+0000", CSV/XML "…Z").
func (r row) timeOf(k string) (time.Time, error) {
	s := r.str(k)
	if s == "" {
		return time.Time{}, nil
	}
	for _, l := range []string{"2006-01-02T15:04:05.000-0700", time.RFC3339Nano, "2006-01-02T15:04:05-0700"} {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("field %s: %q is not a date-time", k, s)
}

func (r row) dateOf(k string) (time.Time, error) {
	s := r.str(k)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return time.Time{}, fmt.Errorf("field %s: %q is not a date (YYYY-MM-DD)", k, s)
	}
	return t, nil
}

// mapper turns rows of one org into changes.
type mapper struct {
	org      string
	currency string
	multi    bool
	// engagement maps engagement.fields keys to the fields holding them.
	engagement map[string]string
}

func (m *mapper) ref(typ, id string, mod time.Time) domain.ExternalRef {
	return domain.ExternalRef{Platform: Name, Account: m.org, ObjectType: typ, ID: id, LastModified: mod}
}

// refType maps an sObject name to the ExternalRef object type.
func refType(object string) string {
	switch object {
	case "Contact":
		return refContact
	case "Lead":
		return refLead
	case "Account":
		return refAccount
	case "Opportunity":
		return refOpportunity
	case "Order":
		return refOrder
	}
	return strings.ToLower(object)
}

// mapRow maps one row of an sObject to a change, or returns a reason
// naming the field that could not be mapped.
func (m *mapper) mapRow(object string, r row) (adapter.Change, error) {
	id := r.str("Id")
	if id == "" {
		return adapter.Change{}, fmt.Errorf("field Id: missing")
	}
	if !validID(id) {
		return adapter.Change{}, fmt.Errorf("field Id: %q is not a Salesforce id", id)
	}
	mod, err := r.timeOf("SystemModstamp")
	if err != nil {
		return adapter.Change{}, err
	}
	if mod.IsZero() {
		return adapter.Change{}, fmt.Errorf("field SystemModstamp: missing")
	}
	ref := m.ref(refType(object), id, mod)
	if r.boolean("IsDeleted") {
		if master := r.str("MasterRecordId"); master != "" && validID(master) {
			return adapter.Change{Kind: adapter.ChangeMerge, Ref: ref, MergedInto: m.ref(ref.ObjectType, master, time.Time{})}, nil
		}
		return adapter.Change{Kind: adapter.ChangeDelete, Ref: ref}, nil
	}
	if object == "Lead" && r.boolean("IsConverted") {
		if cid := r.str("ConvertedContactId"); cid != "" && validID(cid) {
			return adapter.Change{Kind: adapter.ChangeMerge, Ref: ref, MergedInto: m.ref(refContact, cid, time.Time{})}, nil
		}
	}
	ch := adapter.Change{Kind: adapter.ChangeUpsert, Ref: ref}
	switch object {
	case "Contact", "Lead":
		c, err := m.person(object, ref, r)
		if err != nil {
			return adapter.Change{}, err
		}
		ch.Contact = c
	case "Account":
		co, err := m.account(ref, r)
		if err != nil {
			return adapter.Change{}, err
		}
		ch.Company = co
	case "Opportunity":
		o, err := m.opportunity(ref, r)
		if err != nil {
			return adapter.Change{}, err
		}
		ch.Order = o
	case "Order":
		o, err := m.order(ref, r)
		if err != nil {
			return adapter.Change{}, err
		}
		ch.Order = o
	default:
		return adapter.Change{}, fmt.Errorf("object %s is not mapped", object)
	}
	return ch, nil
}

func (m *mapper) stamps(r row) (created, updated time.Time, err error) {
	if created, err = r.timeOf("CreatedDate"); err != nil {
		return
	}
	updated, err = r.timeOf("LastModifiedDate")
	return
}

func (m *mapper) person(object string, ref domain.ExternalRef, r row) (*domain.Contact, error) {
	created, updated, err := m.stamps(r)
	if err != nil {
		return nil, err
	}
	if updated.IsZero() {
		updated = ref.LastModified
	}
	c := &domain.Contact{Ref: ref, FirstName: r.str("FirstName"), LastName: r.str("LastName"),
		CreatedAt: created, UpdatedAt: updated}
	attr := func(k, v string) {
		if c.Attributes == nil {
			c.Attributes = map[string]string{}
		}
		c.Attributes[k] = v
	}
	if e := strings.TrimSpace(r.str("Email")); e != "" {
		c.Emails = []string{e}
	}
	for _, k := range []string{"Phone", "MobilePhone"} {
		if p := strings.TrimSpace(r.str(k)); p != "" {
			c.Phones = append(c.Phones, p)
		}
	}
	if r.boolean("HasOptedOutOfEmail") {
		c.Consent.Email = domain.ConsentDenied
		c.Consent.UpdatedAt = updated
	}
	if v := r.str("LeadSource"); v != "" {
		attr("lead_source", v)
	}
	m.mapEngagement(r, attr)
	prefix := "Mailing"
	if object == "Lead" {
		prefix = ""
		c.LifecycleStage = "lead"
		if v := r.str("Status"); v != "" {
			attr("lead_status", v)
		}
		if name := r.str("Company"); name != "" {
			c.Company = &domain.Company{Name: name, Industry: r.str("Industry")}
		}
	} else {
		c.LifecycleStage = "contact"
		if v := r.str("Title"); v != "" {
			attr("title", v)
		}
		if b, err := r.dateOf("Birthdate"); err != nil {
			return nil, err
		} else if !b.IsZero() {
			c.BirthDate = b.Format("2006-01-02")
		}
		if acc := r.str("AccountId"); acc != "" {
			c.CompanyRef = m.ref(refAccount, acc, time.Time{})
		}
	}
	street := prefix + "Street"
	c.Address = domain.Address{Line1: r.str(street), City: r.str(prefix + "City"), Region: r.str(prefix + "State"),
		PostalCode: r.str(prefix + "PostalCode")}
	if line1, line2, ok := strings.Cut(c.Address.Line1, "\n"); ok {
		c.Address.Line1, c.Address.Line2 = line1, strings.TrimSpace(line2)
	}
	if raw := r.str(prefix + "Country"); raw != "" {
		if iso, ok := domain.NormalizeCountry(raw); ok {
			c.Address.Country = iso
		} else {
			attr("country_raw", raw)
		}
	}
	return c, nil
}

func (m *mapper) currencyOf(r row) string {
	if m.multi {
		if c := r.str("CurrencyIsoCode"); c != "" {
			return strings.ToUpper(c)
		}
	}
	return m.currency
}

func (m *mapper) money(r row, k, cur string) (domain.Money, error) {
	s := r.str(k)
	if s == "" {
		return domain.Money{Currency: cur}, nil
	}
	v, err := domain.ParseMoney(s, cur)
	if err != nil {
		return domain.Money{}, fmt.Errorf("field %s: %w", k, err)
	}
	return v, nil
}

func (m *mapper) account(ref domain.ExternalRef, r row) (*domain.Company, error) {
	cur := m.currencyOf(r)
	rev, err := m.money(r, "AnnualRevenue", cur)
	if err != nil {
		return nil, err
	}
	co := &domain.Company{Ref: ref, Name: r.str("Name"), Industry: r.str("Industry"), UpdatedAt: ref.LastModified}
	if rev.Amount != 0 {
		co.AnnualRevenue = rev
	}
	if s := r.str("NumberOfEmployees"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("field NumberOfEmployees: %q is not a whole number", s)
		}
		co.Employees = n
	}
	if w := r.str("Website"); w != "" {
		co.Domain = domainOf(w)
	}
	if raw := r.str("BillingCountry"); raw != "" {
		if iso, ok := domain.NormalizeCountry(raw); ok {
			co.Country = iso
		} else {
			co.CountryRaw = raw
		}
	}
	return co, nil
}

func domainOf(website string) string {
	s := strings.TrimSpace(website)
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
}

// opportunity maps an Opportunity: Closed Won is a completed purchase,
// closed lost is lost, anything else an open deal; the stage name is kept
// as RawStatus (it feeds the lifecycle stage).
func (m *mapper) opportunity(ref domain.ExternalRef, r row) (*domain.Order, error) {
	created, updated, err := m.stamps(r)
	if err != nil {
		return nil, err
	}
	cur := m.currencyOf(r)
	total, err := m.money(r, "Amount", cur)
	if err != nil {
		return nil, err
	}
	closeDate, err := r.dateOf("CloseDate")
	if err != nil {
		return nil, err
	}
	o := &domain.Order{Ref: ref, Currency: cur, Total: total, RawStatus: r.str("StageName"),
		CreatedAt: created, UpdatedAt: updated, Channel: strings.ToLower(r.str("LeadSource"))}
	switch {
	case r.boolean("IsWon"):
		o.Status = domain.StatusCompleted
		if !closeDate.IsZero() {
			o.CreatedAt = closeDate // the purchase happened when it closed
		}
	case r.boolean("IsClosed"):
		o.Status = domain.StatusLost
	default:
		o.Status = domain.StatusOpen
	}
	if cid := r.str("ContactId"); cid != "" {
		o.CustomerRef = m.ref(refContact, cid, time.Time{})
	}
	return o, nil
}

// order maps the Order sObject: Activated orders are completed purchases,
// Draft ones pending.
func (m *mapper) order(ref domain.ExternalRef, r row) (*domain.Order, error) {
	created, updated, err := m.stamps(r)
	if err != nil {
		return nil, err
	}
	cur := m.currencyOf(r)
	total, err := m.money(r, "TotalAmount", cur)
	if err != nil {
		return nil, err
	}
	eff, err := r.dateOf("EffectiveDate")
	if err != nil {
		return nil, err
	}
	o := &domain.Order{Ref: ref, Currency: cur, Total: total, RawStatus: r.str("Status"), CreatedAt: created, UpdatedAt: updated}
	if !eff.IsZero() {
		o.CreatedAt = eff
	}
	switch strings.ToLower(r.str("Status")) {
	case "activated":
		o.Status = domain.StatusCompleted
	case "draft":
		o.Status = domain.StatusPending
	case "cancelled", "canceled":
		o.Status = domain.StatusCancelled
	default:
		o.Status = domain.StatusPending
	}
	if cid := r.str("BillToContactId"); cid != "" {
		o.CustomerRef = m.ref(refContact, cid, time.Time{})
	}
	return o, nil
}
