package hubspotfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter/fakekit"
)

// ---- routing and middleware ----

func (f *Fake) mux() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("POST /oauth/v1/token", f.handleToken)
	m.HandleFunc("GET /crm/v3/objects/{type}", f.handleList)
	m.HandleFunc("GET /crm/v3/objects/{type}/{id}", f.handleGet)
	m.HandleFunc("PATCH /crm/v3/objects/{type}/{id}", f.handlePatch)
	m.HandleFunc("DELETE /crm/v3/objects/{type}/{id}", f.handleDelete)
	m.HandleFunc("POST /crm/v3/objects/{type}/{action}", f.handleObjectAction)
	m.HandleFunc("POST /crm/v3/objects/{type}/batch/{op}", f.handleBatch)
	m.HandleFunc("POST /crm/v4/associations/{from}/{to}/batch/read", f.handleAssocRead)
	m.HandleFunc("GET /crm/v3/properties/{type}", f.handlePropList)
	m.HandleFunc("POST /crm/v3/properties/{type}", f.handlePropCreate)
	m.HandleFunc("GET /crm/v3/properties/{type}/{name}", f.handlePropGet)
	m.HandleFunc("PATCH /crm/v3/properties/{type}/{name}", f.handlePropPatch)
	m.HandleFunc("POST /crm/v3/lists", f.handleListCreate)
	m.HandleFunc("GET /crm/v3/lists/object-type-id/{otid}/name/{name}", f.handleListByName)
	m.HandleFunc("GET /crm/v3/lists/{id}", f.handleListGet)
	m.HandleFunc("GET /crm/v3/lists/{id}/memberships", f.handleMemberships)
	m.HandleFunc("PUT /crm/v3/lists/{id}/memberships/{op}", f.handleMembershipChange)
	m.HandleFunc("GET /webhooks/v3/{appId}/subscriptions", f.handleSubscriptions)
	return m
}

var idSegment = regexp.MustCompile(`^[0-9]+$`)

// endpointKey names a request for the call counters.
func endpointKey(r *http.Request) string {
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	for i, s := range segs {
		switch {
		case i == 3 && len(segs) > 3 && segs[1] == "v3" && segs[2] == "objects":
			if t, ok := lookupType(s); ok {
				segs[i] = t.Name
			}
		case i > 0 && segs[i-1] == "name":
			segs[i] = "{name}"
		case idSegment.MatchString(s):
			segs[i] = "{id}"
		}
	}
	return r.Method + " /" + strings.Join(segs, "/")
}

func (f *Fake) serveHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.calls[endpointKey(r)]++
	f.stats.Requests++
	f.mu.Unlock()
	w.Header().Set("Date", f.opts.Now().UTC().Format(http.TimeFormat)) // the fake's clock, not the host's
	// The webhooks API authenticates with the developer API key in the
	// query (its handler checks it), not with an app's token.
	if r.URL.Path != "/oauth/v1/token" && !strings.HasPrefix(r.URL.Path, "/webhooks/v3/") && !f.authenticate(w, r) {
		return
	}
	if v := f.opts.ValidateRequest; v != nil {
		if err := v(r); err != nil {
			badRequest(w, "Invalid request: "+err.Error())
			return
		}
	}
	if r.URL.Path == "/oauth/v1/token" {
		f.router.ServeHTTP(w, r)
		return
	}
	f.Faults.Handle(w, r, http.HandlerFunc(f.admitAndRoute))
}

// admitAndRoute spends from the rate budgets and serves a CRM request.
func (f *Fake) admitAndRoute(w http.ResponseWriter, r *http.Request) {
	search := strings.HasSuffix(r.URL.Path, "/search")
	if !f.admit(w, search) {
		return
	}
	f.router.ServeHTTP(&statusRecorder{ResponseWriter: w, f: f}, r)
}

// statusRecorder counts rejected requests.
type statusRecorder struct {
	http.ResponseWriter
	f *Fake
}

func (s *statusRecorder) WriteHeader(code int) {
	if code >= 400 && code != 401 && code != 429 {
		s.f.rejected.Add(1) // handlers may hold f.mu here
	}
	s.ResponseWriter.WriteHeader(code)
}

// ---- error bodies ----

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// apiError is HubSpot's error body.
type apiError struct {
	Status        string              `json:"status"`
	Message       string              `json:"message"`
	CorrelationID string              `json:"correlationId"`
	Category      string              `json:"category"`
	SubCategory   string              `json:"subCategory,omitempty"`
	Context       map[string][]string `json:"context,omitempty"`
	Errors        []errorDetail       `json:"errors,omitempty"`
	Links         map[string]string   `json:"links,omitempty"`
}

