package pardotfake

import (
	"net/http"
	"sort"
	"strconv"
	"time"
)

// List is a static list (list-v5.html).
type List struct {
	ID   int
	Name string
}

// Membership is a prospect on a list (list-membership-v5.html).
type Membership struct {
	ID         int
	ListID     int
	ProspectID int
	OptedOut   bool
}

// CustomField is a custom prospect field (custom-field-v5.html).
type CustomField struct {
	ID      int
	Name    string
	FieldID string
	Type    string
}

// Activity is a visitor activity (visitor-activity-v5.html). Type is the
// numeric activity type: 1 click, 2 view, 4 success (form handler), 11
// email open, as the Visitor Activity type table lists them.
type Activity struct {
	ID            int
	ProspectID    int
	Type          int
	TypeName      string
	FormHandlerID int
	EmailID       int
	CreatedAt     time.Time
}

// Activity types the fake records.
const (
	TypeClick   = 1
	TypeView    = 2
	TypeSuccess = 4
	TypeOpen    = 11
)

// AddActivity records an activity of type typ for prospect id, now.
func (f *Fake) AddActivity(id, typ int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	names := map[int]string{TypeClick: "Click", TypeView: "View", TypeSuccess: "Success", TypeOpen: "Email Open"}
	a := &Activity{ID: len(f.activities) + 1, ProspectID: id, Type: typ, TypeName: names[typ], CreatedAt: f.tick()}
	switch typ {
	case TypeSuccess:
		a.FormHandlerID = 77
	case TypeClick, TypeOpen:
		a.EmailID = 55
	}
	f.activities = append(f.activities, a)
}

// Properties returns prospect id's custom field values by <fieldId>__c.
func (f *Fake) Properties(id int) map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]string{}
	if p := f.prospects[id]; p != nil {
		for k, v := range p.Custom {
			out[k+"__c"] = v
		}
	}
	return out
}

// ListsOf returns the ids of the lists prospect id is on.
func (f *Fake) ListsOf(id int) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, m := range f.members {
		if m.ProspectID == id {
			out = append(out, strconv.Itoa(m.ListID))
		}
	}
	sort.Strings(out)
	return out
}

// Members returns the prospect ids on list id.
func (f *Fake) Members(id int) []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []int
	for _, m := range f.members {
		if m.ListID == id {
			out = append(out, m.ProspectID)
		}
	}
	sort.Ints(out)
	return out
}

func (f *Fake) listsRoute(w http.ResponseWriter, r *http.Request, rest []string) {
	q, start, limit, err := pageQuery(r)
	if err != nil {
		apiError(w, http.StatusBadRequest, CodeInvalidParameter, err.Error())
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case len(rest) == 0 && r.Method == http.MethodGet:
		var rows []*List
		for _, l := range f.lists {
			rows = append(rows, l)
		}
		sort.Slice(rows, func(i, j int) bool { return rows[i].ID < rows[j].ID })
		f.page(w, r, q, start, limit, len(rows), func(i int) map[string]any {
			return map[string]any{"id": rows[i].ID, "name": rows[i].Name}
		})
	case len(rest) == 0 && r.Method == http.MethodPost:
		var body struct {
			Name      string `json:"name"`
			IsDynamic bool   `json:"isDynamic"`
		}
		if err := decodeBody(r, &body); err != nil || body.Name == "" || body.IsDynamic {
			apiError(w, http.StatusBadRequest, CodeInvalidParameter, "name is required; dynamic lists are not created through the API")
			return
		}
		f.nextID++
		l := &List{ID: f.nextID, Name: body.Name}
		f.lists[l.ID] = l
		writeJSON(w, http.StatusCreated, map[string]any{"id": l.ID, "name": l.Name})
	default:
		apiError(w, http.StatusMethodNotAllowed, 1, "Invalid action")
	}
}

