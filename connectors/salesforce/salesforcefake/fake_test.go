package salesforcefake

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

type client struct {
	t     *testing.T
	f     *Fake
	token string
}

func login(t *testing.T, f *Fake) *client {
	t.Helper()
	resp, err := http.PostForm(f.URL()+"/services/oauth2/token", url.Values{"grant_type": {"refresh_token"},
		"client_id": {DefaultClientID}, "client_secret": {DefaultClientSecret}, "refresh_token": {DefaultRefreshToken}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	if _, has := tok["expires_in"]; has {
		t.Fatal("token response has expires_in; Salesforce sends none")
	}
	if _, ok := tok["issued_at"].(string); !ok || tok["instance_url"] != f.URL() || tok["signature"] == "" {
		t.Fatalf("token response %v", tok)
	}
	return &client{t: t, f: f, token: tok["access_token"].(string)}
}

func (c *client) do(method, path string, body string) (*http.Response, string) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.f.URL()+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (c *client) query(kind, soql string) (*http.Response, string) {
	return c.do("GET", "/services/data/v62.0/"+kind+"?q="+url.QueryEscape(soql), "")
}

func TestTokenEndpointErrorsAreObjects(t *testing.T) {
	f := New(Options{})
	f.Start()
	defer f.Close()
	resp, err := http.PostForm(f.URL()+"/services/oauth2/token", url.Values{"grant_type": {"refresh_token"},
		"client_id": {DefaultClientID}, "refresh_token": {"stale"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || string(b) != `{"error":"invalid_grant","error_description":"expired access/refresh token"}`+"\n" {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
}

func TestQueryDialectAndErrors(t *testing.T) {
	f := New(Options{PageSize: 2})
	f.Start()
	defer f.Close()
	c := login(t, f)
	a := f.Insert("Campaign", map[string]any{"Name": `O'Brien \ "VIP"`})
	f.Insert("Campaign", map[string]any{"Name": "Other"})
	gone := f.Insert("Campaign", map[string]any{"Name": "Gone"})
	f.Delete("Campaign", gone)

	resp, body := c.query("query", `SELECT Id, Name FROM Campaign WHERE Name = 'O\'Brien \\ \"VIP\"'`)
	if resp.StatusCode != 200 || !strings.Contains(body, a) || strings.Contains(body, "Other") {
		t.Fatalf("escaped literal: %d %s", resp.StatusCode, body)
	}
	if resp.Header.Get("Sforce-Limit-Info") == "" {
		t.Fatal("no Sforce-Limit-Info header")
	}
	if !strings.Contains(body, `"attributes":{"type":"Campaign","url":"/services/data/v62.0/sobjects/Campaign/`+a+`"}`) {
		t.Fatalf("records lack attributes: %s", body)
	}
	_, body = c.query("query", "SELECT Id FROM Campaign")
	var page struct {
		TotalSize      int    `json:"totalSize"`
		Done           bool   `json:"done"`
		NextRecordsURL string `json:"nextRecordsUrl"`
	}
	_ = json.Unmarshal([]byte(body), &page)
	if page.TotalSize != 2 || !page.Done {
		t.Fatalf("query should not see deleted rows: %s", body)
	}
	_, body = c.query("queryAll", "SELECT Id, IsDeleted FROM Campaign")
	_ = json.Unmarshal([]byte(body), &page)
	if page.TotalSize != 3 || page.Done || !strings.HasPrefix(page.NextRecordsURL, "/services/data/v62.0/queryAll/") {
		t.Fatalf("queryAll page: %s", body)
	}
	_, body = c.do("GET", page.NextRecordsURL, "")
	if !strings.Contains(body, `"IsDeleted":true`) || !strings.Contains(body, `"done":true`) {
		t.Fatalf("second page: %s", body)
	}

	for soql, code := range map[string]string{
		"SELEC Id FROM Campaign":                       "MALFORMED_QUERY",
		"SELECT Id FROM Campaign WHERE Name = 'open":   "MALFORMED_QUERY",
		"SELECT Id FROM Campaign WHERE Name = 'x' OR":  "MALFORMED_QUERY",
		"SELECT Nope FROM Campaign":                    "INVALID_FIELD",
		"SELECT Id FROM Nothing":                       "INVALID_TYPE",
		"SELECT Id FROM Campaign WHERE Name = 'a' 'b'": "MALFORMED_QUERY",
	} {
		resp, body := c.query("query", soql)
		var errs []map[string]any
		_ = json.Unmarshal([]byte(body), &errs)
		if resp.StatusCode != 400 || len(errs) != 1 || errs[0]["errorCode"] != code {
			t.Errorf("%s: %d %s, want 400 %s", soql, resp.StatusCode, body, code)
		}
	}
	resp, _ = c.do("GET", "/services/data/v10.0/limits", "")
	if resp.StatusCode != 404 {
		t.Fatalf("unknown version answered %d", resp.StatusCode)
	}
	resp, body = c.do("GET", "/services/data/", "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"version":"62.0"`) {
		t.Fatalf("versions: %s", body)
	}
}

func TestSessionExpiryLimitsAndUpdatedDeleted(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	f := New(Options{DailyLimit: 5, SessionTTL: time.Hour, Now: clock})
	f.Start()
	defer f.Close()
	c := login(t, f)
	id := f.Insert("Contact", map[string]any{"LastName": "A"})
	del := f.Insert("Contact", map[string]any{"LastName": "B"})
	f.Delete("Contact", del)
	now = now.Add(time.Minute)
	start := url.QueryEscape(now.Add(-time.Hour).Format(time.RFC3339))
	end := url.QueryEscape(now.Add(time.Hour).Format(time.RFC3339))
	_, body := c.do("GET", "/services/data/v62.0/sobjects/Contact/updated/?start="+start+"&end="+end, "")
	if !strings.Contains(body, id) || strings.Contains(body, del) || !strings.Contains(body, "latestDateCovered") {
		t.Fatalf("updated: %s", body)
	}
	_, body = c.do("GET", "/services/data/v62.0/sobjects/Contact/deleted/?start="+start+"&end="+end, "")
	if !strings.Contains(body, `"id":"`+del+`"`) || !strings.Contains(body, "earliestDateAvailable") {
		t.Fatalf("deleted: %s", body)
	}
	resp, body := c.do("GET", "/services/data/v62.0/limits", "")
	if !strings.Contains(body, `"DailyApiRequests":{"Max":5,"Remaining":2}`) || resp.Header.Get("Sforce-Limit-Info") != "api-usage=3/5" {
		t.Fatalf("limits: %s %v", body, resp.Header)
	}
	c.do("GET", "/services/data/v62.0/limits", "")
	c.do("GET", "/services/data/v62.0/limits", "")
	resp, body = c.do("GET", "/services/data/v62.0/limits", "")
	if resp.StatusCode != 403 || body != `[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]`+"\n" {
		t.Fatalf("over the limit: %d %s", resp.StatusCode, body)
	}
	f.ResetUsage()
	now = now.Add(2 * time.Hour)
	resp, body = c.do("GET", "/services/data/v62.0/limits", "")
	if resp.StatusCode != 401 || !strings.Contains(body, `"errorCode":"INVALID_SESSION_ID"`) {
		t.Fatalf("expired session: %d %s", resp.StatusCode, body)
	}
}

func TestBulkJobStatesAndLocators(t *testing.T) {
	f := New(Options{BulkPolls: 1})
	f.Start()
	defer f.Close()
	c := login(t, f)
	f.SeedContacts(5, nil)
	_, body := c.do("POST", "/services/data/v62.0/jobs/query", `{"operation":"query","query":"SELECT Id, LastName FROM Contact"}`)
	var job map[string]any
	_ = json.Unmarshal([]byte(body), &job)
	if job["state"] != "UploadComplete" {
		t.Fatalf("create: %s", body)
	}
	id := job["id"].(string)
	resp, _ := c.do("GET", "/services/data/v62.0/jobs/query/"+id+"/results", "")
	if resp.StatusCode != 400 {
		t.Fatalf("results before completion: %d", resp.StatusCode)
	}
	for _, want := range []string{"InProgress", "JobComplete"} {
		_, body = c.do("GET", "/services/data/v62.0/jobs/query/"+id, "")
		if !strings.Contains(body, `"state":"`+want+`"`) {
			t.Fatalf("want %s: %s", want, body)
		}
	}
	resp, body = c.do("GET", "/services/data/v62.0/jobs/query/"+id+"/results?maxRecords=3", "")
	loc := resp.Header.Get("Sforce-Locator")
	if strings.Count(body, "\n") != 4 || loc == "null" || resp.Header.Get("Sforce-NumberOfRecords") != "3" || !strings.HasPrefix(body, "Id,LastName\n") {
		t.Fatalf("first page: %q locator %q", body, loc)
	}
	resp, body = c.do("GET", "/services/data/v62.0/jobs/query/"+id+"/results?maxRecords=3&locator="+loc, "")
	if strings.Count(body, "\n") != 3 || resp.Header.Get("Sforce-Locator") != "null" {
		t.Fatalf("last page: %q %v", body, resp.Header)
	}
	f.FailNextBulkJobs(1)
	_, body = c.do("POST", "/services/data/v62.0/jobs/query", `{"operation":"queryAll","query":"SELECT Id FROM Contact"}`)
	_ = json.Unmarshal([]byte(body), &job)
	c.do("GET", "/services/data/v62.0/jobs/query/"+job["id"].(string), "")
	_, body = c.do("GET", "/services/data/v62.0/jobs/query/"+job["id"].(string), "")
	if !strings.Contains(body, `"state":"Failed"`) {
		t.Fatalf("failed job: %s", body)
	}
}

func TestCampaignMemberDuplicateAndSObjectRows(t *testing.T) {
	f := New(Options{})
	f.Start()
	defer f.Close()
	c := login(t, f)
	camp := f.Insert("Campaign", map[string]any{"Name": "C"})
	ct := f.Insert("Contact", map[string]any{"LastName": "X"})
	body := `{"CampaignId":"` + camp + `","ContactId":"` + ct + `"}`
	resp, _ := c.do("POST", "/services/data/v62.0/sobjects/CampaignMember", body)
	if resp.StatusCode != 201 {
		t.Fatalf("create member: %d", resp.StatusCode)
	}
	resp, out := c.do("POST", "/services/data/v62.0/sobjects/CampaignMember", body)
	if resp.StatusCode != 400 || out != `[{"message":"Already a campaign member.","errorCode":"DUPLICATE_VALUE"}]`+"\n" {
		t.Fatalf("duplicate: %d %s", resp.StatusCode, out)
	}
	resp, _ = c.do("PATCH", "/services/data/v62.0/sobjects/Contact/"+ct, `{"LastName":"Y"}`)
	if resp.StatusCode != 204 || f.Get("Contact", ct)["LastName"] != "Y" {
		t.Fatalf("patch: %d", resp.StatusCode)
	}
	resp, out = c.do("PATCH", "/services/data/v62.0/sobjects/Contact/"+ct, `{"Nope__c":"Y"}`)
	if resp.StatusCode != 400 || !strings.Contains(out, "INVALID_FIELD") {
		t.Fatalf("unknown field: %d %s", resp.StatusCode, out)
	}
}

func TestTopicAssignmentsAreCreateAndDeleteOnly(t *testing.T) {
	f := New(Options{})
	f.Start()
	defer f.Close()
	c := login(t, f)
	ct := f.Insert("Contact", map[string]any{"LastName": "X"})
	topic := f.Insert("Topic", map[string]any{"Name": "vip"})
	resp, body := c.do("POST", "/services/data/v62.0/sobjects/TopicAssignment", `{"TopicId":"`+topic+`","EntityId":"`+ct+`"}`)
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	var created struct{ ID string }
	_ = json.Unmarshal([]byte(body), &created)
	resp, body = c.do("PATCH", "/services/data/v62.0/sobjects/TopicAssignment/"+created.ID, `{"EntityId":"`+ct+`"}`)
	if resp.StatusCode != 400 || !strings.Contains(body, "INVALID_TYPE_FOR_OPERATION") {
		t.Fatalf("update: %d %s", resp.StatusCode, body)
	}
	resp, _ = c.do("DELETE", "/services/data/v62.0/sobjects/TopicAssignment/"+created.ID, "")
	if resp.StatusCode != 204 {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
}
