// Package spec checks HTTP requests against HubSpot's official OpenAPI
// files (the HubSpot/HubSpot-public-api-spec-collection repository). It
// is separate from hubspotfake so that the
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
	"os"
	"path/filepath"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// Files are the spec files Load reads from a directory.
func Files() []string {
	return []string{"contacts.json", "deals.json", "lineItems.json", "orders.json", "lists.json", "properties.json", "oauth.json"}
}

// ErrNotDescribed is returned for a request no loaded spec describes.
var ErrNotDescribed = errors.New("no HubSpot spec describes this path")

// Validator checks requests and responses.
type Validator struct {
	routers []routers.Router
}

// Load reads the spec files from dir.
func Load(dir string) (*Validator, error) {
	v := &Validator{}
	for _, f := range Files() {
		path := filepath.Join(dir, f)
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("loading hubspot spec: %w", err)
		}
		doc, err := openapi3.NewLoader().LoadFromFile(path)
		if err != nil {
			return nil, fmt.Errorf("loading hubspot spec %s: %w", f, err)
		}
		r, err := legacy.NewRouter(doc, openapi3.DisableExamplesValidation())
		if err != nil {
			return nil, fmt.Errorf("routing hubspot spec %s: %w", f, err)
		}
		v.routers = append(v.routers, r)
	}
	return v, nil
}

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
