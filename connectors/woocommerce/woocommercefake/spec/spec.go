// Package spec checks HTTP requests against an OpenAPI description of
// WooCommerce's REST API (wp-json/wc/v3). WooCommerce publishes no
// OpenAPI file of its own; the best available one was generated from
// WooCommerce's registered route schemas and is known to be loose in
// places (batch request bodies, collection parameter bounds), so passing
// it is necessary, not sufficient: the fake adds the documented rules it
// lacks. The package is separate from woocommercefake so that the fake
// itself needs nothing but the standard library; kin-openapi was chosen
// because it validates parameters and bodies of OpenAPI 3.0 documents.
package spec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// APIPrefix is where the REST API lives under a store URL.
const APIPrefix = "/wp-json/wc/v3"

// ErrNotDescribed is returned for a request the spec does not describe.
var ErrNotDescribed = errors.New("the WooCommerce spec does not describe this request")

// Validator checks requests and responses against the spec.
type Validator struct {
	router routers.Router
}

// Load reads the OpenAPI file at path.
func Load(path string) (*Validator, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("loading woocommerce spec %s: %w", path, err)
	}
	// Route on the API path alone (Request strips the prefix), whatever
	// host the store has.
	doc.Servers = nil
	fixKnownGaps(doc)
	r, err := legacy.NewRouter(doc, openapi3.DisableExamplesValidation())
	if err != nil {
		return nil, fmt.Errorf("routing woocommerce spec %s: %w", path, err)
	}
	return &Validator{router: r}, nil
}

// Route is a request matched to a spec operation.
type Route struct {
	req    *http.Request
	route  *routers.Route
	params map[string]string
}

// Request validates req (its body is read and restored) and returns the
// matched route for a later Response check. Authentication is not checked
// (WooCommerce's OAuth 1.0a over plain HTTP is not in the spec). A request
// outside the API prefix or on a path the spec lacks returns
// ErrNotDescribed.
func (v *Validator) Request(ctx context.Context, req *http.Request) (*Route, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	rest, ok := strings.CutPrefix(req.URL.Path, APIPrefix)
	if !ok {
		return nil, ErrNotDescribed
	}
	c := req.Clone(ctx)
	u := *req.URL
	u.Path, u.RawPath = rest, ""
	// OAuth 1.0a and query-string keys travel as query parameters the
	// spec does not list.
	q := u.Query()
	for k := range q {
		if strings.HasPrefix(k, "oauth_") || k == "consumer_key" || k == "consumer_secret" {
			q.Del(k)
		}
	}
	u.RawQuery = q.Encode()
	c.URL = &u
	c.Body = io.NopCloser(bytes.NewReader(body))
	route, params, err := v.router.FindRoute(c)
	if err != nil {
		return nil, ErrNotDescribed
	}
	err = openapi3filter.ValidateRequest(ctx, &openapi3filter.RequestValidationInput{
		Request: c, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
	})
	return &Route{req: c, route: route, params: params}, err
}

// Response validates a successful answer to a matched request.
func (v *Validator) Response(ctx context.Context, r *Route, status int, h http.Header, body []byte) error {
	return openapi3filter.ValidateResponse(ctx, &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: r.req, PathParams: r.params, Route: r.route},
		Status:                 status, Header: h, Body: io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	})
}

// Key names the matched operation, like "GET /orders/{id}".
func (r *Route) Key() string { return r.route.Method + " " + r.route.Path }
