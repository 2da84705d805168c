package marketo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/segconn/connector/internal/testenv"
	"github.com/segconn/connector/plugins/marketo/marketofake"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// host stands for the instance's REST host in the requests checked.
const host = "123-abc-456.mktorest.com"

// loadSwagger loads one of Marketo's Swagger 2.0 descriptions as OpenAPI
// 3 with its server set to the instance host (the description's own is
// localhost:8080, which no request matches).
func loadSwagger(t *testing.T, name string) routers.Router {
	t.Helper()
	data, err := os.ReadFile(testenv.SharedFile(t, "specs/marketo/"+name))
	if err != nil {
		t.Fatal(err)
	}
	var v2 openapi2.T
	if err := json.Unmarshal(data, &v2); err != nil {
		t.Fatal(err)
	}
	doc, err := openapi2conv.ToV3(&v2)
	if err != nil {
		t.Fatal(err)
	}
	if err := openapi3.NewLoader().ResolveRefsIn(doc, nil); err != nil {
		t.Fatal(err)
	}
	doc.Servers = openapi3.Servers{{URL: "https://" + host}}
	// ExportLeadFilter lists all six filters as required, while its own
	// description, and the Bulk Lead Extract guide ("Only one filter type
	// may be specified per export job"), take exactly one: check the
	// filter by hand (checkExportFilter) instead.
	if s := doc.Components.Schemas["ExportLeadFilter"]; s != nil && s.Value != nil {
		s.Value.Required = nil
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return router
}

// Every request the plugin sends in pulls (full and incremental, with
// engagement), fetches, target creation, write-backs (with a refused
// lead and a removal), an erasure and first pulls by bulk extract (one
// stopped by a failed job) is one Marketo's official descriptions
// describe: path, method, parameters and body.
func TestRequestsMatchTheAPIDescription(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the 2 MB API descriptions: skipped in -short mode")
	}
	rts := []routers.Router{loadSwagger(t, "swagger-identity.json"), loadSwagger(t, "swagger-mapi.json"), loadSwagger(t, "swagger-asset.json")}
	var mu sync.Mutex
	ops := map[string]int{}
	var problems []string
	check := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			c := r.Clone(r.Context())
			u := *r.URL
			u.Scheme, u.Host = "https", host
			c.URL, c.Host, c.Body = &u, u.Host, io.NopCloser(bytes.NewReader(body))
			var found *routers.Route
			var params map[string]string
			for _, rt := range rts {
				if route, p, err := rt.FindRoute(c); err == nil {
					found, params = route, p
					break
				}
			}
			opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true}
			formProblem := ""
			if found != nil && found.Operation.OperationID == "createStaticListUsingPOST" {
				// kin-openapi cannot decode the form's folder, an object
				// sent as JSON text: check the form by hand instead.
				opts.ExcludeRequestBody = true
				formProblem = checkListForm(body)
			}
			if found != nil && found.Operation.OperationID == "createExportLeadsUsingPOST" {
				formProblem = checkExportFilter(body)
			}
			mu.Lock()
			if formProblem != "" {
				problems = append(problems, r.Method+" "+r.URL.Path+": "+formProblem)
			}
			if found == nil {
				problems = append(problems, r.Method+" "+r.URL.Path+": not described")
			} else if err := openapi3filter.ValidateRequest(r.Context(), &openapi3filter.RequestValidationInput{
				Request: c, PathParams: params, Route: found, Options: opts,
			}); err != nil {
				problems = append(problems, r.Method+" "+r.URL.Path+": "+err.Error())
			} else {
				ops[found.Operation.OperationID]++
			}
			mu.Unlock()
			next.ServeHTTP(w, r)
		})
	}
	f := marketofake.StartWith(t.Cleanup, check)
	ls := f.Seed(30)
	f.Engage(ls[0].ID, marketofake.OpenEmail, 2)
	f.Engage(ls[1].ID, marketofake.ClickEmail, 1)
	ctx := context.Background()
	p := configured(t, f)
	_, _, cur := pullAll(t, p, "")
	f.Seed(1)
	f.Engage(ls[2].ID, marketofake.VisitWebpage, 1)
	pullAll(t, p, cur)
	if _, err := p.Fetch(ctx, adapter.FetchRequest{Object: domain.ObjectContact, IDs: []string{strconv.Itoa(ls[0].ID), "99999999"}}); err != nil {
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
	f.RejectLead(ls[7].ID)
	req := adapter.PushRequest{Targets: targets}
	for i, r := range refsOf(ls) {
		req.Items = append(req.Items, adapter.PushItem{ID: fmt.Sprint(i), Ref: r, Properties: map[string]string{"seg": "a"},
			Add: []string{"list:a"}, Remove: []string{"list:b"}})
	}
	if _, err := p.Push(ctx, req); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Erase(ctx, refsOf(ls)[3]); err != nil {
		t.Fatal(err)
	}
	// A first pull by bulk extract, with a job cancelled when a job
	// before it fails.
	bulk := bulkConfigured(t, f)
	pullAll(t, bulk, "")
	f.FailExports(1, "Internal error")
	if err := bulk.Pull(ctx, adapter.PullRequest{Object: domain.ObjectContact}, func(context.Context, adapter.Page) error { return nil }); err == nil {
		t.Fatal("a pull over a failed export job succeeded")
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
	for _, w := range []string{"getLeadsByFilterUsingGET", "syncLeadUsingPOST", "describeUsingGET_6", "createLeadFieldUsingPOST",
		"getActivitiesPagingTokenUsingGET", "getLeadActivitiesUsingGET", "getLeadChangesUsingGET", "getStaticListByNameUsingGET",
		"createStaticListUsingPOST", "addLeadsToListUsingPOST", "removeLeadsFromListUsingDELETE", "deleteLeadsUsingPOST",
		"createExportLeadsUsingPOST", "enqueueExportLeadsUsingPOST", "getExportLeadsStatusUsingGET", "getExportLeadsFileUsingGET",
		"cancelExportLeadsUsingPOST"} {
		if ops[w] == 0 {
			t.Errorf("operation %s was never sent; validated: %v", w, seen)
		}
	}
	t.Logf("operations validated against the API descriptions: %v", ops)
}

// checkListForm checks a Create Static List form against
// CreateStaticListRequest: name and folder required, folder a Folder
// object ({id, type Folder or Program}).
func checkListForm(body []byte) string {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return "form: " + err.Error()
	}
	if form.Get("name") == "" {
		return "form: name missing"
	}
	var folder struct {
		ID   *int   `json:"id"`
		Type string `json:"type"`
	}
	if err := json.Unmarshal([]byte(form.Get("folder")), &folder); err != nil || folder.ID == nil ||
		(folder.Type != "Folder" && folder.Type != "Program") {
		return fmt.Sprintf("form: folder %q is not a Folder object", form.Get("folder"))
	}
	return ""
}

// checkExportFilter checks a Create Export Lead Job filter against the
// Bulk Lead Extract guide: exactly one filter type; a createdAt or
// updatedAt range with ISO-8601 startAt and endAt at most 31 days apart.
func checkExportFilter(body []byte) string {
	var req struct {
		Filter map[string]json.RawMessage `json:"filter"`
	}
	if err := json.Unmarshal(body, &req); err != nil || len(req.Filter) != 1 {
		return fmt.Sprintf("export filter: want exactly one filter type in %s", body)
	}
	for kind, raw := range req.Filter {
		if kind != "createdAt" && kind != "updatedAt" {
			continue
		}
		var r struct{ StartAt, EndAt string }
		if err := json.Unmarshal(raw, &r); err != nil {
			return "export filter: " + err.Error()
		}
		from, err1 := time.Parse(time.RFC3339, r.StartAt)
		to, err2 := time.Parse(time.RFC3339, r.EndAt)
		if err1 != nil || err2 != nil || to.Before(from) || to.Sub(from) > 31*24*time.Hour {
			return fmt.Sprintf("export filter: %s range %q to %q is not one of at most 31 days", kind, r.StartAt, r.EndAt)
		}
	}
	return ""
}
