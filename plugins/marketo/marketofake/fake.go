// Package marketofake is a fake of the part of Marketo Engage's REST API
// the marketo plugin uses, for tests and the sandbox: the identity
// service's client-credentials token, leads read by filter, synced in
// batches and deleted, lead field metadata and creation, lead activities
// with their paging tokens (engagement and lead changes), and static
// lists found, created and given or relieved of members.
//
// Faithful to the platform where it matters to a client. Sources: the
// official Swagger 2.0 descriptions (swagger-mapi.json, swagger-identity.json,
// swagger-asset.json of Adobe's marketo-developer docs) for paths,
// parameters and bodies, and the developer guides at
// experienceleague.adobe.com/en/docs/marketo-developer/marketo/rest/…:
//   - "Authentication": GET or POST /identity/oauth/token with
//     grant_type=client_credentials answers {access_token, token_type,
//     expires_in, scope}; a token lives 3600 s, and asking again before it
//     expires returns the same token with its remaining lifetime; calls
//     carry it as `Authorization: Bearer`;
//   - "Error Codes": Marketo answers almost every error with HTTP 200 and
//     {success:false, errors:[{code, message}]}: 600 no token, 601 token
//     invalid, 602 token expired, 606 more than 100 calls in 20 seconds,
//     607 the daily quota (50,000 calls) is spent, 615 more than 10
//     concurrent calls; a call refused with a 6xx error is not counted
//     against the rate limit or the quota. Record-level errors come back
//     in result[] with status "skipped" and reasons[{code, message}]:
//     1004 lead not found, 1006 field not found, 1003 invalid value;
//   - "Leads": Sync Leads takes at most 300 records a call (action
//     createOrUpdate by default, lookupField email by default; id may be
//     the lookup field only with updateOnly); Get Leads by Filter takes at
//     most 300 filterValues; Delete Leads takes at most 300 ids and
//     answers each with status deleted or skipped (1004);
//   - "Activities": a paging token from /activities/pagingtoken.json
//     (sinceDatetime) starts a read of /activities.json or
//     /activities/leadchanges.json (New Lead, 12, and Change Data Value,
//     13) of at most 300 activities a page, each answer giving the
//     nextPageToken to continue with and moreResult;
//   - "List Membership" and the Asset API "Static Lists": add and remove
//     take at most 300 lead ids; a lead already in (or not in) the list is
//     skipped with 1015 / 1004.
package marketofake

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Limits from the developer guides.
const (
	MaxBatch      = 300    // records per sync, ids per filter or list call, activities per page
	WindowCalls   = 100    // calls per rate window
	DailyQuota    = 50_000 // calls per day
	MaxConcurrent = 10     // calls in flight
	TokenLifetime = 3600   // seconds
)

// Window is the rate-limit window.
const Window = 20 * time.Second

// Activity type ids of Marketo's standard activity types.
const (
	VisitWebpage    = 1
	FillOutForm     = 2
	OpenEmail       = 10
	ClickEmail      = 11
	NewLead         = 12
	ChangeDataValue = 13
)

// Stats counts what the fake saw.
type Stats struct {
	Requests  int            // API calls answered (any outcome), tokens excluded
	Counted   int            // calls counted against the rate limit and quota
	Throttled int            // 606 and 615 answers
	Expired   int            // 602 answers (an expired token)
	OverQuota int            // 607 answers
	ByOp      map[string]int // calls per route ("POST /rest/v1/leads.json")
	Records   map[string]int // records per route (sync input, list ids)
}

// Fake is one running fake Marketo instance.
type Fake struct {
	URL          string // base URL: REST under /rest, identity under /identity
	ClientID     string
	ClientSecret string

	mu        sync.Mutex
	clock     time.Time
	leads     []*Lead
	byID      map[int]*Lead
	fields    map[string]string // custom field name → data type
	lists     []*List
	acts      []Activity
	lastAct   int                  // id of the latest activity
	lastLead  int                  // id of the latest lead
	tokens    map[string]time.Time // token → expiry
	token     string
	calls     []time.Time  // counted calls in the current window
	inflight  atomic.Int32 // calls between arrival and answer
	maxWindow int
	quota     int // counted calls today
	reject    map[int]bool
	exports   exportQueue
	inject    int
	stats     Stats
}

// Start serves a fake instance, stopped at cleanup.
func Start(cleanup func(func())) *Fake { return StartWith(cleanup, nil) }

