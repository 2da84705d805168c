// Package pardotfake is a fake of the part of Salesforce Marketing Cloud
// Account Engagement (Pardot) API v5 the pardot plugin uses, plus the
// Salesforce OAuth token endpoint, for tests and the sandbox.
//
// Salesforce publishes no OpenAPI description of API v5, so the fake is
// built from the official guide pages under
// developer.salesforce.com/docs/marketing/pardot/guide/:
//   - authentication.html: every request carries `Authorization: Bearer
//     <token>` and `Pardot-Business-Unit-Id: <18-char id starting 0Uv>`;
//     the token comes from Salesforce OAuth (POST /services/oauth2/token);
//   - version5overview.html: GET queries and reads, POST creates, PATCH
//     updates, DELETE deletes; `fields` is required and only the fields
//     asked for come back; query pages carry `values`, `nextPageToken`
//     and `nextPageUrl`; `limit` is at most 1000; errors are a JSON body
//     `{"code": <int>, "message": "..."}`;
//   - prospect-v5.html: prospects with id, email, score, grade,
//     createdAt, updatedAt, custom fields (`<name>__c`), filters
//     updatedAtAfter / updatedAtAfterOrEqualTo, orderBy, the
//     upsertLatestByEmail action, and DELETE, which moves a prospect to
//     the recycle bin (isDeleted; Salesforce Help "Permanently Delete
//     Prospects": only an administrator empties it, in the app);
//   - list-v5.html and list-membership-v5.html: lists and memberships
//     (listId, prospectId, optedOut), created with POST and removed with
//     DELETE, one record a call;
//   - custom-field-v5.html: custom prospect fields created with POST;
//   - visitor-activity-v5.html: activities with prospectId, type,
//     typeName, createdAt, filtered by createdAtAfter;
//   - error-codes.html and overview.html (API limits): at most 5
//     concurrent requests (code 66) and a daily call quota per business
//     unit by edition (code 122).
//
// The HTTP status that carries codes 66 and 122 is not stated on those
// pages; the fake answers 429, and the adapter classifies by the code in
// the body, not by the status.
package pardotfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Error codes the fake answers with (error-codes.html).
const (
	CodeInvalidToken        = 184 // access_token is invalid, unknown, or malformed
	CodeInvalidBusinessUnit = 181 // Pardot-Business-Unit-Id missing or invalid
	CodeConcurrentLimit     = 66  // more than 5 concurrent requests
	CodeDailyLimit          = 122 // daily API call limit reached
	CodeInvalidID           = 3   // no object with that id
	CodeInvalidParameter    = 10000
	CodeInvalidEmail        = 4
	CodeAlreadyMember       = 10001 // prospect already on the list
)

// MaxLimit is the largest page a query serves (version5overview.html).
const MaxLimit = 1000

// MaxConcurrent is the documented limit on concurrent API requests.
const MaxConcurrent = 5

// Fake is one running fake business unit.
type Fake struct {
	URL          string
	ClientID     string
	ClientSecret string
	RefreshToken string
	BusinessUnit string

	srv      *httptest.Server
	inflight atomic.Int32

	mu          sync.Mutex
	clock       time.Time
	tokens      map[string]bool
	tokenN      int
	prospects   map[int]*Prospect
	binned      map[int]*Prospect // deleted prospects, in the recycle bin
	nextID      int
	lists       map[int]*List
	members     map[int]*Membership
	fields      map[string]*CustomField // by fieldId
	activities  []*Activity
	rateLimited int
	quota       int // daily limit; 0: unlimited
	used        int
	rejected    map[int]bool
	calls       map[string]int
	tokenCalls  int
	maxInflight int32
	recording   bool
	requests    []Request
}

// Request is one API request as the fake received it, for tests that
// check request shapes.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
}

// RecordRequests starts keeping every API request (not token requests).
func (f *Fake) RecordRequests() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.recording = true
}

// Requests returns the requests recorded so far.
func (f *Fake) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.requests...)
}

func (f *Fake) record(r *http.Request) {
	f.mu.Lock()
	on := f.recording
	f.mu.Unlock()
	if !on {
		return
	}
	b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	r.Body = io.NopCloser(bytes.NewReader(b))
	f.mu.Lock()
	f.requests = append(f.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: b})
	f.mu.Unlock()
}

// Start serves a new fake on a loopback port; stop registers its
// shutdown (t.Cleanup).
func Start(stop func(func())) *Fake {
	f := New()
	f.srv = httptest.NewServer(f.Handler())
	f.URL = f.srv.URL
	if stop != nil {
		stop(f.srv.Close)
	}
	return f
}

// New returns a fake business unit that is not served yet: serve
// Handler and set URL to where it is reachable (the sandbox does).
func New() *Fake {
	return &Fake{ClientID: "3MVG9fake", ClientSecret: "fake-secret", RefreshToken: "5Aep-refresh",
		BusinessUnit: "0Uv000000000001AAA", clock: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC),
		tokens: map[string]bool{}, prospects: map[int]*Prospect{}, binned: map[int]*Prospect{}, nextID: 1000, lists: map[int]*List{},
		members: map[int]*Membership{}, fields: map[string]*CustomField{}, rejected: map[int]bool{},
		calls: map[string]int{}}
}

// Handler serves the API and the token endpoint.
func (f *Fake) Handler() http.Handler { return http.HandlerFunc(f.serve) }

