package hubspotfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Property is a property definition.
type Property struct {
	Name        string   `json:"name"`
	Label       string   `json:"label"`
	Type        string   `json:"type"`
	FieldType   string   `json:"fieldType"`
	GroupName   string   `json:"groupName"`
	Description string   `json:"description"`
	Options     []Option `json:"options"`
	// ReadOnly values cannot be written through the API.
	ReadOnly       bool      `json:"-"`
	HubspotDefined bool      `json:"hubspotDefined,omitempty"`
	DisplayOrder   int       `json:"displayOrder"`
	Hidden         bool      `json:"hidden"`
	FormField      bool      `json:"formField"`
	CreatedAt      time.Time `json:"-"`
	UpdatedAt      time.Time `json:"-"`
}

// Option is one allowed value of an enumeration property.
type Option struct {
	Label        string `json:"label"`
	Value        string `json:"value"`
	Description  string `json:"description,omitempty"`
	DisplayOrder int    `json:"displayOrder"`
	Hidden       bool   `json:"hidden"`
}

func defaultProperties(t objectType) map[string]*Property {
	m := map[string]*Property{}
	add := func(name, typ, field string, ro bool, opts ...string) {
		p := &Property{Name: name, Label: name, Type: typ, FieldType: field, GroupName: strings.TrimSuffix(singular(t.Name), "s") + "information", ReadOnly: ro, HubspotDefined: true, Options: []Option{}}
		for i, o := range opts {
			p.Options = append(p.Options, Option{Label: o, Value: o, DisplayOrder: i})
		}
		m[name] = p
	}
	add("hs_object_id", "number", "number", true)
	add("createdate", "datetime", "date", true)
	add(t.ModifiedProp, "datetime", "date", true)
	add("hs_merged_object_ids", "enumeration", "checkbox", true)
	switch t.Name {
	case "contacts":
		for _, p := range []string{"email", "firstname", "lastname", "phone", "mobilephone", "address", "city", "state", "zip", "country", "company", "jobtitle", "industry", "date_of_birth", "gender"} {
			add(p, "string", "text", false)
		}
		add("associatedcompanyid", "number", "number", false)
		add("hs_email_optout", "bool", "booleancheckbox", false, "true", "false")
		add("lifecyclestage", "enumeration", "radio", false, "subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer", "evangelist", "other")
		// Engagement: HubSpot's default contact properties of web analytics
		// (group analyticsinformation), marketing email (emailinformation)
		// and forms (conversioninformation), as listed on "HubSpot's default
		// contact properties" (knowledge base) and returned by
		// GET /crm/v3/properties/contacts. HubSpot calculates them, so
		// their values are read-only: lifetime counts as number and last
		// dates as datetime (ISO 8601 in v3 answers).
		for _, e := range []struct{ name, typ, group string }{
			{"hs_analytics_num_page_views", "number", "analyticsinformation"},
			{"hs_analytics_num_visits", "number", "analyticsinformation"},
			{"hs_analytics_last_visit_timestamp", "datetime", "analyticsinformation"},
			{"hs_email_open", "number", "emailinformation"},
			{"hs_email_click", "number", "emailinformation"},
			{"hs_email_bounce", "number", "emailinformation"},
			{"hs_email_last_open_date", "datetime", "emailinformation"},
			{"hs_email_last_click_date", "datetime", "emailinformation"},
			{"num_conversion_events", "number", "conversioninformation"},
		} {
			field := "number"
			if e.typ == "datetime" {
				field = "date"
			}
			add(e.name, e.typ, field, true)
			m[e.name].GroupName = e.group
		}
	case "companies":
		for _, p := range []string{"name", "domain", "industry", "country", "city"} {
			add(p, "string", "text", false)
		}
		add("numberofemployees", "number", "number", false)
		add("annualrevenue", "number", "number", false)
	case "deals":
		add("dealname", "string", "text", false)
		add("amount", "number", "number", false)
		add("closedate", "datetime", "date", false)
		add("dealstage", "enumeration", "radio", false, "appointmentscheduled", "qualifiedtobuy", "presentationscheduled", "decisionmakerboughtin", "contractsent", "closedwon", "closedlost")
		add("pipeline", "enumeration", "select", false, "default")
		add("deal_currency_code", "string", "text", false)
		add("hs_is_closed_won", "bool", "booleancheckbox", true)
		add("hs_is_closed", "bool", "booleancheckbox", true)
	case "line_items":
		// "category" stands for the custom product property a shop adds;
		// HubSpot mirrors product properties onto line items.
		for _, p := range []string{"name", "hs_sku", "hs_product_id", "category"} {
			add(p, "string", "text", false)
		}
		for _, p := range []string{"price", "quantity", "amount"} {
			add(p, "number", "number", false)
		}
	case "orders":
		for _, p := range []string{"hs_order_name", "hs_currency_code", "hs_external_order_id", "hs_source_store", "hs_billing_address_email"} {
			add(p, "string", "text", false)
		}
		add("hs_total_price", "number", "number", false)
		add("hs_refund_amount", "number", "number", false)
		add("hs_external_created_date", "datetime", "date", false)
		add("hs_pipeline_stage", "string", "text", false)
	}
	return m
}