type errorDetail struct {
	Message     string              `json:"message"`
	In          string              `json:"in,omitempty"`
	Code        string              `json:"code,omitempty"`
	SubCategory string              `json:"subCategory,omitempty"`
	Context     map[string][]string `json:"context,omitempty"`
}

func writeError(w http.ResponseWriter, status int, category, msg string, details ...errorDetail) {
	writeJSON(w, status, apiError{Status: "error", Message: msg, CorrelationID: newID(), Category: category, Errors: details})
}

func badRequest(w http.ResponseWriter, msg string, details ...errorDetail) {
	writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", msg, details...)
}

// ---- auth ----

func (f *Fake) authenticate(w http.ResponseWriter, r *http.Request) bool {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	f.mu.Lock()
	defer f.mu.Unlock()
	if ok {
		for _, t := range f.opts.Tokens {
			if t == tok {
				return true
			}
		}
		if exp, found := f.access[tok]; found {
			now := f.now()
			if now.Before(exp) {
				return true
			}
			f.stats.Unauthorized++
			writeJSON(w, http.StatusUnauthorized, apiError{Status: "error",
				Message:       fmt.Sprintf("The OAuth token used to make this call expired %d second(s) ago.", int(now.Sub(exp).Seconds())),
				CorrelationID: newID(), Category: "EXPIRED_AUTHENTICATION"})
			return false
		}
	}
	f.stats.Unauthorized++
	writeJSON(w, http.StatusUnauthorized, apiError{Status: "error",
		Message:       "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
		CorrelationID: newID(), Category: "INVALID_AUTHENTICATION"})
	return false
}

// ExpireAccessTokens makes every OAuth access token issued so far expired.
func (f *Fake) ExpireAccessTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	past := f.now().Add(-time.Second)
	for t := range f.access {
		f.access[t] = past
	}
}

// RevokeRefreshToken makes a refresh token unknown.
func (f *Fake) RevokeRefreshToken(tok string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.refresh, tok)
}

func (f *Fake) handleToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, 400, map[string]string{"status": "BAD_REQUEST", "message": "could not parse form", "correlationId": newID()})
		return
	}
	oauthErr := func(status, msg string) {
		writeJSON(w, 400, map[string]string{"status": status, "message": msg, "correlationId": newID(), "requestId": newID()})
	}
	if r.PostForm.Get("grant_type") != "refresh_token" {
		oauthErr("UNSUPPORTED_GRANT_TYPE", "grant_type must be refresh_token in this sandbox")
		return
	}
	if r.PostForm.Get("client_id") != f.opts.ClientID || f.opts.ClientID == "" {
		oauthErr("BAD_CLIENT_ID", "missing or unknown client id")
		return
	}
	if r.PostForm.Get("client_secret") != f.opts.ClientSecret {
		oauthErr("BAD_CLIENT_SECRET", "missing or invalid client secret")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	rt := r.PostForm.Get("refresh_token")
	if !f.refresh[rt] {
		oauthErr("BAD_REFRESH_TOKEN", "missing or unknown refresh token")
		return
	}
	if f.opts.RotateRefreshTokens {
		delete(f.refresh, rt)
		rt = "fake-rt-" + newID()
		f.refresh[rt] = true
	}
	at := "fake-at-" + newID()
	f.access[at] = f.now().Add(f.opts.AccessTokenTTL)
	f.stats.TokenRefreshes++
	writeJSON(w, 200, map[string]any{
		"token_type": "bearer", "token_use": "access_token", "access_token": at, "refresh_token": rt,
		"expires_in": int64(f.opts.AccessTokenTTL / time.Second), "hub_id": f.opts.PortalID, "user_id": 1,
		"scopes": []string{"oauth", "crm.objects.contacts.read", "crm.objects.contacts.write", "crm.lists.read", "crm.lists.write", "crm.schemas.contacts.write"},
	})
}

// CurrentRefreshToken returns a valid refresh token (after rotation too).
func (f *Fake) CurrentRefreshToken() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	for t := range f.refresh {
		return t
	}
	return ""
}

// ---- rate limits ----

type limiter struct {
	burstMax  int
	interval  time.Duration
	window    []time.Time
	dailyMax  int
	dailyUsed int
	day       string
	searchMax int
	searchWin []time.Time
}

func (l *limiter) init(o Options) {
	l.burstMax, l.interval, l.dailyMax, l.searchMax = o.BurstMax, o.BurstInterval, o.DailyMax, o.SearchPerSecond
}

func prune(win []time.Time, since time.Time) []time.Time {
	i := 0
	for i < len(win) && !win[i].After(since) {
		i++
	}
	return win[i:]
}

