package mailchimpfake

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// MergeField is one of the audience's merge fields (GET
// /lists/{list_id}/merge-fields). A new audience has FNAME and LNAME.
type MergeField struct {
	ID   int    `json:"merge_id"`
	Tag  string `json:"tag"`
	Name string `json:"name"`
	Type string `json:"type"`
}

// resultsPath is where the fake serves batch results archives (Mailchimp
// serves them from a pre-signed storage URL, response_body_url).
const resultsPath = "/batch-results/"

// MergeFields returns the audience's merge fields.
func (f *Fake) MergeFields() []MergeField {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]MergeField(nil), f.fields...)
}

// MergeValues returns a member's merge field values by tag.
func (f *Fake) MergeValues(hash string) (map[string]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.find(hash)
	if m == nil {
		return nil, fmt.Errorf("no member %s", hash)
	}
	out := map[string]string{}
	for k, v := range m.MergeFields {
		out[k] = v
	}
	return out, nil
}

// Batches returns how many batch operations were submitted.
func (f *Fake) Batches() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.batches)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *Fake) mergeFields(w http.ResponseWriter) {
	f.mu.Lock()
	fs := append([]MergeField(nil), f.fields...)
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"merge_fields": fs, "list_id": f.ListID, "total_items": len(fs)})
}

// createMergeField adds a merge field. Without a tag Mailchimp makes one,
// MMERGE and the field's number; a tag or name already taken is a 400.
func (f *Fake) createMergeField(w http.ResponseWriter, r *http.Request) {
	var body MergeField
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Name == "" || body.Type == "" {
		problem(w, http.StatusBadRequest, "Invalid Resource", "A merge field needs a name and a type.")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	body.ID = len(f.fields) + 1
	if body.Tag == "" {
		body.Tag = "MMERGE" + strconv.Itoa(body.ID)
	}
	body.Tag = strings.ToUpper(body.Tag)
	for _, x := range f.fields {
		if x.Tag == body.Tag || x.Name == body.Name {
			problem(w, http.StatusBadRequest, "Invalid Resource", "A merge field with the tag "+body.Tag+" or name "+body.Name+" already exists.")
			return
		}
	}
	f.fields = append(f.fields, body)
	writeJSON(w, http.StatusOK, body)
}

// patch updates a member's merge fields; an unknown tag is a 400, as
// Mailchimp's "Your merge fields were invalid" is.
func (f *Fake) patch(w http.ResponseWriter, r *http.Request, hash string) {
	var body struct {
		MergeFields map[string]string `json:"merge_fields"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		problem(w, http.StatusBadRequest, "Invalid Resource", "The resource submitted could not be validated: "+err.Error())
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.find(strings.ToLower(hash))
	if m == nil {
		problem(w, http.StatusNotFound, "Resource Not Found", "The requested resource could not be found.")
		return
	}
	if f.reject[m.ID] {
		problem(w, http.StatusBadRequest, "Invalid Resource", "This member cannot be changed.")
		return
	}
	for tag := range body.MergeFields {
		known := false
		for _, x := range f.fields {
			known = known || x.Tag == tag
		}
		if !known {
			problem(w, http.StatusBadRequest, "Invalid Resource", "Your merge fields were invalid: no merge field "+tag+".")
			return
		}
	}
	if m.MergeFields == nil {
		m.MergeFields = map[string]string{}
	}
	for tag, v := range body.MergeFields {
		m.MergeFields[tag] = v
	}
	f.clock = f.clock.Add(time.Second)
	m.LastChanged = f.clock
	writeJSON(w, http.StatusOK, m)
}

// batch is one batch operation request: run when submitted, reported
// pending, then started, then finished (with its results archive) on
// the GETs that follow, as Mailchimp processes batches asynchronously.
type batch struct {
	id      string
	results []batchResult
	polls   int
	at      time.Time
}

type batchResult struct {
	StatusCode  int    `json:"status_code"`
	OperationID string `json:"operation_id"`
	Response    string `json:"response"`
}

func (b *batch) json(root string) map[string]any {
	status := []string{"pending", "started", "finished"}[min(b.polls, 2)]
	out := map[string]any{"id": b.id, "status": status, "total_operations": len(b.results),
		"finished_operations": 0, "errored_operations": 0, "submitted_at": b.at.Format(time.RFC3339), "response_body_url": ""}
	if status == "finished" {
		errs := 0
		for _, r := range b.results {
			if r.StatusCode >= 400 {
				errs++
			}
		}
		out["finished_operations"] = len(b.results)
		out["errored_operations"] = errs
		out["completed_at"] = b.at.Format(time.RFC3339)
		out["response_body_url"] = root + resultsPath + b.id + ".tar.gz"
	}
	return out
}

func (f *Fake) createBatch(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Operations []struct {
			Method      string            `json:"method"`
			Path        string            `json:"path"`
			Params      map[string]string `json:"params"`
			Body        string            `json:"body"`
			OperationID string            `json:"operation_id"`
		} `json:"operations"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || len(body.Operations) == 0 {
		problem(w, http.StatusBadRequest, "Invalid Resource", "A batch needs operations.")
		return
	}
	f.mu.Lock()
	f.clock = f.clock.Add(time.Second)
	b := &batch{id: fmt.Sprintf("%010x", len(f.batches)+1), at: f.clock}
	f.mu.Unlock()
	for _, op := range body.Operations {
		u := &url.URL{Path: "/3.0" + op.Path}
		q := url.Values{}
		for k, v := range op.Params {
			q.Set(k, v)
		}
		u.RawQuery = q.Encode()
		req := httptest.NewRequestWithContext(r.Context(), op.Method, u.String(), strings.NewReader(op.Body))
		rec := httptest.NewRecorder()
		f.serveAPI(rec, req)
		b.results = append(b.results, batchResult{StatusCode: rec.Code, OperationID: op.OperationID, Response: rec.Body.String()})
	}
	f.mu.Lock()
	f.batches[b.id] = b
	out := b.json(f.root)
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func (f *Fake) getBatch(w http.ResponseWriter, id string) {
	f.mu.Lock()
	b := f.batches[id]
	var out map[string]any
	if b != nil {
		b.polls++
		out = b.json(f.root)
	}
	f.mu.Unlock()
	if b == nil {
		problem(w, http.StatusNotFound, "Resource Not Found", "The requested resource could not be found.")
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// results serves a finished batch's results: a gzipped tar holding JSON
// files, each an array of {status_code, operation_id, response}.
func (f *Fake) results(w http.ResponseWriter, r *http.Request, name string) {
	f.mu.Lock()
	b := f.batches[strings.TrimSuffix(name, ".tar.gz")]
	f.mu.Unlock()
	if b == nil || b.polls < 2 {
		http.NotFound(w, r)
		return
	}
	data, _ := json.Marshal(b.results)
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	_ = tw.WriteHeader(&tar.Header{Name: b.id + "/", Typeflag: tar.TypeDir, Mode: 0o755})
	_ = tw.WriteHeader(&tar.Header{Name: b.id + "/" + b.id + ".json", Mode: 0o644, Size: int64(len(data))})
	_, _ = tw.Write(data)
	_ = tw.Close()
	_ = gz.Close()
	w.Header().Set("Content-Type", "application/x-gzip")
	_, _ = w.Write(buf.Bytes())
}
