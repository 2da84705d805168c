package klaviyo_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/segconn/connector/internal/testenv"
	"github.com/segconn/connector/plugins/klaviyo"
	"github.com/segconn/connector/plugins/klaviyo/klaviyofake"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// Every request the plugin sends in pulls (full and incremental, with
// engagement), fetches, target creation and write-backs small and large
// (with a refused profile, so the import errors and the resent list call
// are exercised too) is one Klaviyo's official API description (revision
// 2026-07-15) describes: path, method, revision header, parameters and
// JSON:API body.
func TestRequestsMatchTheAPIDescription(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the 3 MB API description: skipped in -short mode")
	}
	specPath := testenv.SharedFile(t, "specs/klaviyo/stable.json")
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = true
	doc, err := loader.LoadFromFile(specPath)
	if err != nil {
		t.Fatal(err)
	}
	router, err := legacy.NewRouter(doc, openapi3.DisableExamplesValidation(), openapi3.DisableSchemaDefaultsValidation())
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	ops := map[string]int{}
	var problems []string
	check := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			c := r.Clone(r.Context())
			u := *r.URL
			u.Scheme, u.Host = "https", "a.klaviyo.com"
			c.URL, c.Host, c.Body = &u, u.Host, io.NopCloser(bytes.NewReader(body))
			route, params, err := router.FindRoute(c)
			mu.Lock()
			if err != nil {
				problems = append(problems, r.Method+" "+r.URL.Path+": not described: "+err.Error())
			} else if err := openapi3filter.ValidateRequest(r.Context(), &openapi3filter.RequestValidationInput{
				Request: c, PathParams: params, Route: route,
				Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
			}); err != nil {
				problems = append(problems, r.Method+" "+r.URL.String()+": "+err.Error())
			} else {
				ops[route.Operation.OperationID]++
			}
			mu.Unlock()
			next.ServeHTTP(w, r)
		})
	}
	f := klaviyofake.StartWith(t.Cleanup, check)
	ps := f.Seed(30)
	f.Engage(ps[0].ID, "Opened Email", 2)
	f.Engage(ps[1].ID, "Clicked Email", 1)
	ctx := context.Background()
	p := configured(t, f)
	_, cur := pullAll(t, p, "")
	f.Seed(1)
	f.Engage(ps[2].ID, "Opened Email", 1)
	pullAll(t, p, cur)
	if _, err := p.Fetch(ctx, adapter.FetchRequest{Object: domain.ObjectContact, IDs: []string{ps[0].ID, "01JZZZZZZZZZZZZZZZZZZZZZZZ"}}); err != nil {
		t.Fatal(err)
	}
	es, err := p.EnsureTargets(ctx, []adapter.Target{{Key: "list:a", Kind: adapter.TargetList, Name: "segment: a"},
		{Key: "list:b", Kind: adapter.TargetList, Name: "segment: b"}, {Key: "seg", Kind: adapter.TargetProperty, Name: "segment"}})
	if err != nil {
		t.Fatal(err)
	}
	targets := map[string]string{}
	for _, e := range es {
		targets[e.Key] = e.PlatformID
	}
	f.RejectProfile(ps[7].ID)
	f.RejectProfile(ps[8].ID)        // its properties fail in the bulk job: import errors are read
	for _, n := range []int{3, 30} { // profile-import, then a bulk import job
		req := adapter.PushRequest{Targets: targets}
		for i, r := range refsOf(ps[:n]) {
			req.Items = append(req.Items, adapter.PushItem{ID: fmt.Sprint(i), Ref: r, Properties: map[string]string{"seg": "a"},
				Add: []string{"list:a"}, Remove: []string{"list:b"}})
		}
		if n == 30 {
			// A list write with the refused profile but no property, so
			// the list call itself is refused in part and sent again.
			req.Items[7].Properties = nil
		}
		p2 := klaviyo.New()
		cfg := config(f)
		cfg["bulk_threshold"] = 10
		if err := p2.Configure(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		if _, err := p2.Push(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.Erase(ctx, refsOf(ps[29:30])[0]); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, pr := range problems {
		t.Error(pr)
	}
	var seen []string
	for op := range ops {
		seen = append(seen, op)
	}
	sort.Strings(seen)
	want := []string{"add_profiles_to_list", "bulk_import_profiles", "create_list", "create_or_update_profile",
		"get_bulk_import_profiles_job", "get_errors_for_bulk_import_profiles_job", "get_events", "get_lists", "get_metrics", "get_profile", "get_profiles", "remove_profiles_from_list", "request_profile_deletion"}
	for _, w := range want {
		if ops[w] == 0 {
			t.Errorf("operation %s was never sent; validated: %v", w, seen)
		}
	}
	t.Logf("operations validated against the API description: %v", ops)
}
