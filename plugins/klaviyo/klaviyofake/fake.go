// Package klaviyofake is a fake of the part of Klaviyo's REST API (the
// /api surface of revision 2026-07-15) the klaviyo plugin uses, for tests
// and the sandbox: profiles listed, filtered by update time and upserted,
// lists and their membership, bulk profile import jobs, metrics and
// events.
//
// Faithful to the platform where it matters to a client. Sources: the
// official OpenAPI description (klaviyo/openapi, openapi/stable.json of
// revision 2026-07-15: paths, parameters, page-size bounds, request
// bodies, the per-operation x-klaviyo-ratelimit burst and steady limits,
// the batch limits in the operation descriptions, the ClientError body)
// and Klaviyo's developer guides ("Rate limits, status codes, and
// errors", "Filtering", "API overview"):
//   - every request needs `Authorization: Klaviyo-API-Key <private key>`
//     (401 otherwise) and a `revision` header (400 otherwise);
//   - bodies are JSON:API documents (`application/vnd.api+json`) and so
//     is every answer; errors are `{"errors":[{id, status, code, title,
//     detail, source}]}`;
//   - collections page with an opaque `page[cursor]` given back in
//     `links.next` as a whole URL; `page[size]` is bounded per operation
//     (profiles 100, lists 10, events 1000) and a larger one is a 400;
//   - filters use the JSON:API filter syntax of the guide: `equals`,
//     `any`, `greater-than` with quoted strings and unquoted datetimes,
//     comma-separated conditions all holding;
//   - rate limits are per account and per operation, in two fixed
//     windows, a 1-second burst and a 1-minute steady one (and 150 a day
//     for creating lists); a request over either gets 429 with
//     Retry-After in seconds and no RateLimit-* headers, every other
//     answer carries RateLimit-Limit, RateLimit-Remaining and
//     RateLimit-Reset of the steady window;
//   - list membership calls take at most 1000 profiles and answer 204;
//     bulk import jobs take at most 10,000 profiles in at most 5 MB, are
//     accepted with 202 and processed asynchronously (queued, then
//     processing, then complete), their failures listed as import errors.
package klaviyofake

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Revision is the API revision the fake serves.
const Revision = "2026-07-15"

// Batch limits from the operation descriptions.
const (
	MaxListBatch = 1000      // profiles per list-membership call
	MaxBulkJob   = 10000     // profiles per bulk import job
	MaxBulkBody  = 5_000_000 // bytes per bulk import request
)

// Tier is an operation's rate limit: requests per 1-second burst window,
// per 1-minute steady window and (when not 0) per day.
type Tier struct {
	Burst, Steady, Daily int
}

// Tiers of the operations the fake serves, from each operation's
// x-klaviyo-ratelimit in the official description.
func tiers() (l, m, xl Tier) {
	return Tier{Burst: 75, Steady: 750}, Tier{Burst: 10, Steady: 150}, Tier{Burst: 350, Steady: 3500}
}

// Stats counts what the fake saw.
type Stats struct {
	Requests  int            // requests answered (any status)
	Throttled int            // 429s for going over a rate limit (not injected ones)
	ByOp      map[string]int // requests per operation ("POST /api/lists/{id}/relationships/profiles")
}

// Fake is one running fake Klaviyo account.
type Fake struct {
	URL    string // base URL; the API is under /api
	APIKey string

	mu       sync.Mutex
	clock    time.Time
	profiles []*Profile
	byID     map[string]*Profile
	lists    []*List
	metrics  []Metric
	events   []Event
	jobs     map[string]*job
	windows  map[string]*window // op and window kind → its current window
	reject   map[string]bool
	inject   int
	stats    Stats
	seq      int
}

// Start serves a fake account, stopped at cleanup.
func Start(cleanup func(func())) *Fake { return StartWith(cleanup, nil) }

// StartWith is Start with every request passing through wrap first (for
// tests that check requests against the API description); nil wraps
// nothing.
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

