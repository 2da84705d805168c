package hubspotfake

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// publicObject is SimplePublicObject(WithAssociations).
type publicObject struct {
	ID           string                     `json:"id"`
	Properties   map[string]*string         `json:"properties"`
	CreatedAt    string                     `json:"createdAt"`
	UpdatedAt    string                     `json:"updatedAt"`
	Archived     bool                       `json:"archived"`
	ArchivedAt   string                     `json:"archivedAt,omitempty"`
	Associations map[string]assocCollection `json:"associations,omitempty"`
}

type assocCollection struct {
	Results []assocID `json:"results"`
}

type assocID struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

func singular(typ string) string {
	t, _ := lookupType(typ)
	return strings.ToLower(t.Singular)
}

// render shapes a record for output with the requested properties.
func (f *Fake) render(t objectType, r *record, props []string, assocTypes []string) publicObject {
	o := publicObject{ID: strconv.FormatInt(r.id, 10), Properties: map[string]*string{},
		CreatedAt: formatTime(r.createdAt), UpdatedAt: formatTime(r.updatedAt), Archived: r.archived}
	if r.archived {
		o.ArchivedAt = formatTime(r.archivedAt)
	}
	if len(props) == 0 {
		props = t.Defaults
	}
	// Requested properties without a value are left out: the official spec
	// declares property values as non-nullable strings.
	for _, p := range append([]string{"hs_object_id", "createdate", t.ModifiedProp}, props...) {
		if v, ok := r.props[p]; ok {
			o.Properties[p] = &v
		}
	}
	for _, at := range assocTypes {
		tt, ok := lookupType(at)
		if !ok {
			continue // unknown association types are ignored
		}
		ids := r.assoc[tt.Name]
		if len(ids) == 0 {
			continue
		}
		if o.Associations == nil {
			o.Associations = map[string]assocCollection{}
		}
		c := assocCollection{}
		for _, id := range ids {
			c.Results = append(c.Results, assocID{ID: strconv.FormatInt(id, 10), Type: singular(t.Name) + "_to_" + singular(tt.Name)})
		}
		o.Associations[tt.Name] = c
	}
	return o
}

// csvParam reads a comma-separated (or repeated) query parameter.
func csvParam(q url.Values, name string) []string {
	var out []string
	for _, v := range q[name] {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

func (f *Fake) objectType(w http.ResponseWriter, r *http.Request) (objectType, bool) {
	t, ok := lookupType(r.PathValue("type"))
	if !ok {
		writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", fmt.Sprintf("Unable to infer object type from: %s", r.PathValue("type")))
	}
	return t, ok
}

func encodeAfter(id int64) string {
	return base64.StdEncoding.EncodeToString([]byte(strconv.FormatInt(id, 10)))
}

func decodeAfter(s string) (int64, bool) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return 0, false
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	return n, err == nil
}

func (f *Fake) handleList(w http.ResponseWriter, r *http.Request) {
	t, ok := f.objectType(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	limit := 10
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			badRequest(w, fmt.Sprintf("Invalid input JSON on line 1: limit %q is not a number", v))
			return
		}
		limit = min(max(n, 1), ListPageMax)
	}
	var after int64
	if v := q.Get("after"); v != "" {
		n, ok := decodeAfter(v)
		if !ok {
			badRequest(w, "Invalid paging cursor: "+v)
			return
		}
		after = n
	}
	archived := q.Get("archived") == "true"
	props := csvParam(q, "properties")
	assoc := csvParam(q, "associations")

	f.mu.Lock()
	st := f.objects[t.Name]
	i := sort.Search(len(st.ids), func(i int) bool { return st.ids[i] > after })
	var res []publicObject
	more := false
	for ; i < len(st.ids); i++ {
		rec := st.byID[st.ids[i]]
		if rec == nil || rec.mergedInto != 0 || rec.archived != archived {
			continue
		}
		if len(res) == limit {
			more = true
			break
		}
		res = append(res, f.render(t, rec, props, assoc))
	}
	f.mu.Unlock()
	body := map[string]any{"results": nonNil(res)}
	if more {
		last, _ := strconv.ParseInt(res[len(res)-1].ID, 10, 64)
		tok := encodeAfter(last)
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("after", tok)
		body["paging"] = map[string]any{"next": map[string]string{"after": tok, "link": "https://api.hubapi.com" + r.URL.Path + "?" + nq.Encode()}}
	}
	writeJSON(w, 200, body)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// findLocked finds a record by id or by a unique property (idProperty).
func (f *Fake) findLocked(t objectType, id, idProperty string, archived bool) *record {
	st := f.objects[t.Name]
	if idProperty != "" && idProperty != "hs_object_id" {
		for _, rec := range st.byID {
			if strings.EqualFold(rec.props[idProperty], id) && rec.mergedInto == 0 && rec.archived == archived {
				return rec
			}
		}
		return nil
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return nil
	}
	if archived {
		if rec := st.byID[n]; rec != nil && rec.archived && rec.mergedInto == 0 {
			return rec
		}
		return nil
	}
	return f.resolveLocked(t.Name, n)
}

func notFound(w http.ResponseWriter) {
	writeError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", "resource not found")
}

func (f *Fake) handleGet(w http.ResponseWriter, r *http.Request) {
	t, ok := f.objectType(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	f.mu.Lock()
	rec := f.findLocked(t, r.PathValue("id"), q.Get("idProperty"), q.Get("archived") == "true")
	var out publicObject
	if rec != nil {
		out = f.render(t, rec, csvParam(q, "properties"), csvParam(q, "associations"))
	}
	f.mu.Unlock()
	if rec == nil {
		notFound(w)
		return
	}
	writeJSON(w, 200, out)
}

func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		badRequest(w, "Invalid input JSON on line 1: "+err.Error())
		return false
	}
	return true
}