// admit spends from the budgets and answers 429 when one is exhausted.
func (f *Fake) admit(w http.ResponseWriter, search bool) bool {
	f.mu.Lock()
	now := f.opts.Now()
	l := &f.limits
	if d := now.UTC().Format("2006-01-02"); d != l.day {
		l.day, l.dailyUsed = d, 0
	}
	if l.dailyUsed >= l.dailyMax {
		f.stats.RateLimited++
		f.mu.Unlock()
		f.rateHeaders(w, search)
		write429(w, "DAILY", "You have reached your daily limit.")
		return false
	}
	if search {
		l.searchWin = prune(l.searchWin, now.Add(-time.Second))
		if len(l.searchWin) >= l.searchMax {
			f.stats.SearchLimited++
			f.mu.Unlock()
			write429(w, "SECONDLY", "You have reached your secondly limit.")
			return false
		}
		l.searchWin = append(l.searchWin, now)
		f.stats.MaxSearchInSec = max(f.stats.MaxSearchInSec, len(l.searchWin))
	} else {
		l.window = prune(l.window, now.Add(-l.interval))
		if len(l.window) >= l.burstMax {
			f.stats.RateLimited++
			f.mu.Unlock()
			f.rateHeaders(w, search)
			write429(w, "TEN_SECONDLY_ROLLING", "You have reached your ten_secondly_rolling limit.")
			return false
		}
		l.window = append(l.window, now)
		f.stats.MaxInWindow = max(f.stats.MaxInWindow, len(l.window))
	}
	l.dailyUsed++
	f.mu.Unlock()
	f.rateHeaders(w, search)
	return true
}

func (f *Fake) rateHeaders(w http.ResponseWriter, search bool) {
	if search {
		return // search responses carry no rate-limit headers
	}
	f.mu.Lock()
	l := &f.limits
	h := w.Header()
	h.Set("X-HubSpot-RateLimit-Max", strconv.Itoa(l.burstMax))
	h.Set("X-HubSpot-RateLimit-Remaining", strconv.Itoa(max(0, l.burstMax-len(l.window))))
	h.Set("X-HubSpot-RateLimit-Interval-Milliseconds", strconv.FormatInt(l.interval.Milliseconds(), 10))
	h.Set("X-HubSpot-RateLimit-Daily", strconv.Itoa(l.dailyMax))
	h.Set("X-HubSpot-RateLimit-Daily-Remaining", strconv.Itoa(max(0, l.dailyMax-l.dailyUsed)))
	f.mu.Unlock()
}

func write429(w http.ResponseWriter, policy, msg string) {
	writeJSON(w, http.StatusTooManyRequests, map[string]string{
		"status": "error", "message": msg, "errorType": "RATE_LIMIT",
		"correlationId": newID(), "policyName": policy, "requestId": newID(),
	})
}

// SetDailyUsed sets how much of today's budget is spent (to test the daily limit).
func (f *Fake) SetDailyUsed(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.limits.day = f.opts.Now().UTC().Format("2006-01-02")
	f.limits.dailyUsed = n
}

// ---- fault injection ----

// defaultFaults are what SetRate draws from when given no kinds: a burst
// over the rolling limit and the gateway errors HubSpot's edge answers.
func defaultFaults() []fakekit.Fault {
	return []fakekit.Fault{{Status: http.StatusTooManyRequests}, {Status: http.StatusBadGateway},
		{Status: http.StatusServiceUnavailable}, {Status: http.StatusGatewayTimeout}}
}

// platformError writes HubSpot's error body for an injected status.
func platformError(w http.ResponseWriter, _ *http.Request, status int) {
	switch {
	case status == http.StatusTooManyRequests:
		write429(w, "TEN_SECONDLY_ROLLING", "You have reached your ten_secondly_rolling limit.")
	case status >= 500:
		writeError(w, status, "INTERNAL_ERROR", "Internal error (injected by the sandbox)")
	case status == http.StatusUnauthorized:
		writeError(w, status, "INVALID_AUTHENTICATION", "Authentication credentials not found.")
	case status == http.StatusLocked:
		writeError(w, status, "LOCKED", "The portal is locked for a moment; wait at least 2 seconds")
	case status == 477:
		if w.Header().Get("Retry-After") == "" {
			w.Header().Set("Retry-After", "1")
		}
		writeError(w, status, "MIGRATION_IN_PROGRESS", "The portal is being migrated; retry after the given delay")
	default:
		writeError(w, status, "VALIDATION_ERROR", "Injected failure")
	}
}

// FailUpdatesFor makes batch updates report these record ids as failed
// with the given error category (for example "OBJECT_NOT_FOUND" or
// "INTERNAL_ERROR"), while the rest of the batch succeeds with a 207.
// An empty category clears the failure for those ids.
func (f *Fake) FailUpdatesFor(category string, ids ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failIDs == nil {
		f.failIDs = map[string]string{}
	}
	for _, id := range ids {
		if category == "" {
			delete(f.failIDs, id)
		} else {
			f.failIDs[id] = category
		}
	}
}