// membershipsRoute serves list-membership-v5.html: query by listId or
// prospectId, create (one a call; a second membership of the same
// prospect on the same list is refused), delete by id.
func (f *Fake) membershipsRoute(w http.ResponseWriter, r *http.Request, rest []string) {
	q, start, limit, err := pageQuery(r)
	if err != nil {
		apiError(w, http.StatusBadRequest, CodeInvalidParameter, err.Error())
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case len(rest) == 0 && r.Method == http.MethodGet:
		if _, ok := fieldsOf(q); !ok {
			apiError(w, http.StatusBadRequest, CodeInvalidParameter, "The fields parameter is required")
			return
		}
		listID, _ := strconv.Atoi(q.Get("listId"))
		prospectID, _ := strconv.Atoi(q.Get("prospectId"))
		var rows []*Membership
		for _, m := range f.members {
			if (listID == 0 || m.ListID == listID) && (prospectID == 0 || m.ProspectID == prospectID) {
				rows = append(rows, m)
			}
		}
		sort.Slice(rows, func(i, j int) bool { return rows[i].ID < rows[j].ID })
		f.page(w, r, q, start, limit, len(rows), func(i int) map[string]any {
			m := rows[i]
			return map[string]any{"id": m.ID, "listId": m.ListID, "prospectId": m.ProspectID, "optedOut": m.OptedOut}
		})
	case len(rest) == 0 && r.Method == http.MethodPost:
		var body struct {
			ListID     int  `json:"listId"`
			ProspectID int  `json:"prospectId"`
			OptedOut   bool `json:"optedOut"`
		}
		if err := decodeBody(r, &body); err != nil || f.lists[body.ListID] == nil {
			apiError(w, http.StatusBadRequest, CodeInvalidParameter, "Invalid list ID")
			return
		}
		if f.prospects[body.ProspectID] == nil {
			apiError(w, http.StatusBadRequest, CodeInvalidID, "Invalid prospect ID")
			return
		}
		if f.rejected[body.ProspectID] {
			apiError(w, http.StatusBadRequest, CodeInvalidParameter, "The prospect can't be updated")
			return
		}
		for _, m := range f.members {
			if m.ListID == body.ListID && m.ProspectID == body.ProspectID {
				apiError(w, http.StatusBadRequest, CodeAlreadyMember, "The prospect is already a member of the list")
				return
			}
		}
		f.nextID++
		m := &Membership{ID: f.nextID, ListID: body.ListID, ProspectID: body.ProspectID, OptedOut: body.OptedOut}
		f.members[m.ID] = m
		writeJSON(w, http.StatusCreated, map[string]any{"id": m.ID, "listId": m.ListID, "prospectId": m.ProspectID})
	case len(rest) == 1 && r.Method == http.MethodDelete:
		id, _ := strconv.Atoi(rest[0])
		if f.members[id] == nil {
			apiError(w, http.StatusNotFound, CodeInvalidID, "Invalid list membership ID")
			return
		}
		delete(f.members, id)
		w.WriteHeader(http.StatusNoContent)
	default:
		apiError(w, http.StatusMethodNotAllowed, 1, "Invalid action")
	}
}

func (f *Fake) customFieldsRoute(w http.ResponseWriter, r *http.Request, rest []string) {
	q, start, limit, err := pageQuery(r)
	if err != nil {
		apiError(w, http.StatusBadRequest, CodeInvalidParameter, err.Error())
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case len(rest) == 0 && r.Method == http.MethodGet:
		var rows []*CustomField
		for _, c := range f.fields {
			rows = append(rows, c)
		}
		sort.Slice(rows, func(i, j int) bool { return rows[i].ID < rows[j].ID })
		f.page(w, r, q, start, limit, len(rows), func(i int) map[string]any {
			c := rows[i]
			return map[string]any{"id": c.ID, "name": c.Name, "fieldId": c.FieldID, "type": c.Type}
		})
	case len(rest) == 0 && r.Method == http.MethodPost:
		var body struct {
			Name    string `json:"name"`
			FieldID string `json:"fieldId"`
			Type    string `json:"type"`
		}
		if err := decodeBody(r, &body); err != nil || body.Name == "" || body.FieldID == "" {
			apiError(w, http.StatusBadRequest, CodeInvalidParameter, "name and fieldId are required")
			return
		}
		if f.fields[body.FieldID] != nil {
			apiError(w, http.StatusBadRequest, CodeInvalidParameter, "A custom field with this fieldId already exists")
			return
		}
		f.nextID++
		c := &CustomField{ID: f.nextID, Name: body.Name, FieldID: body.FieldID, Type: body.Type}
		f.fields[c.FieldID] = c
		writeJSON(w, http.StatusCreated, map[string]any{"id": c.ID, "name": c.Name, "fieldId": c.FieldID, "type": c.Type})
	default:
		apiError(w, http.StatusMethodNotAllowed, 1, "Invalid action")
	}
}

// activitiesRoute serves the visitor-activities query, filtered by
// createdAtAfter and prospectId, ordered by id.
func (f *Fake) activitiesRoute(w http.ResponseWriter, r *http.Request, rest []string) {
	q, start, limit, err := pageQuery(r)
	if err != nil || len(rest) != 0 || r.Method != http.MethodGet {
		apiError(w, http.StatusBadRequest, CodeInvalidParameter, "Invalid request")
		return
	}
	if _, ok := fieldsOf(q); !ok {
		apiError(w, http.StatusBadRequest, CodeInvalidParameter, "The fields parameter is required")
		return
	}
	var after time.Time
	if s := q.Get("createdAtAfter"); s != "" {
		if after, err = parseTime(s); err != nil {
			apiError(w, http.StatusBadRequest, CodeInvalidParameter, "Invalid createdAtAfter")
			return
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var rows []*Activity
	for _, a := range f.activities {
		if a.ProspectID != 0 && a.CreatedAt.After(after) {
			rows = append(rows, a)
		}
	}
	f.page(w, r, q, start, limit, len(rows), func(i int) map[string]any {
		a := rows[i]
		m := map[string]any{"id": a.ID, "prospectId": a.ProspectID, "type": a.Type, "typeName": a.TypeName,
			"createdAt": a.CreatedAt.In(zone).Format(time.RFC3339)}
		if a.FormHandlerID != 0 {
			m["formHandlerId"] = a.FormHandlerID
		}
		if a.EmailID != 0 {
			m["emailId"] = a.EmailID
		}
		return m
	})
}
