package pardot_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/segconn/connector/plugins/pardot/pardotfake"
	"github.com/segconn/connector/plugins/sdk/adapter"
)

// A 10,000-prospect write-back (a segment field value and a list each)
// costs, counted by the fake: one PATCH and one membership POST per
// prospect (v5 has no batch write for either), one read of the list's
// members per 1000 (the list is new: one page), and the target set-up;
// never more than five calls at once, and every value lands.
func TestWriteBack10000(t *testing.T) {
	if testing.Short() {
		t.Skip("20,000 calls")
	}
	t.Parallel()
	const n = 10000
	f := pardotfake.Start(t.Cleanup)
	ps := f.Seed(n)
	p := configured(t, f)
	ctx := context.Background()
	ens, err := p.EnsureTargets(ctx, []adapter.Target{{Key: "segments", Kind: adapter.TargetProperty, Name: "segments"},
		{Key: "list:vip", Kind: adapter.TargetList, Name: "VIP"}})
	if err != nil {
		t.Fatal(err)
	}
	targets := map[string]string{"segments": ens[0].PlatformID, "list:vip": ens[1].PlatformID}
	items := make([]adapter.PushItem, n)
	for i, r := range refsOf(ps) {
		items[i] = adapter.PushItem{ID: r.ID, Ref: r, Properties: map[string]string{"segments": "vip"}, Add: []string{"list:vip"}}
	}
	res, err := p.Push(ctx, adapter.PushRequest{Items: items, Targets: targets})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Status != adapter.PushOK {
			t.Fatalf("item %s: %+v", r.ID, r)
		}
	}
	calls, tokens := f.Calls()
	want := map[string]int{"PATCH /prospects": n, "POST /list-memberships": n, "GET /list-memberships": 1,
		"GET /custom-fields": 1, "POST /custom-fields": 1, "GET /lists": 1, "POST /lists": 1}
	for k, v := range want {
		if calls[k] != v {
			t.Errorf("%s: %d calls, want %d", k, calls[k], v)
		}
	}
	if total(calls) != total(want) || tokens != 1 {
		t.Errorf("calls %v and %d token requests, want %v and 1", calls, tokens, want)
	}
	t.Logf("10,000-prospect write-back: %d API calls (minimum %d), %d token request, at most %d at once",
		total(calls), 2*n, tokens, f.MaxInflight())
	if f.MaxInflight() > pardotfake.MaxConcurrent {
		t.Errorf("%d calls at once, over the limit of %d", f.MaxInflight(), pardotfake.MaxConcurrent)
	}
	lid, _ := strconv.Atoi(ens[1].PlatformID)
	if got := len(f.Members(lid)); got != n {
		t.Errorf("list holds %d prospects, want %d", got, n)
	}
	for _, pr := range ps[:50] {
		if v := f.Properties(pr.ID)[ens[0].PlatformID]; v != "vip" {
			t.Errorf("prospect %d has %q", pr.ID, v)
		}
	}
}

// A reference that is an email is written with upsertLatestByEmail: the
// first push creates the prospect, the second updates the same one.
func TestUpsertByEmail(t *testing.T) {
	t.Parallel()
	f := pardotfake.Start(t.Cleanup)
	p := configured(t, f)
	ctx := context.Background()
	ens, err := p.EnsureTargets(ctx, []adapter.Target{{Key: "segments", Kind: adapter.TargetProperty, Name: "segments"}})
	if err != nil {
		t.Fatal(err)
	}
	targets := map[string]string{"segments": ens[0].PlatformID}
	for _, v := range []string{"new", "loyal"} {
		item := adapter.PushItem{ID: "x", Properties: map[string]string{"segments": v}}
		item.Ref.ID = "ada@example.com"
		res, err := p.Push(ctx, adapter.PushRequest{Items: []adapter.PushItem{item}, Targets: targets})
		if err != nil || res[0].Status != adapter.PushOK {
			t.Fatalf("upsert %q: %v %+v", v, err, res)
		}
	}
	calls, _ := f.Calls()
	if calls["POST /prospects/do/upsertLatestByEmail"] != 2 {
		t.Fatalf("calls %v, want 2 upserts", calls)
	}
	got := f.ByEmail("ada@example.com")
	if len(got) != 1 || got[0].Custom["segments"] != "loyal" {
		t.Fatalf("prospects with the email: %+v; want one holding loyal", got)
	}
}

// shape is the documented form of one v5 call, restated from the
// Account Engagement guide pages (Salesforce publishes no OpenAPI
// description of API v5, so there is none to validate against).
type shape struct {
	method, path string
	query        []string // parameters that must be present
	body         []string // the only keys a body may have (nil: no body)
	allowCustom  bool     // body may also hold <field>__c keys
}

