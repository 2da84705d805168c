package marketofake

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Lead is one lead record.
type Lead struct {
	ID        int
	Email     string
	FirstName string
	LastName  string
	CreatedAt time.Time
	UpdatedAt time.Time
	Fields    map[string]string // custom fields by API name
}

// Activity is one lead activity.
type Activity struct {
	ID         int
	LeadID     int
	Date       time.Time
	TypeID     int
	Attributes map[string]string // primary attribute and field changes
}

// tick advances the fake's clock a second and returns it.
func (f *Fake) tick() time.Time {
	f.clock = f.clock.Add(time.Second)
	return f.clock
}

func (f *Fake) addActivity(leadID, typeID int, at time.Time, attrs map[string]string) {
	f.lastAct++
	f.acts = append(f.acts, Activity{ID: f.lastAct, LeadID: leadID, Date: at, TypeID: typeID, Attributes: attrs})
}

// Seed adds n leads, each newer than any before, with their New Lead
// activities.
func (f *Fake) Seed(n int) []*Lead {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]*Lead, n)
	for i := range out {
		id := f.newLeadID()
		at := f.tick()
		l := &Lead{ID: id, Email: fmt.Sprintf("lead%d@example.com", id), FirstName: "Lead", LastName: strconv.Itoa(id),
			CreatedAt: at, UpdatedAt: at, Fields: map[string]string{}}
		f.leads = append(f.leads, l)
		f.byID[id] = l
		f.addActivity(id, NewLead, at, nil)
		out[i] = l
	}
	return out
}

// Engage records n activities of typeID (OpenEmail, ClickEmail,
// VisitWebpage, FillOutForm) for a lead; they do not change the lead's
// updatedAt, as in Marketo.
func (f *Fake) Engage(leadID, typeID, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.addActivity(leadID, typeID, f.tick(), nil)
	}
}

// SetField sets a lead's field (standard or custom) by hand, as a user
// would in Marketo, recording a Change Data Value activity.
func (f *Fake) SetField(leadID int, name, value string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if l := f.byID[leadID]; l != nil {
		f.set(l, name, value)
	}
}

// set changes one field of l, recording the change.
func (f *Fake) set(l *Lead, name, value string) {
	old := ""
	switch name {
	case "email":
		old, l.Email = l.Email, value
	case "firstName":
		old, l.FirstName = l.FirstName, value
	case "lastName":
		old, l.LastName = l.LastName, value
	default:
		old = l.Fields[name]
		l.Fields[name] = value
	}
	if old == value {
		return
	}
	l.UpdatedAt = f.tick()
	f.addActivity(l.ID, ChangeDataValue, l.UpdatedAt, map[string]string{"attribute": name, "oldValue": old, "newValue": value})
}

// Field returns a lead's custom field value.
func (f *Fake) Field(leadID int, name string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.byID[leadID]
	if l == nil {
		return "", false
	}
	v, ok := l.Fields[name]
	return v, ok
}

// Fields returns a copy of a lead's custom fields.
func (f *Fake) Fields(leadID int) (map[string]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.byID[leadID]
	if l == nil {
		return nil, fmt.Errorf("marketofake: no lead %d", leadID)
	}
	out := map[string]string{}
	for k, v := range l.Fields {
		out[k] = v
	}
	return out, nil
}

// RejectLead makes syncs of a lead skip it with 1003 (invalid value).
func (f *Fake) RejectLead(id int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reject[id] = true
}

// newLeadID returns the id of a new lead: ids start at 1001 and are
// never reused, a deleted lead's included.
func (f *Fake) newLeadID() int {
	f.lastLead = max(f.lastLead, 1000) + 1
	return f.lastLead
}

// Leads returns how many leads there are.
func (f *Fake) Leads() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.leads)
}

func (l *Lead) record(fields []string) map[string]any {
	m := map[string]any{"id": l.ID, "email": l.Email, "firstName": l.FirstName, "lastName": l.LastName,
		"createdAt": l.CreatedAt.Format(time.RFC3339), "updatedAt": l.UpdatedAt.Format(time.RFC3339)}
	for _, fl := range fields {
		if v, ok := l.Fields[fl]; ok {
			m[fl] = v
		} else if _, std := m[fl]; !std {
			m[fl] = nil
		}
	}
	return m
}

