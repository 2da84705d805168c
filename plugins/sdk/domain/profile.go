package domain

import (
	"strings"
	"time"
)

// Platform names a source system: "hubspot", "salesforce", "woocommerce" or
// the name a plugin describes itself with, as an adapter stamps its
// records. The host keeps records under the name of the configured
// instance they came from (a platform section's key, such as shop-eu for
// one of two WooCommerce shops), which is the adapter's name unless the
// configuration gives the instance another.
type Platform = string

// Object types carried in ExternalRef.ObjectType and Change.Object.
const (
	ObjectContact  = "contact" // a person: HubSpot contact, Salesforce Contact or Lead, WooCommerce customer
	ObjectCompany  = "company" // an organisation: HubSpot company, Salesforce Account
	ObjectOrder    = "order"   // a purchase: order, closed deal, closed-won opportunity
	ObjectDeal     = "deal"    // an open sales opportunity (feeds the prospect lifecycle stage)
	ObjectLineItem = "line_item"
)

// ExternalRef points at one record in one platform account.
type ExternalRef struct {
	Platform     Platform  `json:"platform"`
	Account      string    `json:"account,omitempty"` // portal id, org id or shop host; empty when there is one account
	ObjectType   string    `json:"object_type"`       // one of the Object* constants, or a platform's own subtype such as "lead"
	ID           string    `json:"id"`
	LastModified time.Time `json:"last_modified,omitzero"`
}

// Key returns a stable string identifying the record, ignoring LastModified.
func (r ExternalRef) Key() string {
	return r.Platform + "/" + r.Account + "/" + r.ObjectType + "/" + r.ID
}

// IsZero reports whether r names no record.
func (r ExternalRef) IsZero() bool { return r.ID == "" }

// Address is a postal address. Country is an ISO 3166-1 alpha-2 code (see
// NormalizeCountry); connectors keep text that names no known country in the
// contact's "country_raw" attribute instead.
type Address struct {
	Line1      string `json:"line1,omitempty"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city,omitempty"`
	Region     string `json:"region,omitempty"`
	PostalCode string `json:"postal_code,omitempty"`
	Country    string `json:"country,omitempty"`
}

// Company is an organisation with its firmographics.
type Company struct {
	Ref           ExternalRef `json:"ref,omitzero"`
	Name          string      `json:"name,omitempty"`
	Domain        string      `json:"domain,omitempty"`
	Industry      string      `json:"industry,omitempty"`
	Employees     int64       `json:"employees,omitempty"`
	AnnualRevenue Money       `json:"annual_revenue,omitzero"`
	Country       string      `json:"country,omitempty"` // ISO 3166-1 alpha-2, see NormalizeCountry
	// CountryRaw is the platform's text when it names no known country, so
	// it stays visible instead of being dropped.
	CountryRaw string    `json:"country_raw,omitempty"`
	UpdatedAt  time.Time `json:"updated_at,omitzero"`
}

// ConsentState is what a person agreed to for one channel.
type ConsentState string

// Consent states.
const (
	ConsentUnknown ConsentState = ""
	ConsentGranted ConsentState = "granted"
	ConsentDenied  ConsentState = "denied"
	ConsentRevoked ConsentState = "revoked"
)

// Consent records marketing permissions per channel.
type Consent struct {
	Email     ConsentState `json:"email,omitempty"`
	SMS       ConsentState `json:"sms,omitempty"`
	Tracking  ConsentState `json:"tracking,omitempty"`
	UpdatedAt time.Time    `json:"updated_at,omitzero"`
}

// Contact is one person as one platform knows them. Connectors emit
// Contacts; identity resolution merges them into Profiles.
type Contact struct {
	Ref        ExternalRef       `json:"ref"`
	Emails     []string          `json:"emails,omitempty"` // primary first
	Phones     []string          `json:"phones,omitempty"`
	FirstName  string            `json:"first_name,omitempty"`
	LastName   string            `json:"last_name,omitempty"`
	Gender     string            `json:"gender,omitempty"`
	BirthDate  string            `json:"birth_date,omitempty"` // YYYY-MM-DD when known
	Address    Address           `json:"address,omitzero"`
	CompanyRef ExternalRef       `json:"company_ref,omitzero"`
	Company    *Company          `json:"company,omitempty"` // inline firmographics when the platform embeds them
	Attributes map[string]string `json:"attributes,omitempty"`
	Consent    Consent           `json:"consent,omitzero"`
	// LifecycleStage is the platform's own stage (HubSpot lifecyclestage,
	// Salesforce Lead vs Contact), lower-cased.
	LifecycleStage string `json:"lifecycle_stage,omitempty"`
	// MergedIDs lists platform ids that were merged into this record
	// (HubSpot hs_merged_object_ids, Salesforce MasterRecordId chains).
	MergedIDs []string  `json:"merged_ids,omitempty"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// Profile is one real customer across every platform.
type Profile struct {
	ID             string            `json:"id"`
	Emails         []string          `json:"emails,omitempty"` // normalised, primary first
	Phones         []string          `json:"phones,omitempty"`
	FirstName      string            `json:"first_name,omitempty"`
	LastName       string            `json:"last_name,omitempty"`
	Gender         string            `json:"gender,omitempty"`
	BirthDate      string            `json:"birth_date,omitempty"`
	Address        Address           `json:"address,omitzero"`
	Company        *Company          `json:"company,omitempty"`
	Attributes     map[string]string `json:"attributes,omitempty"`
	Consent        Consent           `json:"consent,omitzero"`
	LifecycleStage string            `json:"lifecycle_stage,omitempty"`
	Refs           []ExternalRef     `json:"refs,omitempty"`
	// Sources names, per field, the platform record whose value won.
	Sources   map[string]string `json:"sources,omitempty"`
	CreatedAt time.Time         `json:"created_at,omitzero"`
	UpdatedAt time.Time         `json:"updated_at,omitzero"`
}

// PrimaryEmail returns the first email, or "".
func (p *Profile) PrimaryEmail() string {
	if len(p.Emails) == 0 {
		return ""
	}
	return p.Emails[0]
}

// NormalizeEmail lower-cases and trims an address. It returns "" for text
// that is not one address: no "@" or more than one, nothing on either side
// of it, or a space, comma, semicolon or angle bracket in it (a list, or a
// display name).
func NormalizeEmail(s string) string {
	e := strings.ToLower(strings.TrimSpace(s))
	at := strings.IndexByte(e, '@')
	if at <= 0 || at == len(e)-1 || strings.Count(e, "@") != 1 || strings.ContainsAny(e, " \t\r\n,;<>") {
		return ""
	}
	return e
}
