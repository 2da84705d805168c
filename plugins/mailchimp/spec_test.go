package mailchimp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/segconn/connector/plugins/mailchimp"
	"github.com/segconn/connector/plugins/mailchimp/mailchimpfake"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// specPath is the OpenAPI 3.0 rendering of Mailchimp's official
// marketing.json (v3.0.55) made by openapi-generator: a labelled,
// unofficial conversion, kept in the shared specs beside this repository.
const specPath = "../../../shared/specs/mailchimp/unofficial-derived/openapi.yaml"

// Every request the plugin sends in a pull, a fetch and a write-back is
// one the Marketing API describes, with valid parameters and body.
func TestRequestsMatchTheAPIDescription(t *testing.T) {
	if _, err := os.Stat(specPath); err != nil {
		t.Skipf("no Mailchimp API description at %s: %v", specPath, err)
	}
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = true
	doc, err := loader.LoadFromFile(specPath)
	if err != nil {
		t.Fatal(err)
	}
	looseMergeFields(doc)
	router, err := legacy.NewRouter(doc, openapi3.DisableExamplesValidation())
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	ops := map[string]int{}
	var problems []string
	// validate checks one request (an HTTP one, or an operation of a
	// batch, which the API runs as one) against the description.
	var validate func(ctx context.Context, method, path, rawQuery string, body []byte)
	validate = func(ctx context.Context, method, path, rawQuery string, body []byte) {
		u := &url.URL{Scheme: "https", Host: "server.api.mailchimp.com", Path: path, RawQuery: rawQuery}
		c, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
		if err != nil {
			t.Error(err)
			return
		}
		if len(body) > 0 {
			c.Header.Set("Content-Type", "application/json")
		}
		route, params, err := router.FindRoute(c)
		if err != nil {
			mu.Lock()
			problems = append(problems, method+" "+path+": not described: "+err.Error())
			mu.Unlock()
			return
		}
		if err := openapi3filter.ValidateRequest(ctx, &openapi3filter.RequestValidationInput{
			Request: c, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
		}); err != nil {
			mu.Lock()
			problems = append(problems, method+" "+u.String()+": "+err.Error())
			mu.Unlock()
			return
		}
		mu.Lock()
		ops[route.Method+" "+route.Path]++
		mu.Unlock()
		if route.Method == http.MethodPost && route.Path == "/batches" {
			var b struct {
				Operations []struct{ Method, Path, Body string } `json:"operations"`
			}
			_ = json.Unmarshal(body, &b)
			for _, op := range b.Operations {
				validate(ctx, op.Method, "/3.0"+op.Path, "", []byte(op.Body))
			}
		}
	}
	check := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/batch-results/") {
				// A batch's results archive: a download outside the API.
				next.ServeHTTP(w, r)
				return
			}
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			validate(r.Context(), r.Method, r.URL.Path, r.URL.RawQuery, body)
			next.ServeHTTP(w, r)
		})
	}
	f := mailchimpfake.StartWith(t.Cleanup, check)
	members := f.Seed(25)
	ctx := context.Background()
	p := mailchimp.New()
	if err := p.Configure(ctx, config(f)); err != nil {
		t.Fatal(err)
	}
	var last string
	if err := p.Pull(ctx, adapter.PullRequest{Object: domain.ObjectContact, PageSize: 10}, func(_ context.Context, pg adapter.Page) error {
		last = pg.Cursor
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	f.Seed(1)
	if err := p.Pull(ctx, adapter.PullRequest{Object: domain.ObjectContact, Cursor: last}, func(context.Context, adapter.Page) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Fetch(ctx, adapter.FetchRequest{Object: domain.ObjectContact, IDs: []string{members[0].ID, mailchimpfake.SubscriberHash("gone@example.com")}}); err != nil {
		t.Fatal(err)
	}
	es, err := p.EnsureTargets(ctx, []adapter.Target{{Key: "list:a", Kind: adapter.TargetList, Name: "segment: a"},
		{Key: "list:b", Kind: adapter.TargetList, Name: "segment: b"}, {Key: "seg", Kind: adapter.TargetProperty, Name: "Segment"}})
	if err != nil {
		t.Fatal(err)
	}
	targets := map[string]string{}
	for _, e := range es {
		targets[e.Key] = e.PlatformID
	}
	for _, n := range []int{3, 25} { // direct calls, then a batch operation
		req := adapter.PushRequest{Targets: targets}
		for _, r := range refsOf(f.ListID, members[:n]) {
			req.Items = append(req.Items, adapter.PushItem{ID: r.ID, Ref: r, Add: []string{"list:a"}, Remove: []string{"list:b"},
				Properties: map[string]string{"seg": "a"}})
		}
		cfg := config(f)
		cfg["batch_threshold"] = 10
		p2 := mailchimp.New()
		if err := p2.Configure(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		if _, err := p2.Push(ctx, req); err != nil {
			t.Fatal(err)
		}
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
	want := []string{"GET /lists/{list_id}/members", "GET /lists/{list_id}/members/{subscriber_hash}",
		"POST /lists/{list_id}/members/{subscriber_hash}/tags", "PATCH /lists/{list_id}/members/{subscriber_hash}",
		"GET /lists/{list_id}/merge-fields", "POST /lists/{list_id}/merge-fields", "POST /batches", "GET /batches/{batch_id}"}
	sort.Strings(want)
	if !slices.Equal(seen, want) {
		t.Errorf("validated operations %v; want %v", seen, want)
	}
	t.Logf("operations validated against the API description: %v", ops)
}

// looseMergeFields undoes a defect of the conversion: Mailchimp's
// official description leaves the values of merge_fields untyped (a text
// field's value is a string, as the Merge Fields guide shows with
// FNAME), but the openapi-generator rendering types them as objects.
func looseMergeFields(doc *openapi3.T) {
	for _, ref := range doc.Components.Schemas {
		if ref.Value == nil {
			continue
		}
		if mf := ref.Value.Properties["merge_fields"]; mf != nil && mf.Value != nil && mf.Value.AdditionalProperties.Schema != nil {
			mf.Value.AdditionalProperties.Schema = openapi3.NewSchemaRef("", openapi3.NewSchema())
		}
	}
}