var shapes = []shape{
	// version5overview.html: fields is required on queries and reads.
	{method: "GET", path: `^/api/v5/objects/prospects$`, query: []string{"fields"}},
	{method: "GET", path: `^/api/v5/objects/prospects/\d+$`, query: []string{"fields"}},
	// prospect-v5.html: update by id, with the writable fields.
	{method: "PATCH", path: `^/api/v5/objects/prospects/\d+$`, query: []string{"fields"}, body: []string{}, allowCustom: true},
	// prospect-v5.html: delete by id, no body.
	{method: "DELETE", path: `^/api/v5/objects/prospects/\d+$`},
	// prospect-v5.html: upsertLatestByEmail takes matchEmail, prospect and fields.
	{method: "POST", path: `^/api/v5/objects/prospects/do/upsertLatestByEmail$`, body: []string{"matchEmail", "prospect", "fields"}},
	// list-v5.html
	{method: "GET", path: `^/api/v5/objects/lists$`, query: []string{"fields"}},
	{method: "POST", path: `^/api/v5/objects/lists$`, query: []string{"fields"}, body: []string{"name", "isDynamic", "isPublic"}},
	// list-membership-v5.html
	{method: "GET", path: `^/api/v5/objects/list-memberships$`, query: []string{"fields"}},
	{method: "POST", path: `^/api/v5/objects/list-memberships$`, query: []string{"fields"}, body: []string{"listId", "prospectId", "optedOut"}},
	{method: "DELETE", path: `^/api/v5/objects/list-memberships/\d+$`},
	// custom-field-v5.html
	{method: "GET", path: `^/api/v5/objects/custom-fields$`, query: []string{"fields"}},
	{method: "POST", path: `^/api/v5/objects/custom-fields$`, query: []string{"fields"}, body: []string{"name", "fieldId", "type"}},
	// visitor-activity-v5.html
	{method: "GET", path: `^/api/v5/objects/visitor-activities$`, query: []string{"fields"}},
}

// Every request the plugin sends in a pull, a push with lists and
// properties, an upsert, a fetch and an erasure matches a documented shape: method
// and path, the required fields parameter, the body keys of the object
// page, a limit of at most 1000, and the two headers of
// authentication.html.
func TestRequestShapes(t *testing.T) {
	t.Parallel()
	f := pardotfake.Start(t.Cleanup)
	f.RecordRequests()
	ps := f.Seed(12)
	f.AddActivity(ps[0].ID, pardotfake.TypeOpen)
	p := configured(t, f)
	ctx := context.Background()
	if err := p.Pull(ctx, adapter.PullRequest{Object: "contact", PageSize: 5}, func(context.Context, adapter.Page) error { return nil }); err != nil {
		t.Fatal(err)
	}
	ens, err := p.EnsureTargets(ctx, []adapter.Target{{Key: "s", Kind: adapter.TargetProperty, Name: "segments"},
		{Key: "l", Kind: adapter.TargetList, Name: "VIP"}})
	if err != nil {
		t.Fatal(err)
	}
	targets := map[string]string{"s": ens[0].PlatformID, "l": ens[1].PlatformID}
	refs := refsOf(ps)
	items := []adapter.PushItem{{ID: "1", Ref: refs[0], Properties: map[string]string{"s": "a"}, Add: []string{"l"}},
		{ID: "2", Ref: refs[1], Add: []string{"l"}}}
	byEmail := adapter.PushItem{ID: "3", Properties: map[string]string{"s": "b"}}
	byEmail.Ref.ID = "grace@example.com"
	items = append(items, byEmail)
	for _, req := range []adapter.PushRequest{{Items: items, Targets: targets},
		{Items: []adapter.PushItem{{ID: "4", Ref: refs[0], Remove: []string{"l"}}}, Targets: targets}} {
		if _, err := p.Push(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.Fetch(ctx, adapter.FetchRequest{Object: "contact", IDs: []string{refs[2].ID}}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Erase(ctx, refs[3]); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range f.Requests() {
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") || r.Header.Get("Pardot-Business-Unit-Id") != f.BusinessUnit {
			t.Errorf("%s %s lacks the Bearer token or the business unit header", r.Method, r.Path)
		}
		if l := r.Query.Get("limit"); l != "" {
			if n, err := strconv.Atoi(l); err != nil || n < 1 || n > 1000 {
				t.Errorf("%s %s: limit %q", r.Method, r.Path, l)
			}
		}
		if r.Query.Get("nextPageToken") != "" {
			seen["paging"] = true
			continue // a nextPageUrl is the platform's own
		}
		var sh *shape
		for i := range shapes {
			if shapes[i].method == r.Method && regexp.MustCompile(shapes[i].path).MatchString(r.Path) {
				sh = &shapes[i]
			}
		}
		if sh == nil {
			t.Errorf("%s %s?%s matches no documented call", r.Method, r.Path, r.Query.Encode())
			continue
		}
		seen[sh.method+" "+sh.path] = true
		for _, q := range sh.query {
			if r.Query.Get(q) == "" {
				t.Errorf("%s %s lacks %s", r.Method, r.Path, q)
			}
		}
		if sh.body == nil {
			if len(r.Body) > 0 {
				t.Errorf("%s %s has a body", r.Method, r.Path)
			}
			continue
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s %s: Content-Type %q", r.Method, r.Path, ct)
		}
		var body map[string]any
		if err := json.Unmarshal(r.Body, &body); err != nil {
			t.Errorf("%s %s: body %s: %v", r.Method, r.Path, r.Body, err)
			continue
		}
	keys:
		for k := range body {
			if sh.allowCustom && strings.HasSuffix(k, "__c") {
				continue
			}
			for _, a := range sh.body {
				if a == k {
					continue keys
				}
			}
			t.Errorf("%s %s: body key %q is not documented", r.Method, r.Path, k)
		}
	}
	for _, sh := range shapes {
		if !seen[sh.method+" "+sh.path] {
			t.Errorf("no request exercised %s %s", sh.method, sh.path)
		}
	}
	if !seen["paging"] {
		t.Error("no request followed a nextPageUrl")
	}
}
