package hubspotfake_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/connectors/hubspot/hubspotfake"
)

const tok = "pat-na1-fake"

type client struct {
	t    *testing.T
	base string
}

func (c client) do(method, path string, body any) (int, http.Header, map[string]any) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, resp.Header, out
}

func start(t *testing.T, o hubspotfake.Options) (*hubspotfake.Fake, client) {
	o.Tokens = []string{tok}
	f := hubspotfake.New(o)
	base := f.Start()
	t.Cleanup(f.Close)
	return f, client{t, base}
}

func TestListPagingAndLimitClamp(t *testing.T) {
	f, c := start(t, hubspotfake.Options{})
	f.CreateMany("contacts", 150, func(i int) hubspotfake.Object {
		return hubspotfake.Object{Properties: map[string]string{"email": fmt.Sprintf("p%d@x.io", i)}}
	})
	status, h, body := c.do("GET", "/crm/v3/objects/contacts?limit=500&properties=email,phone", nil)
	if status != 200 || len(body["results"].([]any)) != 100 {
		t.Fatalf("status %d, %d results (limit clamps to 100)", status, len(body["results"].([]any)))
	}
	if h.Get("X-HubSpot-RateLimit-Max") == "" || h.Get("X-HubSpot-RateLimit-Daily-Remaining") == "" {
		t.Fatalf("rate-limit headers missing: %v", h)
	}
	props := body["results"].([]any)[0].(map[string]any)["properties"].(map[string]any)
	if _, ok := props["phone"]; ok || props["email"] != "p0@x.io" {
		t.Fatalf("properties %v", props)
	}
	next := body["paging"].(map[string]any)["next"].(map[string]any)["after"].(string)
	_, _, body = c.do("GET", "/crm/v3/objects/contacts?limit=100&after="+url.QueryEscape(next), nil)
	if len(body["results"].([]any)) != 50 || body["paging"] != nil {
		t.Fatalf("last page: %d results, paging %v (must be absent)", len(body["results"].([]any)), body["paging"])
	}
}

func TestSearchCapsAndBudget(t *testing.T) {
	f, c := start(t, hubspotfake.Options{SearchPerSecond: 2, Now: func() time.Time { return time.Unix(1_800_000_000, 0) }})
	f.CreateMany("contacts", 3, func(int) hubspotfake.Object { return hubspotfake.Object{} })
	req := map[string]any{"filterGroups": []any{}, "sorts": []string{"hs_object_id"}, "properties": []string{}, "limit": 1, "after": "0"}
	status, h, body := c.do("POST", "/crm/v3/objects/contacts/search", req)
	if status != 200 || body["total"].(float64) != 3 || h.Get("X-HubSpot-RateLimit-Max") != "" {
		t.Fatalf("search: %d %v headers %v", status, body, h)
	}
	c.do("POST", "/crm/v3/objects/contacts/search", req)
	req["after"] = "10000"
	if status, _, body = c.do("POST", "/crm/v3/objects/contacts/search", req); status != 429 {
		t.Fatalf("third search in the same second: %d %v", status, body)
	}
	if body["policyName"] != "SECONDLY" || body["errorType"] != "RATE_LIMIT" || body["message"] != "You have reached your secondly limit." {
		t.Fatalf("search 429 body %v", body)
	}
	f2, c2 := start(t, hubspotfake.Options{})
	_ = f2
	status, _, body = c2.do("POST", "/crm/v3/objects/contacts/search", req)
	if status != 400 || body["category"] != "VALIDATION_ERROR" || !strings.Contains(body["message"].(string), "10000") {
		t.Fatalf("paging past 10,000: %d %v", status, body)
	}
	req["limit"], req["after"] = 201, "0"
	if status, _, _ = c2.do("POST", "/crm/v3/objects/contacts/search", req); status != 400 {
		t.Fatalf("limit 201: %d", status)
	}
}

