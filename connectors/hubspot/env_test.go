package hubspot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/segconn/connector/connectors/hubspot/hubspotfake"
	"github.com/segconn/connector/connectors/hubspot/hubspotfake/spec"
	"github.com/segconn/connector/internal/testenv"
	"github.com/segconn/connector/plugins/sdk/adapter"
)

const testToken = "pat-na1-11111111-2222-3333-4444-555555555555"

// specValidator checks every request the connector sends, and every
// successful answer of the fake, against HubSpot's official OpenAPI files
// (every file of the shared HubSpot spec folder).
type specValidator struct {
	spec *spec.Validator
	base http.RoundTripper

	mu         sync.Mutex
	violations []string
	uncovered  map[string]int
	validated  int
}

// specsOnce loads the spec files once per test binary (they are read-only
// once loaded); the directory comes from the first caller.
var specsOnce struct {
	sync.Once
	v   *spec.Validator
	err error
}

func loadSpecs(t testing.TB) *spec.Validator {
	t.Helper()
	dir := filepath.Dir(testenv.SharedFile(t, "specs/hubspot/contacts.json"))
	specsOnce.Do(func() { specsOnce.v, specsOnce.err = spec.Load(dir) })
	if specsOnce.err != nil {
		t.Fatal(specsOnce.err)
	}
	return specsOnce.v
}

func (v *specValidator) RoundTrip(req *http.Request) (*http.Response, error) {
	key := req.Method + " " + req.URL.Path
	route, err := v.spec.Request(req.Context(), req)
	v.mu.Lock()
	switch {
	case errors.Is(err, spec.ErrNotDescribed):
		v.uncovered[key]++
	case err != nil:
		v.violations = append(v.violations, fmt.Sprintf("%s: %v", key, err))
	default:
		v.validated++
	}
	v.mu.Unlock()
	resp, rerr := v.base.RoundTrip(req)
	if route == nil || rerr != nil || documentedOutsideSpec(req, resp.StatusCode) {
		return resp, rerr
	}
	// The fake's answers, errors included, must match the spec's response
	// schemas too.
	rb, berr := io.ReadAll(resp.Body)
	resp.Body.Close()
	if berr != nil {
		// A broken body (an injected fault) goes on broken, unchecked.
		resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(rb), errReader{berr}))
		return resp, nil
	}
	resp.Body = io.NopCloser(bytes.NewReader(rb))
	if verr := v.spec.Response(req.Context(), route, resp.StatusCode, resp.Header, rb); verr != nil {
		v.mu.Lock()
		v.violations = append(v.violations, fmt.Sprintf("response to %s %d: %v (body %s)", key, resp.StatusCode, verr, snippetOf(rb)))
		v.mu.Unlock()
	}
	return resp, nil
}

// documentedOutsideSpec reports answers whose bodies the OpenAPI files'
// generic Error schema does not describe: 429s (the rate-limit body with
// errorType and policyName, documented in HubSpot's API usage guide), OAuth
// token errors (status BAD_REFRESH_TOKEN and friends, from its OAuth guide)
// and 5xx answers, which gateways in front of the API may give. The fake's
// own tests check those bodies.
func documentedOutsideSpec(req *http.Request, status int) bool {
	return status == http.StatusTooManyRequests || status >= 500 ||
		(status >= 400 && strings.HasPrefix(req.URL.Path, "/oauth/"))
}

func snippetOf(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

// report fails the test for every violation and for every request on a
// path no spec file describes: all of HubSpot's endpoints the connector
// uses are in the loaded files.
func (v *specValidator) report(t testing.TB) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, s := range v.violations {
		t.Errorf("request violates HubSpot's OpenAPI spec: %s", s)
	}
	t.Logf("%d requests validated against HubSpot's spec", v.validated)
	for k, n := range v.uncovered {
		t.Errorf("request to a path no HubSpot spec describes: %s (%d times)", k, n)
	}
}

type env struct {
	t    testing.TB
	fake *hubspotfake.Fake
	url  string
	conn *Connector
	val  *specValidator
	logs *bytes.Buffer
}

// newEnv starts a fake and a connector configured against it. cfg entries
// override the defaults (fast limits, no search lag). When fo.Now is set
// the connector reads the same clock.
func newEnv(t testing.TB, fo hubspotfake.Options, cfg adapter.Config) *env {
	t.Helper()
	if fo.Tokens == nil && fo.ClientID == "" {
		fo.Tokens = []string{testToken}
	}
	if fo.BurstMax == 0 {
		fo.BurstMax, fo.BurstInterval = 2000, 1e9
	}
	if fo.SearchPerSecond == 0 {
		fo.SearchPerSecond = 400
	}
	if fo.ValidateRequest == nil {
		// The fake itself rejects what the spec rejects, whoever sends it.
		sv := loadSpecs(t)
		fo.ValidateRequest = func(r *http.Request) error {
			if _, err := sv.Request(r.Context(), r); err != nil && !errors.Is(err, spec.ErrNotDescribed) {
				return err
			}
			return nil
		}
	}
	fake := hubspotfake.New(fo)
	base := fake.Start()
	t.Cleanup(fake.Close)
	logs := &bytes.Buffer{}
	lw := &lockedWriter{w: logs}
	c := New(slog.New(slog.NewTextHandler(lw, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if fo.Now != nil {
		WithClock(fo.Now)(c) // one clock for the fake and the connector
	}
	val := &specValidator{spec: loadSpecs(t), base: http.DefaultTransport, uncovered: map[string]int{}}
	WithTransport(val)(c)
	full := adapter.Config{
		"base_url":   base,
		"search_lag": "0s",
		"rate_limit": map[string]any{"requests": fo.BurstMax, "interval": fo.BurstInterval.String(), "search_per_second": fo.SearchPerSecond},
		"retry":      map[string]any{"max": 8, "wait_min": "1ms", "wait_max": "20ms"},
	}
	if fo.ClientID == "" {
		full["token"] = testToken
	}
	for k, v := range cfg {
		full[k] = v
	}
	if err := c.Configure(context.Background(), full); err != nil {
		t.Fatalf("configuring: %v", err)
	}
	t.Cleanup(func() { val.report(t) })
	return &env{t: t, fake: fake, url: base, conn: c, val: val, logs: logs}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// pullAll runs a pull to the end and returns the pages and final cursor.
func (e *env) pullAll(object, cur string, full bool) ([]adapter.Page, string) {
	e.t.Helper()
	var pages []adapter.Page
	err := e.conn.Pull(context.Background(), adapter.PullRequest{Object: object, Cursor: cur, Full: full}, func(_ context.Context, p adapter.Page) error {
		pages = append(pages, p)
		cur = p.Cursor
		return nil
	})
	if err != nil {
		e.t.Fatalf("pulling %s: %v", object, err)
	}
	return pages, cur
}

func changesOf(pages []adapter.Page) []adapter.Change {
	var out []adapter.Change
	for _, p := range pages {
		out = append(out, p.Changes...)
	}
	return out
}
