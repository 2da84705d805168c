package mailchimp_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"sort"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/segconn/connector/adapter"
	"github.com/segconn/connector/domain"
	"github.com/segconn/connector/plugins/mailchimp"
	"github.com/segconn/connector/plugins/mailchimp/mailchimpfake"
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
	router, err := legacy.NewRouter(doc, openapi3.DisableExamplesValidation())
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
			u.Scheme, u.Host = "https", "server.api.mailchimp.com"
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
				ops[route.Method+" "+route.Path]++
			}
			mu.Unlock()
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
	refs := refsOf(f.ListID, members[:3])
	req := adapter.PushRequest{Targets: map[string]string{"list:a": "segment: a", "list:b": "segment: b"}}
	for _, r := range refs {
		req.Items = append(req.Items, adapter.PushItem{ID: r.ID, Ref: r, Add: []string{"list:a"}, Remove: []string{"list:b"}})
	}
	if _, err := p.Push(ctx, req); err != nil {
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
	if len(seen) != 3 {
		t.Errorf("validated operations %v; want the members list, member read and member tags calls", seen)
	}
	t.Logf("operations validated against the API description: %v", ops)
}