func TestBatchUpdateShapes(t *testing.T) {
	f, c := start(t, hubspotfake.Options{})
	ids := f.CreateMany("contacts", 2, func(int) hubspotfake.Object { return hubspotfake.Object{} })
	inputs := []map[string]any{{"id": ids[0], "properties": map[string]string{"firstname": "A"}}, {"id": "999", "properties": map[string]string{"firstname": "B"}}}
	status, _, body := c.do("POST", "/crm/v3/objects/contacts/batch/update", map[string]any{"inputs": inputs})
	if status != 207 || body["status"] != "COMPLETE" || body["numErrors"].(float64) != 1 {
		t.Fatalf("partial update: %d %v", status, body)
	}
	e := body["errors"].([]any)[0].(map[string]any)
	if e["category"] != "OBJECT_NOT_FOUND" || fmt.Sprint(e["context"].(map[string]any)["ids"]) != "[999]" {
		t.Fatalf("207 error %v", e)
	}
	inputs[1]["id"], inputs[1]["properties"] = ids[1], map[string]string{"no_such": "x"}
	status, _, body = c.do("POST", "/crm/v3/objects/contacts/batch/update", map[string]any{"inputs": inputs})
	if status != 400 || body["category"] != "VALIDATION_ERROR" || !strings.Contains(body["message"].(string), "PROPERTY_DOESNT_EXIST") {
		t.Fatalf("unknown property: %d %v", status, body)
	}
	if o, _ := f.Get("contacts", ids[0]); o.Properties["firstname"] == "A" && status == 400 {
		// the first update (207) wrote A; the 400 must not have written anything else
		if o.Properties["no_such"] != "" {
			t.Fatal("a rejected batch wrote data")
		}
	}
	var many []map[string]any
	for range 101 {
		many = append(many, map[string]any{"id": ids[0], "properties": map[string]string{}})
	}
	if status, _, _ = c.do("POST", "/crm/v3/objects/contacts/batch/update", map[string]any{"inputs": many}); status != 400 {
		t.Fatalf("101 inputs: %d", status)
	}
}

func TestPropertiesAndLists(t *testing.T) {
	f, c := start(t, hubspotfake.Options{})
	ids := f.CreateMany("contacts", 2, func(int) hubspotfake.Object { return hubspotfake.Object{} })
	prop := map[string]any{"name": "segments", "label": "Segments", "type": "enumeration", "fieldType": "checkbox", "groupName": "contactinformation",
		"options": []map[string]any{{"label": "A", "value": "a", "hidden": false}, {"label": "B", "value": "b", "hidden": false}}}
	if status, _, _ := c.do("POST", "/crm/v3/properties/contacts", prop); status != 201 {
		t.Fatalf("create property: %d", status)
	}
	if status, _, body := c.do("POST", "/crm/v3/properties/contacts", prop); status != 409 || body["category"] != "OBJECT_ALREADY_EXISTS" {
		t.Fatalf("duplicate property: %d %v", status, body)
	}
	up := map[string]any{"inputs": []map[string]any{{"id": ids[0], "properties": map[string]string{"segments": "a;b"}}}}
	if status, _, _ := c.do("POST", "/crm/v3/objects/contacts/batch/update", up); status != 200 {
		t.Fatalf("checkbox a;b: %d", status)
	}
	up["inputs"].([]map[string]any)[0]["properties"] = map[string]string{"segments": "a;z"}
	if status, _, body := c.do("POST", "/crm/v3/objects/contacts/batch/update", up); status != 400 || !strings.Contains(body["message"].(string), "INVALID_OPTION") {
		t.Fatalf("bad option: %d %v", status, body)
	}
	_, _, body := c.do("POST", "/crm/v3/lists", map[string]string{"name": "VIP", "objectTypeId": "0-1", "processingType": "MANUAL"})
	list := body["list"].(map[string]any)["listId"].(string)
	if status, _, _ := c.do("POST", "/crm/v3/lists", map[string]string{"name": "vip", "objectTypeId": "0-1", "processingType": "MANUAL"}); status != 409 {
		t.Fatalf("duplicate list name: %d", status)
	}
	_, _, body = c.do("PUT", "/crm/v3/lists/"+list+"/memberships/add", []string{ids[0], ids[0], "12345"})
	if fmt.Sprint(body["recordsIdsAdded"]) != "["+ids[0]+"]" || fmt.Sprint(body["recordIdsMissing"]) != "[12345]" {
		t.Fatalf("add response %v", body)
	}
	dyn := f.CreateList("Dyn", "DYNAMIC")
	if status, _, _ := c.do("PUT", "/crm/v3/lists/"+dyn+"/memberships/add", []string{ids[0]}); status != 400 {
		t.Fatalf("DYNAMIC list add: %d", status)
	}
}

func TestAuthAndRateLimitBodies(t *testing.T) {
	f, c := start(t, hubspotfake.Options{BurstMax: 2, BurstInterval: time.Hour})
	req, _ := http.NewRequest("GET", c.base+"/crm/v3/objects/contacts", nil)
	req.Header.Set("Authorization", "Bearer nope")
	resp, _ := http.DefaultClient.Do(req)
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != 401 || body["category"] != "INVALID_AUTHENTICATION" || body["correlationId"] == "" {
		t.Fatalf("unknown token: %d %v", resp.StatusCode, body)
	}
	c.do("GET", "/crm/v3/objects/contacts", nil)
	c.do("GET", "/crm/v3/objects/contacts", nil)
	status, h, body := c.do("GET", "/crm/v3/objects/contacts", nil)
	if status != 429 || body["policyName"] != "TEN_SECONDLY_ROLLING" || h.Get("X-HubSpot-RateLimit-Remaining") != "0" {
		t.Fatalf("burst 429: %d %v %v", status, body, h)
	}
	if f.Stats().RateLimited != 1 {
		t.Fatalf("stats %+v", f.Stats())
	}
}