// StartWith is Start with every request passing through wrap first (for
// tests that check requests against the API description).
func StartWith(cleanup func(func()), wrap func(http.Handler) http.Handler) *Fake {
	f := New()
	var h http.Handler = f.Handler()
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// New returns a fake instance that is not served yet (see Handler).
func New() *Fake {
	return &Fake{ClientID: "5f1e0c2a-" + randHex(6), ClientSecret: randHex(16),
		clock: time.Now().UTC().Add(-30 * 24 * time.Hour).Truncate(time.Second),
		byID:  map[int]*Lead{}, fields: map[string]string{}, tokens: map[string]time.Time{},
		reject: map[int]bool{}, stats: Stats{ByOp: map[string]int{}, Records: map[string]int{}}}
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Handler is the fake's HTTP API.
func (f *Fake) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /identity/oauth/token", f.issueToken)
	mux.HandleFunc("POST /identity/oauth/token", f.issueToken)
	f.route(mux, "GET /rest/v1/leads.json", f.getLeads)
	f.route(mux, "POST /rest/v1/leads.json", f.syncLeads)
	f.route(mux, "POST /rest/v1/leads/delete.json", f.deleteLeads)
	f.route(mux, "GET /rest/v1/leads/describe2.json", f.describe)
	f.route(mux, "POST /rest/v1/leads/schema/fields.json", f.createFields)
	f.route(mux, "GET /rest/v1/activities/pagingtoken.json", f.pagingToken)
	f.route(mux, "GET /rest/v1/activities.json", f.activities)
	f.route(mux, "GET /rest/v1/activities/leadchanges.json", f.leadChanges)
	f.route(mux, "GET /rest/asset/v1/staticList/byName.json", f.listByName)
	f.route(mux, "POST /rest/asset/v1/staticLists.json", f.createList)
	f.route(mux, "POST /bulk/v1/leads/export/create.json", f.createExport)
	f.route(mux, "POST /bulk/v1/leads/export/{exportId}/enqueue.json", f.enqueueExport)
	f.route(mux, "GET /bulk/v1/leads/export/{exportId}/status.json", f.exportStatus)
	f.route(mux, "GET /bulk/v1/leads/export/{exportId}/file.json", f.exportFile)
	f.route(mux, "POST /bulk/v1/leads/export/{exportId}/cancel.json", f.cancelExport)
	f.route(mux, "POST /rest/v1/lists/{listId}/leads.json", f.addToList)
	f.route(mux, "DELETE /rest/v1/lists/{listId}/leads.json", f.removeFromList)
	return mux
}

// envelope is Marketo's answer shape.
type envelope struct {
	RequestID     string     `json:"requestId"`
	Success       bool       `json:"success"`
	Errors        []apiError `json:"errors,omitempty"`
	Warnings      []string   `json:"warnings,omitempty"`
	Result        any        `json:"result,omitempty"`
	NextPageToken string     `json:"nextPageToken,omitempty"`
	MoreResult    *bool      `json:"moreResult,omitempty"`

	// A call answered with something else than an envelope (an export
	// file, or the plain-text 404 of a file not ready) sets these.
	rawStatus int
	rawType   string
	raw       []byte
}

type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Reason is a record-level error.
type Reason = apiError

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	_ = json.NewEncoder(w).Encode(v)
}

// callError is a call-level error answer.
func callError(code, msg string) envelope {
	return envelope{Errors: []apiError{{Code: code, Message: msg}}}
}

// handler answers one call; it runs with f.mu held and returns the
// envelope to send (Success false with errors for a call-level error).
type handler func(r *http.Request, body []byte) envelope

// route registers pattern with authentication, the concurrency limit, the
// rate window and the daily quota in front, in that order.
func (f *Fake) route(mux *http.ServeMux, pattern string, h handler) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		// A call is in flight from its arrival to its answer, waiting
		// for the lock included, so calls sent at once count together.
		f.inflight.Add(1)
		defer f.inflight.Add(-1)
		body, _ := readBody(r)
		f.mu.Lock()
		f.stats.Requests++
		f.stats.ByOp[pattern]++
		env := f.admit(r)
		if env == nil {
			e := h(r, body)
			env = &e
			f.stats.Counted++
		}
		env.RequestID = randHex(2) + "#" + randHex(5)
		env.Success = len(env.Errors) == 0
		f.mu.Unlock()
		if env.rawStatus != 0 {
			w.Header().Set("Content-Type", env.rawType)
			w.WriteHeader(env.rawStatus)
			_, _ = w.Write(env.raw)
			return
		}
		writeJSON(w, env)
	})
}