// Close stops the server Start started.
func (f *Fake) Close() {
	if f.srv != nil {
		f.srv.Close()
	}
}

// zone is the API user's preferred time zone: datetimes are reported in
// it (visitor-activity-v5.html, createdAt), here a fixed UTC-5.
var zone = time.FixedZone("EST", -5*3600)

// tick advances the fake's clock a second and returns it; Pardot's
// datetimes have second precision.
func (f *Fake) tick() time.Time {
	f.clock = f.clock.Add(time.Second)
	return f.clock
}

// ExpireTokens invalidates every access token issued so far, as an
// expired session does; the next API call gets 401 with code 184.
func (f *Fake) ExpireTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens = map[string]bool{}
}

// RateLimit makes the next n API calls fail with code 66.
func (f *Fake) RateLimit(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rateLimited += n
}

// SetDailyQuota sets the daily call limit and the calls used so far.
func (f *Fake) SetDailyQuota(limit, used int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.quota, f.used = limit, used
}

// Calls returns the API calls served, by "METHOD /object[/do/action]"
// (ids left out), and the token requests.
func (f *Fake) Calls() (map[string]int, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int, len(f.calls))
	for k, v := range f.calls {
		out[k] = v
	}
	return out, f.tokenCalls
}

// MaxInflight is the most API calls the fake saw at once.
func (f *Fake) MaxInflight() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return int(f.maxInflight)
}

// apiError writes the v5 error body (version5overview.html, "Errors").
func apiError(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"code": code, "message": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/services/oauth2/token" {
		f.token(w, r)
		return
	}
	if !strings.HasPrefix(r.URL.Path, "/api/v5/objects/") {
		apiError(w, http.StatusNotFound, 1, "Invalid action")
		return
	}
	f.record(r)
	n := f.inflight.Add(1)
	defer f.inflight.Add(-1)
	f.mu.Lock()
	f.maxInflight = max(f.maxInflight, n)
	f.mu.Unlock()
	if n > MaxConcurrent {
		// overview.html, API limits: at most five concurrent requests.
		apiError(w, http.StatusTooManyRequests, CodeConcurrentLimit, "This API user has exceeded the concurrent request limit")
		return
	}
	if status, code, msg := f.admit(r); status != 0 {
		apiError(w, status, code, msg)
		return
	}
	rest := strings.Trim(strings.TrimPrefix(r.URL.Path, "/api/v5/objects/"), "/")
	parts := strings.Split(rest, "/")
	f.count(r.Method, parts)
	switch parts[0] {
	case "prospects":
		f.prospectsRoute(w, r, parts[1:])
	case "lists":
		f.listsRoute(w, r, parts[1:])
	case "list-memberships":
		f.membershipsRoute(w, r, parts[1:])
	case "custom-fields":
		f.customFieldsRoute(w, r, parts[1:])
	case "visitor-activities":
		f.activitiesRoute(w, r, parts[1:])
	default:
		apiError(w, http.StatusNotFound, 1, "Invalid object")
	}
}

func (f *Fake) count(method string, parts []string) {
	key := method + " /" + parts[0]
	if len(parts) >= 3 && parts[1] == "do" {
		key += "/do/" + parts[2]
	}
	f.mu.Lock()
	f.calls[key]++
	f.mu.Unlock()
}

// admit checks the headers of authentication.html, the daily quota and
// injected rate limits.
func (f *Fake) admit(r *http.Request) (int, int, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || !f.tokens[tok] {
		return http.StatusUnauthorized, CodeInvalidToken, "access_token is invalid, unknown, or malformed: Inactive token"
	}
	if bu := r.Header.Get("Pardot-Business-Unit-Id"); bu != f.BusinessUnit {
		return http.StatusUnauthorized, CodeInvalidBusinessUnit, "Invalid Pardot-Business-Unit-Id header value"
	}
	if f.rateLimited > 0 {
		f.rateLimited--
		return http.StatusTooManyRequests, CodeConcurrentLimit, "This API user has exceeded the concurrent request limit"
	}
	if f.quota > 0 && f.used >= f.quota {
		return http.StatusTooManyRequests, CodeDailyLimit, "This account has exceeded its daily API call limit"
	}
	f.used++
	return 0, 0, ""
}

// token is Salesforce's OAuth 2.0 token endpoint for the refresh-token
// and client-credentials grants (Salesforce Help, "OAuth 2.0 Refresh
// Token Flow"): a form body, a JSON answer with access_token, or 400
// {"error": "invalid_grant"}.
func (f *Fake) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokenCalls++
	if r.PostForm.Get("client_id") != f.ClientID || r.PostForm.Get("client_secret") != f.ClientSecret {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_client", "error_description": "invalid client credentials"})
		return
	}
	switch r.PostForm.Get("grant_type") {
	case "refresh_token":
		if r.PostForm.Get("refresh_token") != f.RefreshToken {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "expired access/refresh token"})
			return
		}
	case "client_credentials":
	default:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	f.tokenN++
	tok := fmt.Sprintf("00Dfake!AQ%06d", f.tokenN)
	f.tokens[tok] = true
	writeJSON(w, http.StatusOK, map[string]string{"access_token": tok, "instance_url": f.URL, "token_type": "Bearer",
		"scope": "pardot_api refresh_token", "issued_at": fmt.Sprint(f.clock.UnixMilli())})
}