// validatePropsLocked checks property writes as HubSpot does and returns the
// VALIDATION_ERROR message for the first problems found, or "".
func (f *Fake) validatePropsLocked(t objectType, writes []map[string]string) string {
	type problem struct {
		IsValid   bool   `json:"isValid"`
		Message   string `json:"message"`
		Error     string `json:"error"`
		Name      string `json:"name"`
		Localized string `json:"localizedErrorMessage"`
	}
	var probs []problem
	defs := f.props[t.Name]
	for _, props := range writes {
		for _, k := range keys(props) {
			v := props[k]
			p := defs[k]
			switch {
			case p == nil:
				msg := fmt.Sprintf("Property \"%s\" does not exist", k)
				probs = append(probs, problem{false, msg, "PROPERTY_DOESNT_EXIST", k, msg})
			case p.ReadOnly:
				msg := fmt.Sprintf("\"%s\" is a read only property; its value cannot be set.", k)
				probs = append(probs, problem{false, msg, "READ_ONLY_VALUE", k, msg})
			case v == "":
			case p.Type == "enumeration":
				vals := []string{v}
				if p.FieldType == "checkbox" {
					vals = strings.Split(v, ";")
				}
				for _, x := range vals {
					if !hasOption(p, x) {
						msg := fmt.Sprintf("%s was not one of the allowed options: [%s]", x, optionList(p))
						probs = append(probs, problem{false, msg, "INVALID_OPTION", k, msg})
						break
					}
				}
			case p.Type == "number":
				if _, err := strconv.ParseFloat(v, 64); err != nil {
					msg := fmt.Sprintf("%s was not a valid number.", v)
					probs = append(probs, problem{false, msg, "INVALID_INTEGER", k, msg})
				}
			case p.Type == "date":
				// A date property takes an ISO 8601 string or epoch
				// milliseconds, at midnight UTC (developers.hubspot.com/docs/guides/api/crm/properties,
				// "date"; the timestamps FAQ: "If you try to set a value
				// that is not midnight UTC, you will receive an error").
				if msg := dateProblem(v); msg != "" {
					probs = append(probs, problem{false, msg, "INVALID_DATE", k, msg})
				}
			case p.Type == "bool":
				if v != "true" && v != "false" {
					msg := fmt.Sprintf("%s was not a valid boolean.", v)
					probs = append(probs, problem{false, msg, "INVALID_BOOLEAN", k, msg})
				}
			}
			if len(probs) >= 10 {
				break
			}
		}
	}
	if len(probs) == 0 {
		return ""
	}
	b, _ := json.Marshal(probs)
	return "Property values were not valid: " + string(b)
}

func hasOption(p *Property, v string) bool {
	for _, o := range p.Options {
		if o.Value == v {
			return true
		}
	}
	return false
}

func optionList(p *Property) string {
	var vals []string
	for _, o := range p.Options {
		vals = append(vals, o.Value)
	}
	return strings.Join(vals, ", ")
}

var propName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

func (f *Fake) renderProp(p *Property) map[string]any {
	b, _ := json.Marshal(p)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	m["createdAt"] = formatTime(p.CreatedAt)
	m["updatedAt"] = formatTime(p.UpdatedAt)
	m["modificationMetadata"] = map[string]bool{"archivable": !p.HubspotDefined, "readOnlyDefinition": p.HubspotDefined, "readOnlyValue": p.ReadOnly}
	return m
}

func (f *Fake) handlePropList(w http.ResponseWriter, r *http.Request) {
	t, ok := f.objectType(w, r)
	if !ok {
		return
	}
	f.mu.Lock()
	var out []map[string]any
	for _, k := range sortedPropNames(f.props[t.Name]) {
		out = append(out, f.renderProp(f.props[t.Name][k]))
	}
	f.mu.Unlock()
	writeJSON(w, 200, map[string]any{"results": nonNil(out)})
}

func sortedPropNames(m map[string]*Property) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (f *Fake) handlePropGet(w http.ResponseWriter, r *http.Request) {
	t, ok := f.objectType(w, r)
	if !ok {
		return
	}
	f.mu.Lock()
	p := f.props[t.Name][r.PathValue("name")]
	var out map[string]any
	if p != nil {
		out = f.renderProp(p)
	}
	f.mu.Unlock()
	if p == nil {
		writeError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", fmt.Sprintf("Unable to find property %s for object type %s", r.PathValue("name"), t.Name))
		return
	}
	writeJSON(w, 200, out)
}