func TestOAuthTokenEndpoint(t *testing.T) {
	f := hubspotfake.New(hubspotfake.Options{ClientID: "id", ClientSecret: "sec", RefreshToken: "rt", AccessTokenTTL: time.Minute})
	base := f.Start()
	defer f.Close()
	post := func(form url.Values) (int, map[string]any) {
		resp, err := http.PostForm(base+"/oauth/v1/token", form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&b)
		return resp.StatusCode, b
	}
	status, b := post(url.Values{"grant_type": {"refresh_token"}, "client_id": {"id"}, "client_secret": {"sec"}, "refresh_token": {"rt"}})
	if status != 200 || b["expires_in"].(float64) != 60 || b["access_token"] == "" {
		t.Fatalf("refresh: %d %v", status, b)
	}
	if status, b = post(url.Values{"grant_type": {"refresh_token"}, "client_id": {"id"}, "client_secret": {"sec"}, "refresh_token": {"bad"}}); status != 400 || b["status"] != "BAD_REFRESH_TOKEN" {
		t.Fatalf("bad refresh token: %d %v", status, b)
	}
	at := b["access_token"]
	_ = at
	f.ExpireAccessTokens()
	// An expired token is told apart from an unknown one.
	status, b = post(url.Values{"grant_type": {"refresh_token"}, "client_id": {"id"}, "client_secret": {"sec"}, "refresh_token": {"rt"}})
	token := b["access_token"].(string)
	f.ExpireAccessTokens()
	req, _ := http.NewRequest("GET", base+"/crm/v3/objects/contacts", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, _ := http.DefaultClient.Do(req)
	var e map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&e)
	resp.Body.Close()
	if status != 200 || resp.StatusCode != 401 || e["category"] != "EXPIRED_AUTHENTICATION" {
		t.Fatalf("expired token: %d %v", resp.StatusCode, e)
	}
}

func TestGenerateIsDeterministicAndWired(t *testing.T) {
	a := hubspotfake.New(hubspotfake.Options{Now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }})
	b := hubspotfake.New(hubspotfake.Options{Now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }})
	ia := a.Generate(hubspotfake.GenerateOptions{Contacts: 50, Seed: 9})
	ib := b.Generate(hubspotfake.GenerateOptions{Contacts: 50, Seed: 9})
	if len(ia) != 50 || a.Count("companies") != 5 || a.Count("deals") == 0 || a.Count("deals") != b.Count("deals") {
		t.Fatalf("generated %d contacts, %d companies, %d/%d deals", len(ia), a.Count("companies"), a.Count("deals"), b.Count("deals"))
	}
	oa, _ := a.Get("contacts", ia[7])
	ob, _ := b.Get("contacts", ib[7])
	if oa.Properties["email"] != ob.Properties["email"] || oa.Properties["associatedcompanyid"] == "" {
		t.Fatalf("not deterministic or not wired: %v vs %v", oa.Properties, ob.Properties)
	}
}

func TestWebhookBatchesSplitPrivacyDeletion(t *testing.T) {
	f := hubspotfake.New(hubspotfake.Options{})
	ids := f.CreateMany("contacts", 3, func(int) hubspotfake.Object { return hubspotfake.Object{} })
	f.Update("contacts", ids[0], map[string]string{"firstname": "x"})
	f.PrivacyDelete(ids[1])
	var got [][]hubspotfake.Event
	base, stop := startReceiver(t, func(evs []hubspotfake.Event) { got = append(got, evs) })
	defer stop()
	rep, err := f.DeliverPending(t.Context(), hubspotfake.Delivery{URL: base, Signing: hubspotfake.Signing{ClientSecret: "s"}})
	if err != nil || rep.Failed != 0 {
		t.Fatalf("%+v %v", rep, err)
	}
	if len(got) != 2 || got[0][len(got[0])-1].SubscriptionType != "contact.privacyDeletion" || got[1][0].SubscriptionType != "contact.deletion" {
		t.Fatalf("batches %+v", got)
	}
}

func startReceiver(t *testing.T, fn func([]hubspotfake.Event)) (string, func()) {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		var evs []hubspotfake.Event
		_ = json.NewDecoder(r.Body).Decode(&evs)
		fn(evs)
		w.WriteHeader(204)
	})
	s := &http.Server{Handler: mux}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(l)
	return "http://" + l.Addr().String() + "/hook", func() { s.Close() }
}