func (f *Fake) handlePatch(w http.ResponseWriter, r *http.Request) {
	t, ok := f.objectType(w, r)
	if !ok {
		return
	}
	var in struct {
		Properties map[string]string `json:"properties"`
	}
	if !decodeBody(w, r, &in) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if msg := f.validatePropsLocked(t, []map[string]string{in.Properties}); msg != "" {
		badRequest(w, msg)
		return
	}
	rec := f.findLocked(t, r.PathValue("id"), r.URL.Query().Get("idProperty"), false)
	if rec == nil {
		notFound(w)
		return
	}
	f.writeLocked(t, rec, in.Properties, "INTEGRATION")
	writeJSON(w, 200, f.render(t, rec, keys(in.Properties), nil))
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (f *Fake) handleDelete(w http.ResponseWriter, r *http.Request) {
	t, ok := f.objectType(w, r)
	if !ok {
		return
	}
	n, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	f.mu.Lock()
	f.archiveLocked(t, n)
	f.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (f *Fake) handleObjectAction(w http.ResponseWriter, r *http.Request) {
	t, ok := f.objectType(w, r)
	if !ok {
		return
	}
	switch r.PathValue("action") {
	case "search":
		f.handleSearch(w, r, t)
	case "merge":
		var in struct {
			PrimaryObjectID string `json:"primaryObjectId"`
			ObjectIDToMerge string `json:"objectIdToMerge"`
		}
		if !decodeBody(w, r, &in) {
			return
		}
		p, _ := strconv.ParseInt(in.PrimaryObjectID, 10, 64)
		l, _ := strconv.ParseInt(in.ObjectIDToMerge, 10, 64)
		f.mu.Lock()
		defer f.mu.Unlock()
		pr := f.mergeLocked(t, p, l)
		if pr == nil {
			badRequest(w, "Both objects must exist and differ to be merged")
			return
		}
		writeJSON(w, 200, f.render(t, pr, nil, nil))
	case "gdpr-delete":
		var in struct {
			ObjectID   string `json:"objectId"`
			IDProperty string `json:"idProperty"`
		}
		if !decodeBody(w, r, &in) {
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		rec := f.findLocked(t, in.ObjectID, in.IDProperty, false)
		if rec == nil || t.Name != "contacts" {
			notFound(w)
			return
		}
		f.gdprLocked(rec.id)
		w.WriteHeader(http.StatusNoContent)
	default:
		writeError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", "resource not found")
	}
}

// ---- batch ----

type batchInput struct {
	ID         string            `json:"id"`
	IDProperty string            `json:"idProperty,omitempty"`
	Properties map[string]string `json:"properties,omitempty"`
}

type standardError struct {
	Status   string              `json:"status"`
	Category string              `json:"category"`
	Message  string              `json:"message"`
	Context  map[string][]string `json:"context"`
	Errors   []errorDetail       `json:"errors"`
	Links    map[string]string   `json:"links"`
}

type batchResponse struct {
	Status      string          `json:"status"`
	Results     []publicObject  `json:"results"`
	NumErrors   int             `json:"numErrors,omitempty"`
	Errors      []standardError `json:"errors,omitempty"`
	RequestedAt string          `json:"requestedAt"`
	StartedAt   string          `json:"startedAt"`
	CompletedAt string          `json:"completedAt"`
}

func (f *Fake) writeBatch(w http.ResponseWriter, started time.Time, res []publicObject, errs []standardError) {
	b := batchResponse{Status: "COMPLETE", Results: nonNil(res), Errors: errs,
		RequestedAt: formatTime(started), StartedAt: formatTime(started), CompletedAt: formatTime(f.now())}
	status := 200
	if len(errs) > 0 {
		status = 207
		for _, e := range errs {
			b.NumErrors += len(e.Context["ids"])
		}
	}
	writeJSON(w, status, b)
}

func (f *Fake) handleBatch(w http.ResponseWriter, r *http.Request) {
	t, ok := f.objectType(w, r)
	if !ok {
		return
	}
	var in struct {
		Inputs                []batchInput `json:"inputs"`
		Properties            []string     `json:"properties"`
		PropertiesWithHistory []string     `json:"propertiesWithHistory"`
		IDProperty            string       `json:"idProperty"`
	}
	if !decodeBody(w, r, &in) {
		return
	}
	if len(in.Inputs) > BatchMax {
		badRequest(w, fmt.Sprintf("The maximum number of inputs supported in a batch request is %d", BatchMax))
		return
	}
	if len(in.PropertiesWithHistory) > 0 && len(in.Inputs) > 50 {
		badRequest(w, "The maximum number of inputs supported in a batch request for property histories is 50")
		return
	}
	started := f.now()
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.PathValue("op") {
	case "read":
		var res []publicObject
		var missing []string
		seen := map[int64]bool{}
		for _, x := range in.Inputs {
			rec := f.findLocked(t, x.ID, in.IDProperty, false)
			if rec == nil {
				missing = append(missing, x.ID)
				continue
			}
			if !seen[rec.id] {
				seen[rec.id] = true
				res = append(res, f.render(t, rec, in.Properties, nil))
			}
		}
		var errs []standardError
		if len(missing) > 0 {
			errs = append(errs, standardError{Status: "error", Category: "OBJECT_NOT_FOUND",
				Message: fmt.Sprintf("Could not get some %s objects, they may be deleted or not exist. Check that ids are valid.", t.Singular),
				Context: map[string][]string{"ids": missing}, Errors: []errorDetail{}, Links: map[string]string{}})
		}
		f.writeBatch(w, started, res, errs)
	case "update":
		all := make([]map[string]string, len(in.Inputs))
		for i, x := range in.Inputs {
			all[i] = x.Properties
		}
		if msg := f.validatePropsLocked(t, all); msg != "" {
			badRequest(w, msg)
			return
		}
		var res []publicObject
		failed := map[string][]string{}
		for _, x := range in.Inputs {
			if cat := f.failIDs[x.ID]; cat != "" {
				failed[cat] = append(failed[cat], x.ID)
				continue
			}
			rec := f.findLocked(t, x.ID, x.IDProperty, false)
			if rec == nil {
				failed["OBJECT_NOT_FOUND"] = append(failed["OBJECT_NOT_FOUND"], x.ID)
				continue
			}
			f.writeLocked(t, rec, x.Properties, "INTEGRATION")
			res = append(res, f.render(t, rec, keys(x.Properties), nil))
		}
		var errs []standardError
		for _, cat := range keys(map[string]string{"OBJECT_NOT_FOUND": "", "INTERNAL_ERROR": "", "RATE_LIMITS": "", "LOCKED": ""}) {
			if ids := failed[cat]; len(ids) > 0 {
				msg := fmt.Sprintf("Could not update some %s objects, they may be deleted or not exist. Check that ids are valid.", t.Singular)
				status := "error"
				if cat != "OBJECT_NOT_FOUND" {
					msg = fmt.Sprintf("Some %s objects could not be updated (%s); try again.", t.Singular, cat)
				}
				errs = append(errs, standardError{Status: status, Category: cat, Message: msg,
					Context: map[string][]string{"ids": ids}, Errors: []errorDetail{}, Links: map[string]string{}})
			}
		}
		f.writeBatch(w, started, res, errs)
	case "upsert":
		f.handleUpsert(w, t, in.Inputs, started)
	case "archive":
		for _, x := range in.Inputs {
			n, _ := strconv.ParseInt(x.ID, 10, 64)
			f.archiveLocked(t, n)
		}
		w.WriteHeader(http.StatusNoContent)
	case "create":
		all := make([]map[string]string, len(in.Inputs))
		for i, x := range in.Inputs {
			all[i] = x.Properties
		}
		if msg := f.validatePropsLocked(t, all); msg != "" {
			badRequest(w, msg)
			return
		}
		var res []publicObject
		for _, x := range in.Inputs {
			id := f.createLocked(t.Name, Object{Properties: x.Properties})
			n, _ := strconv.ParseInt(id, 10, 64)
			rec := f.objects[t.Name].byID[n]
			f.eventLocked(t, "creation", n, nil)
			res = append(res, f.render(t, rec, keys(x.Properties), nil))
		}
		b := batchResponse{Status: "COMPLETE", Results: nonNil(res), RequestedAt: formatTime(started), StartedAt: formatTime(started), CompletedAt: formatTime(f.now())}
		writeJSON(w, 201, b)
	default:
		writeError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", "resource not found")
	}
}

// ---- v4 associations ----

func (f *Fake) handleAssocRead(w http.ResponseWriter, r *http.Request) {
	from, ok1 := lookupType(r.PathValue("from"))
	to, ok2 := lookupType(r.PathValue("to"))
	if !ok1 || !ok2 {
		badRequest(w, "Unable to infer object type")
		return
	}
	var in struct {
		Inputs []struct {
			ID string `json:"id"`
		} `json:"inputs"`
	}
	if !decodeBody(w, r, &in) {
		return
	}
	if len(in.Inputs) > 1000 {
		badRequest(w, "The maximum number of inputs supported in a batch request is 1000")
		return
	}
	// HubSpot's v4 associations spec (MultiAssociatedObjectWithLabel,
	// AssociationSpecWithLabel) declares toObjectId a string and label an
	// optional, non-nullable string: an unlabelled association has no label
	// key at all.
	type assocType struct {
		Category string `json:"category"`
		TypeID   int    `json:"typeId"`
		Label    string `json:"label,omitempty"`
	}
	type toObj struct {
		ToObjectID       string      `json:"toObjectId"`
		AssociationTypes []assocType `json:"associationTypes"`
	}
	type result struct {
		From struct {
			ID string `json:"id"`
		} `json:"from"`
		To []toObj `json:"to"`
	}
	started := f.now()
	f.mu.Lock()
	var results []result
	var none []string
	for _, x := range in.Inputs {
		n, _ := strconv.ParseInt(x.ID, 10, 64)
		rec := f.resolveLocked(from.Name, n)
		var tos []toObj
		if rec != nil {
			for _, oid := range rec.assoc[to.Name] {
				if f.liveLocked(to.Name, oid) != nil {
					tos = append(tos, toObj{ToObjectID: strconv.FormatInt(oid, 10), AssociationTypes: []assocType{{Category: "HUBSPOT_DEFINED", TypeID: 1}}})
				}
			}
		}
		if len(tos) == 0 {
			none = append(none, x.ID)
			continue
		}
		res := result{To: tos}
		res.From.ID = x.ID
		results = append(results, res)
	}
	f.mu.Unlock()
	body := map[string]any{"status": "COMPLETE", "results": nonNil(results), "startedAt": formatTime(started), "completedAt": formatTime(f.now())}
	status := 200
	if len(none) > 0 {
		status = 207
		body["numErrors"] = len(none)
		body["errors"] = []standardError{{Status: "error", Category: "OBJECT_NOT_FOUND",
			Message: fmt.Sprintf("No %s is associated with %s %s.", to.Singular, from.Singular, strings.Join(none, ", ")),
			Context: map[string][]string{"fromObjectId": none}, Errors: []errorDetail{}, Links: map[string]string{}}}
	}
	writeJSON(w, status, body)
}
