package pardotfake

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Prospect is one prospect as the fake stores it.
type Prospect struct {
	ID        int
	Email     string
	FirstName string
	LastName  string
	Score     int
	Grade     string
	OptedOut  bool
	CreatedAt time.Time
	UpdatedAt time.Time
	Custom    map[string]string // by field name without __c
}

// field returns the value of one v5 field name, and whether it exists.
func (p *Prospect) field(name string, known map[string]*CustomField) (any, bool) {
	switch name {
	case "id":
		return p.ID, true
	case "email":
		return p.Email, true
	case "firstName":
		return p.FirstName, true
	case "lastName":
		return p.LastName, true
	case "score":
		return p.Score, true
	case "grade":
		return p.Grade, true
	case "optedOut":
		return p.OptedOut, true
	case "createdAt":
		return p.CreatedAt.In(zone).Format(time.RFC3339), true
	case "updatedAt":
		return p.UpdatedAt.In(zone).Format(time.RFC3339), true
	}
	// prospect-v5.html: custom fields are addressed as <fieldId>__c.
	if id, ok := strings.CutSuffix(name, "__c"); ok && known[id] != nil {
		if v, ok := p.Custom[id]; ok {
			return v, true
		}
		return nil, true
	}
	return nil, false
}

// render returns the requested fields only (version5overview.html).
func (f *Fake) render(p *Prospect, fields []string) (map[string]any, error) {
	out := map[string]any{}
	for _, n := range fields {
		v, ok := p.field(n, f.fields)
		if !ok {
			return nil, fmt.Errorf("invalid field %q", n)
		}
		out[n] = v
	}
	return out, nil
}

// fieldsOf parses the required fields parameter.
func fieldsOf(q url.Values) ([]string, bool) {
	s := q.Get("fields")
	if s == "" {
		return nil, false
	}
	return strings.Split(s, ","), true
}

// Seed adds n prospects, each updated a second after the one before, and
// returns them.
func (f *Fake) Seed(n int) []*Prospect {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]*Prospect, n)
	for i := range out {
		out[i] = f.add(f.tick())
	}
	return out
}

// SeedSameSecond adds n prospects all updated in one second, the ties an
// incremental reader must neither lose nor repeat.
func (f *Fake) SeedSameSecond(n int) []*Prospect {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.tick()
	out := make([]*Prospect, n)
	for i := range out {
		out[i] = f.add(t)
	}
	return out
}

func (f *Fake) add(t time.Time) *Prospect {
	f.nextID++
	id := f.nextID
	p := &Prospect{ID: id, Email: fmt.Sprintf("person%d@example.com", id), FirstName: "Pat", LastName: fmt.Sprintf("Nr%d", id),
		Score: id % 200, Grade: []string{"A", "B+", "C", "D-"}[id%4], CreatedAt: t, UpdatedAt: t, Custom: map[string]string{}}
	f.prospects[id] = p
	return p
}

// AddProspect adds a prospect with the given email and names, created
// and updated at at, opted out of email when optedOut, and returns it.
func (f *Fake) AddProspect(email, first, last string, optedOut bool, at time.Time) *Prospect {
	f.mu.Lock()
	defer f.mu.Unlock()
	at = at.Truncate(time.Second)
	p := f.add(at)
	p.Email, p.FirstName, p.LastName, p.OptedOut = email, first, last, optedOut
	if at.After(f.clock) {
		f.clock = at
	}
	return p
}

// ByEmail returns copies of the prospects with email (any case).
func (f *Fake) ByEmail(email string) []Prospect {
	f.mu.Lock()
	var ids []int
	for id, p := range f.prospects {
		if strings.EqualFold(p.Email, email) {
			ids = append(ids, id)
		}
	}
	f.mu.Unlock()
	sort.Ints(ids)
	out := make([]Prospect, 0, len(ids))
	for _, id := range ids {
		if p, ok := f.Prospect(id); ok {
			out = append(out, p)
		}
	}
	return out
}

// Touch marks prospect id updated now (its updatedAt moves on).
func (f *Fake) Touch(id int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p := f.prospects[id]; p != nil {
		p.UpdatedAt = f.tick()
	}
}

// RejectProspect makes every write to prospect id fail with 400.
func (f *Fake) RejectProspect(id int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rejected[id] = true
}

// Prospect returns a copy of prospect id.
func (f *Fake) Prospect(id int) (Prospect, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.prospects[id]
	if p == nil {
		return Prospect{}, false
	}
	c := *p
	c.Custom = map[string]string{}
	for k, v := range p.Custom {
		c.Custom[k] = v
	}
	return c, true
}

// pageToken is the fake's opaque nextPageToken: the query and the sort
// key of the last row served.
type pageToken struct {
	Q     string `json:"q"`
	After int    `json:"a"` // index into the sorted result
}

func encodeToken(t pageToken) string {
	b, _ := json.Marshal(t)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeToken(s string) (pageToken, error) {
	var t pageToken
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &t)
	}
	return t, err
}