// splitList reads a list parameter given comma-separated (as the guides
// show) or repeated (the descriptions' collectionFormat multi), or both.
func splitList(vals []string) []string {
	var out []string
	for _, s := range vals {
		for _, v := range strings.Split(s, ",") {
			if v = strings.TrimSpace(v); v != "" {
				out = append(out, v)
			}
		}
	}
	return out
}

// getLeads is Get Leads by Filter: filterType id or email, at most 300
// filterValues ("Leads"; 1003 for more).
func (f *Fake) getLeads(r *http.Request, _ []byte) envelope {
	q := r.URL.Query()
	vals := splitList(q["filterValues"])
	if len(vals) > MaxBatch {
		return callError("1003", "Too many filterValues")
	}
	fields := splitList(q["fields"])
	for _, fl := range fields {
		if !f.knownField(fl) {
			return callError("1006", fmt.Sprintf("Field '%s' not found", fl))
		}
	}
	result := []map[string]any{}
	switch ft := q.Get("filterType"); ft {
	case "id":
		for _, v := range vals {
			id, err := strconv.Atoi(v)
			if err != nil {
				return callError("1003", "Invalid filterValues")
			}
			if l := f.byID[id]; l != nil {
				result = append(result, l.record(fields))
			}
		}
	case "email":
		for _, l := range f.leads {
			if slices.Contains(vals, l.Email) {
				result = append(result, l.record(fields))
			}
		}
	default:
		return callError("1003", fmt.Sprintf("Invalid filterType '%s'", ft))
	}
	return envelope{Result: result}
}

func (f *Fake) knownField(name string) bool {
	switch name {
	case "id", "email", "firstName", "lastName", "createdAt", "updatedAt":
		return true
	}
	_, ok := f.fields[name]
	return ok
}

type syncRequest struct {
	Action      string           `json:"action"`
	LookupField string           `json:"lookupField"`
	Input       []map[string]any `json:"input"`
}

type recordResult struct {
	ID      int      `json:"id,omitempty"`
	Status  string   `json:"status"`
	Reasons []Reason `json:"reasons,omitempty"`
}

// syncLeads is Sync Leads: at most 300 records; createOrUpdate by email
// unless told otherwise; id as the lookup field only with updateOnly
// ("Leads"). Each record's outcome is its own.
func (f *Fake) syncLeads(_ *http.Request, body []byte) envelope {
	var req syncRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return callError("609", "Invalid JSON")
	}
	if len(req.Input) > MaxBatch {
		return callError("1003", "Batch size exceeds 300")
	}
	if req.Action == "" {
		req.Action = "createOrUpdate"
	}
	if req.LookupField == "" {
		req.LookupField = "email"
	}
	if req.LookupField != "email" && req.LookupField != "id" {
		return callError("1003", "Invalid lookupField")
	}
	if req.LookupField == "id" && req.Action != "updateOnly" {
		return callError("1003", "id can be the lookup field only with updateOnly")
	}
	f.stats.Records["POST /rest/v1/leads.json"] += len(req.Input)
	out := make([]recordResult, 0, len(req.Input))
	for _, in := range req.Input {
		out = append(out, f.syncOne(req, in))
	}
	return envelope{Result: out}
}