// New returns a fake account that is not served yet (see Handler).
func New() *Fake {
	f := &Fake{APIKey: "pk_" + strings.Repeat("0123456789abcdef", 3)[:34],
		clock: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), byID: map[string]*Profile{},
		jobs: map[string]*job{}, windows: map[string]*window{}, reject: map[string]bool{},
		stats: Stats{ByOp: map[string]int{}}}
	for _, name := range []string{"Opened Email", "Clicked Email", "Placed Order"} {
		f.metrics = append(f.metrics, Metric{ID: f.newID(6), Name: name})
	}
	return f
}

// Handler is the fake's HTTP API.
func (f *Fake) Handler() http.Handler {
	mux := http.NewServeMux()
	tierL, tierM, tierXL := tiers()
	f.route(mux, "GET /api/profiles", tierL, f.getProfiles)
	f.route(mux, "GET /api/profiles/{id}", tierL, f.getProfile)
	f.route(mux, "POST /api/profile-import", tierL, f.importProfile)
	f.route(mux, "GET /api/lists", tierL, f.getLists)
	f.route(mux, "POST /api/lists", Tier{Burst: 10, Steady: 150, Daily: 150}, f.createList)
	f.route(mux, "POST /api/lists/{id}/relationships/profiles", tierM, f.addToList)
	f.route(mux, "DELETE /api/lists/{id}/relationships/profiles", tierM, f.removeFromList)
	f.route(mux, "GET /api/lists/{id}/relationships/profiles", tierL, f.listMembers)
	f.route(mux, "POST /api/profile-bulk-import-jobs", tierM, f.createJob)
	f.route(mux, "GET /api/profile-bulk-import-jobs/{id}", tierM, f.getJob)
	f.route(mux, "GET /api/profile-bulk-import-jobs/{id}/import-errors", tierM, f.jobErrors)
	f.route(mux, "GET /api/metrics", tierM, f.getMetrics)
	f.route(mux, "GET /api/events", tierXL, f.getEvents)
	f.route(mux, "POST /api/data-privacy-deletion-jobs", Tier{Burst: 3, Steady: 60}, f.deleteProfile)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		apiError(w, http.StatusNotFound, "not_found", "Not found.", "No route for "+r.Method+" "+r.URL.Path, "")
	})
	return mux
}

// newID returns the next id of n upper-case letters and digits (profile
// ids are 26 long, list and metric ids 6), derived from a counter so a
// fake filled the same way has the same ids. Callers hold mu or own f.
func (f *Fake) newID(n int) string {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	f.seq++
	sum := sha256.Sum256([]byte(fmt.Sprintf("klaviyofake/%d/%d", n, f.seq)))
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[int(sum[i%len(sum)]+byte(i/len(sum)))%len(alphabet)]
	}
	return string(b)
}

// tick advances the fake's clock a second and returns it. Callers hold mu.
func (f *Fake) tick() time.Time {
	f.clock = f.clock.Add(time.Second)
	return f.clock
}

// RateLimit makes the next n requests fail with 429 and Retry-After: 1,
// as going over a burst window does.
func (f *Fake) RateLimit(n int) {
	f.mu.Lock()
	f.inject = n
	f.mu.Unlock()
}

// RejectProfile makes every write to the profile (import, bulk import,
// list membership) fail as invalid.
func (f *Fake) RejectProfile(id string) {
	f.mu.Lock()
	f.reject[id] = true
	f.mu.Unlock()
}

// Stats returns the counts so far.
func (f *Fake) Stats() Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.stats
	s.ByOp = map[string]int{}
	for k, v := range f.stats.ByOp {
		s.ByOp[k] = v
	}
	return s
}