func validateDefinition(p *Property) string {
	switch {
	case !propName.MatchString(p.Name):
		return fmt.Sprintf("Property name %q is invalid: use lower-case letters, digits and underscores, starting with a letter", p.Name)
	case p.Label == "":
		return "label is required"
	case p.GroupName == "":
		return "groupName is required"
	}
	switch p.Type {
	case "bool", "date", "datetime", "enumeration", "number", "phone_number", "string":
	default:
		return fmt.Sprintf("type %q is not one of bool, date, datetime, enumeration, number, phone_number, string", p.Type)
	}
	switch p.FieldType {
	case "booleancheckbox", "calculation_equation", "checkbox", "date", "file", "html", "number", "phonenumber", "radio", "select", "text", "textarea":
	default:
		return fmt.Sprintf("fieldType %q is not valid", p.FieldType)
	}
	if p.Type == "enumeration" {
		if len(p.Options) == 0 && p.FieldType != "checkbox" {
			return "options are required for enumeration properties"
		}
		seen := map[string]bool{}
		for _, o := range p.Options {
			if o.Value == "" || o.Label == "" {
				return "every option needs a label and a value"
			}
			if seen[o.Value] {
				return fmt.Sprintf("duplicate option value %q", o.Value)
			}
			seen[o.Value] = true
		}
		if p.FieldType != "checkbox" && p.FieldType != "radio" && p.FieldType != "select" && p.FieldType != "booleancheckbox" {
			return fmt.Sprintf("fieldType %q cannot be used with type enumeration", p.FieldType)
		}
	}
	return ""
}

func (f *Fake) handlePropCreate(w http.ResponseWriter, r *http.Request) {
	t, ok := f.objectType(w, r)
	if !ok {
		return
	}
	var p Property
	if !decodeBody(w, r, &p) {
		return
	}
	if msg := validateDefinition(&p); msg != "" {
		badRequest(w, msg)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.props[t.Name][p.Name] != nil {
		writeJSON(w, http.StatusConflict, apiError{Status: "error", Message: fmt.Sprintf("Property named '%s' already exists.", p.Name),
			CorrelationID: newID(), Category: "OBJECT_ALREADY_EXISTS", Context: map[string][]string{"name": {p.Name}}})
		return
	}
	if p.Options == nil {
		p.Options = []Option{}
	}
	p.CreatedAt, p.UpdatedAt = f.now(), f.now()
	f.props[t.Name][p.Name] = &p
	writeJSON(w, http.StatusCreated, f.renderProp(&p))
}

func (f *Fake) handlePropPatch(w http.ResponseWriter, r *http.Request) {
	t, ok := f.objectType(w, r)
	if !ok {
		return
	}
	var in struct {
		Label     *string  `json:"label"`
		Options   []Option `json:"options"`
		FieldType *string  `json:"fieldType"`
		GroupName *string  `json:"groupName"`
	}
	if !decodeBody(w, r, &in) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.props[t.Name][r.PathValue("name")]
	if p == nil {
		writeError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", fmt.Sprintf("Unable to find property %s for object type %s", r.PathValue("name"), t.Name))
		return
	}
	if p.HubspotDefined {
		badRequest(w, fmt.Sprintf("%s is a HubSpot defined property and cannot be modified", p.Name))
		return
	}
	c := *p
	if in.Label != nil {
		c.Label = *in.Label
	}
	if in.Options != nil {
		c.Options = in.Options
	}
	if in.FieldType != nil {
		c.FieldType = *in.FieldType
	}
	if in.GroupName != nil {
		c.GroupName = *in.GroupName
	}
	if msg := validateDefinition(&c); msg != "" {
		badRequest(w, msg)
		return
	}
	c.UpdatedAt = f.now()
	*p = c
	writeJSON(w, 200, f.renderProp(p))
}

// PropertyDef returns a property definition, for inspection.
func (f *Fake) PropertyDef(objectType, name string) (Property, bool) {
	t, _ := lookupType(objectType)
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.props[t.Name][name]
	if p == nil {
		return Property{}, false
	}
	c := *p
	c.Options = append([]Option(nil), p.Options...)
	return c, true
}

// DefineProperty adds (or replaces) a property definition directly.
func (f *Fake) DefineProperty(objectType string, p Property) {
	t, _ := lookupType(objectType)
	f.mu.Lock()
	defer f.mu.Unlock()
	if p.Options == nil {
		p.Options = []Option{}
	}
	f.props[t.Name][p.Name] = &p
}

// dateProblem says why v is not a value a date property accepts, or "".
func dateProblem(v string) string {
	var t time.Time
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
		t = time.UnixMilli(ms).UTC()
	} else if d, err := time.Parse(time.DateOnly, v); err == nil {
		t = d
	} else if d, err := time.Parse(time.RFC3339Nano, v); err == nil {
		t = d.UTC()
	} else {
		return fmt.Sprintf("%s was not a valid date.", v)
	}
	if t.Hour() != 0 || t.Minute() != 0 || t.Second() != 0 || t.Nanosecond() != 0 {
		return fmt.Sprintf("%s is at %s UTC, not midnight!", v, t.Format("15:04:05.000"))
	}
	return ""
}