// pageQuery resolves nextPageToken (whose query replaces the request's,
// as nextPageUrl carries only the token) and the limit.
func pageQuery(r *http.Request) (url.Values, int, int, error) {
	q := r.URL.Query()
	start := 0
	if tok := q.Get("nextPageToken"); tok != "" {
		t, err := decodeToken(tok)
		if err != nil {
			return nil, 0, 0, fmt.Errorf("invalid nextPageToken")
		}
		if q, err = url.ParseQuery(t.Q); err != nil {
			return nil, 0, 0, fmt.Errorf("invalid nextPageToken")
		}
		start = t.After
	}
	limit := 200 // version5overview.html: default page size
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			return nil, 0, 0, fmt.Errorf("invalid limit %q: at most %d", s, MaxLimit)
		}
		limit = n
	}
	return q, start, limit, nil
}

// page writes one query page with nextPageToken and nextPageUrl.
func (f *Fake) page(w http.ResponseWriter, r *http.Request, q url.Values, start, limit, total int, row func(i int) map[string]any) {
	end := min(start+limit, total)
	values := make([]map[string]any, 0, end-start)
	for i := start; i < end; i++ {
		values = append(values, row(i))
	}
	body := map[string]any{"values": values, "nextPageToken": nil, "nextPageUrl": nil}
	if end < total {
		tok := encodeToken(pageToken{Q: q.Encode(), After: end})
		body["nextPageToken"] = tok
		body["nextPageUrl"] = f.URL + r.URL.Path + "?nextPageToken=" + url.QueryEscape(tok)
	}
	writeJSON(w, http.StatusOK, body)
}

func parseTime(s string) (time.Time, error) {
	return time.Parse(time.RFC3339, s)
}

func (f *Fake) prospectsRoute(w http.ResponseWriter, r *http.Request, rest []string) {
	switch {
	case len(rest) == 0 && r.Method == http.MethodGet:
		f.queryProspects(w, r)
	case len(rest) == 2 && rest[0] == "do" && rest[1] == "upsertLatestByEmail" && r.Method == http.MethodPost:
		f.upsert(w, r)
	case len(rest) == 1 && r.Method == http.MethodDelete:
		f.deleteProspect(w, rest[0])
	case len(rest) == 1 && (r.Method == http.MethodGet || r.Method == http.MethodPatch):
		id, err := strconv.Atoi(rest[0])
		f.mu.Lock()
		p := f.prospects[id]
		f.mu.Unlock()
		if err != nil || p == nil {
			apiError(w, http.StatusNotFound, CodeInvalidID, "Invalid prospect ID")
			return
		}
		f.readOrPatch(w, r, p)
	default:
		apiError(w, http.StatusMethodNotAllowed, 1, "Invalid action")
	}
}

// queryProspects serves GET /prospects with the filters and orderBy of
// prospect-v5.html (updatedAtAfter, updatedAtAfterOrEqualTo; orderBy on
// updatedAt and id).
func (f *Fake) queryProspects(w http.ResponseWriter, r *http.Request) {
	q, start, limit, err := pageQuery(r)
	if err != nil {
		apiError(w, http.StatusBadRequest, CodeInvalidParameter, err.Error())
		return
	}
	fields, ok := fieldsOf(q)
	if !ok {
		apiError(w, http.StatusBadRequest, CodeInvalidParameter, "The fields parameter is required")
		return
	}
	var after, atOrAfter time.Time
	for name, dst := range map[string]*time.Time{"updatedAtAfter": &after, "updatedAtAfterOrEqualTo": &atOrAfter} {
		if s := q.Get(name); s != "" {
			if *dst, err = parseTime(s); err != nil {
				apiError(w, http.StatusBadRequest, CodeInvalidParameter, "Invalid "+name)
				return
			}
		}
	}
	order := strings.ReplaceAll(strings.ToLower(q.Get("orderBy")), " asc", "")
	f.mu.Lock()
	defer f.mu.Unlock()
	var rows []*Prospect
	for _, p := range f.prospects {
		if (!after.IsZero() && !p.UpdatedAt.After(after)) || (!atOrAfter.IsZero() && p.UpdatedAt.Before(atOrAfter)) {
			continue
		}
		rows = append(rows, p)
	}
	switch order {
	case "", "id":
		sort.Slice(rows, func(i, j int) bool { return rows[i].ID < rows[j].ID })
	case "updatedat,id", "updatedat":
		sort.Slice(rows, func(i, j int) bool {
			if !rows[i].UpdatedAt.Equal(rows[j].UpdatedAt) {
				return rows[i].UpdatedAt.Before(rows[j].UpdatedAt)
			}
			return rows[i].ID < rows[j].ID
		})
	default:
		apiError(w, http.StatusBadRequest, CodeInvalidParameter, "Invalid orderBy")
		return
	}
	if _, err := f.render(&Prospect{}, fields); err != nil {
		apiError(w, http.StatusBadRequest, CodeInvalidParameter, err.Error())
		return
	}
	f.page(w, r, q, start, limit, len(rows), func(i int) map[string]any {
		m, _ := f.render(rows[i], fields)
		return m
	})
}

