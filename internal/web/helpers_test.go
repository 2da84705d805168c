package web_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"golang.org/x/crypto/bcrypt"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/internal/config"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/internal/web"
)

const (
	adminPassword  = "correct horse battery staple"
	viewerPassword = "viewer password 1234"
	apiToken       = "automation-token-abcdefghijklmnop"
	metricsSecret  = "metrics-token-should-never-show"
)

// site is a web app over a sandbox after one full cycle.
type site struct {
	t      *testing.T
	app    *app.App
	cfg    *config.Loaded
	srv    *web.Server
	base   string
	router routers.Router
	doc    *openapi3.T // the OpenAPI document the site serves
	sb     *sandbox.Sandbox
	// secrets are every configured secret value, plus the password
	// hashes and passwords, none of which may reach a response.
	secrets []string
}

func hash(t testing.TB, pw string) string {
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

// startSite starts a sandbox of customers, runs a full cycle as of 40
// days ago (so a plan made now has people entering and leaving) and
// serves the web app over it.
func startSite(t *testing.T, customers int) *site {
	t.Helper()
	now := time.Now().UTC()
	sb, a, l := apptest.StartSandbox(t, customers, now, app.Options{})
	if _, err := a.Cycle(context.Background(), now.Add(-40*24*time.Hour), nil); err != nil {
		t.Fatal(err)
	}
	return serveSite(t, sb, a, l)
}

// serveSite serves the web app over an opened App, with the test's users,
// API token and metrics token configured.
func serveSite(t *testing.T, sb *sandbox.Sandbox, a *app.App, l *config.Loaded) *site {
	t.Helper()
	s := configureSite(t, sb, a, l)
	srv, err := web.New(a, web.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	s.srv = srv
	s.listen(hs.URL)
	return s
}

// configureSite gives the configuration the test's users, API token and
// metrics token, and collects every secret no response may carry.
func configureSite(t *testing.T, sb *sandbox.Sandbox, a *app.App, l *config.Loaded) *site {
	t.Helper()
	adminHash, viewerHash := hash(t, adminPassword), hash(t, viewerPassword)
	l.Users = []config.User{{Name: "ada", Role: config.RoleAdmin, PasswordHash: adminHash}, {Name: "vic", Role: config.RoleViewer, PasswordHash: viewerHash}}
	l.APITokens = []config.APIToken{{Name: "ci", Role: config.RoleViewer, Token: apiToken}}
	l.Server.MetricsToken = metricsSecret
	s := &site{t: t, app: a, cfg: l, sb: sb}
	// The sandbox lists every credential as secret, account ids too,
	// which the store rightly shows; a loaded configuration treats the
	// keys IsSecretKey names as secret, so the test does the same.
	for _, e := range sb.Endpoints() {
		for k, v := range e.Credentials {
			if config.IsSecretKey(k) {
				s.secrets = append(s.secrets, v)
			}
		}
	}
	s.secrets = append(s.secrets, adminHash, viewerHash, adminPassword, viewerPassword, apiToken, metricsSecret)
	return s
}

// listen points the site at the web app served at base, and reads the
// OpenAPI document it serves, which every API answer is validated against.
func (s *site) listen(base string) {
	s.t.Helper()
	s.base = base
	resp, err := http.Get(base + "/api/v1/openapi.json")
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		s.t.Fatalf("reading the served OpenAPI document: HTTP %d, %v", resp.StatusCode, err)
	}
	doc, err := openapi3.NewLoader().LoadFromData(b)
	if err != nil {
		s.t.Fatalf("loading the served OpenAPI document: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		s.t.Fatalf("the served OpenAPI document is invalid: %v", err)
	}
	s.doc = doc
	if s.router, err = legacy.NewRouter(doc); err != nil {
		s.t.Fatal(err)
	}
}

// client is a browser-like client: a cookie jar, and the CSRF token of
// the last page it read.
type client struct {
	s    *site
	http *http.Client
	csrf string
}

var csrfInput = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func (s *site) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{s: s, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// login signs in and reads the CSRF token from the overview.
func (c *client) login(name, password string) *client {
	c.s.t.Helper()
	resp := c.do(http.MethodPost, "/login", url.Values{"username": {name}, "password": {password}}.Encode(), "application/x-www-form-urlencoded", nil)
	if resp.status != http.StatusSeeOther {
		c.s.t.Fatalf("login as %s: HTTP %d %s", name, resp.status, resp.body)
	}
	page := c.get("/")
	m := csrfInput.FindStringSubmatch(page.body)
	if m == nil {
		c.s.t.Fatalf("no CSRF token on the overview: %s", page.body)
	}
	c.csrf = m[1]
	return c
}

type response struct {
	status int
	header http.Header
	body   string
}

func (c *client) get(path string) response { return c.do(http.MethodGet, path, "", "", nil) }

// do sends a request, validates an /api/v1 answer against the OpenAPI
// document, and checks no response carries a secret.
func (c *client) do(method, path, body, ctype string, header http.Header) response {
	t := c.s.t
	t.Helper()
	req, err := http.NewRequest(method, c.s.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	for _, sec := range c.s.secrets {
		if len(sec) >= 6 && bytes.Contains(b, []byte(sec)) {
			t.Errorf("%s %s: the response contains a configured secret", method, path)
		}
	}
	if strings.HasPrefix(path, "/api/v1/") && path != "/api/v1/openapi.json" {
		c.s.validate(req, resp, b)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// validate checks a response against the OpenAPI document the site
// serves.
func (s *site) validate(req *http.Request, resp *http.Response, body []byte) {
	s.t.Helper()
	vreq := req.Clone(context.Background())
	vreq.URL.Host, vreq.URL.Scheme = "", ""
	route, params, err := s.router.FindRoute(vreq)
	if err != nil {
		s.t.Errorf("%s %s is not in the OpenAPI document: %v", req.Method, req.URL.Path, err)
		return
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route},
		Status:                 resp.StatusCode, Header: resp.Header, Body: io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		s.t.Errorf("%s %s answered %d against the OpenAPI document: %v", req.Method, req.URL.Path, resp.StatusCode, err)
	}
}
