package salesforcefake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
)

// MaxCollection is the sObject Collections limit per request.
const MaxCollection = 200

type saveResult struct {
	ID      string           `json:"id,omitempty"`
	Success bool             `json:"success"`
	Errors  []saveResultItem `json:"errors"`
}

type saveResultItem struct {
	StatusCode string   `json:"statusCode"`
	Message    string   `json:"message"`
	Fields     []string `json:"fields"`
}

func failed(id string, se *saveError) saveResult {
	fields := se.fields
	if fields == nil {
		fields = []string{}
	}
	return saveResult{ID: id, Errors: []saveResultItem{{StatusCode: se.code, Message: se.msg, Fields: fields}}}
}

// undo reverses one applied write when an allOrNone batch fails.
type undo func()

// handleCollections serves POST (create), PATCH (update) and DELETE on
// /composite/sobjects.
func (f *Fake) handleCollections(w http.ResponseWriter, r *http.Request, _ string) {
	var allOrNone bool
	var recs []map[string]any
	var ids []string
	switch r.Method {
	case http.MethodPost, http.MethodPatch:
		data, err := io.ReadAll(io.LimitReader(r.Body, 50<<20))
		if err != nil {
			writeErr(w, http.StatusBadRequest, "JSON_PARSER_ERROR", err.Error())
			return
		}
		var body struct {
			AllOrNone bool             `json:"allOrNone"`
			Records   []map[string]any `json:"records"`
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if err := dec.Decode(&body); err != nil {
			writeErr(w, http.StatusBadRequest, "JSON_PARSER_ERROR", "Unexpected character: "+err.Error())
			return
		}
		allOrNone, recs = body.AllOrNone, body.Records
		if len(recs) == 0 {
			writeErr(w, http.StatusBadRequest, "INVALID_FIELD", "No records to process")
			return
		}
	case http.MethodDelete:
		q := r.URL.Query()
		allOrNone = q.Get("allOrNone") == "true"
		for _, id := range strings.Split(q.Get("ids"), ",") {
			if id != "" {
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 {
			writeErr(w, http.StatusBadRequest, "MALFORMED_ID", "ids parameter is required")
			return
		}
	default:
		writeErr(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "HTTP Method '"+r.Method+"' not allowed. Allowed are POST,PATCH,DELETE")
		return
	}
	n := len(recs) + len(ids)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.batches = append(f.batches, n)
	if n > MaxCollection {
		writeErr(w, http.StatusBadRequest, "EXCEEDED_ID_LIMIT", fmt.Sprintf("record limit reached. cannot submit more than %d records into this call", MaxCollection))
		return
	}
	results := make([]saveResult, n)
	var undos []undo
	anyFailed := false
	for i := range n {
		var res saveResult
		var u undo
		switch r.Method {
		case http.MethodPost:
			res, u = f.collCreate(recs[i])
		case http.MethodPatch:
			res, u = f.collUpdate(recs[i])
		default:
			res, u = f.collDelete(ids[i])
		}
		results[i] = res
		if !res.Success {
			anyFailed = true
			if allOrNone {
				break
			}
		}
		if u != nil {
			undos = append(undos, u)
		}
	}
	if allOrNone && anyFailed {
		for i := len(undos) - 1; i >= 0; i-- {
			undos[i]()
		}
		for i := range results {
			if results[i].Success || (results[i].Errors == nil) {
				var id string
				if r.Method == http.MethodPost {
					id = ""
				} else if r.Method == http.MethodPatch {
					id, _ = recs[i]["id"].(string)
				} else {
					id = ids[i]
				}
				results[i] = saveResult{ID: id, Errors: []saveResultItem{{StatusCode: "ALL_OR_NONE_OPERATION_ROLLED_BACK",
					Message: "Record rolled back because not all records were valid and the request was using AllOrNone header", Fields: []string{}}}}
			}
		}
	}
	writeJSON(w, http.StatusOK, results)
}

func recordType(m map[string]any) string {
	attrs, _ := m["attributes"].(map[string]any)
	t, _ := attrs["type"].(string)
	return t
}

func (f *Fake) collCreate(m map[string]any) (saveResult, undo) {
	typ := recordType(m)
	if f.schema[typ] == nil {
		return failed("", &saveError{code: "INVALID_TYPE", msg: "sObject type '" + typ + "' is not supported."}), nil
	}
	fields := maps.Clone(m)
	delete(fields, "attributes")
	rec, se := f.createLocked(typ, fields, f.opts.UserID)
	if se != nil {
		return failed("", se), nil
	}
	return saveResult{ID: rec.id, Success: true, Errors: []saveResultItem{}}, func() { delete(f.records[typ], rec.id) }
}

func (f *Fake) collUpdate(m map[string]any) (saveResult, undo) {
	typ := recordType(m)
	id, _ := m["id"].(string)
	if id == "" {
		id, _ = m["Id"].(string)
	}
	if f.schema[typ] == nil {
		return failed(id, &saveError{code: "INVALID_TYPE", msg: "sObject type '" + typ + "' is not supported."}), nil
	}
	rec := f.records[typ][id]
	if rec == nil {
		return failed(id, &saveError{code: "MALFORMED_ID", msg: "Id in URL or record is not valid: " + id, fields: []string{"Id"}}), nil
	}
	if rec.deleted {
		return failed(id, &saveError{code: "ENTITY_IS_DELETED", msg: "entity is deleted", fields: []string{}}), nil
	}
	if se, ok := f.failIDs[id]; ok {
		return failed(id, &se), nil
	}
	fields := maps.Clone(m)
	delete(fields, "attributes")
	delete(fields, "id")
	before := maps.Clone(rec.fields)
	if err := f.updateLocked(rec, fields); err != nil {
		return failed(id, err.(*saveError)), nil
	}
	return saveResult{ID: id, Success: true, Errors: []saveResultItem{}}, func() { rec.fields = before }
}

func (f *Fake) collDelete(id string) (saveResult, undo) {
	typ := typeOfID(id)
	rec := f.records[typ][id]
	if rec == nil {
		return failed(id, &saveError{code: "MALFORMED_ID", msg: "malformed id " + id, fields: []string{}}), nil
	}
	if rec.deleted {
		return failed(id, &saveError{code: "ENTITY_IS_DELETED", msg: "entity is deleted", fields: []string{}}), nil
	}
	if se, ok := f.failIDs[id]; ok {
		return failed(id, &se), nil
	}
	before := maps.Clone(rec.fields)
	f.deleteLocked(rec)
	return saveResult{ID: id, Success: true, Errors: []saveResultItem{}}, func() {
		rec.deleted = false
		rec.fields = before
	}
}
