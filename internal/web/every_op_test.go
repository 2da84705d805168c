package web_test

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/segconn/connector/internal/web"
)

// TestEveryDocumentedOperation goes through every operation the served
// OpenAPI document describes: without a session each answers 401; with a
// session but no CSRF token each state-changing one answers 403; and a
// viewer gets 200 from each GET, with its path and required query
// parameters filled in, validated against the document like every answer.
func TestEveryDocumentedOperation(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a full cycle against the sandbox")
	}
	s := startSite(t, 60)
	ctx := context.Background()
	anon := s.client()
	viewer := s.client().login("vic", viewerPassword)
	admin := s.client().login("ada", adminPassword)

	r := viewer.do(http.MethodPost, "/api/v1/plans", "", "", http.Header{"X-Csrf-Token": {viewer.csrf}})
	var plan web.PlanView
	if err := json.Unmarshal([]byte(r.body), &plan); r.status != http.StatusCreated || err != nil {
		t.Fatalf("making a plan: HTTP %d, %v", r.status, err)
	}
	sizes, err := s.app.SegmentSizes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	segment := ""
	for name, n := range sizes {
		if n > 0 && (segment == "" || name < segment) {
			segment = name
		}
	}
	ps, err := s.app.Store.ListProfiles(ctx, "", 1)
	if err != nil || len(ps) == 0 {
		t.Fatalf("no profile: %v", err)
	}
	values := map[string]string{"name": segment, "id": ps[0].ID, "fingerprint": plan.Fingerprint, "definition": "rfm"}

	paths := s.doc.Paths.Map()
	if len(paths) < 20 {
		t.Fatalf("the served document describes %d paths", len(paths))
	}
	gets := 0
	for _, path := range slices.Sorted(maps.Keys(paths)) {
		item := paths[path]
		for method, op := range item.Operations() {
			u, q := "/api/v1"+path, url.Values{}
			for _, p := range slices.Concat(item.Parameters, op.Parameters) {
				v, ok := values[p.Value.Name]
				switch {
				case p.Value.In == "path" && !ok:
					t.Fatalf("%s %s: no value for the path parameter %s", method, path, p.Value.Name)
				case p.Value.In == "path":
					u = strings.ReplaceAll(u, "{"+p.Value.Name+"}", url.PathEscape(v))
				case p.Value.In == "query" && p.Value.Required:
					if !ok {
						t.Fatalf("%s %s: no value for the required parameter %s", method, path, p.Value.Name)
					}
					q.Set(p.Value.Name, v)
				}
			}
			if len(q) > 0 {
				u += "?" + q.Encode()
			}
			if r := anon.do(method, u, "{}", "application/json", nil); r.status != http.StatusUnauthorized {
				t.Errorf("%s %s without a session: HTTP %d, want 401", method, u, r.status)
			}
			if method != http.MethodGet {
				if r := admin.do(method, u, "{}", "application/json", nil); r.status != http.StatusForbidden {
					t.Errorf("%s %s without the CSRF token: HTTP %d, want 403", method, u, r.status)
				}
				continue
			}
			gets++
			if r := viewer.get(u); r.status != http.StatusOK {
				t.Errorf("GET %s as viewer: HTTP %d %s", u, r.status, r.body)
			}
		}
	}
	t.Logf("%d paths, %d GETs answered and validated", len(paths), gets)
}
