package segment

import (
	"reflect"
	"strings"
)

// RuleVariable describes one name a rule expression can read.
type RuleVariable struct {
	Name string // as written in a rule, e.g. "recency_days"
	Type string // bool, int, float, string, list of strings, map string→float, map string→string
	Doc  string // what it holds, in one line
}

// ruleDoc says what each RuleEnv name holds; TestRuleVariablesDocumented
// keeps it complete.
func ruleDoc(name string) string {
	switch name {
	case "gender":
		return "gender as the platforms hold it, lower-cased"
	case "age":
		return "whole years at the as-of date; -1 when the birth date is unknown"
	case "country":
		return "ISO 3166-1 alpha-2 code of the address, else of the company (\"GB\", \"DE\")"
	case "region":
		return "state, county or region of the address"
	case "city":
		return "city of the address"
	case "industry":
		return "the company's industry"
	case "employees":
		return "the company's number of employees; 0 when unknown"
	case "company_revenue":
		return "the company's annual revenue in major units; 0 when unknown"
	case "lifecycle_stage":
		return "the platforms' lifecycle stage, lower-cased (lead, prospect, customer, …)"
	case "has_email":
		return "the profile has an email address"
	case "email_domain":
		return "the part of the primary email after the @"
	case "open_deals":
		return "open deals or opportunities"
	case "platforms":
		return "the platforms the profile lives on (\"hubspot\", \"woocommerce\", …)"
	case "device":
		return "the device of most orders: desktop, mobile, tablet or other"
	case "channel":
		return "the channel of most orders (web, pos, admin, checkout, …)"
	case "device_share":
		return "share of orders per device, 0..1 (device_share[\"mobile\"])"
	case "channel_share":
		return "share of orders per channel, 0..1"
	case "attrs":
		return "the profile's other attributes by name (attrs[\"jobtitle\"])"
	case "categories":
		return "product categories bought (WooCommerce product categories, HubSpot line item category, Salesforce Product2.Family)"
	case "is_buyer":
		return "at least one purchase"
	case "recency_days":
		return "days since the last purchase; -1 for non-buyers"
	case "frequency":
		return "number of purchases"
	case "monetary":
		return "net spend in major units of the dataset currency"
	case "aov":
		return "average order value in major units"
	case "tenure_days":
		return "days since the first purchase; -1 for non-buyers"
	case "items_per_order":
		return "average items per purchase"
	case "distinct_categories":
		return "number of distinct categories bought"
	case "orders_in_window":
		return "purchases inside the KPI window ending at the as-of date"
	case "gap_mean_days":
		return "mean days between purchases"
	case "refunded":
		return "number of fully refunded or cancelled orders"
	case "has_engagement":
		return "the platforms report engagement (web visits, email, forms) for the profile: HubSpot, Salesforce fields named under engagement.fields, WooCommerce's last active day; see the README"
	case "page_views_total":
		return "web page views over the contact's lifetime (HubSpot hs_analytics_num_page_views); -1 when unknown"
	case "visits_total":
		return "web sessions over the lifetime (HubSpot hs_analytics_num_visits); -1 when unknown"
	case "email_opens_total":
		return "marketing emails opened over the lifetime (HubSpot hs_email_open); -1 when unknown"
	case "email_clicks_total":
		return "marketing emails clicked over the lifetime (HubSpot hs_email_click); -1 when unknown"
	case "email_bounces_total":
		return "marketing emails bounced over the lifetime (HubSpot hs_email_bounce); -1 when unknown"
	case "form_submissions_total":
		return "form submissions over the lifetime (HubSpot num_conversion_events); -1 when unknown"
	case "days_since_engagement":
		return "days since the latest web visit (on WooCommerce, the last day a signed-in customer was active), marketing email open or click; -1 when no date is known"
	case "avg_days_between_orders":
		return "mean days between purchase-days; -1 below two purchase-days"
	case "expected_next_order_days":
		return "days from the as-of day until the purchase model's conditional expected purchases reach one (the expected next order); without a sound model, the mean gap minus the days since the last purchase, 0 when overdue; -1 for non-buyers, when no order is expected within 730 days, and without a model below two purchase-days"
	}
	return ""
}

// RuleVariables lists every name a rule expression can read, in the order
// RuleEnv declares them.
func RuleVariables() []RuleVariable {
	t := reflect.TypeFor[RuleEnv]()
	out := make([]RuleVariable, 0, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		name := f.Tag.Get("expr")
		out = append(out, RuleVariable{Name: name, Type: typeWord(f.Type), Doc: ruleDoc(name)})
	}
	return out
}

func typeWord(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "bool"
	case reflect.Int, reflect.Int32, reflect.Int64:
		return "int"
	case reflect.Float64:
		return "float"
	case reflect.String:
		return "string"
	case reflect.Slice:
		return "list of " + typeWord(t.Elem()) + "s"
	case reflect.Map:
		return "map string→" + typeWord(t.Elem())
	}
	return t.String()
}

// ruleNames returns the rule names joined for an error message.
func ruleNames() string {
	vars := RuleVariables()
	names := make([]string, len(vars))
	for i, v := range vars {
		names[i] = v.Name
	}
	return strings.Join(names, ", ")
}
