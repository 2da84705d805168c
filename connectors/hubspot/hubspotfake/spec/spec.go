// Package spec checks HTTP requests and answers against HubSpot's official
// OpenAPI files (HubSpot's public API spec collection: contacts, companies,
// deals, line items, orders, lists, properties, v4 associations, OAuth,
// webhooks). It is separate from hubspotfake so that the
// fake itself needs nothing but the standard library; kin-openapi was
// chosen because it validates parameters and bodies of OpenAPI 3.0
// documents, which is what HubSpot publishes.
package spec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"sort"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// ErrNotDescribed is returned for a request no loaded spec describes.
var ErrNotDescribed = errors.New("no HubSpot spec describes this path")

// Validator checks requests and responses.
type Validator struct {
	routers []routers.Router
	files   []string
}

// Load reads every OpenAPI file (*.json) in dir, so a file added to the
// folder is checked without a code change. A folder with no spec file is an
// error, so a wrong path cannot pass as "nothing to check".
func Load(dir string) (*Validator, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("loading hubspot specs from %s: %w", dir, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("loading hubspot specs: no *.json file in %s", dir)
	}
	sort.Strings(files)
	v := &Validator{}
	for _, path := range files {
		doc, err := openapi3.NewLoader().LoadFromFile(path)
		if err != nil {
			return nil, fmt.Errorf("loading hubspot spec %s: %w", filepath.Base(path), err)
		}
		r, err := legacy.NewRouter(doc, openapi3.DisableExamplesValidation())
		if err != nil {
			return nil, fmt.Errorf("routing hubspot spec %s: %w", filepath.Base(path), err)
		}
		v.routers = append(v.routers, r)
		v.files = append(v.files, filepath.Base(path))
	}
	return v, nil
}

// Files names the spec files the validator loaded, sorted.
func (v *Validator) Files() []string { return slices.Clone(v.files) }

// Route is a request matched to a spec operation.
type Route struct {
	req    *http.Request
	route  *routers.Route
	params map[string]string
}

// Request validates req (its body is read and restored) and returns the
// matched route for a later Response check. A request on a path no spec
// describes returns ErrNotDescribed.
func (v *Validator) Request(ctx context.Context, req *http.Request) (*Route, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	// The specs name the production host; check a copy addressed to it.
	c := req.Clone(ctx)
	u := *req.URL
	u.Scheme, u.Host = "https", "api.hubapi.com"
	c.URL, c.Host = &u, u.Host
	c.Body = io.NopCloser(bytes.NewReader(body))
	for _, r := range v.routers {
		route, params, err := r.FindRoute(c)
		if err != nil {
			continue
		}
		err = openapi3filter.ValidateRequest(ctx, &openapi3filter.RequestValidationInput{
			Request: c, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
		})
		return &Route{req: c, route: route, params: params}, err
	}
	return nil, ErrNotDescribed
}

// Response validates a successful answer to a matched request.
func (v *Validator) Response(ctx context.Context, r *Route, status int, h http.Header, body []byte) error {
	return openapi3filter.ValidateResponse(ctx, &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: r.req, PathParams: r.params, Route: r.route},
		Status:                 status, Header: h, Body: io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	})
}
