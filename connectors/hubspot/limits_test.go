package hubspot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/connectors/hubspot/hubspotfake"
	"github.com/segconn/connector/internal/testenv"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/adapter/fakekit"
	"github.com/segconn/connector/plugins/sdk/domain"
)

func TestBudgetNeverExceeded(t *testing.T) {
	t.Parallel()
	// A 60-per-second rolling window (HubSpot's is per 10 s; shortened to
	// keep the test quick), configured identically on both sides.
	e := newEnv(t, hubspotfake.Options{BurstMax: 60, BurstInterval: time.Second, SearchPerSecond: 5}, adapter.Config{"firmographics": false})
	seedContacts(e.fake, 6000, nil) // 60 list pages
	_, cur := e.pullAll(domain.ObjectContact, "", false)
	// And incremental searches against the 5/s search budget.
	for range 8 {
		e.pullAll(domain.ObjectContact, cur, false)
	}
	s := e.fake.Stats()
	if s.RateLimited != 0 || s.SearchLimited != 0 {
		t.Fatalf("the fake answered 429 (burst %d, search %d): budget overspent", s.RateLimited, s.SearchLimited)
	}
	if s.MaxInWindow > 60 || s.MaxSearchInSec > 5 {
		t.Fatalf("max %d in a window (limit 60), %d searches in a second (limit 5)", s.MaxInWindow, s.MaxSearchInSec)
	}
	t.Logf("max in window %d/60, max searches per second %d/5", s.MaxInWindow, s.MaxSearchInSec)
}

func TestDailyLimitStopsWithoutHammering(t *testing.T) {
	t.Parallel()
	e := newEnv(t, hubspotfake.Options{DailyMax: 1000}, nil)
	seedContacts(e.fake, 10, nil)
	e.fake.SetDailyUsed(1000)
	err := e.conn.Pull(context.Background(), adapter.PullRequest{Object: domain.ObjectContact}, func(context.Context, adapter.Page) error { return nil })
	if !errors.Is(err, adapter.ErrRateLimited) || adapter.RetryAfterOf(err) < time.Minute {
		t.Fatalf("daily limit: %v (retry after %v)", err, adapter.RetryAfterOf(err))
	}
	before := e.fake.Stats().Requests
	err = e.conn.Pull(context.Background(), adapter.PullRequest{Object: domain.ObjectContact}, func(context.Context, adapter.Page) error { return nil })
	if !errors.Is(err, adapter.ErrRateLimited) || e.fake.Stats().Requests != before {
		t.Fatalf("after the daily 429 the connector still called HubSpot: %v", err)
	}
}

func TestInjectedFaultsFinalStateExact(t *testing.T) {
	t.Parallel()
	clk := &testenv.Clock{}
	e := newEnv(t, hubspotfake.Options{Now: clk.Now}, adapter.Config{"retry": map[string]any{"max": 10, "wait_min": "1ms", "wait_max": "5ms"}})
	targets := ensure(t, e, segmentTargets)
	co := e.fake.Create("companies", hubspotfake.Object{Properties: map[string]string{"name": "Acme", "numberofemployees": "7"}})
	ids := seedContacts(e.fake, 1500, nil)
	for _, id := range ids[:50] {
		e.fake.Update("contacts", id, map[string]string{"associatedcompanyid": co})
	}
	// A fifth of requests answered 429 and a twentieth 502, 503 or 504.
	e.fake.SetRate(0.25, 7, append(slices.Repeat([]fakekit.Fault{{Status: 429}}, 12),
		fakekit.Fault{Status: 502}, fakekit.Fault{Status: 503}, fakekit.Fault{Status: 504})...)
	clk.Advance(3 * time.Millisecond) // the sweep starts on a later millisecond than the seeding
	pages, cur := e.pullAll(domain.ObjectContact, "", false)
	seen := map[string]bool{}
	for _, ch := range changesOf(pages) {
		seen[ch.Ref.ID] = true
		if ch.Contact != nil && ch.Contact.CompanyRef.ID == co && (ch.Contact.Company == nil || ch.Contact.Company.Employees != 7) {
			t.Fatalf("firmographics lost under faults: %+v", ch.Contact)
		}
	}
	if len(seen) != 1500 {
		t.Fatalf("pulled %d of 1500 contacts under faults", len(seen))
	}
	clk.Advance(2 * time.Millisecond)
	for _, id := range ids[100:140] {
		e.fake.Update("contacts", id, map[string]string{"lastname": "Changed"})
	}
	pages, _ = e.pullAll(domain.ObjectContact, cur, false)
	if n := len(changesOf(pages)); n != 40 {
		t.Fatalf("incremental under faults: %d changes, want 40", n)
	}
	var items []adapter.PushItem
	for i, id := range ids {
		items = append(items, adapter.PushItem{ID: id, Ref: domain.ExternalRef{ID: id}, Properties: map[string]string{"rfm_segment": []string{"champions", "loyal", "at_risk"}[i%3]},
			Add: []string{"list:rfm:champions"}})
	}
	res, err := e.conn.Push(context.Background(), adapter.PushRequest{Items: items, Targets: targets})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Status != adapter.PushOK {
			t.Fatalf("push under faults: %+v", r)
		}
	}
	for i, id := range ids {
		o, _ := e.fake.Get("contacts", id)
		if o.Properties["rfm_segment"] != []string{"champions", "loyal", "at_risk"}[i%3] {
			t.Fatalf("contact %s has rfm_segment %q", id, o.Properties["rfm_segment"])
		}
	}
	if n := len(e.fake.ListMembers(targets["list:rfm:champions"])); n != 1500 {
		t.Fatalf("list has %d members, want 1500", n)
	}
	s := e.fake.Stats()
	if s.Injected429 == 0 || s.Injected5xx == 0 {
		t.Fatalf("no faults injected: %+v", s)
	}
	t.Logf("survived %d injected 429s and %d 5xx", s.Injected429, s.Injected5xx)
}

