package salesforcefake

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// bulkJob is a Bulk API 2.0 query job.
type bulkJob struct {
	id        string
	operation string
	object    string
	query     *query
	state     string
	polls     int
	fail      bool
	created   time.Time
	recs      []*record
	fields    []string
	schema    map[string]string
	errMsg    string
}

func (j *bulkJob) info(ver string) map[string]any {
	out := map[string]any{
		"id": j.id, "operation": j.operation, "object": j.object, "createdById": DefaultUserID,
		"createdDate": formatDateTime(j.created), "systemModstamp": formatDateTime(j.created),
		"state": j.state, "concurrencyMode": "Parallel", "contentType": "CSV",
		"apiVersion": json.Number(strings.TrimPrefix(ver, "v")), "lineEnding": "LF", "columnDelimiter": "COMMA",
	}
	if j.state == "JobComplete" {
		out["numberRecordsProcessed"] = len(j.recs)
		out["retries"] = 0
		out["totalProcessingTime"] = 42
	}
	if j.errMsg != "" {
		out["errorMessage"] = j.errMsg
	}
	return out
}

// handleBulk serves /jobs/query, /jobs/query/{id} and
// /jobs/query/{id}/results.
func (f *Fake) handleBulk(w http.ResponseWriter, r *http.Request, ver string, rest []string) {
	switch {
	case len(rest) == 0 && r.Method == http.MethodPost:
		body, err := decodeBody(r)
		if err != nil {
			writeErr(w, http.StatusBadRequest, "JSON_PARSER_ERROR", err.Error())
			return
		}
		op, _ := body["operation"].(string)
		qs, _ := body["query"].(string)
		if op != "query" && op != "queryAll" {
			writeErr(w, http.StatusBadRequest, "INVALIDJOB", "Invalid operation: "+op)
			return
		}
		q, err := parseSOQL(qs)
		if err == nil && len(q.order) > 0 {
			err = malformed("ORDER BY is not supported by Bulk API 2.0 query jobs")
		}
		if err != nil {
			se := err.(*soqlError)
			writeErr(w, http.StatusBadRequest, se.code, se.msg)
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.schemaFor(q.object) == nil {
			writeErr(w, http.StatusBadRequest, "INVALID_TYPE", fmt.Sprintf("sObject type '%s' is not supported.", q.object))
			return
		}
		f.seq++
		j := &bulkJob{id: fmt.Sprintf("750%012dAAA", f.seq), operation: op, query: q, object: q.object,
			state: "UploadComplete", created: f.opts.Now().UTC()}
		if f.failBulk > 0 {
			f.failBulk--
			j.fail = true
		}
		f.jobs[j.id] = j
		writeJSON(w, http.StatusOK, j.info(ver))
	case len(rest) == 1 && r.Method == http.MethodGet:
		f.mu.Lock()
		defer f.mu.Unlock()
		j := f.jobs[rest[0]]
		if j == nil {
			writeErr(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
			return
		}
		switch j.state {
		case "UploadComplete", "InProgress":
			j.polls++
			if j.polls > f.opts.BulkPolls {
				if j.fail {
					j.state, j.errMsg = "Failed", "InternalServerError : an internal error occurred while processing the job"
				} else {
					// The snapshot is taken when the job completes.
					recs, err := f.runQuery(j.query, j.operation == "queryAll")
					if err != nil {
						j.state, j.errMsg = "Failed", err.Error()
					} else {
						j.state, j.recs, j.fields, j.schema = "JobComplete", recs, j.query.fields, f.schema[j.query.object]
					}
				}
			} else {
				j.state = "InProgress"
			}
		}
		writeJSON(w, http.StatusOK, j.info(ver))
	case len(rest) == 1 && r.Method == http.MethodDelete:
		f.mu.Lock()
		defer f.mu.Unlock()
		delete(f.jobs, rest[0])
		w.WriteHeader(http.StatusNoContent)
	case len(rest) == 2 && rest[1] == "results" && r.Method == http.MethodGet:
		f.bulkResults(w, r, rest[0])
	default:
		writeErr(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
	}
}

func (f *Fake) bulkResults(w http.ResponseWriter, r *http.Request, id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	j := f.jobs[id]
	if j == nil {
		writeErr(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	if j.state != "JobComplete" {
		writeErr(w, http.StatusBadRequest, "INVALIDJOBSTATE", "Job is not in a valid state for this operation: "+j.state)
		return
	}
	max := len(j.recs)
	if s := r.URL.Query().Get("maxRecords"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			writeErr(w, http.StatusBadRequest, "INVALID_PARAMETER", "maxRecords must be a positive integer")
			return
		}
		max = n
	}
	start := 0
	if loc := r.URL.Query().Get("locator"); loc != "" {
		b, err := base64.RawStdEncoding.DecodeString(loc)
		n, err2 := strconv.Atoi(string(b))
		if err != nil || err2 != nil || n < 0 || n > len(j.recs) {
			writeErr(w, http.StatusBadRequest, "INVALID_LOCATOR", "invalid locator")
			return
		}
		start = n
	}
	end := min(start+max, len(j.recs))
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	_ = cw.Write(j.fields)
	row := make([]string, len(j.fields))
	for _, rec := range j.recs[start:end] {
		for i, fl := range j.fields {
			row[i] = csvValue(j.schema[fl], rec.value(fl))
		}
		_ = cw.Write(row)
	}
	cw.Flush()
	next := "null"
	if end < len(j.recs) {
		next = base64.RawStdEncoding.EncodeToString([]byte(strconv.Itoa(end)))
	}
	w.Header().Set("Content-Type", "text/csv")
	w.Header().Set("Sforce-Locator", next)
	w.Header().Set("Sforce-NumberOfRecords", strconv.Itoa(end-start))
	_, _ = w.Write(buf.Bytes())
}