// admit checks a call's token and limits; it returns the error envelope
// of a refused call (nil when admitted). Refused calls are not counted
// ("Error Codes": 6xx errors do not count against the limits).
func (f *Fake) admit(r *http.Request) *envelope {
	e := func(code, msg string) *envelope {
		return &envelope{Errors: []apiError{{Code: code, Message: msg}}}
	}
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if tok == "" || tok == r.Header.Get("Authorization") {
		return e("600", "Access token not specified")
	}
	exp, ok := f.tokens[tok]
	switch {
	case !ok:
		return e("601", "Access token invalid")
	case !time.Now().Before(exp):
		f.stats.Expired++
		return e("602", "Access token expired")
	}
	if f.inject > 0 {
		f.inject--
		f.stats.Throttled++
		return e("606", "Max rate limit '100' exceeded with in '20' secs")
	}
	if f.inflight.Load() > MaxConcurrent {
		f.stats.Throttled++
		return e("615", "Concurrent access limit reached")
	}
	now := time.Now()
	keep := f.calls[:0]
	for _, t := range f.calls {
		if now.Sub(t) < Window {
			keep = append(keep, t)
		}
	}
	f.calls = keep
	if len(f.calls) >= WindowCalls {
		f.stats.Throttled++
		return e("606", "Max rate limit '100' exceeded with in '20' secs")
	}
	if f.quota >= DailyQuota {
		f.stats.OverQuota++
		return e("607", "Daily quota reached")
	}
	f.calls = append(f.calls, now)
	f.maxWindow = max(f.maxWindow, len(f.calls))
	f.quota++
	return nil
}

// issueToken answers the identity service's client-credentials grant.
// Asking again before a token expires returns the same token with its
// remaining lifetime ("Authentication").
func (f *Fake) issueToken(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	if r.Form.Get("grant_type") != "client_credentials" {
		w.WriteHeader(http.StatusBadRequest)
		writeJSON(w, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	if r.Form.Get("client_id") != f.ClientID || r.Form.Get("client_secret") != f.ClientSecret {
		w.WriteHeader(http.StatusUnauthorized)
		writeJSON(w, map[string]string{"error": "invalid_client", "error_description": "Bad client credentials"})
		return
	}
	f.mu.Lock()
	now := time.Now()
	exp, ok := f.tokens[f.token]
	if !ok || !now.Before(exp) {
		f.token = randHex(8) + "-" + randHex(4) + ":ab"
		exp = now.Add(TokenLifetime * time.Second)
		f.tokens[f.token] = exp
	}
	tok := f.token
	f.mu.Unlock()
	writeJSON(w, map[string]any{"access_token": tok, "token_type": "bearer",
		"expires_in": int(time.Until(exp).Seconds()), "scope": "api@example.com"})
}

// ExpireTokens makes every token issued so far expired (602 from now on).
func (f *Fake) ExpireTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for t := range f.tokens {
		f.tokens[t] = time.Now().Add(-time.Second)
	}
}

// RateLimit makes the next n calls fail with 606.
func (f *Fake) RateLimit(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.inject += n
}

// SetQuotaUsed sets how many calls of the daily quota are spent.
func (f *Fake) SetQuotaUsed(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.quota = n
}

// ResetDay starts a new quota day.
func (f *Fake) ResetDay() { f.SetQuotaUsed(0) }

// Stats returns a copy of what the fake saw.
func (f *Fake) Stats() Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.stats
	s.ByOp, s.Records = map[string]int{}, map[string]int{}
	for k, v := range f.stats.ByOp {
		s.ByOp[k] = v
	}
	for k, v := range f.stats.Records {
		s.Records[k] = v
	}
	return s
}

// MaxWindowCalls is the most counted calls seen in any one rate window so
// far (a client keeping to the limit keeps it at most WindowCalls).
func (f *Fake) MaxWindowCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.maxWindow
}

// readBody reads a request's body (an empty one for none).
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	defer r.Body.Close()
	return io.ReadAll(io.LimitReader(r.Body, 10<<20))
}
