package salesforcefake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter/fakekit"
)

// MaxURILength is the longest request URI the data API accepts; longer
// GETs (a huge SOQL IN list) fail with 414.
const MaxURILength = 16384

// apiError is one element of the data API's error array.
type apiError struct {
	Message   string   `json:"message"`
	ErrorCode string   `json:"errorCode"`
	Fields    []string `json:"fields,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, status int, code, msg string, fields ...string) {
	writeJSON(w, status, []apiError{{Message: msg, ErrorCode: code, Fields: fields}})
}

func (f *Fake) count(key string) {
	f.mu.Lock()
	f.calls[key]++
	f.mu.Unlock()
}

// mux serves the whole fake: token endpoint and data API.
func (f *Fake) mux() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/services/oauth2/token", f.handleToken)
	mux.HandleFunc("/services/data/", f.handleData)
	mux.HandleFunc("/services/data", f.handleData)
	return mux
}

// handleData serves /services/data/ and everything under a version.
func (f *Fake) handleData(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/services/data"), "/")
	if rest == "" {
		f.count("GET /services/data/")
		// The version list needs no session and costs nothing.
		var out []map[string]string
		for _, v := range f.opts.APIVersions {
			out = append(out, map[string]string{"label": "Fake " + v, "url": "/services/data/v" + v, "version": v})
		}
		writeJSON(w, http.StatusOK, out)
		return
	}
	ver, sub, _ := strings.Cut(rest, "/")
	key := r.Method + " " + routeKey(sub)
	f.count(key)
	if len(r.URL.RequestURI()) > MaxURILength {
		writeErr(w, http.StatusRequestURITooLong, "URI_TOO_LONG", fmt.Sprintf("request URI longer than %d bytes", MaxURILength))
		return
	}

	f.Faults.Handle(w, r, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.serveVersioned(w, r, ver, sub)
	}))
}

// serveVersioned serves a data request under a version: it checks the
// version, the session and the daily budget, then routes.
func (f *Fake) serveVersioned(w http.ResponseWriter, r *http.Request, ver, sub string) {
	if !strings.HasPrefix(ver, "v") || !slices.Contains(f.opts.APIVersions, ver[1:]) {
		writeErr(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	if !f.sessionValid(r) {
		f.limitHeader(w)
		w.Header().Set("WWW-Authenticate", `Token`)
		writeErr(w, http.StatusUnauthorized, "INVALID_SESSION_ID", "Session expired or invalid")
		return
	}
	f.mu.Lock()
	over := f.usage >= f.opts.DailyLimit
	if !over {
		f.usage++
	}
	f.mu.Unlock()
	f.limitHeader(w)
	if over {
		writeErr(w, http.StatusForbidden, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
		return
	}
	f.route(w, r, ver, sub)
}

func (f *Fake) limitHeader(w http.ResponseWriter) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Sforce-Limit-Info", fmt.Sprintf("api-usage=%d/%d", f.usage, f.opts.DailyLimit))
}

// routeKey names an endpoint for the call counters, with ids replaced.
func routeKey(sub string) string {
	parts := strings.Split(strings.Trim(sub, "/"), "/")
	switch {
	case len(parts) >= 2 && (parts[0] == "query" || parts[0] == "queryAll"):
		return "/" + parts[0] + "/{locator}"
	case len(parts) >= 3 && parts[0] == "jobs":
		parts[2] = "{id}"
	case len(parts) == 4 && parts[0] == "sobjects": // upsert by external id
		parts[3] = "{value}"
	case len(parts) >= 3 && parts[0] == "sobjects" && parts[2] != "describe" && parts[2] != "updated" && parts[2] != "deleted":
		parts[2] = "{id}"
	}
	return "/" + strings.Join(parts, "/")
}

// defaultFaults are what SetRate draws from when given no kinds: the
// failures a Salesforce client meets (an internal error, an instance
// unavailable for a moment, connections dropped before or after the org
// acted, a session that expired).
func defaultFaults() []fakekit.Fault {
	return []fakekit.Fault{
		{Status: http.StatusInternalServerError},
		{Status: http.StatusServiceUnavailable},
		{Reset: true},
		{Reset: true, After: true},
		{Status: http.StatusUnauthorized},
	}
}

// platformError writes the data API's error array for an injected status.
// An injected 401 expires every session first, as an administrator
// revoking them or a session timeout does: the client must log in again.
func (f *Fake) platformError(w http.ResponseWriter, _ *http.Request, status int) {
	if status == http.StatusUnauthorized {
		f.ExpireSessions()
	}
	f.limitHeader(w)
	switch {
	case status == http.StatusUnauthorized:
		writeErr(w, status, "INVALID_SESSION_ID", "Session expired or invalid")
	case status == http.StatusServiceUnavailable:
		writeErr(w, status, "SERVER_UNAVAILABLE", "Server temporarily unavailable, please try again later")
	case status >= 500:
		writeErr(w, status, "UNKNOWN_EXCEPTION", "An unexpected error occurred. Please include this ErrorId if you contact support: 1234567890-12345 (-123456789)")
	case status == http.StatusTooManyRequests:
		// The REST API rarely sends 429; when a gateway does, it carries
		// Retry-After. Offered so the conformance kit can inject bursts.
		if w.Header().Get("Retry-After") == "" {
			w.Header().Set("Retry-After", "1")
		}
		writeErr(w, status, "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded.")
	case status == http.StatusForbidden:
		writeErr(w, status, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
	default:
		writeErr(w, status, "UNKNOWN_EXCEPTION", http.StatusText(status))
	}
}

func (f *Fake) route(w http.ResponseWriter, r *http.Request, ver, sub string) {
	parts := strings.Split(strings.Trim(sub, "/"), "/")
	switch {
	case parts[0] == "limits" && len(parts) == 1:
		f.mu.Lock()
		max, used := f.opts.DailyLimit, f.usage
		f.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{
			"DailyApiRequests":     map[string]int{"Max": max, "Remaining": max - used},
			"DailyBulkV2QueryJobs": map[string]int{"Max": 10000, "Remaining": 10000},
		})
	case (parts[0] == "query" || parts[0] == "queryAll") && len(parts) == 1 && r.Method == http.MethodGet:
		f.handleQuery(w, r, ver, parts[0] == "queryAll")
	case (parts[0] == "query" || parts[0] == "queryAll") && len(parts) == 2 && r.Method == http.MethodGet:
		f.handleQueryMore(w, ver, parts[1])
	case parts[0] == "jobs" && len(parts) >= 2 && parts[1] == "query":
		f.handleBulk(w, r, ver, parts[2:])
	case parts[0] == "composite" && len(parts) == 2 && parts[1] == "sobjects":
		f.handleCollections(w, r, ver)
	case parts[0] == "sobjects" && len(parts) >= 2:
		f.handleSObject(w, r, ver, parts[1:])
	default:
		writeErr(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
	}
}

// renderRecord writes one record as the REST API does: attributes first,
// then the selected fields in order.
func (f *Fake) renderRecord(buf *bytes.Buffer, ver string, rec *record, fields []string) {
	schema := f.schema[rec.typ]
	fmt.Fprintf(buf, `{"attributes":{"type":%q,"url":"/services/data/%s/sobjects/%s/%s"}`, rec.typ, ver, rec.typ, rec.id)
	for _, fl := range fields {
		name := canonicalField(schema, fl)
		v := jsonValue(schema[name], rec.value(name))
		b, _ := json.Marshal(v)
		buf.WriteByte(',')
		kb, _ := json.Marshal(name)
		buf.Write(kb)
		buf.WriteByte(':')
		buf.Write(b)
	}
	buf.WriteByte('}')
}

// canonicalField returns the schema's spelling of a field name (SOQL field
// names are case-insensitive).
func canonicalField(schema map[string]string, name string) string {
	if _, ok := schema[name]; ok {
		return name
	}
	for k := range schema {
		if strings.EqualFold(k, name) {
			return k
		}
	}
	return name
}

// ---- query ----

type locator struct {
	all    bool
	recs   []*record
	fields []string
	pos    int
	size   int
}

func (f *Fake) runQuery(q *query, all bool) ([]*record, error) {
	objName := ""
	for name := range f.schema {
		if strings.EqualFold(name, q.object) {
			objName = name
		}
	}
	if objName == "" {
		return nil, &soqlError{code: "INVALID_TYPE", msg: fmt.Sprintf("sObject type '%s' is not supported.", q.object)}
	}
	q.object = objName
	schema := f.schema[objName]
	for _, fl := range q.fieldsUsed() {
		if _, ok := schema[canonicalField(schema, fl)]; !ok {
			return nil, &soqlError{code: "INVALID_FIELD", msg: fmt.Sprintf("No such column '%s' on entity '%s'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name.", fl, objName)}
		}
	}
	for i, fl := range q.fields {
		q.fields[i] = canonicalField(schema, fl)
	}
	q.where = canonCond(q.where, schema)
	for i := range q.order {
		q.order[i].field = canonicalField(schema, q.order[i].field)
	}
	var out []*record
	live := f.records[objName]
	for _, rec := range f.ordered[objName] {
		if rec.hardDeleted || (rec.deleted && !all) || live[rec.id] != rec {
			continue
		}
		if q.where == nil || q.where.eval(rec) {
			out = append(out, rec)
		}
	}
	if !q.count {
		q.sortRecords(out)
	}
	if q.limit >= 0 && len(out) > q.limit {
		out = out[:q.limit]
	}
	return out, nil
}

func (f *Fake) handleQuery(w http.ResponseWriter, r *http.Request, ver string, all bool) {
	qs := r.URL.Query().Get("q")
	q, err := parseSOQL(qs)
	if err != nil {
		se := err.(*soqlError)
		writeErr(w, http.StatusBadRequest, se.code, se.msg)
		return
	}
	f.mu.Lock()
	recs, err := f.runQuery(q, all)
	f.mu.Unlock()
	if err != nil {
		se := err.(*soqlError)
		writeErr(w, http.StatusBadRequest, se.code, se.msg)
		return
	}
	if q.count {
		writeJSON(w, http.StatusOK, map[string]any{"totalSize": len(recs), "done": true, "records": []any{}})
		return
	}
	size := f.opts.PageSize
	if opt := r.Header.Get("Sforce-Query-Options"); opt != "" {
		for _, kv := range strings.Split(opt, ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
			if strings.EqualFold(k, "batchSize") {
				if n, err := strconv.Atoi(v); err == nil && n >= 200 && n <= 2000 && n < size {
					size = n
				}
			}
		}
	}
	loc := &locator{all: all, recs: recs, fields: q.fields, size: size}
	f.writePage(w, ver, loc)
}

func (f *Fake) schemaFor(object string) map[string]string {
	for name, s := range f.schema {
		if strings.EqualFold(name, object) {
			return s
		}
	}
	return nil
}

// canonCond rewrites field names in a condition tree to the schema's
// spelling (a nil schema leaves them alone).
func canonCond(c cond, schema map[string]string) cond {
	if schema == nil || c == nil {
		return c
	}
	switch x := c.(type) {
	case andCond:
		return andCond{canonCond(x.l, schema), canonCond(x.r, schema)}
	case orCond:
		return orCond{canonCond(x.l, schema), canonCond(x.r, schema)}
	case notCond:
		return notCond{canonCond(x.c, schema)}
	case cmpCond:
		x.field = canonicalField(schema, x.field)
		return x
	case inCond:
		x.field = canonicalField(schema, x.field)
		return x
	}
	return c
}

func (f *Fake) writePage(w http.ResponseWriter, ver string, loc *locator) {
	f.mu.Lock()
	end := min(loc.pos+loc.size, len(loc.recs))
	var buf bytes.Buffer
	fmt.Fprintf(&buf, `{"totalSize":%d,"done":%t,`, len(loc.recs), end == len(loc.recs))
	if end < len(loc.recs) {
		f.seq++
		id := fmt.Sprintf("01g%012dAAA-%d", f.seq, end)
		next := &locator{all: loc.all, recs: loc.recs, fields: loc.fields, pos: end, size: loc.size}
		f.locators[id] = next
		kind := "query"
		if loc.all {
			kind = "queryAll"
		}
		fmt.Fprintf(&buf, `"nextRecordsUrl":"/services/data/%s/%s/%s",`, ver, kind, id)
	}
	buf.WriteString(`"records":[`)
	for i := loc.pos; i < end; i++ {
		if i > loc.pos {
			buf.WriteByte(',')
		}
		f.renderRecord(&buf, ver, loc.recs[i], loc.fields)
	}
	buf.WriteString("]}")
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	_, _ = w.Write(buf.Bytes())
}

func (f *Fake) handleQueryMore(w http.ResponseWriter, ver, id string) {
	f.mu.Lock()
	loc := f.locators[id]
	f.mu.Unlock()
	if loc == nil {
		writeErr(w, http.StatusBadRequest, "INVALID_QUERY_LOCATOR", "invalid query locator")
		return
	}
	f.writePage(w, ver, loc)
}

// ---- sObject rows ----

func (f *Fake) handleSObject(w http.ResponseWriter, r *http.Request, ver string, parts []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	object := ""
	for name := range f.schema {
		if name == parts[0] {
			object = name
		}
	}
	if object == "" {
		writeErr(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	schema := f.schema[object]
	switch {
	case len(parts) == 1 && r.Method == http.MethodPost:
		fields, err := decodeBody(r)
		if err != nil {
			writeErr(w, http.StatusBadRequest, "JSON_PARSER_ERROR", err.Error())
			return
		}
		delete(fields, "attributes")
		rec, serr := f.createLocked(object, fields, f.opts.UserID)
		if serr != nil {
			writeErr(w, http.StatusBadRequest, serr.code, serr.msg, serr.fields...)
			return
		}
		writeJSON(w, http.StatusCreated, map[string]any{"id": rec.id, "success": true, "errors": []any{}})
	case len(parts) == 2 && parts[1] == "describe" && r.Method == http.MethodGet:
		var fields []map[string]any
		names := make([]string, 0, len(schema))
		for n := range schema {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			fields = append(fields, map[string]any{
				"name": n, "label": n, "type": schema[n], "custom": strings.HasSuffix(n, "__c"),
				"updateable": n != "Id" && n != "IsDeleted" && n != "SystemModstamp" && n != "CreatedDate" && n != "LastModifiedDate" && n != "CreatedById",
				"nillable":   n != "Id", "length": lengthOf(schema[n]),
			})
		}
		writeJSON(w, http.StatusOK, map[string]any{"name": object, "label": object, "custom": false,
			"keyPrefix": objectPrefixes[object], "queryable": true, "updateable": true, "createable": true, "fields": fields})
	case len(parts) == 3 && r.Method == http.MethodPatch:
		f.upsertLocked(w, r, ver, object, parts[1], parts[2])
	case len(parts) == 2 && (parts[1] == "updated" || parts[1] == "deleted") && r.Method == http.MethodGet:
		f.handleUpdatedDeleted(w, r, object, parts[1] == "deleted")
	case len(parts) == 2:
		rec := f.records[object][parts[1]]
		if rec == nil || rec.deleted {
			if rec != nil && r.Method == http.MethodDelete {
				writeErr(w, http.StatusNotFound, "ENTITY_IS_DELETED", "entity is deleted")
				return
			}
			writeErr(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
			return
		}
		switch r.Method {
		case http.MethodGet:
			names := make([]string, 0, len(schema))
			for n := range schema {
				names = append(names, n)
			}
			slices.Sort(names)
			var buf bytes.Buffer
			f.renderRecord(&buf, ver, rec, names)
			w.Header().Set("Content-Type", "application/json;charset=UTF-8")
			_, _ = w.Write(buf.Bytes())
		case http.MethodPatch:
			fields, err := decodeBody(r)
			if err != nil {
				writeErr(w, http.StatusBadRequest, "JSON_PARSER_ERROR", err.Error())
				return
			}
			if se, ok := f.failIDs[rec.id]; ok {
				writeErr(w, http.StatusBadRequest, se.code, se.msg, se.fields...)
				return
			}
			if err := f.updateLocked(rec, fields); err != nil {
				se := err.(*saveError)
				writeErr(w, http.StatusBadRequest, se.code, se.msg, se.fields...)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		case http.MethodDelete:
			f.deleteLocked(rec)
			w.WriteHeader(http.StatusNoContent)
		default:
			writeErr(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "HTTP Method '"+r.Method+"' not allowed. Allowed are GET,PATCH,DELETE")
		}
	default:
		writeErr(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
	}
}

func lengthOf(typ string) int {
	switch typ {
	case TypeString, TypeEmail, TypePhone, TypePicklist:
		return 255
	case TypeTextArea:
		return 32768
	case TypeID, TypeReference:
		return 18
	}
	return 0
}

func decodeBody(r *http.Request) (map[string]any, error) {
	data, err := io.ReadAll(io.LimitReader(r.Body, 50<<20))
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		//lint:ignore ST1005 the text is Salesforce's own error message
		return nil, fmt.Errorf("Unexpected character: was expecting a JSON object: %v", err)
	}
	return m, nil
}

// createLocked inserts a record on behalf of the API, with the platform's
// checks (CampaignMember duplicates and references).
func (f *Fake) createLocked(object string, fields map[string]any, by string) (*record, *saveError) {
	if object == "CampaignMember" {
		cid, _ := fields["CampaignId"].(string)
		who, _ := fields["ContactId"].(string)
		whoField := "ContactId"
		if who == "" {
			who, _ = fields["LeadId"].(string)
			whoField = "LeadId"
		}
		if c := f.records["Campaign"][cid]; c == nil || c.deleted {
			return nil, &saveError{code: "INVALID_CROSS_REFERENCE_KEY", msg: "invalid cross reference id", fields: []string{"CampaignId"}}
		}
		target := "Contact"
		if whoField == "LeadId" {
			target = "Lead"
		}
		if p := f.records[target][who]; p == nil || p.deleted {
			return nil, &saveError{code: "INVALID_CROSS_REFERENCE_KEY", msg: "invalid cross reference id", fields: []string{whoField}}
		}
		if se, ok := f.failIDs[who]; ok {
			return nil, &se
		}
		if m := f.records["CampaignMember"][f.members[cid+"|"+who]]; m != nil && !m.deleted {
			return nil, &saveError{code: "DUPLICATE_VALUE", msg: "Already a campaign member.", fields: []string{}}
		}
	}
	rec, err := f.insertLocked(object, fields, by)
	if err != nil {
		if se, ok := err.(*saveError); ok {
			return nil, se
		}
		return nil, &saveError{code: "INVALID_TYPE", msg: err.Error()}
	}
	return rec, nil
}

func (f *Fake) handleUpdatedDeleted(w http.ResponseWriter, r *http.Request, object string, deleted bool) {
	start, err1 := time.Parse(time.RFC3339, r.URL.Query().Get("start"))
	end, err2 := time.Parse(time.RFC3339, r.URL.Query().Get("end"))
	if err1 != nil || err2 != nil {
		writeErr(w, http.StatusBadRequest, "INVALID_REPLICATION_DATE", "start and end must be ISO-8601 date-times")
		return
	}
	now := f.opts.Now().UTC()
	window := 30 * 24 * time.Hour
	if deleted {
		window = 15 * 24 * time.Hour
	}
	if start.Before(now.Add(-window)) {
		writeErr(w, http.StatusBadRequest, "INVALID_REPLICATION_DATE", "startDate cannot be more than "+strconv.Itoa(int(window.Hours()/24))+" days ago")
		return
	}
	if end.After(now) {
		end = now
	}
	end = end.Truncate(time.Minute)
	var ids []string
	var dels []map[string]string
	for _, rec := range f.records[object] {
		if deleted {
			if rec.deleted && !rec.deletedAt.Before(start) && rec.deletedAt.Before(end) {
				dels = append(dels, map[string]string{"id": rec.id, "deletedDate": formatDateTime(rec.deletedAt)})
			}
			continue
		}
		if !rec.deleted && !rec.modstamp().Before(start) && rec.modstamp().Before(end) {
			ids = append(ids, rec.id)
		}
	}
	slices.Sort(ids)
	if deleted {
		slices.SortFunc(dels, func(a, b map[string]string) int { return strings.Compare(a["id"], b["id"]) })
		if dels == nil {
			dels = []map[string]string{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"deletedRecords": dels,
			"earliestDateAvailable": formatDateTime(now.Add(-window)), "latestDateCovered": formatDateTime(end)})
		return
	}
	if ids == nil {
		ids = []string{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"ids": ids, "latestDateCovered": formatDateTime(end)})
}