func (f *Fake) syncOne(req syncRequest, in map[string]any) recordResult {
	skip := func(code, msg string) recordResult {
		return recordResult{Status: "skipped", Reasons: []Reason{{Code: code, Message: msg}}}
	}
	var l *Lead
	switch req.LookupField {
	case "id":
		n, _ := in["id"].(float64)
		l = f.byID[int(n)]
	default:
		email, _ := in["email"].(string)
		if email == "" {
			return skip("1003", "Value for required field 'email' not specified")
		}
		for _, c := range f.leads {
			if strings.EqualFold(c.Email, email) {
				l = c
				break
			}
		}
	}
	for k := range in {
		if !f.knownField(k) {
			return skip("1006", fmt.Sprintf("Field '%s' not found", k))
		}
	}
	status := "updated"
	switch {
	case l == nil && req.Action == "updateOnly":
		return skip("1004", "Lead not found")
	case l != nil && req.Action == "createOnly":
		return recordResult{ID: l.ID, Status: "skipped", Reasons: []Reason{{Code: "1005", Message: "Lead already exists"}}}
	case l == nil:
		at := f.tick()
		l = &Lead{ID: f.newLeadID(), CreatedAt: at, UpdatedAt: at, Fields: map[string]string{}}
		f.leads = append(f.leads, l)
		f.byID[l.ID] = l
		f.addActivity(l.ID, NewLead, at, nil)
		status = "created"
	}
	if f.reject[l.ID] {
		return recordResult{ID: l.ID, Status: "skipped", Reasons: []Reason{{Code: "1003", Message: "Invalid value for a field"}}}
	}
	for k, v := range in {
		if k == "id" {
			continue
		}
		s := ""
		if v != nil {
			s = fmt.Sprint(v)
		}
		f.set(l, k, s)
	}
	return recordResult{ID: l.ID, Status: status}
}

// describe is Describe Lead2: the lead fields with their REST names.
func (f *Fake) describe(*http.Request, []byte) envelope {
	var fields []map[string]any
	for _, n := range []string{"id", "email", "firstName", "lastName", "createdAt", "updatedAt"} {
		fields = append(fields, map[string]any{"name": n, "displayName": n, "dataType": "string", "updateable": n != "id"})
	}
	names := make([]string, 0, len(f.fields))
	for n := range f.fields {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fields = append(fields, map[string]any{"name": n, "displayName": n, "dataType": f.fields[n], "updateable": true})
	}
	return envelope{Result: []map[string]any{{"name": "API Lead", "searchableFields": [][]string{{"email"}, {"id"}},
		"fields": fields}}}
}

// createFields is Create Lead Fields (POST /rest/v1/leads/schema/fields.json).
func (f *Fake) createFields(_ *http.Request, body []byte) envelope {
	var req struct {
		Input []struct {
			Name        string `json:"name"`
			DisplayName string `json:"displayName"`
			DataType    string `json:"dataType"`
		} `json:"input"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return callError("609", "Invalid JSON")
	}
	var out []map[string]any
	for _, in := range req.Input {
		if f.knownField(in.Name) {
			out = append(out, map[string]any{"name": in.Name, "status": "skipped",
				"reasons": []Reason{{Code: "1009", Message: "Field already exists"}}})
			continue
		}
		f.fields[in.Name] = in.DataType
		out = append(out, map[string]any{"name": in.Name, "status": "created"})
	}
	return envelope{Result: out}
}

// DefineField defines a custom lead field, as an admin would.
func (f *Fake) DefineField(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fields[name] = "string"
}

// AddLead adds a lead created (and last updated) at created, with its New
// Lead activity; the clock moves on a second so that every lead has its
// own moment.
func (f *Fake) AddLead(email, first, last string, created time.Time) *Lead {
	f.mu.Lock()
	defer f.mu.Unlock()
	at := created.UTC().Truncate(time.Second)
	if !at.After(f.clock) {
		at = f.tick()
	} else {
		f.clock = at
	}
	l := &Lead{ID: f.newLeadID(), Email: email, FirstName: first, LastName: last, CreatedAt: at, UpdatedAt: at,
		Fields: map[string]string{}}
	f.leads = append(f.leads, l)
	f.byID[l.ID] = l
	f.addActivity(l.ID, NewLead, at, nil)
	return l
}

// ByEmail returns copies of the leads with email (any case), by id.
func (f *Fake) ByEmail(email string) []Lead {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Lead
	for _, l := range f.leads {
		if strings.EqualFold(l.Email, email) {
			c := *l
			c.Fields = maps.Clone(l.Fields)
			out = append(out, c)
		}
	}
	return out
}

// SetClock sets the instance's clock, the time the next lead or activity
// is given. Activities are kept in the order of their times, so set it
// before adding anything, or later than the latest activity.
func (f *Fake) SetClock(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.clock = t.UTC().Truncate(time.Second)
}
