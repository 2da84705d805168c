package marketofake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// exportBody is a Create Export Lead Job body over leads created in the
// days from start to end (days before now).
func exportBody(start, end int) string {
	at := func(d int) string { return time.Now().UTC().AddDate(0, 0, -d).Format(time.RFC3339) }
	return fmt.Sprintf(`{"fields":["id","email"],"format":"CSV","filter":{"createdAt":{"startAt":%q,"endAt":%q}}}`, at(start), at(end))
}

// result sends a call and returns its first result record and error code.
func result(t *testing.T, f *Fake, tok, method, path, body string) (map[string]any, string) {
	t.Helper()
	req, _ := http.NewRequest(method, f.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env struct {
		Success bool
		Errors  []apiError
		Result  []map[string]any
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if !env.Success {
		return nil, env.Errors[0].Code
	}
	if len(env.Result) == 0 {
		return nil, ""
	}
	return env.Result[0], ""
}

// The bulk export queue keeps the guide's limits: one filter of at most
// 31 days (1003 beyond), smart lists unsupported (1035), 10 jobs queued
// or processing (1029 for the 11th), 2 processing, a job enqueued only
// once, the file of a job not completed a plain-text 404, and none past
// the daily export allocation (1029). Delete Leads takes 300 ids at most
// and skips an unknown one with 1004.
func TestExportQueueAndDeleteLimits(t *testing.T) {
	f := Start(t.Cleanup)
	f.Seed(5)
	tok := token(t, f)
	const create = "/bulk/v1/leads/export/create.json"
	if _, c := result(t, f, tok, "POST", create, exportBody(40, 5)); c != "1003" {
		t.Errorf("a 35-day range: %q, want 1003", c)
	}
	if _, c := result(t, f, tok, "POST", create, `{"fields":["id"],"filter":{"smartListId":1}}`); c != "1035" {
		t.Errorf("a smart list filter: %q, want 1035", c)
	}
	var ids []string
	for i := range MaxExportsQueued + 1 {
		job, c := result(t, f, tok, "POST", create, exportBody(i+1, i))
		if c != "" || job["status"] != ExportCreated {
			t.Fatalf("creating job %d: %q %v", i, c, job)
		}
		ids = append(ids, job["exportId"].(string))
	}
	for i, id := range ids {
		_, c := result(t, f, tok, "POST", "/bulk/v1/leads/export/"+id+"/enqueue.json", "")
		if want := map[bool]string{true: "1029", false: ""}[i == MaxExportsQueued]; c != want {
			t.Errorf("enqueuing job %d: %q, want %q", i+1, c, want)
		}
	}
	if _, c := result(t, f, tok, "POST", "/bulk/v1/leads/export/"+ids[0]+"/enqueue.json", ""); c != "1003" {
		t.Errorf("enqueuing a queued job again: %q, want 1003", c)
	}
	resp, err := http.DefaultClient.Do(func() *http.Request {
		r, _ := http.NewRequest("GET", f.URL+"/bulk/v1/leads/export/"+ids[0]+"/file.json", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		return r
	}())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Errorf("file of a queued job: %d %s %q, want a plain-text 404", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	for range MaxExportsQueued {
		job, c := result(t, f, tok, "GET", "/bulk/v1/leads/export/"+ids[0]+"/status.json", "")
		if c != "" {
			t.Fatal(c)
		}
		if job["status"] == ExportCompleted && job["fileChecksum"] == nil {
			t.Errorf("a completed job without its checksum: %v", job)
		}
	}
	if x := f.Exports(); x.MaxProcessing != MaxExportsProcessing || x.ByStatus[ExportCompleted] != MaxExportsQueued {
		t.Errorf("export queue %+v: want 2 processing at most and all 10 completed", x)
	}
	f.SetExportQuota(100, 100)
	if _, c := result(t, f, tok, "POST", create, exportBody(2, 1)); c != "1029" {
		t.Errorf("past the daily export allocation: %q, want 1029", c)
	}

	var in []string
	for i := range MaxBatch + 1 {
		in = append(in, fmt.Sprintf(`{"id":%d}`, 1001+i))
	}
	if _, c := result(t, f, tok, "POST", "/rest/v1/leads/delete.json", `{"input":[`+strings.Join(in, ",")+`]}`); c != "1003" {
		t.Errorf("deleting 301 leads: %q, want 1003", c)
	}
	if r, _ := result(t, f, tok, "POST", "/rest/v1/leads/delete.json", `{"input":[{"id":424242}]}`); r["status"] != "skipped" {
		t.Errorf("deleting an unknown lead: %v, want skipped", r)
	}
	if r, _ := result(t, f, tok, "POST", "/rest/v1/leads/delete.json?id=1001", ""); r["status"] != "deleted" {
		t.Errorf("deleting lead 1001 by the id parameter: %v, want deleted", r)
	}
	if f.Leads() != 4 {
		t.Errorf("%d leads left, want 4", f.Leads())
	}
}