// route registers h for pattern behind auth, the revision header and the
// operation's rate limit.
func (f *Fake) route(mux *http.ServeMux, pattern string, t Tier, h http.HandlerFunc) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Klaviyo-API-Key "+f.APIKey {
			f.count(pattern)
			apiError(w, http.StatusUnauthorized, "not_authenticated", "Authentication credentials were not provided.",
				"Missing or invalid private key.", "")
			return
		}
		if r.Header.Get("revision") == "" {
			f.count(pattern)
			apiError(w, http.StatusBadRequest, "invalid", "Invalid input.", "The revision header is required.", "")
			return
		}
		wait, left, reset, ok := f.admit(pattern, t)
		if !ok {
			w.Header().Set("Retry-After", fmt.Sprint(wait))
			apiError(w, http.StatusTooManyRequests, "throttled", "Request was throttled.",
				fmt.Sprintf("Request was throttled. Expected available in %d second.", wait), "")
			return
		}
		w.Header().Set("RateLimit-Limit", fmt.Sprint(t.Steady))
		w.Header().Set("RateLimit-Remaining", fmt.Sprint(left))
		w.Header().Set("RateLimit-Reset", fmt.Sprint(reset))
		h(w, r)
	})
}

func (f *Fake) count(op string) {
	f.mu.Lock()
	f.stats.Requests++
	f.stats.ByOp[op]++
	f.mu.Unlock()
}

// admit counts a request against its operation's fixed windows and says
// whether it is within them; when not, how many seconds until the window
// that is full resets; when it is, what is left of the steady window and
// the seconds until it resets.
func (f *Fake) admit(op string, t Tier) (wait, left, reset int, ok bool) {
	now := time.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stats.Requests++
	f.stats.ByOp[op]++
	if f.inject > 0 {
		f.inject--
		return 1, 0, 0, false
	}
	bw := f.window(op+"|burst", now.Truncate(time.Second))
	sw := f.window(op+"|steady", now.Truncate(time.Minute))
	dw := f.window(op+"|daily", now.Truncate(24*time.Hour))
	switch {
	case bw.n >= t.Burst:
		f.stats.Throttled++
		return 1, 0, 0, false
	case sw.n >= t.Steady:
		f.stats.Throttled++
		return secondsUntil(now, sw.start.Add(time.Minute)), 0, 0, false
	case t.Daily > 0 && dw.n >= t.Daily:
		f.stats.Throttled++
		return secondsUntil(now, dw.start.Add(24*time.Hour)), 0, 0, false
	}
	bw.n++
	sw.n++
	dw.n++
	return 0, t.Steady - sw.n, secondsUntil(now, sw.start.Add(time.Minute)), true
}

// window returns the fixed window of key that starts at start, a fresh
// one when the last counted has passed. Callers hold mu.
func (f *Fake) window(key string, start time.Time) *window {
	w := f.windows[key]
	if w == nil || !w.start.Equal(start) {
		w = &window{start: start}
		f.windows[key] = w
	}
	return w
}

// window counts the requests of one operation in one fixed window.
type window struct {
	start time.Time
	n     int
}

func secondsUntil(now, t time.Time) int { return int(math.Ceil(t.Sub(now).Seconds())) }

// apiError writes Klaviyo's error document.
func apiError(w http.ResponseWriter, status int, code, title, detail, pointer string) {
	e := map[string]any{"id": newUUID(), "status": status, "code": code, "title": title, "detail": detail}
	if pointer != "" {
		e["source"] = map[string]string{"pointer": pointer}
	}
	writeJSON(w, status, map[string]any{"errors": []any{e}})
}

// apiErrors writes several errors in one document.
func apiErrors(w http.ResponseWriter, status int, errs []map[string]any) {
	writeJSON(w, status, map[string]any{"errors": errs})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/vnd.api+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// decode reads a JSON:API request body into v, answering 400 when it is
// not one.
func decode(w http.ResponseWriter, r *http.Request, limit int64, v any) bool {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/vnd.api+json") && !strings.HasPrefix(ct, "application/json") {
		apiError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "Unsupported media type.", "Send application/vnd.api+json.", "")
		return false
	}
	if r.ContentLength > limit {
		apiError(w, http.StatusRequestEntityTooLarge, "payload_too_large", "Payload too large.",
			fmt.Sprintf("The payload may be at most %d bytes.", limit), "")
		return false
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit)).Decode(v); err != nil {
		apiError(w, http.StatusBadRequest, "invalid", "Invalid input.", "The body is not a JSON:API document: "+err.Error(), "/data")
		return false
	}
	return true
}