// apply sets the writable fields of body on p; custom fields must exist.
func (f *Fake) apply(p *Prospect, body map[string]any) error {
	for k, v := range body {
		s, _ := v.(string)
		switch k {
		case "email":
			if !strings.Contains(s, "@") {
				return fmt.Errorf("invalid prospect email address")
			}
			p.Email = s
		case "firstName":
			p.FirstName = s
		case "lastName":
			p.LastName = s
		case "id":
		default:
			id, ok := strings.CutSuffix(k, "__c")
			if !ok || f.fields[id] == nil {
				return fmt.Errorf("invalid field %q", k)
			}
			if v == nil || s == "" {
				delete(p.Custom, id)
			} else {
				p.Custom[id] = s
			}
		}
	}
	p.UpdatedAt = f.tick()
	return nil
}

func decodeBody(r *http.Request, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func (f *Fake) readOrPatch(w http.ResponseWriter, r *http.Request, p *Prospect) {
	fields, ok := fieldsOf(r.URL.Query())
	if !ok {
		apiError(w, http.StatusBadRequest, CodeInvalidParameter, "The fields parameter is required")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Method == http.MethodPatch {
		var body map[string]any
		if err := decodeBody(r, &body); err != nil {
			apiError(w, http.StatusBadRequest, CodeInvalidParameter, "Invalid JSON body")
			return
		}
		if f.rejected[p.ID] {
			apiError(w, http.StatusBadRequest, CodeInvalidParameter, "The prospect can't be updated")
			return
		}
		if err := f.apply(p, body); err != nil {
			apiError(w, http.StatusBadRequest, CodeInvalidParameter, err.Error())
			return
		}
	}
	m, err := f.render(p, fields)
	if err != nil {
		apiError(w, http.StatusBadRequest, CodeInvalidParameter, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, m)
}

// upsert serves the upsertLatestByEmail action (prospect-v5.html): body
// {matchEmail, prospect, fields}; it updates the most recently updated
// prospect with that email or creates one.
func (f *Fake) upsert(w http.ResponseWriter, r *http.Request) {
	var body struct {
		MatchEmail string         `json:"matchEmail"`
		Prospect   map[string]any `json:"prospect"`
		Fields     []string       `json:"fields"`
	}
	if err := decodeBody(r, &body); err != nil || len(body.Fields) == 0 {
		apiError(w, http.StatusBadRequest, CodeInvalidParameter, "matchEmail, prospect and fields are required")
		return
	}
	if !strings.Contains(body.MatchEmail, "@") {
		apiError(w, http.StatusBadRequest, CodeInvalidEmail, "Invalid prospect email address")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var latest *Prospect
	for _, p := range f.prospects {
		if strings.EqualFold(p.Email, body.MatchEmail) && (latest == nil || p.UpdatedAt.After(latest.UpdatedAt)) {
			latest = p
		}
	}
	status := http.StatusOK
	if latest == nil {
		latest = &Prospect{ID: f.nextID + 1, Email: body.MatchEmail, Custom: map[string]string{}, CreatedAt: f.clock}
		status = http.StatusCreated
	}
	if f.rejected[latest.ID] {
		apiError(w, http.StatusBadRequest, CodeInvalidParameter, "The prospect can't be updated")
		return
	}
	if err := f.apply(latest, body.Prospect); err != nil {
		apiError(w, http.StatusBadRequest, CodeInvalidParameter, err.Error())
		return
	}
	m, err := f.render(latest, body.Fields)
	if err != nil {
		apiError(w, http.StatusBadRequest, CodeInvalidParameter, err.Error())
		return
	}
	if status == http.StatusCreated {
		f.nextID = latest.ID
		f.prospects[latest.ID] = latest
	}
	writeJSON(w, status, m)
}

// deleteProspect serves DELETE /prospects/{id} (prospect-v5.html, Delete;
// version5overview.html: a delete answers 204 with no body). The
// prospect moves to the recycle bin: reads and queries no longer return
// it, and deleting it again, like deleting an id that never was, answers
// 404 with code 3 (Invalid prospect ID). Its list memberships and
// activities are left as they were. An upsert by its email creates a new
// prospect (whether Account Engagement would undelete it instead depends
// on the account's duplicate settings; not modelled).
func (f *Fake) deleteProspect(w http.ResponseWriter, raw string) {
	id, err := strconv.Atoi(raw)
	f.mu.Lock()
	p := f.prospects[id]
	if err == nil && p != nil {
		delete(f.prospects, id)
		f.binned[id] = p
	}
	f.mu.Unlock()
	if err != nil || p == nil {
		apiError(w, http.StatusNotFound, CodeInvalidID, "Invalid prospect ID")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// InRecycleBin reports whether prospect id was deleted (and so sits in
// the recycle bin).
func (f *Fake) InRecycleBin(id int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.binned[id] != nil
}