func TestOAuthRefreshBeforeExpiryAndOn401(t *testing.T) {
	t.Parallel()
	const clientSecret, refresh = "client-secret-0123456789", "refresh-token-0123456789"
	fo := hubspotfake.Options{ClientID: "app-1", ClientSecret: clientSecret, RefreshToken: refresh, RotateRefreshTokens: true}
	e := newEnv(t, fo, adapter.Config{"oauth": map[string]any{"client_id": "app-1", "client_secret": clientSecret, "refresh_token": refresh}})
	seedContacts(e.fake, 5, nil)
	e.pullAll(domain.ObjectContact, "", false)
	if n := e.conn.Stats().TokenRefreshes; n != 1 {
		t.Fatalf("refreshes after first pull: %d", n)
	}
	// The access token expires server-side: one 401 EXPIRED_AUTHENTICATION, a refresh, success.
	e.fake.ExpireAccessTokens()
	unauth := e.fake.Stats().Unauthorized
	e.pullAll(domain.ObjectContact, "", false)
	if n := e.conn.Stats().TokenRefreshes; n != 2 || e.fake.Stats().Unauthorized != unauth+1 {
		t.Fatalf("refreshes %d, 401s %d", n, e.fake.Stats().Unauthorized-unauth)
	}
	// Close to expiry by our clock: refreshed before any 401.
	WithClock(func() time.Time { return time.Now().Add(1790 * time.Second) })(e.conn)
	e.conn.auth.now = e.conn.now
	unauth = e.fake.Stats().Unauthorized
	e.pullAll(domain.ObjectContact, "", false)
	if n := e.conn.Stats().TokenRefreshes; n != 3 || e.fake.Stats().Unauthorized != unauth {
		t.Fatalf("proactive refresh: refreshes %d, 401s %d", n, e.fake.Stats().Unauthorized-unauth)
	}
	// A revoked refresh token is an auth error that names no secret.
	e.fake.RevokeRefreshToken(e.fake.CurrentRefreshToken())
	e.fake.ExpireAccessTokens()
	err := e.conn.Pull(context.Background(), adapter.PullRequest{Object: domain.ObjectContact}, func(context.Context, adapter.Page) error { return nil })
	if !errors.Is(err, adapter.ErrAuth) || !strings.Contains(err.Error(), "BAD_REFRESH_TOKEN") {
		t.Fatalf("revoked refresh token: %v", err)
	}
	for _, s := range []string{clientSecret, refresh} {
		if strings.Contains(err.Error(), s) || strings.Contains(e.logs.String(), s) {
			t.Fatalf("secret %q leaked into the error or logs", s)
		}
	}
}

func TestSecretsNeverInErrorsOrLogs(t *testing.T) {
	t.Parallel()
	e := newEnv(t, hubspotfake.Options{Tokens: []string{"pat-na1-other"}}, nil)
	err := e.conn.Pull(context.Background(), adapter.PullRequest{Object: domain.ObjectContact}, func(context.Context, adapter.Page) error { return nil })
	if !errors.Is(err, adapter.ErrAuth) {
		t.Fatalf("unknown token: %v", err)
	}
	if !strings.Contains(err.Error(), "INVALID_AUTHENTICATION") {
		t.Fatalf("HubSpot's error category missing: %v", err)
	}
	if strings.Contains(err.Error(), testToken) || strings.Contains(e.logs.String(), testToken) {
		t.Fatalf("token leaked: %v\n%s", err, e.logs.String())
	}
	if e.logs.Len() == 0 {
		t.Fatal("nothing was logged at debug level; the leak check proves nothing")
	}
}

func TestValidatorCatchesSpecViolations(t *testing.T) {
	t.Parallel()
	// The validator itself must reject what HubSpot's spec rejects, or the
	// suite's "every request validates" would be vacuous.
	v := &specValidator{spec: loadSpecs(t), base: roundTripFunc(func(*http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 599, Body: http.NoBody, Header: http.Header{}}, nil // responses are not checked
	}), uncovered: map[string]int{}}
	send := func(method, path, body string) {
		req, _ := http.NewRequest(method, "http://127.0.0.1:1"+path, bytes.NewBufferString(body))
		req.Header.Set("Content-Type", "application/json")
		_, _ = v.RoundTrip(req)
	}
	send("POST", "/crm/v3/objects/contacts/search", `{"filterGroups":[],"limit":10}`)                                        // after, properties, sorts missing
	send("POST", "/crm/v3/objects/contacts/batch/update", `{"inputs":[{"properties":{"a":"b"}}]}`)                           // id missing
	send("PUT", "/crm/v3/lists/7/memberships/add-and-remove", `{"recordIdsToAdd":["1"]}`)                                    // recordIdsToRemove missing
	send("POST", "/crm/v3/objects/contacts/search", `{"after":"0","filterGroups":[],"limit":10,"properties":[],"sorts":[]}`) // valid
	if len(v.violations) != 3 {
		t.Fatalf("validator found %d violations, want 3: %v", len(v.violations), v.violations)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestConfigDiagnostics(t *testing.T) {
	t.Parallel()
	cases := []struct {
		cfg  adapter.Config
		want []string
	}{
		{adapter.Config{}, []string{"platforms.hubspot.token: is required unless oauth is configured"}},
		{adapter.Config{"token": "x", "oauth": map[string]any{"client_id": "a"}}, []string{"platforms.hubspot.token: conflicts with oauth"}},
		{adapter.Config{"oauth": map[string]any{"client_id": "a"}}, []string{"platforms.hubspot.oauth.client_secret: is required", "platforms.hubspot.oauth.refresh_token: is required"}},
		{adapter.Config{"token": "x", "page_size": 500, "base_url": "api.hubapi.com", "colour": "red"}, []string{
			"platforms.hubspot.page_size: must be between 1 and 100", "platforms.hubspot.base_url: must be an absolute http(s) URL", "platforms.hubspot.colour: unknown key"}},
		{adapter.Config{"token": "x", "rate_limit": map[string]any{"requests": "many"}, "webhooks": map[string]any{"versions": []any{"v4"}}}, []string{
			"platforms.hubspot.rate_limit.requests: must be a whole number", "platforms.hubspot.webhooks.versions[0]: must be one of v1, v2, v3"}},
		{adapter.Config{"token": "x", "search_lag": "soon", "tier": "gold"}, []string{"platforms.hubspot.search_lag: must be a duration", "platforms.hubspot.tier: must be one of free, starter"}},
	}
	c := New(nil)
	for i, tc := range cases {
		ds, err := c.ValidateConfig(context.Background(), tc.cfg)
		if err != nil {
			t.Fatal(err)
		}
		all := fmt.Sprint(ds)
		for _, w := range tc.want {
			if !strings.Contains(all, w) {
				t.Errorf("case %d: diagnostics %s lack %q", i, all, w)
			}
		}
		if strings.Contains(all, "secret-value") {
			t.Errorf("case %d: secret in diagnostics", i)
		}
	}
	ds, _ := c.ValidateConfig(context.Background(), adapter.Config{"token": "secret-value", "tier": "enterprise"})
	if len(ds) != 0 {
		t.Fatalf("valid config: %v", ds)
	}
	cfg, _ := ParseConfig(adapter.Config{"token": "t", "tier": "starter"}, configPrefix)
	if cfg.RateLimit.Requests != 100 || cfg.RateLimit.Daily != 250000 {
		t.Fatalf("starter tier limits: %+v", cfg.RateLimit)
	}
}

func TestServerPushbackWhenConfiguredTooHigh(t *testing.T) {
	t.Parallel()
	// The config claims 500/s but the portal allows 8 per second (another
	// app, or a wrong tier): HubSpot's 429s and X-HubSpot-RateLimit-Remaining
	// headers must bring the connector down to what the server allows.
	e := newEnv(t, hubspotfake.Options{BurstMax: 8, BurstInterval: time.Second}, adapter.Config{
		"firmographics": false, "rate_limit": map[string]any{"requests": 500, "interval": "1s"},
		"retry": map[string]any{"max": 10, "wait_min": "5ms", "wait_max": "200ms"}})
	seedContacts(e.fake, 2000, nil)
	pages, _ := e.pullAll(domain.ObjectContact, "", false)
	if n := len(changesOf(pages)); n != 2000 {
		t.Fatalf("pulled %d of 2000", n)
	}
	s := e.fake.Stats()
	if s.MaxInWindow > 8 {
		t.Fatalf("the fake let %d requests through one window", s.MaxInWindow)
	}
	calls := e.fake.CallCount("GET /crm/v3/objects/contacts")
	if s.RateLimited >= calls {
		t.Fatalf("%d 429s for %d calls: the connector kept hammering", s.RateLimited, calls)
	}
	t.Logf("%d list calls, %d answered 429 by the server", calls, s.RateLimited)
}
